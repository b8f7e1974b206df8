#!/usr/bin/env bash
# A real S3-compatible server on 127.0.0.1 for the integration tests: Versity S3 Gateway
# (versitygw, Apache-2.0) with its posix backend, built from the Go module proxy.
# See README.md in this folder.
#
#   s3-server.sh install   build versitygw once (go install, ~2 min cold), cached per machine
#   s3-server.sh start     install if needed, start in the background on a free port, wait until
#                          it answers a signed request, print the endpoint URL (last stdout line)
#                          and write it to $S3_URL_FILE; reuses a running healthy server
#   s3-server.sh stop      stop it, remove its data and .run/
#   s3-server.sh status    print the URL when running and healthy (exit 0), else exit 3
#   s3-server.sh logs      print the tail of the server's log
#
# Environment (all optional):
#   S3_URL_FILE        file that receives the URL          (default: <this dir>/.run/url)
#   S3_PORT            port to listen on                   (default: a free port)
#   S3_ACCESS_KEY      root access key                     (default: closeraudit)
#   S3_SECRET_KEY      root secret key                     (default: closeraudit-secret)
#   S3_REGION          region the server signs for         (default: us-east-1)
#   S3_BUCKETS         comma-separated buckets to create at start (default: none)
#   S3_DATA_DIR        directory for the objects (default: a new mktemp dir, removed on stop)
#   S3_META            xattr | sidecar: where object metadata lives (default: xattr; the script
#                      falls back to sidecar by itself when the data dir has no user xattrs)
#   S3_START_TIMEOUT   seconds to wait for readiness       (default: 30)
#   S3_SERVER_CACHE    where the built binary is kept      (default: ${XDG_CACHE_HOME:-~/.cache}/closer-audit-s3)
#   GO                 the go command                      (default: go on PATH, else /usr/local/go/bin/go)
set -euo pipefail

VGW_MODULE="github.com/versity/versitygw"
VGW_VERSION="v1.8.0"

DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
RUN="$DIR/.run"
URL_FILE="${S3_URL_FILE:-$RUN/url}"
case "$URL_FILE" in /*) ;; *) URL_FILE="$PWD/$URL_FILE" ;; esac
ACCESS_KEY="${S3_ACCESS_KEY:-closeraudit}"
SECRET_KEY="${S3_SECRET_KEY:-closeraudit-secret}"
REGION="${S3_REGION:-us-east-1}"
START_TIMEOUT="${S3_START_TIMEOUT:-30}"
CACHE="${S3_SERVER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/closer-audit-s3}"
case "$CACHE" in /*) ;; *) CACHE="$PWD/$CACHE" ;; esac
INSTALL_DIR="$CACHE/versitygw-$VGW_VERSION"
BIN="$INSTALL_DIR/bin/versitygw"

log() { echo "s3-server: $*" >&2; }
die() { log "$*"; exit 1; }

# ---------------------------------------------------------------- install
go_cmd() {
  if [ -n "${GO:-}" ]; then echo "$GO"; return; fi
  command -v go 2>/dev/null || { [ -x /usr/local/go/bin/go ] && echo /usr/local/go/bin/go; } || true
}

installed() { [ -x "$BIN" ] && [ "$(cat "$INSTALL_DIR/.complete" 2>/dev/null || true)" = "$VGW_VERSION" ]; }

cmd_install() {
  if installed; then
    [ "${1:-}" = quiet ] || log "versitygw $VGW_VERSION is installed: $BIN"
    return 0
  fi
  mkdir -p "$INSTALL_DIR"
  exec 8>"$INSTALL_DIR/.lock"
  command -v flock >/dev/null && flock 8
  installed && return 0 # another process built it while we waited
  local go
  go="$(go_cmd)"
  if [ -z "$go" ] || ! command -v "$go" >/dev/null; then
    die "no Go toolchain found (install Go >= 1.25 or set GO=/path/to/go)"
  fi
  log "building versitygw $VGW_VERSION with $("$go" env GOVERSION) (cold: about 2 minutes on 2 cores; log in $INSTALL_DIR/build.log)"
  local t0=$SECONDS
  rm -rf "${INSTALL_DIR:?}/bin"
  if ! (cd "$INSTALL_DIR" &&
    env GOBIN="$INSTALL_DIR/bin" GOFLAGS=-mod=mod CGO_ENABLED=0 \
      "$go" install -trimpath \
      -ldflags "-s -w -X main.Version=$VGW_VERSION -X main.Build=go-install -X main.BuildTime=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
      "$VGW_MODULE/cmd/versitygw@$VGW_VERSION") >"$INSTALL_DIR/build.log" 2>&1; then
    tail -n 40 "$INSTALL_DIR/build.log" >&2
    die "go install $VGW_MODULE/cmd/versitygw@$VGW_VERSION failed"
  fi
  "$BIN" --version >/dev/null || die "the built binary does not run: $BIN"
  echo "$VGW_VERSION" >"$INSTALL_DIR/.complete"
  log "built $BIN in $((SECONDS - t0)) s"
  exec 8>&-
}

# ---------------------------------------------------------------- state
pid_alive() {
  local pid
  pid="$(cat "$RUN/pid" 2>/dev/null || true)"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

server_url() { cat "$RUN/url.server" 2>/dev/null || true; }

EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 # of an empty body

# A signed ListBuckets: proves the server is up and takes our credentials.
signed() { # METHOD URL
  local m=(-X "$1")
  [ "$1" = HEAD ] && m=(--head)
  curl -fsS -m 5 -o /dev/null "${m[@]}" --aws-sigv4 "aws:amz:$REGION:s3" --user "$ACCESS_KEY:$SECRET_KEY" \
    -H "x-amz-content-sha256: $EMPTY_SHA256" "$2" 2>/dev/null
}

healthy() {
  local url="$1"
  [ -n "$url" ] || return 1
  signed GET "$url/"
}

publish_url() {
  local url="$1"
  if [ "$URL_FILE" != "$RUN/url.server" ]; then
    mkdir -p "$(dirname "$URL_FILE")"
    printf '%s\n' "$url" >"$URL_FILE.tmp.$$"
    mv -f "$URL_FILE.tmp.$$" "$URL_FILE"
    { cat "$RUN/url_files" 2>/dev/null || true; printf '%s\n' "$URL_FILE"; } | sort -u >"$RUN/url_files.new"
    mv -f "$RUN/url_files.new" "$RUN/url_files"
  fi
  echo "$url"
}

log_tail() {
  if [ -f "$RUN/server.log" ]; then
    log "last lines of $RUN/server.log:"
    tail -n "${1:-40}" "$RUN/server.log" >&2
  fi
}

lock() {
  mkdir -p "$RUN"
  if command -v flock >/dev/null; then
    exec 9>"$RUN/.lock"
    flock 9
  fi
}

free_port() {
  if command -v node >/dev/null; then
    node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
  elif command -v python3 >/dev/null; then
    python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'
  else
    echo $((20000 + RANDOM % 40000))
  fi
}

# Whether something already listens on 127.0.0.1:PORT.
port_taken() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

do_stop() {
  local pid data
  pid="$(cat "$RUN/pid" 2>/dev/null || true)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    local tries=80
    while [ "$tries" -gt 0 ] && kill -0 "$pid" 2>/dev/null; do
      tries=$((tries - 1))
      sleep 0.125
    done
    if kill -0 "$pid" 2>/dev/null; then
      log "pid $pid did not stop in 10s, killing"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
    fi
    log "stopped (pid $pid)"
  fi
  if [ -f "$RUN/data.tmp" ]; then
    data="$(cat "$RUN/data.tmp")"
    case "$data" in */closer-s3.*) rm -rf "$data" ;; esac
  fi
  if [ -f "$RUN/url_files" ]; then
    while IFS= read -r f; do
      [ -n "$f" ] && rm -f "$f"
    done <"$RUN/url_files"
  fi
  # keep the lock file while we hold it; remove the rest
  find "$RUN" -mindepth 1 -maxdepth 1 ! -name .lock -exec rm -rf {} + 2>/dev/null || true
}

# launch PORT ROOT [SIDECAR]: start the server in the background, wait until healthy.
launch() {
  local port="$1" root="$2" sidecar="${3:-}" url="http://127.0.0.1:$1"
  local args=(--region "$REGION" --port "127.0.0.1:$port" --quiet posix)
  [ -n "$sidecar" ] && args+=(--sidecar "$sidecar")
  args+=("$root")
  # nohup, and the lock fds closed: the server must not hold our locks after we exit
  (
    cd "$RUN"
    # credentials through the environment, so they are not on the command line
    ROOT_ACCESS_KEY_ID="$ACCESS_KEY" ROOT_SECRET_ACCESS_KEY="$SECRET_KEY" \
      nohup "$BIN" "${args[@]}" </dev/null >"$RUN/server.log" 2>&1 8>&- 9>&- &
    echo $! >"$RUN/pid"
  )
  local deadline=$((SECONDS + START_TIMEOUT))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if ! pid_alive; then
      return 1
    fi
    # still alive after answering: a server that failed to bind exits at once
    if healthy "$url" && sleep 0.05 && pid_alive; then
      echo "$url" >"$RUN/url.server"
      return 0
    fi
    sleep 0.1
  done
  log "no answer from $url after ${START_TIMEOUT}s"
  return 2
}

create_buckets() {
  local url="$1" b
  [ -n "${S3_BUCKETS:-}" ] || return 0
  IFS=',' read -r -a buckets <<<"$S3_BUCKETS"
  for b in "${buckets[@]}"; do
    b="$(echo "$b" | tr -d '[:space:]')"
    [ -n "$b" ] || continue
    signed HEAD "$url/$b" || signed PUT "$url/$b" || die "could not create bucket $b"
  done
}

cmd_start() {
  lock
  if pid_alive; then
    local url
    url="$(server_url)"
    if healthy "$url"; then
      create_buckets "$url"
      publish_url "$url"
      return 0
    fi
    log "a server is running (pid $(cat "$RUN/pid")) but does not answer; restarting it"
    log_tail 20
    do_stop
  elif [ -f "$RUN/pid" ]; then
    do_stop # stale state from a server that died
  fi
  command -v curl >/dev/null || die "curl is needed for the readiness check"

  cmd_install quiet

  local base root sidecar=""
  if [ -n "${S3_DATA_DIR:-}" ]; then
    base="$S3_DATA_DIR"
    mkdir -p "$base"
    base="$(cd "$base" && pwd -P)"
  else
    base="$(mktemp -d "${TMPDIR:-/tmp}/closer-s3.XXXXXX")"
    echo "$base" >"$RUN/data.tmp"
  fi
  root="$base/root"
  mkdir -p "$root"
  if [ "${S3_META:-xattr}" = sidecar ]; then
    sidecar="$base/meta"
    mkdir -p "$sidecar"
  fi

  local t0 attempt port rc
  t0="$(date +%s%N)"
  for attempt in 1 2 3 4 5; do
    port="${S3_PORT:-$(free_port)}"
    if port_taken "$port"; then
      [ -z "${S3_PORT:-}" ] || { do_stop; die "port $port (S3_PORT) is already in use"; }
      rc=1
      continue
    fi
    rc=0
    launch "$port" "$root" "$sidecar" || rc=$?
    [ "$rc" -eq 0 ] && break
    if [ "$rc" -eq 1 ] && grep -q "xattrs are not supported" "$RUN/server.log" && [ -z "$sidecar" ]; then
      sidecar="$base/meta"
      mkdir -p "$sidecar"
      log "$root has no user xattrs; keeping metadata in the sidecar dir $sidecar"
      continue
    fi
    if [ "$rc" -eq 1 ] && grep -qi "address already in use" "$RUN/server.log" && [ -z "${S3_PORT:-}" ]; then
      log "port $port was taken, trying another"
      continue
    fi
    log "the server did not start"
    log_tail 30
    do_stop
    exit 1
  done
  [ "$rc" -eq 0 ] || { log_tail 30; do_stop; die "the server did not start after $attempt attempts"; }

  local url
  url="$(server_url)"
  log "versitygw $VGW_VERSION up at $url (pid $(cat "$RUN/pid"), data in $root, ready in $((($(date +%s%N) - t0) / 1000000)) ms)"
  create_buckets "$url"
  publish_url "$url"
}

cmd_stop() {
  lock
  do_stop
  rm -f "$RUN/.lock"
  rmdir "$RUN" 2>/dev/null || true
}

cmd_status() {
  if pid_alive && healthy "$(server_url)"; then
    server_url
    return 0
  fi
  log "not running"
  return 3
}

cmd_logs() {
  if [ -f "$RUN/server.log" ]; then tail -n "${1:-100}" "$RUN/server.log"; else log "no log"; fi
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  logs) shift; cmd_logs "$@" ;;
  *)
    echo "usage: $0 {install|start|stop|status|logs [N]}" >&2
    exit 2
    ;;
esac
