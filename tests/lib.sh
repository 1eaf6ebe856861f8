# tests/lib.sh — shared helpers for the shell system tests
#
# Source it from a test:  . "$top_srcdir/tests/lib.sh"
#
# It gives TAP output (ok/not ok with a counter, diag, done_testing), a
# scratch directory, and starters for a private dbus-daemon and dflyd. Every
# process a test starts is recorded by pid and killed by pid when the test
# exits, however it exits. Everything waits a bounded time; nothing listens
# beyond 127.0.0.1. POSIX sh: automake may run it with dash.
#
# Environment (exported by tests/local.mk; defaults let a developer run a
# test by hand from the build directory):
#   top_srcdir top_builddir DFLYD DFLYCTL DFLY_PLUGIN_BUILD_DIR
# DFLY_TEST_KEEP=1 keeps the scratch directory for a look afterwards.

set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$(pwd)}"
: "${DFLYD:=$top_builddir/dflyd}"
: "${DFLYCTL:=$top_builddir/dflyctl}"
: "${DFLY_PLUGIN_BUILD_DIR:=$top_builddir/build-plugins}"

# --- TAP ---------------------------------------------------------------

TAP_COUNT=0
TAP_FAILED=0
TAP_DONE=0

# diag LINE...: each argument on its own "# " line.
diag () {
  for _line in "$@"; do
    printf '%s\n' "$_line"
  done | sed 's/^/# /'
}

ok () {
  TAP_COUNT=$((TAP_COUNT + 1))
  printf 'ok %d - %s\n' "$TAP_COUNT" "$*"
}

not_ok () {
  TAP_COUNT=$((TAP_COUNT + 1))
  TAP_FAILED=$((TAP_FAILED + 1))
  printf 'not ok %d - %s\n' "$TAP_COUNT" "$*"
}

# check DESCRIPTION COMMAND [ARG...]: ok when COMMAND exits 0.
check () {
  _desc=$1
  shift
  if "$@"; then
    ok "$_desc"
  else
    not_ok "$_desc"
    return 1
  fi
}

# is DESCRIPTION GOT EXPECTED: ok when the two strings are equal.
is () {
  if [ "$2" = "$3" ]; then
    ok "$1"
  else
    not_ok "$1"
    diag "got:      $2" "expected: $3"
    return 1
  fi
}

# like DESCRIPTION FILE EXTENDED-REGEX: ok when a line of FILE matches.
like () {
  if grep -Eq -- "$3" "$2"; then
    ok "$1"
  else
    not_ok "$1"
    diag "no line of $2 matches: $3"
    sed 's/^/#   /' "$2"
    return 1
  fi
}

# unlike DESCRIPTION FILE EXTENDED-REGEX: ok when no line of FILE matches.
unlike () {
  if grep -Eq -- "$3" "$2"; then
    not_ok "$1"
    diag "a line of $2 matches: $3"
    sed 's/^/#   /' "$2"
    return 1
  fi
  ok "$1"
}

# run OUT ERR COMMAND [ARG...]: runs COMMAND with stdout and stderr to the
# files OUT and ERR (under the scratch directory) and sets RUN_STATUS.
run () {
  _out=$1 _err=$2
  shift 2
  RUN_STATUS=0
  "$@" >"$SCRATCH/$_out" 2>"$SCRATCH/$_err" || RUN_STATUS=$?
}

# need PROGRAM...: skips the whole test unless each PROGRAM is installed.
# Call it before the first check: a skip comes instead of a plan.
need () {
  for _program in "$@"; do
    command -v "$_program" >/dev/null || skip_all "$_program is not installed"
  done
}

skip_all () {
  printf '1..0 # SKIP %s\n' "$*"
  TAP_DONE=1
  exit 0
}

bail_out () {
  printf 'Bail out! %s\n' "$*"
  TAP_DONE=1
  exit 99
}

# The plan goes last, so adding a check never means counting by hand.
done_testing () {
  printf '1..%d\n' "$TAP_COUNT"
  TAP_DONE=1
  [ "$TAP_FAILED" -eq 0 ]
  exit $?
}

# --- processes ---------------------------------------------------------

TEST_PIDS=""

track_pid () {
  TEST_PIDS="$TEST_PIDS $1"
}

untrack_pid () {
  _keep=""
  for _p in $TEST_PIDS; do
    [ "$_p" = "$1" ] || _keep="$_keep $_p"
  done
  TEST_PIDS=$_keep
}

# pid_alive PID: running, not a zombie waiting to be reaped. dash does not
# reap background jobs on its own, so kill -0 alone would see zombies.
pid_alive () {
  [ -r "/proc/$1/stat" ] || return 1
  _state=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$_state" ] && [ "$_state" != Z ] && [ "$_state" != X ]
}

# wait_exit PID SECONDS: waits at most SECONDS (tenths polled) for PID to end.
wait_exit () {
  _tries=$(($2 * 10))
  while pid_alive "$1"; do
    [ "$_tries" -gt 0 ] || return 1
    _tries=$((_tries - 1))
    sleep 0.1
  done
  return 0
}

# kill_pid PID: TERM, up to 5 s, then KILL. Only ever by pid.
kill_pid () {
  pid_alive "$1" || return 0
  kill -TERM "$1" 2>/dev/null || return 0
  wait_exit "$1" 5 && return 0
  diag "pid $1 ignored SIGTERM for 5 s, killing it"
  kill -KILL "$1" 2>/dev/null
  wait_exit "$1" 5
}

cleanup () {
  _status=$?
  # Newest first: dflyd goes before the bus it talks on.
  _reversed=""
  for _p in $TEST_PIDS; do
    _reversed="$_p $_reversed"
  done
  for _p in $_reversed; do
    kill_pid "$_p"
  done
  if [ "$TAP_DONE" -eq 0 ]; then
    diag "the test stopped early (status $_status)"
  fi
  if [ "$TAP_FAILED" -gt 0 ] || [ "$TAP_DONE" -eq 0 ]; then
    for _log in "$SCRATCH"/*.log; do
      [ -f "$_log" ] || continue
      diag "--- $_log (last 40 lines):"
      tail -n 40 "$_log" | sed 's/^/#   /'
    done
  fi
  if [ "${DFLY_TEST_KEEP:-0}" = 1 ]; then
    diag "scratch directory kept: $SCRATCH"
  else
    rm -rf "$SCRATCH"
  fi
}

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/dfly-test.XXXXXX") || bail_out "mktemp failed"
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- D-Bus -------------------------------------------------------------

# start_bus [NAME [POLICY-XML]]: a private dbus-daemon listening under the
# scratch directory. Sets BUS_ADDRESS and BUS_PID. POLICY-XML, if given, is
# pasted into the bus configuration (e.g. <policy> elements).
start_bus () {
  _name=${1:-bus}
  _policy=${2:-'<policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>'}
  command -v dbus-daemon >/dev/null || bail_out "dbus-daemon is not installed"
  cat >"$SCRATCH/$_name.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>custom</type>
  <listen>unix:path=$SCRATCH/$_name.socket</listen>
  <auth>EXTERNAL</auth>
  $_policy
</busconfig>
EOF
  # --fork returns once the bus listens; its pid comes back on fd 4.
  dbus-daemon --config-file="$SCRATCH/$_name.conf" --fork --nosyslog \
    --print-address=3 --print-pid=4 \
    3>"$SCRATCH/$_name.address" 4>"$SCRATCH/$_name.pid" </dev/null \
    >>"$SCRATCH/$_name.log" 2>&1 || bail_out "dbus-daemon did not start"
  BUS_PID=$(cat "$SCRATCH/$_name.pid")
  BUS_ADDRESS=$(head -n 1 "$SCRATCH/$_name.address")
  [ -n "$BUS_PID" ] && [ -n "$BUS_ADDRESS" ] || bail_out "dbus-daemon printed no address or pid"
  track_pid "$BUS_PID"
}

# --- dflyd -------------------------------------------------------------

# write_config FILE [YAML...]: a config for one dflyd: all four roles, state
# and cache in the scratch directory, the manager on an ephemeral port of
# 127.0.0.1, fast host announces. Extra YAML lines are appended verbatim.
# The scheduler listens on $WRITE_CONFIG_SCHEDULER_PORT, else an ephemeral port: then the
# daemon's own engine does not know it, and downloads skip the scheduler.
write_config () {
  _file=$1
  shift
  mkdir -p "$SCRATCH/state" "$SCRATCH/cache"
  {
    cat <<EOF
daemon:
  roles: [manager, scheduler, seed, peer]
  state_dir: $SCRATCH/state
  cache_dir: $SCRATCH/cache
  log_level: info
  shutdown_timeout: 10
host:
  ip: 127.0.0.1
  announce_interval: 1
manager:
  listen: 127.0.0.1
  port: 0
scheduler:
  port: ${WRITE_CONFIG_SCHEDULER_PORT:-0}
upload:
  port: 0
EOF
    for _line in "$@"; do
      printf '%s\n' "$_line"
    done
  } >"$_file"
}

# start_dflyd CONFIG [NAME]: dflyd on $BUS_ADDRESS with the in-tree plugins,
# logging to $SCRATCH/NAME.log. Sets DFLYD_PID and DFLYD_LOG.
start_dflyd () {
  DFLYD_LOG="$SCRATCH/${2:-dflyd}.log"
  "$DFLYD" --bus-address "$BUS_ADDRESS" --config "$1" \
    --plugin-dir "$DFLY_PLUGIN_BUILD_DIR" </dev/null >>"$DFLYD_LOG" 2>&1 &
  DFLYD_PID=$!
  track_pid "$DFLYD_PID"
}

# wait_for_dflyd [SECONDS]: until dflyctl gets an answer on $BUS_ADDRESS
# (dflyd takes its name only once its roles run). Fails early if dflyd died.
wait_for_dflyd () {
  _tries=$((${1:-10} * 10))
  # Each try is bounded too: a dflyd that owns its name but hangs must not
  # make every try wait out D-Bus's own 30 s timeout.
  while ! timeout 5 "$DFLYCTL" --address "$BUS_ADDRESS" status >/dev/null 2>&1; do
    if ! pid_alive "$DFLYD_PID"; then
      diag "dflyd (pid $DFLYD_PID) exited before it answered"
      return 1
    fi
    [ "$_tries" -gt 0 ] || return 1
    _tries=$((_tries - 1))
    sleep 0.1
  done
}

# stop_dflyd [SECONDS]: SIGTERM, then wait at most SECONDS (default 15) for
# dflyd to exit. Sets DFLYD_STATUS to its exit status (or "timeout").
stop_dflyd () {
  kill -TERM "$DFLYD_PID" 2>/dev/null
  if ! wait_exit "$DFLYD_PID" "${1:-15}"; then
    DFLYD_STATUS=timeout
    return 1
  fi
  DFLYD_STATUS=0
  wait "$DFLYD_PID" || DFLYD_STATUS=$?
  untrack_pid "$DFLYD_PID"
  [ "$DFLYD_STATUS" -eq 0 ]
}

# wait_for_line FILE EXTENDED-REGEX [SECONDS]: until a line of FILE matches.
wait_for_line () {
  _tries=$((${3:-10} * 10))
  until grep -Eq -- "$2" "$1" 2>/dev/null; do
    [ "$_tries" -gt 0 ] || return 1
    _tries=$((_tries - 1))
    sleep 0.1
  done
}

# --- misc --------------------------------------------------------------

# pick_port: a TCP port of 127.0.0.1 that was free a moment ago.
# start_nginx ROOT: a real nginx origin serving ROOT on 127.0.0.1, with
# locations the download tests need besides plain files:
#   /norange/   no Range support (max_ranges 0)
#   /chunked/   no Content-Length, chunked bodies (a sub_filter that never matches)
#   /flaky/     500 while ROOT/fail-flag exists
#   /slow/      200 KiB/s per connection
#   /limited/   512 KiB/s per request after its first second (nginx lets a
#               second's worth through at once)
# Sets NGINX_PID, NGINX_PORT, NGINX_URL (http://127.0.0.1:PORT) and
# NGINX_ACCESS_LOG: one line per request, "METHOD URI STATUS BYTES RANGE".
# NGINX_EXTRA, if set, is more of the http block (e.g. proxy servers, so
# that the bytes another origin sends are counted in the same log).
start_nginx () {
  [ -x /usr/sbin/nginx ] || bail_out "nginx is not installed (tests/setup.sh installs it)"
  _root=$1
  _dir="$SCRATCH/nginx"
  mkdir -p "$_dir/temp"
  NGINX_ACCESS_LOG="$_dir/access.log"
  : >"$NGINX_ACCESS_LOG"
  _tries=5
  while [ "$_tries" -gt 0 ]; do
    _tries=$((_tries - 1))
    NGINX_PORT=$(pick_port)
    # Run as root, nginx's workers would drop to nobody, who cannot read the
    # private scratch directory.
    _user=""
    [ "$(id -u)" -ne 0 ] || _user="user root;"
    cat >"$_dir/nginx.conf" <<NGINX_EOF
$_user
daemon off;
master_process on;
worker_processes 1;
pid $_dir/nginx.pid;
error_log $_dir/error.log info;
events { worker_connections 256; }
http {
  log_format dfly '\$request_method \$uri \$status \$body_bytes_sent "\$http_range"';
  access_log $NGINX_ACCESS_LOG dfly;
  client_body_temp_path $_dir/temp/body;
  proxy_temp_path $_dir/temp/proxy;
  fastcgi_temp_path $_dir/temp/fastcgi;
  uwsgi_temp_path $_dir/temp/uwsgi;
  scgi_temp_path $_dir/temp/scgi;
  default_type application/octet-stream;
  sendfile on;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $_root;
    location /norange/ { max_ranges 0; }
    location /chunked/ {
      sub_filter_types *;
      sub_filter 'x-never-matches-x' 'y';
      sub_filter_once off;
    }
    location /flaky/ {
      if (-f $_root/fail-flag) { return 500; }
    }
    location /slow/ { limit_rate 200k; }
    location /limited/ { limit_rate 512k; }
  }
  ${NGINX_EXTRA:-}
}
NGINX_EOF
    /usr/sbin/nginx -c "$_dir/nginx.conf" -p "$_dir/" >>"$SCRATCH/nginx.log" 2>&1 &
    NGINX_PID=$!
    track_pid "$NGINX_PID"
    NGINX_URL="http://127.0.0.1:$NGINX_PORT"
    _wait=50
    while [ "$_wait" -gt 0 ]; do
      curl -s -o /dev/null "$NGINX_URL/" && return 0
      pid_alive "$NGINX_PID" || break
      _wait=$((_wait - 1))
      sleep 0.1
    done
    kill_pid "$NGINX_PID"
    untrack_pid "$NGINX_PID"
  done
  bail_out "nginx did not start (see $SCRATCH/nginx.log)"
}

# nginx_bytes URI: body bytes nginx sent for URI so far, over every request.
# nginx logs a request when it ends: let the client finish first.
nginx_bytes () {
  awk -v uri="$1" '$2 == uri { sum += $4 } END { printf "%d\n", sum }' "$NGINX_ACCESS_LOG"
}

# nginx_ratio URI FILE: body bytes nginx sent for URI over FILE's size, with
# 3 decimals (python: the sums pass 2^31, where this awk's printf stops).
nginx_ratio () {
  python3 -c '
import os, sys
sent = sum(int(f[3]) for f in (l.split() for l in open(sys.argv[1])) if f[1] == sys.argv[2])
print("%.3f" % (sent / max(os.path.getsize(sys.argv[3]), 1)))' "$NGINX_ACCESS_LOG" "$1" "$2"
}

# at_most LIMIT VALUE: true when the decimal VALUE is at most LIMIT.
at_most () {
  python3 -c "import sys; sys.exit(0 if float('$2') <= float('$1') else 1)"
}

# nginx_requests URI [STATUS]: how many requests for URI (answered STATUS).
nginx_requests () {
  awk -v uri="$1" -v st="${2:-}" \
    '$2 == uri && (st == "" || $3 == st) { n++ } END { printf "%d\n", n }' "$NGINX_ACCESS_LOG"
}

# start_s3rver DIR BUCKET...: a real s3rver (tests/setup.sh installs it
# under /var/cache/dfly-test/npm) on 127.0.0.1 keeping its objects in DIR,
# with each BUCKET created. It does not check signatures. Sets S3RVER_PID,
# S3RVER_PORT and S3RVER_URL (http://127.0.0.1:PORT).
S3RVER=${S3RVER:-/var/cache/dfly-test/npm/node_modules/.bin/s3rver}
start_s3rver () {
  [ -x "$S3RVER" ] || bail_out "s3rver is not installed (tests/setup.sh installs it)"
  _dir=$1
  shift
  _buckets=""
  for _b in "$@"; do
    _buckets="$_buckets --configure-bucket $_b"
  done
  mkdir -p "$_dir"
  _tries=5
  while [ "$_tries" -gt 0 ]; do
    _tries=$((_tries - 1))
    S3RVER_PORT=$(pick_port)
    # s3rver's continuation tokens use DES, which OpenSSL 3 keeps in its
    # legacy provider: without it, a listing of more than a page fails.
    # shellcheck disable=SC2086 # one word per option
    NODE_OPTIONS=--openssl-legacy-provider "$S3RVER" -d "$_dir" -a 127.0.0.1 -p "$S3RVER_PORT" $_buckets --silent \
      </dev/null >>"$SCRATCH/s3rver.log" 2>&1 &
    S3RVER_PID=$!
    track_pid "$S3RVER_PID"
    S3RVER_URL="http://127.0.0.1:$S3RVER_PORT"
    _wait=100
    while [ "$_wait" -gt 0 ]; do
      curl -s -o /dev/null "$S3RVER_URL/" && return 0
      pid_alive "$S3RVER_PID" || break
      _wait=$((_wait - 1))
      sleep 0.1
    done
    kill_pid "$S3RVER_PID"
    untrack_pid "$S3RVER_PID"
  done
  bail_out "s3rver did not start (see $SCRATCH/s3rver.log)"
}

# s3_put BUCKET KEY FILE: stores FILE as an object (KEY as it goes in the
# URL path: percent-encode what needs it).
s3_put () {
  curl -sf -X PUT --data-binary "@$3" -H "Content-Type: application/octet-stream" \
    -o /dev/null "$S3RVER_URL/$1/$2"
}

pick_port () {
  python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# json_check FILE PYTHON-EXPRESSION: true when the JSON document in FILE
# parses and the expression over it (named d) is true; says why if not.
json_check () {
  python3 - "$1" "$2" <<'EOF'
import json, sys
try:
    with open(sys.argv[1]) as f:
        d = json.load(f)
except ValueError as e:
    print("# not JSON: %s" % e)
    sys.exit(1)
try:
    # Parenthesised, so the expression may span lines; d is a global, so
    # comprehensions inside it see it too.
    result = eval("(" + sys.argv[2] + "\n)",
                  {"re": __import__("re"), "os": __import__("os"), "d": d})
except Exception as e:
    print("# %s: %r" % (type(e).__name__, e))
    sys.exit(1)
if not result:
    print("# false: %s" % sys.argv[2])
    print("# over: %s" % json.dumps(d)[:2000])
sys.exit(0 if result else 1)
EOF
}

# --- OCI registry ------------------------------------------------------

# start_registry [NAME [USER PASSWORD [token]]]: docker-registry
# (distribution) on a free port of 127.0.0.1 with filesystem storage under
# $SCRATCH/NAME/data, behind htpasswd auth when USER and PASSWORD are given,
# or with "token" behind token auth: a Bearer challenge whose realm is
# tests/registry-token.py, which issues tokens for USER and PASSWORD and
# logs each request to $REGISTRY_TOKEN_LOG. Sets REGISTRY_PID, REGISTRY
# (127.0.0.1:PORT), REGISTRY_DATA, REGISTRY_AUTH (curl's -u argument, or
# empty) and REGISTRY_TOKEN_REALM (empty without token auth).
start_registry () {
  command -v docker-registry >/dev/null || skip_all "docker-registry is not installed"
  _name=${1:-registry}
  _dir="$SCRATCH/$_name"
  mkdir -p "$_dir/data"
  REGISTRY_DATA="$_dir/data"
  REGISTRY_AUTH=""
  REGISTRY_TOKEN_REALM=""
  _auth=""
  if [ "${4:-}" = token ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$_dir/token-key.pem" \
      -out "$_dir/token-cert.pem" -subj "/CN=token issuer" -days 2 >/dev/null 2>&1 ||
      bail_out "openssl could not make the token issuer's key"
    _token_port=$(pick_port)
    REGISTRY_TOKEN_LOG="$_dir/token.log"
    : >"$REGISTRY_TOKEN_LOG"
    python3 "$top_srcdir/tests/registry-token.py" "$_token_port" "$2" "$3" \
      "$_dir/token-key.pem" "$_dir/token-cert.pem" dfly-test dfly-test-issuer \
      "$REGISTRY_TOKEN_LOG" </dev/null >>"$SCRATCH/$_name-token.log" 2>&1 &
    track_pid $!
    REGISTRY_TOKEN_REALM="http://127.0.0.1:$_token_port/token"
    _wait=100
    until curl -s -o /dev/null "$REGISTRY_TOKEN_REALM"; do
      [ "$_wait" -gt 0 ] || bail_out "the token service did not start"
      _wait=$((_wait - 1))
      sleep 0.1
    done
    _auth="auth:
  token:
    realm: $REGISTRY_TOKEN_REALM
    service: dfly-test
    issuer: dfly-test-issuer
    rootcertbundle: $_dir/token-cert.pem"
    REGISTRY_AUTH="$2:$3"
  elif [ $# -ge 3 ]; then
    htpasswd -Bbn "$2" "$3" >"$_dir/htpasswd" || bail_out "htpasswd failed"
    _auth="auth:
  htpasswd:
    realm: test
    path: $_dir/htpasswd"
    REGISTRY_AUTH="$2:$3"
  fi
  _tries=5
  while [ "$_tries" -gt 0 ]; do
    _tries=$((_tries - 1))
    REGISTRY="127.0.0.1:$(pick_port)"
    cat >"$_dir/config.yml" <<REGISTRY_EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $REGISTRY_DATA
  delete:
    enabled: true
http:
  addr: $REGISTRY
$_auth
REGISTRY_EOF
    docker-registry serve "$_dir/config.yml" </dev/null >>"$SCRATCH/$_name.log" 2>&1 &
    REGISTRY_PID=$!
    track_pid "$REGISTRY_PID"
    _wait=100
    while [ "$_wait" -gt 0 ]; do
      curl -s -o /dev/null "http://$REGISTRY/v2/" && return 0
      pid_alive "$REGISTRY_PID" || break
      _wait=$((_wait - 1))
      sleep 0.1
    done
    kill_pid "$REGISTRY_PID"
    untrack_pid "$REGISTRY_PID"
  done
  bail_out "docker-registry did not start (see $SCRATCH/$_name.log)"
}

# stop_registry: stops the last started registry by pid.
stop_registry () {
  kill_pid "$REGISTRY_PID"
  untrack_pid "$REGISTRY_PID"
}

# registry_token REPO ACTIONS: a token of the token-auth registry for REPO.
registry_token () {
  curl -sS --max-time 10 -u "$REGISTRY_AUTH" \
    "$REGISTRY_TOKEN_REALM?service=dfly-test&scope=repository:$1:$2" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}

# registry_curl ARG...: curl to $REGISTRY, with its credentials if any.
registry_curl () {
  if [ -n "${REGISTRY_TOKEN_REALM:-}" ]; then
    _scope=$(printf '%s\n' "$@" | sed -n -E 's#.*/v2/(.*)/(blobs|manifests)/.*#\1#p' | head -n 1)
    curl -sS --max-time 30 -H "Authorization: Bearer $(registry_token "$_scope" pull,push)" "$@"
  elif [ -n "$REGISTRY_AUTH" ]; then
    curl -sS --max-time 30 -u "$REGISTRY_AUTH" "$@"
  else
    curl -sS --max-time 30 "$@"
  fi
}

# push_blob REPO FILE: uploads FILE to $REGISTRY's REPO (POST, then PUT
# with its digest) and prints the digest, sha256:<hex>.
push_blob () {
  _digest="sha256:$(sha256sum "$2" | cut -d' ' -f1)"
  _location=$(registry_curl -o /dev/null -D - -X POST "http://$REGISTRY/v2/$1/blobs/uploads/" |
    tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
  [ -n "$_location" ] || return 1
  case $_location in
    http*) ;;
    *) _location="http://$REGISTRY$_location" ;;
  esac
  case $_location in
    *\?*) _location="$_location&digest=$_digest" ;;
    *) _location="$_location?digest=$_digest" ;;
  esac
  registry_curl -f -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' \
    --data-binary "@$2" "$_location" || return 1
  printf '%s\n' "$_digest"
}

# push_manifest REPO TAG FILE [MEDIA-TYPE]: PUTs FILE as REPO:TAG (an OCI
# image manifest by default) and prints its digest.
push_manifest () {
  registry_curl -f -o /dev/null -X PUT \
    -H "Content-Type: ${4:-application/vnd.oci.image.manifest.v1+json}" \
    --data-binary "@$3" "http://$REGISTRY/v2/$1/manifests/$2" || return 1
  printf 'sha256:%s\n' "$(sha256sum "$3" | cut -d' ' -f1)"
}

# registry_blob_file DIGEST: where the registry's storage keeps a blob's bytes.
registry_blob_file () {
  _hex=${1#sha256:}
  printf '%s\n' "$REGISTRY_DATA/docker/registry/v2/blobs/sha256/$(printf %s "$_hex" | cut -c1-2)/$_hex/data"
}

need python3
[ -x "$DFLYD" ] || bail_out "no dflyd at $DFLYD (run make first)"
[ -x "$DFLYCTL" ] || bail_out "no dflyctl at $DFLYCTL (run make first)"

# --- swarms of dflyd ---------------------------------------------------

# start_node NAME IP ROLES [YAML-LINE...]: one dflyd as host IP (127.0.0.x)
# named NAME (a shell word), with its own private bus, state and cache,
# running ROLES (a YAML list, e.g. "[peer]"). Extra lines are appended to
# its config (whole sections); NODE_MANAGER_LINES, if set, go into its
# manager section (which start_node writes), and NODE_MANAGER_PORT is the
# manager role's port (0: a free one). Sets NODE_PID_<NAME> and
# NODE_BUS_<NAME>; its log is $SCRATCH/NAME.log and its cache
# $SCRATCH/NAME/cache.
start_node () {
  _node_name=$1
  _ip=$2
  _roles=$3
  shift 3
  _dir="$SCRATCH/$_node_name"
  mkdir -p "$_dir/state" "$_dir/cache"
  {
    cat <<EOF
daemon:
  roles: $_roles
  state_dir: $_dir/state
  cache_dir: $_dir/cache
  log_level: info
  shutdown_timeout: 10
host:
  ip: $_ip
  hostname: $_node_name
  announce_interval: 1
manager:
  listen: $_ip
  port: ${NODE_MANAGER_PORT:-0}
EOF
    [ -z "${NODE_MANAGER_LINES:-}" ] || printf '%s\n' "$NODE_MANAGER_LINES"
    for _line in "$@"; do
      printf '%s\n' "$_line"
    done
  } >"$_dir/dflyd.yaml"
  # start_bus has its own _name and _dir.
  _node_config="$_dir/dflyd.yaml"
  start_bus "$_node_name-bus"
  "$DFLYD" --bus-address "$BUS_ADDRESS" --config "$_node_config" \
    --plugin-dir "$DFLY_PLUGIN_BUILD_DIR" </dev/null >>"$SCRATCH/$_node_name.log" 2>&1 &
  _pid=$!
  track_pid "$_pid"
  eval "NODE_PID_$_node_name=$_pid NODE_BUS_$_node_name=\$BUS_ADDRESS"
}

# node_pid NAME / node_bus NAME: what start_node recorded.
node_pid () { eval "printf '%s\n' \"\$NODE_PID_$1\""; }
node_bus () { eval "printf '%s\n' \"\$NODE_BUS_$1\""; }

# node_ctl NAME ARGS...: dflyctl talking to node NAME.
node_ctl () {
  _node=$1
  shift
  "$DFLYCTL" --address "$(node_bus "$_node")" "$@"
}

# wait_for_node NAME [SECONDS]: until node NAME answers on its bus.
wait_for_node () {
  _tries=$((${2:-20} * 10))
  while ! timeout 5 "$DFLYCTL" --address "$(node_bus "$1")" status >/dev/null 2>&1; do
    if ! pid_alive "$(node_pid "$1")"; then
      diag "node $1 exited; its log ends:"
      tail -20 "$SCRATCH/$1.log" >&2
      return 1
    fi
    [ "$_tries" -gt 0 ] || return 1
    _tries=$((_tries - 1))
    sleep 0.1
  done
}

# get_all FILE NODE...: each NODE fetches $NGINX_URL/FILE at once into
# $OUT/NODE-NAME (NAME: FILE's last component), each within GET_TIMEOUT
# seconds (300); GET_FAILED lists the nodes whose dflyctl failed.
get_all () {
  _file=$1
  shift
  _pids=""
  for _node in "$@"; do
    timeout "${GET_TIMEOUT:-300}" "$DFLYCTL" --address "$(node_bus "$_node")" get \
      "$NGINX_URL/$_file" -O "$OUT/$_node-${_file##*/}" -q >"$SCRATCH/get-$_node.out" 2>&1 &
    _pids="$_pids $_node:$!"
  done
  GET_FAILED=""
  for _entry in $_pids; do
    wait "${_entry#*:}" || GET_FAILED="$GET_FAILED ${_entry%%:*}"
  done
}

# identical FILE NODE...: how many of the NODEs' copies (get_all's) equal
# $WWW/FILE.
identical () {
  _file=$1
  shift
  _same=0
  for _node in "$@"; do
    cmp -s "$WWW/$_file" "$OUT/$_node-${_file##*/}" && _same=$((_same + 1))
  done
  echo "$_same"
}

# proxy_port LOG [SECONDS]: the port the proxy role of the dflyd logging to
# LOG listens on (it logs "proxy listening on ADDR:PORT" once bound).
proxy_port () {
  wait_for_line "$1" 'proxy listening on ' "${2:-10}" || return 1
  sed -n 's/.*proxy listening on .*:\([0-9][0-9]*\)$/\1/p' "$1" | tail -n 1
}
