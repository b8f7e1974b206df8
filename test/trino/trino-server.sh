#!/usr/bin/env bash
# A real Trino (Athena engine v3's engine) on 127.0.0.1 for the integration tests: Trino 483
# embedded in one JVM from Maven Central jars, with Hive catalogs over local files and over the
# S3-compatible test server. See README.md in this folder.
#
#   trino-server.sh build    fetch the jars (mvn, cached in ~/.m2) and compile the launcher
#   trino-server.sh start    build if needed, start in the background, wait until it answers
#                            queries, print the URL (last stdout line); reuses a running server
#   trino-server.sh stop     stop it, remove .run/ (its metastores and data root with it)
#   trino-server.sh status   print the URL when running (exit 0), else exit 3
#   trino-server.sh root     print the folder `local:///` means in the `local` catalog
#   trino-server.sh logs     print the tail of the server's log
#
# Environment (all optional):
#   TRINO_URL_FILE       file that receives the URL           (default: <this dir>/.run/url)
#   TRINO_ROOT           the `local` catalog's file system root (default: <this dir>/.run/root)
#   TRINO_HTTP_PORT      port                                  (default: 0 = any free port)
#   TRINO_START_TIMEOUT  seconds to wait for readiness         (default: 180)
#   TRINO_JAVA_HOME      JDK 25 to build and run with          (default: the Temurin 25 JDK, else JAVA_HOME)
#   TRINO_HEAP           -Xmx value                            (default: 1g)
#   TRINO_JAVA_OPTS      extra JVM options
#   TRINO_S3_ENDPOINT    S3-compatible server for the `s3` catalog (default: CLOSER_TEST_S3_URL; none: no `s3` catalog)
#   TRINO_S3_ACCESS_KEY, TRINO_S3_SECRET_KEY  its credentials (default: the test server's)
#   TRINO_MVN_ARGS       extra Maven options, e.g. -o
set -euo pipefail

DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
RUN="$DIR/.run"
TARGET="$DIR/target"
LIB="$TARGET/lib"
CLASSES="$TARGET/classes"
MAIN_CLASS="closeraudit.TrinoTestServer"
URL_FILE="${TRINO_URL_FILE:-$RUN/url}"
case "$URL_FILE" in /*) ;; *) URL_FILE="$PWD/$URL_FILE" ;; esac
ROOT="${TRINO_ROOT:-$RUN/root}"
case "$ROOT" in /*) ;; *) ROOT="$PWD/$ROOT" ;; esac
START_TIMEOUT="${TRINO_START_TIMEOUT:-180}"

log() { echo "trino-server: $*" >&2; }
die() { log "$*"; exit 1; }

# ---------------------------------------------------------------- java
java_home="${TRINO_JAVA_HOME:-}"
if [ -z "$java_home" ] && [ -x /usr/lib/jvm/temurin-25-jdk-amd64/bin/java ]; then
  java_home=/usr/lib/jvm/temurin-25-jdk-amd64
fi
java_home="${java_home:-${JAVA_HOME:-}}"
if [ -n "$java_home" ]; then
  JAVA="$java_home/bin/java"
  JAVAC="$java_home/bin/javac"
else
  JAVA="$(command -v java || true)"
  JAVAC="$(command -v javac || true)"
fi

java_feature() {
  [ -x "$JAVA" ] || die "no java found (set TRINO_JAVA_HOME to a JDK 25)"
  "$JAVA" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n1
}

sha() { sha256sum | cut -d' ' -f1; }

# ---------------------------------------------------------------- build
classes_key() {
  {
    cat "$LIB/.complete"
    "$JAVAC" -version 2>&1
    (cd "$DIR" && find src -name '*.java' -type f | LC_ALL=C sort | xargs sha256sum)
  } | sha
}

build() {
  command -v mvn >/dev/null || die "mvn not found"
  [ -x "$JAVAC" ] || die "no javac found (set TRINO_JAVA_HOME to a JDK 25)"
  local feature
  feature="$(java_feature)"
  # Trino 483's jars are compiled for Java 25.
  [ "${feature:-0}" -ge 25 ] || die "Java 25+ needed, found ${feature:-unknown} at $JAVA (set TRINO_JAVA_HOME)"

  local key
  key="$(sha <"$DIR/pom.xml")"
  if [ "$(cat "$LIB/.complete" 2>/dev/null || true)" != "$key" ]; then
    log "fetching jars into target/lib (Maven, cached in ~/.m2; ~200 MB the first time)"
    rm -rf "$LIB"
    mkdir -p "$TARGET"
    # shellcheck disable=SC2086
    if ! JAVA_HOME="$java_home" mvn -B -q -f "$DIR/pom.xml" ${TRINO_MVN_ARGS:-} dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$LIB" >"$TARGET/mvn.log" 2>&1; then
      tail -n 60 "$TARGET/mvn.log" >&2
      die "mvn dependency:copy-dependencies failed"
    fi
    echo "$key" >"$LIB/.complete"
  fi

  key="$(classes_key)"
  if [ "$(cat "$CLASSES/.complete" 2>/dev/null || true)" != "$key" ]; then
    log "compiling the launcher into target/classes"
    rm -rf "$CLASSES"
    mkdir -p "$CLASSES"
    (cd "$DIR" && find src -name '*.java' -type f | LC_ALL=C sort >"$TARGET/sources.txt")
    (cd "$DIR" && "$JAVAC" -nowarn -encoding UTF-8 -d "$CLASSES" -cp "$LIB/*" @"$TARGET/sources.txt") \
      || die "javac failed"
    echo "$key" >"$CLASSES/.complete"
  fi
}

# ---------------------------------------------------------------- state
pid_alive() {
  local pid
  pid="$(cat "$RUN/pid" 2>/dev/null || true)"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

server_url() { cat "$RUN/url.server" 2>/dev/null || true; }

# Ready when the coordinator says it is no longer starting (it then takes queries).
ready() {
  local url="$1"
  [ -n "$url" ] || return 1
  curl -fsS -m 5 "$url/v1/info" 2>/dev/null | grep -q '"starting" *: *false'
}

publish_url() {
  local url="$1"
  if [ "$URL_FILE" != "$RUN/url.server" ]; then
    mkdir -p "$(dirname "$URL_FILE")"
    printf '%s\n' "$url" >"$URL_FILE.tmp.$$"
    mv -f "$URL_FILE.tmp.$$" "$URL_FILE"
    { cat "$RUN/url_files" 2>/dev/null || true; echo "$URL_FILE"; } | sort -u >"$RUN/url_files.new"
    mv -f "$RUN/url_files.new" "$RUN/url_files"
  fi
  echo "$url"
}

log_tail() {
  if [ -f "$RUN/trino.log" ]; then
    log "last lines of $RUN/trino.log:"
    tail -n "${1:-60}" "$RUN/trino.log" >&2
  fi
}

lock() {
  mkdir -p "$RUN"
  if command -v flock >/dev/null; then
    exec 9>"$RUN/.lock"
    flock 9
  fi
}

wait_ready() {
  local deadline=$((SECONDS + START_TIMEOUT))
  while [ "$SECONDS" -lt "$deadline" ]; do
    pid_alive || { log "the server exited during startup"; return 1; }
    if ready "$(server_url)"; then return 0; fi
    sleep 0.5
  done
  log "not ready after ${START_TIMEOUT}s"
  return 1
}

do_stop() {
  local pid
  pid="$(cat "$RUN/pid" 2>/dev/null || true)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    local tries=120
    while [ "$tries" -gt 0 ] && kill -0 "$pid" 2>/dev/null; do
      tries=$((tries - 1))
      sleep 0.25
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "pid $pid did not stop in 30s, killing"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
    fi
    log "stopped (pid $pid)"
  fi
  if [ -f "$RUN/url_files" ]; then
    while IFS= read -r f; do
      [ -n "$f" ] && rm -f "$f"
    done <"$RUN/url_files"
  fi
  find "$RUN" -mindepth 1 -maxdepth 1 ! -name .lock -exec rm -rf {} + 2>/dev/null || true
}

cmd_start() {
  lock
  if pid_alive; then
    if wait_ready; then
      publish_url "$(server_url)"
      return 0
    fi
    log "a server is running (pid $(cat "$RUN/pid")) but not ready; restarting it"
    log_tail 30
    do_stop
  elif [ -f "$RUN/pid" ]; then
    do_stop # stale state from a server that died
  fi

  build
  command -v curl >/dev/null || die "curl not found"
  mkdir -p "$RUN" "$ROOT"
  echo "$ROOT" >"$RUN/root.path"

  local -a jvm=(
    "-Xmx${TRINO_HEAP:-1g}"
    -XX:+UseG1GC
    # Starts in about half the time; the tests' queries are small.
    -XX:TieredStopAtLevel=1
    # Trino's vectorised code paths need the incubating Vector API module.
    --add-modules=jdk.incubator.vector
    --sun-misc-unsafe-memory-access=allow
    --enable-native-access=ALL-UNNAMED
    -Duser.timezone=UTC
    -Dfile.encoding=UTF-8
    -Djava.io.tmpdir="$RUN"
  )
  # shellcheck disable=SC2206
  jvm+=(${TRINO_JAVA_OPTS:-})

  local s3="${TRINO_S3_ENDPOINT:-${CLOSER_TEST_S3_URL:-}}"
  rm -f "$RUN/url.server"
  (
    cd "$RUN"
    TRINO_S3_ENDPOINT="$s3" \
      TRINO_S3_ACCESS_KEY="${TRINO_S3_ACCESS_KEY:-closeraudit}" \
      TRINO_S3_SECRET_KEY="${TRINO_S3_SECRET_KEY:-closeraudit-secret}" \
      nohup "$JAVA" "${jvm[@]}" -cp "$CLASSES:$LIB/*" "$MAIN_CLASS" \
      "$ROOT" "$RUN/url.server" "${TRINO_HTTP_PORT:-0}" </dev/null >"$RUN/trino.log" 2>&1 9>&- &
    echo $! >"$RUN/pid"
  )
  log "starting (pid $(cat "$RUN/pid"), root $ROOT${s3:+, s3 catalog over $s3}, log $RUN/trino.log)"

  local t0=$SECONDS
  if ! wait_ready; then
    log_tail 60
    do_stop
    exit 1
  fi
  log "ready after $((SECONDS - t0))s"
  publish_url "$(server_url)"
}

cmd_stop() {
  lock
  do_stop
  rm -f "$RUN/.lock"
  rmdir "$RUN" 2>/dev/null || true
}

cmd_status() {
  if pid_alive && ready "$(server_url)"; then
    echo "running: $(server_url) (pid $(cat "$RUN/pid"), root $(cat "$RUN/root.path" 2>/dev/null))"
    return 0
  fi
  if pid_alive; then
    echo "pid $(cat "$RUN/pid") alive but not ready"
    return 1
  fi
  echo "not running"
  return 3
}

case "${1:-}" in
  build) build ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  root) if [ -f "$RUN/root.path" ]; then cat "$RUN/root.path"; else echo "$ROOT"; fi ;;
  logs) if [ -f "$RUN/trino.log" ]; then tail -n "${2:-100}" "$RUN/trino.log"; else echo "no log"; fi ;;
  *)
    echo "usage: $(basename "$0") build|start|stop|status|root|logs" >&2
    exit 2
    ;;
esac
