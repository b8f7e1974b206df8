#!/usr/bin/env bash
# A real single-node Elasticsearch or OpenSearch (one JVM, HTTP on 127.0.0.1) for the
# integration tests. See README.md in this folder.
#
#   es-node.sh build  [SERVER]   fetch the jars (mvn, cached in ~/.m2) and compile the launcher
#   es-node.sh start  [SERVER]   build if needed, start in the background, wait for health, print URL
#   es-node.sh stop   [SERVER]   stop the node, remove .run/SERVER and the node's data
#   es-node.sh status [SERVER]   print the URL when running (exit 0), else exit 3
#   es-node.sh logs   [SERVER] [N]  print the tail of the node's log
#   es-node.sh list              the servers there are (folders of servers/)
#
# SERVER is a folder of servers/ (es-6.8.23, es-7.17.29, es-8.18.8, es-9.5.4,
# opensearch-2.19.6, opensearch-3.9.0); default $ES_SERVER, else es-8.18.8, the suite's node.
#
# Environment (all optional):
#   ES_SERVER            the server when none is given   (default: es-8.18.8)
#   ES_URL_FILE          file that receives the URL      (default: <this dir>/.run/SERVER/url)
#   ES_HTTP_PORT         port or range, e.g. 9200-9300  (default: 0 = any free port)
#   ES_START_TIMEOUT     seconds to wait for health     (default: 180)
#   ES_HOME_DIR          path.home of the node          (default: a new mktemp dir, removed on stop)
#   ES_JAVA_HOME         JDK to build and run with      (default: $JAVA_HOME, else java on PATH,
#                        else the first /usr/lib/jvm/* JDK new enough for the server)
#   ES_HEAP              -Xmx value                     (default: 1g)
#   ES_JAVA_OPTS         extra JVM options
#   ES_MVN_ARGS          extra Maven options, e.g. -o or -Dmaven.repo.local=...
set -euo pipefail

DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
COMMAND="${1:-}"
SERVER="${ES_SERVER:-es-8.18.8}"
case "${2:-}" in '' | [0-9]*) ;; *) SERVER="$2"; shift ;; esac
SERVER_DIR="$DIR/servers/$SERVER"
if [ "$COMMAND" != list ] && [ ! -f "$SERVER_DIR/pom.xml" ]; then
  echo "es-node: no server $SERVER (one of: $(ls "$DIR/servers" | tr '\n' ' '))" >&2
  exit 2
fi
# Per server: the Java it needs (JAVA_MIN) and javac's --release (RELEASE).
JAVA_MIN=17
RELEASE=17
# shellcheck disable=SC1091
[ -f "$SERVER_DIR/node.conf" ] && . "$SERVER_DIR/node.conf"
RUN="$DIR/.run/$SERVER"
TARGET="$DIR/target/$SERVER"
LIB="$TARGET/lib"
CLASSES="$TARGET/classes"
MAIN_CLASS="${MAIN_CLASS:-org.elasticsearch.node.EsTestNode}"
URL_FILE="${ES_URL_FILE:-$RUN/url}"
case "$URL_FILE" in /*) ;; *) URL_FILE="$PWD/$URL_FILE" ;; esac
START_TIMEOUT="${ES_START_TIMEOUT:-180}"

log() { echo "es-node: $*" >&2; }
die() { log "$*"; exit 1; }

# ---------------------------------------------------------------- java
feature_of() { # JAVA binary -> its feature version (17, 21, 25...)
  [ -x "$1" ] || return 0
  "$1" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n1
}

# The JDK: ES_JAVA_HOME as given; else JAVA_HOME or the java on PATH when new enough for the
# server; else the first JDK under /usr/lib/jvm that is (9.x and OpenSearch 3.x need 21+).
pick_java() {
  local candidate f
  if [ -n "${ES_JAVA_HOME:-}" ]; then
    echo "$ES_JAVA_HOME"
    return
  fi
  for candidate in "${JAVA_HOME:-}" "$(dirname "$(dirname "$(readlink -f "$(command -v javac || echo /nonexistent)")")")" /usr/lib/jvm/*; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/javac" ] || continue
    f="$(feature_of "$candidate/bin/java")"
    if [ "${f:-0}" -ge "$JAVA_MIN" ]; then
      echo "$candidate"
      return
    fi
  done
}
java_home="$(pick_java)"
JAVA="${java_home:+$java_home/bin/java}"
JAVAC="${java_home:+$java_home/bin/javac}"

java_feature() {
  [ -x "$JAVA" ] || die "$SERVER needs a JDK $JAVA_MIN+ (none found: set ES_JAVA_HOME)"
  feature_of "$JAVA"
}

sha() { sha256sum | cut -d' ' -f1; }

# ---------------------------------------------------------------- build
lib_key() { sha <"$SERVER_DIR/pom.xml"; }

classes_key() {
  {
    cat "$LIB/.complete"
    "$JAVAC" -version 2>&1
    (cd "$SERVER_DIR" && find src -name '*.java' -type f | LC_ALL=C sort | xargs sha256sum)
  } | sha
}

build() {
  command -v mvn >/dev/null || die "mvn not found"
  [ -x "$JAVAC" ] || die "no javac found (set ES_JAVA_HOME or JAVA_HOME to a JDK)"
  local feature
  feature="$(java_feature)"
  [ "${feature:-0}" -ge "$JAVA_MIN" ] || die "$SERVER needs Java $JAVA_MIN+, found ${feature:-unknown} at $JAVA"

  local key
  key="$(lib_key)"
  if [ "$(cat "$LIB/.complete" 2>/dev/null || true)" != "$key" ]; then
    log "fetching jars into target/lib (Maven, cached in ~/.m2)"
    rm -rf "$LIB"
    mkdir -p "$TARGET"
    # shellcheck disable=SC2086
    if ! mvn -B -q -f "$SERVER_DIR/pom.xml" ${ES_MVN_ARGS:-} dependency:copy-dependencies \
        -DoutputDirectory="$LIB" >"$TARGET/mvn.log" 2>&1; then
      cat "$TARGET/mvn.log" >&2
      die "mvn dependency:copy-dependencies failed"
    fi
    echo "$key" >"$LIB/.complete"
  fi

  key="$(classes_key)"
  if [ "$(cat "$CLASSES/.complete" 2>/dev/null || true)" != "$key" ]; then
    log "compiling the launcher into target/classes"
    rm -rf "$CLASSES"
    mkdir -p "$CLASSES"
    (cd "$SERVER_DIR" && find src -name '*.java' -type f | LC_ALL=C sort >"$TARGET/sources.txt")
    (cd "$SERVER_DIR" && "$JAVAC" -nowarn --release "$RELEASE" -encoding UTF-8 -d "$CLASSES" -cp "$LIB/*" @"$TARGET/sources.txt") \
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

node_url() { cat "$RUN/url.node" 2>/dev/null || true; }

healthy() {
  local url="$1"
  [ -n "$url" ] || return 1
  curl -fsS -m 5 -o /dev/null "$url/_cluster/health" 2>/dev/null
}

publish_url() {
  local url="$1"
  if [ "$URL_FILE" != "$RUN/url.node" ]; then
    mkdir -p "$(dirname "$URL_FILE")"
    printf '%s\n' "$url" >"$URL_FILE.tmp.$$"
    mv -f "$URL_FILE.tmp.$$" "$URL_FILE"
    printf '%s\n' "$URL_FILE" >"$RUN/url_files.tmp"
    { cat "$RUN/url_files" 2>/dev/null || true; cat "$RUN/url_files.tmp"; } | sort -u >"$RUN/url_files.new"
    mv -f "$RUN/url_files.new" "$RUN/url_files"
    rm -f "$RUN/url_files.tmp"
  fi
  echo "$url"
}

log_tail() {
  if [ -f "$RUN/es.log" ]; then
    log "last lines of $RUN/es.log:"
    tail -n "${1:-60}" "$RUN/es.log" >&2
  fi
}

lock() {
  mkdir -p "$RUN"
  if command -v flock >/dev/null; then
    exec 9>"$RUN/.lock"
    flock 9
  fi
}

# Wait until the launcher wrote its URL and /_cluster/health answers.
wait_healthy() {
  local deadline=$((SECONDS + START_TIMEOUT)) url
  while [ "$SECONDS" -lt "$deadline" ]; do
    pid_alive || { log "the node exited during startup"; return 1; }
    url="$(node_url)"
    if healthy "$url"; then
      return 0
    fi
    sleep 0.5
  done
  log "no healthy node after ${START_TIMEOUT}s"
  return 1
}

do_stop() {
  local pid home
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
  if [ -f "$RUN/home.tmp" ]; then
    home="$(cat "$RUN/home.tmp")"
    case "$home" in */es-test-node.*) rm -rf "$home" ;; esac
  fi
  if [ -f "$RUN/url_files" ]; then
    while IFS= read -r f; do
      [ -n "$f" ] && rm -f "$f"
    done <"$RUN/url_files"
  fi
  # keep the lock file while we hold it; remove the rest
  find "$RUN" -mindepth 1 -maxdepth 1 ! -name .lock -exec rm -rf {} + 2>/dev/null || true
}

cmd_start() {
  lock
  if pid_alive; then
    if wait_healthy; then
      publish_url "$(node_url)"
      return 0
    fi
    log "a node is running (pid $(cat "$RUN/pid")) but not healthy; restarting it"
    log_tail 30
    do_stop
  elif [ -f "$RUN/pid" ]; then
    do_stop   # stale state from a node that died
  fi

  build
  command -v curl >/dev/null || die "curl not found"
  mkdir -p "$RUN"

  local home
  if [ -n "${ES_HOME_DIR:-}" ]; then
    home="$ES_HOME_DIR"
    mkdir -p "$home"
  else
    home="$(mktemp -d "${TMPDIR:-/tmp}/es-test-node.XXXXXX")"
    echo "$home" >"$RUN/home.tmp"
  fi
  echo "$home" >"$RUN/home"

  local feature
  feature="$(java_feature)"
  local -a jvm=(
    "-Xmx${ES_HEAP:-1g}"
    -Dio.netty.noUnsafe=true
    -Dio.netty.noKeySetOptimization=true
    -Dio.netty.recycler.maxCapacityPerThread=0
    -Dlog4j2.formatMsgNoLookups=true
    -Dfile.encoding=UTF-8
    -Djava.io.tmpdir="$home"
  )
  if [ "${feature:-0}" -ge 22 ]; then
    jvm+=(--enable-native-access=ALL-UNNAMED)
  fi
  # shellcheck disable=SC2206
  jvm+=(${ES_JAVA_OPTS:-})

  rm -f "$RUN/url.node"
  (
    cd "$RUN"
    nohup "$JAVA" "${jvm[@]}" -cp "$CLASSES:$LIB/*" "$MAIN_CLASS" \
      "$home" "$RUN/url.node" "${ES_HTTP_PORT:-0}" </dev/null >"$RUN/es.log" 2>&1 9>&- &
    echo $! >"$RUN/pid"
  )
  log "starting $SERVER (pid $(cat "$RUN/pid"), path.home $home, log $RUN/es.log)"

  local t0=$SECONDS
  if ! wait_healthy; then
    log_tail 60
    do_stop
    exit 1
  fi
  log "$SERVER healthy after $((SECONDS - t0))s"
  publish_url "$(node_url)"
}

cmd_stop() {
  lock
  do_stop
  rm -f "$RUN/.lock"
  rmdir "$RUN" "$DIR/.run" 2>/dev/null || true
}

cmd_status() {
  if pid_alive && healthy "$(node_url)"; then
    echo "running: $(node_url) (pid $(cat "$RUN/pid"), path.home $(cat "$RUN/home" 2>/dev/null))"
    return 0
  fi
  if pid_alive; then
    echo "pid $(cat "$RUN/pid") alive but not healthy"
    return 1
  fi
  echo "not running"
  return 3
}

case "$COMMAND" in
  list) ls "$DIR/servers" ;;
  build) build ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  logs) if [ -f "$RUN/es.log" ]; then tail -n "${2:-100}" "$RUN/es.log"; else echo "no log"; fi ;;
  *)
    echo "usage: $(basename "$0") build|start|stop|status|logs [SERVER] | list" >&2
    exit 2
    ;;
esac
