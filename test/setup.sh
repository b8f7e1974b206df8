#!/usr/bin/env bash
# Installs everything the tests need, then the project itself: README's test command is
# `bash test/setup.sh && npm test`, and CI runs exactly that. Safe to run again: each step is
# skipped when what it installs is there.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_updated=0
apt_install() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "test setup: '$*' missing; install it (as root: apt-get install -y $*)" >&2
    exit 1
  fi
  if [ "$apt_updated" = 0 ]; then
    apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# The test Elasticsearch runs in a JVM built with Maven from Maven Central artifacts.
if ! command -v mvn >/dev/null || ! command -v javac >/dev/null; then
  apt_install openjdk-17-jdk-headless maven
fi
# The Grafana plugin's browser test drives Debian's Chromium.
if [ ! -x /usr/bin/chromium ]; then
  apt_install chromium
fi
# The S3-compatible test server (Versity S3 Gateway) is built with Go from the Go module proxy.
# (Debian's golang-go is too old for it; the machine's Go 1.2x is used.)
if ! command -v go >/dev/null && [ ! -x /usr/local/go/bin/go ]; then
  echo "test setup: Go 1.22 or later is needed to build the test S3 server" >&2
  exit 1
fi

# The deploy checks' tools (the Lambda runtime's Node.js from the npm registry, cfn-lint and
# parliament from PyPI) go into a venv under test/deploy/: venv needs ensurepip.
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  apt_install python3-venv
fi

npm ci --no-audit --no-fund
bash test/deploy/setup.sh >/dev/null

# The Grafana plugin's test matrix: each Grafana version's packages (npm ci per version, from npm),
# installed while the jars below download; the plugin tests' global setup retries a failed one.
node test/plugin/support/grafana-install.cjs &
grafana_install=$!

# The version matrix's nodes (Elasticsearch 6.8 to 9.x, OpenSearch 2.x and 3.x; test/servers):
# their jars fetched from Maven Central and launchers compiled up front, so the download shows
# apart in the log. 9.x and OpenSearch 3.x run on a JDK 21+ (the machine's Temurin, /usr/lib/jvm).
matrix_build_start=$SECONDS
for server in $(bash test/elasticsearch/es-node.sh list); do
  bash test/elasticsearch/es-node.sh build "$server"
done
echo "version matrix: jars and launchers ready in $((SECONDS - matrix_build_start))s"

# Trino 483 (Athena engine 3's engine; test/trino) needs Java 25: the machine's Temurin 25 JDK
# (Debian 12 has no JDK 25), or TRINO_JAVA_HOME. Jest's global setup starts it.
if [ -z "${TRINO_JAVA_HOME:-}" ] && [ ! -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ]; then
  echo "test setup: Trino needs a JDK 25: the Temurin 25 JDK at /usr/lib/jvm/temurin-25-jdk-amd64, or TRINO_JAVA_HOME" >&2
  exit 1
fi
bash test/trino/trino-server.sh build

wait "$grafana_install" || echo "test setup: the Grafana matrix install failed; the plugin tests' setup retries it" >&2
