#!/bin/sh
# bench-swarm.sh — one file to N peers: dfly's swarm against everyone
# fetching from the origin and against a BitTorrent swarm, same caps
#
#   tests/bench/bench-swarm.sh [BUILD_DIR]
#
# Environment (defaults in brackets):
#   NS            swarm sizes, in order ["8 24"; N=X alone means NS=X]
#   SIZE_MIB      the file [256]
#   SMALL_MIB     a second, small file where start-up costs dominate [16]
#   RATE_MIB      upload cap of the origin and of every peer, MiB/s [50]
#   ROUNDS        runs of each system; figures are medians [1]
#   SYSTEMS       which systems run ["origin bittorrent dfly dfly_tls"]; a ratio
#                 to a system left out is n/a (for profiling one alone)
#   MAX_TOTAL_MIB cap on N × SIZE_MIB, so the all-from-origin run of a big
#                 swarm stays short: a larger N gets a smaller file [2048]
#   KEEP          1 keeps the scratch directory, and in it each dfly run's
#                 nodes (configs, logs, storage.db; not the pieces) as
#                 dfly-RUN, or dfly-failed-RUN [0]
#   LOG_LEVEL     the dflyds' daemon.log_level [warning]
#   PERF_DIR      record each dfly transfer with `perf record -a -g` into
#                 PERF_DIR/dfly-nN-SIZE.data (whole system, transfer only;
#                 PERF_RECORD replaces the options, e.g. "-a --call-graph dwarf")
#   ANNOUNCE_INTERVAL  the dflyds' host.announce_interval, seconds; the
#                 scheduler drops a host silent for twice as long [1]
#
# Needs root: it re-executes itself in a network namespace of its own
# (unshare -n), where each node has its own 127.0.0.x and an htb class on
# that namespace's lo caps what each address sends. The host's lo is never
# shaped. Nodes:
#   127.0.0.2       the origin (nginx), or the BitTorrent seeder — capped
#   127.0.0.3       opentracker / the dfly scheduler — not capped
#   127.0.0.4       the dfly seed node — capped like a peer
#   127.0.0.10+i    peer i — capped
# For each swarm size and file size, in each round, it times until all N
# peers hold the whole file (cmp against the original), for:
#   origin      N curls from nginx at once
#   bittorrent  opentracker + one aria2c seeder holding the file + N aria2c
#               leechers, 1 MiB pieces (mktorrent)
#   dfly        a scheduler, a seed and N peers, N `dflyctl get --hardlink`
#   dfly_tls    the same with every link mutual TLS from one cluster CA
#               (`dflyctl cert`): what TLS costs, in time and CPU
#               at once (the daemons run before; their CPU counts from then)
# and prints, per system, the seconds, the bytes the origin sent over the
# file size, and CPU-seconds per GiB delivered; then the Kumar–Ross lower
# bound. Not a test: it never fails on a figure, only when something cannot
# run. Each swarm size ends with the line
#   bench swarm: n=N ratio_vs_bound=R1 ratio_vs_bittorrent=R2 ratio_vs_origin=R3 origin_bytes_ratio=R4
# (R1–R3: dfly's time over the other's, for the big file; R4: the bytes
# the origin sent during dfly's run over the file size).
set -u
build=${1:-${top_builddir:-$(pwd)}}

# --- into a network namespace of our own -------------------------------

netns=$(readlink /proc/self/ns/net)
if [ -z "${DFLY_SWARM_OUTER_NETNS:-}" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Bail out! bench-swarm needs root (a network namespace and tc)"
    exit 99
  fi
  DFLY_SWARM_OUTER_NETNS=$netns
  export DFLY_SWARM_OUTER_NETNS
  exec unshare -n -- sh "$0" "$@"
fi
# Shaping the host's own lo would throttle everything on the machine.
if [ "$DFLY_SWARM_OUTER_NETNS" = "$netns" ]; then
  echo "Bail out! bench-swarm is not in a network namespace of its own"
  exit 99
fi

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=$(cd "$build" && pwd)
DFLYD="$top_builddir/dflyd"
DFLYCTL="$top_builddir/dflyctl"
DFLY_PLUGIN_BUILD_DIR="$top_builddir/build-plugins"
export top_srcdir top_builddir DFLYD DFLYCTL DFLY_PLUGIN_BUILD_DIR
[ "${KEEP:-0}" != 1 ] || DFLY_TEST_KEEP=1 # lib.sh's cleanup keeps $SCRATCH
. "$top_srcdir/tests/lib.sh"
TAP_DONE=1 # not a TAP test: no plan, the figures are the output

for program in ip tc nginx curl aria2c opentracker mktorrent getconf pgrep; do
  command -v "$program" >/dev/null || [ -x "/usr/sbin/$program" ] ||
    bail_out "$program is not installed (tests/setup.sh installs it)"
done

ns=${NS:-${N:-8 24}}
size_mib=${SIZE_MIB:-256}
small_mib=${SMALL_MIB:-16}
rate_mib=${RATE_MIB:-50}
rounds=${ROUNDS:-1}
max_total_mib=${MAX_TOTAL_MIB:-2048}
systems=${SYSTEMS:-origin bittorrent dfly dfly_tls}
clk_tck=$(getconf CLK_TCK)

ORIGIN_IP=127.0.0.2
TRACKER_IP=127.0.0.3 # the dfly scheduler's address too
SEED_IP=127.0.0.4
ORIGIN_PORT=8080
ORIGIN_URL="http://$ORIGIN_IP:$ORIGIN_PORT"
peer_ip () { echo "127.0.0.$((10 + $1))"; }

now () { date +%s.%N; }
elapsed () { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
divide () { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'; }
median () { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# --- shaping -----------------------------------------------------------

max_n=0
for n in $ns; do
  case $n in
    '' | *[!0-9]*) bail_out "NS: \"$n\" is not a number" ;;
  esac
  if [ "$n" -lt 1 ] || [ "$n" -gt 200 ]; then
    bail_out "NS: $n is not in 1..200"
  fi
  [ "$n" -le "$max_n" ] || max_n=$n
done

ip link set lo up || bail_out "cannot bring up lo in the namespace"
# Unclassified traffic (the tracker, the scheduler, 127.0.0.1) falls to
# default class 999, which does not exist: htb sends it uncapped.
tc qdisc add dev lo root handle 1: htb default 999 || bail_out "tc: no htb qdisc"
rate_bits="$((rate_mib * 8388608))bit"
# shape ADDRESS: an htb class capping what ADDRESS sends at RATE_MIB. The
# class's minor number is the address's last byte (in hex, as tc reads it).
# quantum only matters when classes borrow, which capped ones never do; set,
# it stops htb's warning about a big one.
shape () {
  _minor=$(printf %x "${1##*.}")
  tc class add dev lo parent 1: classid "1:$_minor" htb rate "$rate_bits" ceil "$rate_bits" \
    burst 256k quantum 60000 || bail_out "tc: cannot add a class for $1"
  tc filter add dev lo parent 1: protocol ip u32 match ip src "$1/32" flowid "1:$_minor" ||
    bail_out "tc: cannot add a filter for $1"
}
shape "$ORIGIN_IP"
shape "$SEED_IP"
for i in $(seq 0 $((max_n - 1))); do
  shape "$(peer_ip "$i")"
done
ORIGIN_CLASS="1:$(printf %x "${ORIGIN_IP##*.}")"

# origin_class_bytes: what the origin's address has sent, per the kernel.
origin_class_bytes () {
  tc -s class show dev lo classid "$ORIGIN_CLASS" | awk '$1 == "Sent" { print $2; exit }'
}

# listen_drops: SYNs the namespace's TCP dropped so far because a listening
# socket's accept queue was full (each costs the client a 1 s retransmit).
listen_drops () {
  awk '$1 == "TcpExt:" { if (!h) { for (i = 2; i <= NF; i++) col[$i] = i; h = 1 }
    else { print $(col["ListenDrops"]) + 0; exit } }' /proc/net/netstat
}

# --- CPU time ------------------------------------------------------------

# stat_ticks FILE: user + system time of a process and of the children it
# has waited for, in clock ticks, from a copy of its /proc/PID/stat.
stat_ticks () {
  # The command name, in parentheses, may hold spaces: count from after it.
  sed 's/^.*) //' "$1" 2>/dev/null | awk '{ print $12 + $13 + $14 + $15 }'
}

# pid_ticks PID...: the same for running processes, summed.
pid_ticks () {
  _sum=0
  for _p in "$@"; do
    _t=$(stat_ticks "/proc/$_p/stat")
    _sum=$((_sum + ${_t:-0}))
  done
  echo "$_sum"
}

# fanout STATFILE SCRIPT: runs SCRIPT (commands put in the background with
# &) in a shell of its own that waits for them all, then copies its stat
# to STATFILE: its children's time there is the CPU of every command.
fanout () {
  sh -c "$2"'
wait
cat "/proc/$$/stat" >"$0"' "$1"
}

# --- the origin --------------------------------------------------------

WWW="$SCRATCH/www"
mkdir -p "$WWW" "$SCRATCH/nginx/temp"
ACCESS_LOG="$SCRATCH/nginx/access.log"
NGINX_ACCESS_LOG=$ACCESS_LOG # for lib.sh's nginx_requests
# lib.sh's start_nginx listens on 127.0.0.1 only: the origin needs its own
# address here, to have its own class.
user=""
[ "$(id -u)" -ne 0 ] || user="user root;" # workers as nobody cannot read $SCRATCH
cat >"$SCRATCH/nginx/nginx.conf" <<EOF
$user
daemon off;
master_process on;
worker_processes 1;
pid $SCRATCH/nginx/nginx.pid;
error_log $SCRATCH/nginx/error.log warn;
events { worker_connections 1024; }
http {
  log_format dfly '\$request_method \$uri \$status \$body_bytes_sent "\$http_range" \$remote_addr';
  access_log $ACCESS_LOG dfly;
  client_body_temp_path $SCRATCH/nginx/temp/body;
  proxy_temp_path $SCRATCH/nginx/temp/proxy;
  fastcgi_temp_path $SCRATCH/nginx/temp/fastcgi;
  uwsgi_temp_path $SCRATCH/nginx/temp/uwsgi;
  scgi_temp_path $SCRATCH/nginx/temp/scgi;
  default_type application/octet-stream;
  sendfile on;
  server {
    listen $ORIGIN_IP:$ORIGIN_PORT;
    root $WWW;
  }
}
EOF
/usr/sbin/nginx -c "$SCRATCH/nginx/nginx.conf" -p "$SCRATCH/nginx/" >>"$SCRATCH/nginx.log" 2>&1 &
NGINX_PID=$!
track_pid "$NGINX_PID"
tries=50
until curl -s -o /dev/null "$ORIGIN_URL/"; do
  if ! pid_alive "$NGINX_PID" || [ "$tries" -eq 0 ]; then
    bail_out "nginx did not start (see $SCRATCH/nginx.log)"
  fi
  tries=$((tries - 1))
  sleep 0.1
done

# nginx_ticks: CPU of nginx's workers so far (the master does no serving).
nginx_ticks () {
  # shellcheck disable=SC2046 # one pid per word
  pid_ticks $(pgrep -P "$NGINX_PID")
}

# origin_bytes URI: body bytes nginx sent for URI so far. (lib.sh's
# nginx_bytes prints with %d, which mawk caps at 2^31 - 1.)
origin_bytes () {
  awk -v uri="$1" '$2 == uri { sum += $4 } END { printf "%.0f\n", sum }' "$ACCESS_LOG"
}

# wait_logged URI COUNT: nginx logs a request once it has sent the last
# byte, a moment after the client may have it: wait for COUNT lines.
wait_logged () {
  _tries=30
  while [ "$(nginx_requests "$1")" -lt "$2" ] && [ "$_tries" -gt 0 ]; do
    _tries=$((_tries - 1))
    sleep 0.1
  done
}

# info_hash MIB: the file's info hash, as hex.
info_hash () {
  aria2c -S "$SCRATCH/file-$1.torrent" | sed -n 's/^Info Hash: //p'
}

# make_file MIB: WWW/file-MIB of random bytes (nothing may shortcut zeros),
# its torrent (1 MiB pieces) and its info hash in the tracker's whitelist.
WHITELIST="$SCRATCH/whitelist"
: >"$WHITELIST"
make_file () {
  [ -f "$WWW/file-$1" ] && return 0
  head -c $(($1 * 1048576)) /dev/urandom >"$WWW/file-$1"
  mktorrent -l 20 -a "http://$TRACKER_IP:6969/announce" -o "$SCRATCH/file-$1.torrent" \
    "$WWW/file-$1" >/dev/null || bail_out "mktorrent failed"
  _hash=$(info_hash "$1")
  [ -n "$_hash" ] || bail_out "no info hash for file-$1.torrent"
  echo "$_hash" >>"$WHITELIST"
}

# verify DIR N MIB: DIR/0..N-1 (or DIR/I/file-MIB for aria2's layout) all
# equal the original.
verify () {
  for _i in $(seq 0 $(($2 - 1))); do
    _got="$1/$_i"
    [ -d "$_got" ] && _got="$_got/file-$3"
    cmp -s "$WWW/file-$3" "$_got" || { RUN_ERROR="peer $_i's copy differs or is missing"; return 1; }
  done
}

# stop_pids PID...: TERM to all at once (so their shutdowns overlap), then
# kill_pid each, which waits and escalates; reaps and forgets them.
stop_pids () {
  for _p in "$@"; do
    kill -TERM "$_p" 2>/dev/null
  done
  for _p in "$@"; do
    kill_pid "$_p"
    wait "$_p" 2>/dev/null
    untrack_pid "$_p"
  done
}

# Each run_SYSTEM N MIB sets RUN_SECONDS, RUN_ORIGIN_BYTES (the bytes the
# origin sent) and RUN_TICKS (CPU of all the system's processes), or
# returns 1 with RUN_ERROR.

# --- (a) everyone from the origin ----------------------------------------

# CPU: the curls and nginx's worker.
run_origin () {
  _dir="$SCRATCH/run"
  rm -rf "$_dir"
  mkdir -p "$_dir"
  _script=""
  for _i in $(seq 0 $(($1 - 1))); do
    _script="$_script curl -sf --interface $(peer_ip "$_i") -o $_dir/$_i $ORIGIN_URL/file-$2 || echo $_i >>$_dir/failed &
"
  done
  : >"$ACCESS_LOG"
  sync
  _w0=$(nginx_ticks)
  _t0=$(now)
  fanout "$_dir/stat" "$_script"
  _t1=$(now)
  wait_logged "/file-$2" "$1"
  _w1=$(nginx_ticks)
  [ ! -e "$_dir/failed" ] || { RUN_ERROR="curl failed for peers $(tr '\n' ' ' <"$_dir/failed")"; return 1; }
  verify "$_dir" "$1" "$2" || return 1
  RUN_SECONDS=$(elapsed "$_t0" "$_t1")
  RUN_ORIGIN_BYTES=$(origin_bytes "/file-$2")
  RUN_TICKS=$((_w1 - _w0 + $(stat_ticks "$_dir/stat")))
  rm -rf "$_dir"
}

# --- (b) BitTorrent: opentracker + aria2c --------------------------------

# aria2c in a namespace without IPv6 needs --disable-ipv6. Everyone seeds
# until stopped (seed-ratio 0), so nobody leaves the swarm early; no DHT or
# local discovery: the tracker is the only way to find peers. aria2c
# stops by itself if this script dies.
ARIA2_OPTS="--disable-ipv6=true --enable-dht=false --enable-dht6=false
  --bt-enable-lpd=false --seed-ratio=0.0 --file-allocation=none
  --allow-overwrite=true --auto-file-renaming=false --summary-interval=0 --show-console-readout=false
  --console-log-level=warn --download-result=hide --stop-with-process=$$"
# Called by each leecher when it has the whole file ($3: the file's path).
ARIA2_HOOK="$SCRATCH/aria2-done.sh"
# shellcheck disable=SC2016 # $3 is the hook's
printf '#!/bin/sh\ndate +%%s.%%N >"$3.done"\n' >"$ARIA2_HOOK"
chmod +x "$ARIA2_HOOK"

# scrape_complete MIB: how many seeders the tracker knows for the file.
scrape_complete () {
  # The info hash goes in the URL as percent-encoded bytes.
  _q=$(info_hash "$1" | sed 's/../%&/g')
  curl -s "http://$TRACKER_IP:6969/scrape?info_hash=$_q" |
    LC_ALL=C sed -n 's/.*8:completei\([0-9]*\)e.*/\1/p' # bytes, not text
}

# CPU: opentracker, the seeder and the leechers.
run_bittorrent () {
  _dir="$SCRATCH/run"
  rm -rf "$_dir"
  mkdir -p "$_dir/tracker" "$_dir/seed"
  _torrent="$SCRATCH/file-$2.torrent"
  # A fresh tracker each run, so no peer of a past run is handed out.
  # opentracker refuses to run as root: it chroots into its directory
  # (hence a whitelist inside it, readable by nobody) and drops to nobody.
  cp "$WHITELIST" "$_dir/tracker/whitelist"
  chmod 755 "$_dir/tracker"
  chmod 644 "$_dir/tracker/whitelist"
  opentracker -i "$TRACKER_IP" -p 6969 -P 6969 -d "$_dir/tracker" -u nobody -w whitelist \
    </dev/null >"$_dir/tracker.log" 2>&1 &
  _tracker=$!
  track_pid "$_tracker"
  # The seeder holds the origin's file (a hard link: nothing copied) at the
  # origin's address, so the origin's cap is its upload cap.
  ln "$WWW/file-$2" "$_dir/seed/file-$2"
  # shellcheck disable=SC2086 # one option per word
  aria2c $ARIA2_OPTS --interface="$ORIGIN_IP" --listen-port=6881 -d "$_dir/seed" \
    --bt-seed-unverified=true "$_torrent" </dev/null >"$_dir/seed.log" 2>&1 &
  _seeder=$!
  track_pid "$_seeder"
  _pids="$_tracker $_seeder"
  # Leechers start once the tracker knows the seeder.
  _tries=100
  until [ "$(scrape_complete "$2")" = 1 ]; do
    if [ "$_tries" -eq 0 ] || ! pid_alive "$_seeder" || ! pid_alive "$_tracker"; then
      RUN_ERROR="the seeder never registered with opentracker: $(tail -n 3 "$_dir/seed.log" "$_dir/tracker.log" | tr '\n' ' ')"
      # shellcheck disable=SC2086 # one pid per word
      stop_pids $_pids
      return 1
    fi
    _tries=$((_tries - 1))
    sleep 0.1
  done
  _leechers=""
  for _i in $(seq 0 $(($1 - 1))); do
    mkdir "$_dir/$_i"
  done
  sync
  # As dfly's daemons: the tracker's and seeder's start-up (its hash check
  # of the file) is not the transfer's CPU.
  _s0=$(pid_ticks "$_tracker" "$_seeder")
  _b0=$(origin_class_bytes)
  _t0=$(now)
  for _i in $(seq 0 $(($1 - 1))); do
    # shellcheck disable=SC2086 # one option per word
    aria2c $ARIA2_OPTS --interface="$(peer_ip "$_i")" --listen-port=$((6900 + _i)) \
      -d "$_dir/$_i" --on-bt-download-complete="$ARIA2_HOOK" "$_torrent" \
      </dev/null >"$_dir/leecher-$_i.log" 2>&1 &
    track_pid $!
    _leechers="$_leechers $!"
  done
  _pids="$_pids $_leechers"
  # Bounded by twice the all-from-origin time, plus start-up.
  _deadline=$(($(date +%s) + 60 + 2 * $1 * $2 / rate_mib))
  RUN_ERROR=""
  _polls=0
  while :; do
    # Counted without forking: the swarm has the CPUs to itself.
    _done=0
    for _f in "$_dir"/*/"file-$2.done"; do
      [ ! -e "$_f" ] || _done=$((_done + 1))
    done
    [ "$_done" -lt "$1" ] || break
    _polls=$((_polls + 1))
    if [ $((_polls % 10)) -eq 0 ]; then
      for _p in $_leechers; do
        pid_alive "$_p" || RUN_ERROR="an aria2c leecher exited early"
      done
      [ "$(date +%s)" -lt "$_deadline" ] || RUN_ERROR="the aria2 swarm did not finish in time"
    fi
    if [ -n "$RUN_ERROR" ]; then
      # shellcheck disable=SC2086 # one pid per word
      stop_pids $_pids
      return 1
    fi
    sleep 0.1
  done
  _t1=$(cat "$_dir"/*/"file-$2.done" | sort -g | tail -n 1)
  # shellcheck disable=SC2086 # one pid per word
  RUN_TICKS=$(($(pid_ticks $_pids) - _s0))
  RUN_ORIGIN_BYTES=$(($(origin_class_bytes) - _b0))
  # The tracker first, so leechers' last announces fail at once.
  # shellcheck disable=SC2086 # one pid per word
  stop_pids $_pids
  verify "$_dir" "$1" "$2" || return 1
  RUN_SECONDS=$(elapsed "$_t0" "$_t1")
  RUN_NOTE=$(spread "$_t0" "$_dir"/*/"file-$2.done")
  rm -rf "$_dir"
}

# --- (c) dfly ------------------------------------------------------------

# One dflyd per node, each on a private bus of its own: a scheduler at
# TRACKER_IP (not capped), a seed at SEED_IP and N peers (capped). The
# origin is the same nginx as in (a).
SCHED_PORT=8002
DFLY_RUN=0

# dfly_config FILE NAME ROLE IP: the node's YAML. Every service a node
# runs binds host.ip: the scheduler service at scheduler.port, the upload
# server at upload.port (4000 by default; each node has its own address).
# No rate limits in dfly: the kernel caps what each address sends, as for
# the other systems.
dfly_config () {
  _node="$SCRATCH/run/$2"
  mkdir -p "$_node/state" "$_node/cache"
  {
    cat <<EOF
daemon:
  roles: [$3]
  state_dir: $_node/state
  cache_dir: $_node/cache
  log_level: ${LOG_LEVEL:-warning}
  shutdown_timeout: 5s
host:
  ip: $4
  hostname: $2
  announce_interval: ${ANNOUNCE_INTERVAL:-1}
protocol:
  # Every node connects from 127.0.0.1 here (the kernel's source address
  # on loopback): the per-address cap would count the swarm as one host.
  max_connections_per_address: 4096
EOF
    if [ "$3" = scheduler ]; then
      cat <<EOF
manager:
  listen: $4
  port: 0
scheduler:
  port: $SCHED_PORT
storage:
  backend: ""
EOF
    else
      cat <<EOF
peer:
  schedulers: ["$TRACKER_IP:$SCHED_PORT"]
download:
  piece_length: 1MiB
  min_piece_length: 1MiB
  concurrency: 4
  parent_concurrency: 16
EOF
    fi
    if [ "${DFLY_TLS:-0}" = 1 ]; then
      dfly_certificate "$2" "$3"
      printf 'tls:\n  ca: %s\n  cert: %s\n  key: %s\n' "$SCRATCH/certs/ca/ca.pem" \
        "$SCRATCH/certs/$2/$2.pem" "$SCRATCH/certs/$2/$2-key.pem"
    fi
  } >"$1"
}

# dfly_certificate NAME ROLE: NAME's certificate from the bench's cluster
# CA (made once, like the CA).
dfly_certificate () {
  [ -e "$SCRATCH/certs/ca/ca.pem" ] ||
    "$DFLYCTL" cert ca --out "$SCRATCH/certs/ca" >/dev/null || bail_out "dflyctl cert ca failed"
  [ -e "$SCRATCH/certs/$1/$1.pem" ] ||
    "$DFLYCTL" cert issue --ca "$SCRATCH/certs/ca" --host-id "$1" --role "$2" \
      --out "$SCRATCH/certs/$1" >/dev/null || bail_out "dflyctl cert issue failed"
}

# dfly_start NAME ROLE IP: a bus and a dflyd for the node; sets
# NODE_BUS_<NAME>, and adds to DFLY_PIDS (dflyds) and DFLY_BUS_PIDS.
dfly_start () {
  start_bus "bus-$DFLY_RUN-$1"
  DFLY_BUS_PIDS="$DFLY_BUS_PIDS $BUS_PID"
  eval "NODE_BUS_$1=\$BUS_ADDRESS"
  dfly_config "$SCRATCH/run/$1.yaml" "$1" "$2" "$3"
  "$DFLYD" --bus-address "$BUS_ADDRESS" --config "$SCRATCH/run/$1.yaml" \
    --plugin-dir "$DFLY_PLUGIN_BUILD_DIR" </dev/null >>"$SCRATCH/run/$1.log" 2>&1 &
  track_pid $!
  DFLY_PIDS="$DFLY_PIDS $!"
  eval "NODE_PID_$1=\$!"
}

# dfly_wait NAME: until the node's dflyctl status answers (20 s at most).
dfly_wait () {
  _addr="" _pid=""
  eval "_addr=\$NODE_BUS_$1 _pid=\$NODE_PID_$1"
  _tries=200
  until timeout 5 "$DFLYCTL" --address "$_addr" status >/dev/null 2>&1; do
    if ! pid_alive "$_pid"; then
      RUN_ERROR="dflyd $1 exited at start: $(tail -n 3 "$SCRATCH/run/$1.log" | tr '\n' ' ')"
      return 1
    fi
    if [ "$_tries" -eq 0 ]; then
      RUN_ERROR="dflyd $1 did not answer in 20 s"
      return 1
    fi
    _tries=$((_tries - 1))
    sleep 0.1
  done
}

dfly_stop () {
  # Daemons before the buses they talk on.
  # shellcheck disable=SC2086 # one pid per word
  stop_pids $DFLY_PIDS
  # shellcheck disable=SC2086
  stop_pids $DFLY_BUS_PIDS
}

# dfly_fail: stops the nodes, then shows their last log lines; with KEEP=1
# the run's directory (configs, logs, caches) is kept under a name of its
# own, where the next run will not remove it.
dfly_fail () {
  dfly_stop
  for _log in "$SCRATCH"/run/*.log; do
    [ -s "$_log" ] || continue
    diag "--- $(basename "$_log") (last 10 lines):"
    tail -n 10 "$_log" | sed 's/^/#   /'
  done
  if [ "${KEEP:-0}" = 1 ]; then
    dfly_keep failed-
  else
    diag "KEEP=1 keeps the nodes' whole logs"
  fi
  return 1
}

# dfly_keep [PREFIX]: keeps SCRATCH/run as SCRATCH/dfly-PREFIXRUN, without
# the file's copies and pieces: NAME.yaml and NAME.log per node, get-I.log
# and done-I (when peer I had the file) per get, origin-access.log.
dfly_keep () {
  rm -rf "$SCRATCH/run/out" "$SCRATCH"/run/*/cache/tasks
  cp "$ACCESS_LOG" "$SCRATCH/run/origin-access.log"
  mv "$SCRATCH/run" "$SCRATCH/dfly-${1:-}$DFLY_RUN"
  diag "dfly run kept: $SCRATCH/dfly-${1:-}$DFLY_RUN"
}

# spread T0 FILE...: when the peers had the file, in seconds after T0, from
# the timestamps in FILE..., for the diagnostic line.
spread () {
  _from=$1
  shift
  cat "$@" 2>/dev/null | awk -v t0="$_from" '{ print $1 - t0 }' | sort -g |
    awk '{ a[NR] = $1 } END { if (NR) printf "peers done after %.1f/%.1f/%.1fs (first/median/last)",
      a[1], a[int((NR + 1) / 2)], a[NR] }'
}

# CPU: every dflyd, the buses they talk on, the dflyctl clients and
# nginx's worker (the origin serves dfly's seed).
run_dfly () {
  _dir="$SCRATCH/run"
  rm -rf "$_dir"
  mkdir -p "$_dir/out"
  DFLY_RUN=$((DFLY_RUN + 1))
  DFLY_PIDS=""
  DFLY_BUS_PIDS=""
  dfly_start sched scheduler "$TRACKER_IP"
  dfly_wait sched || { dfly_fail; return 1; }
  dfly_start seed seed "$SEED_IP"
  for _i in $(seq 0 $(($1 - 1))); do
    dfly_start "peer$_i" peer "$(peer_ip "$_i")"
  done
  dfly_wait seed || { dfly_fail; return 1; }
  for _i in $(seq 0 $(($1 - 1))); do
    dfly_wait "peer$_i" || { dfly_fail; return 1; }
  done
  # Bounded like the aria2 swarm. --hardlink: each peer keeps one copy on
  # disk, its output linked to its cache (Dragonfly links too, when it can),
  # as each aria2 peer seeds from its output and each curl writes once.
  _limit=$((60 + 2 * $1 * $2 / rate_mib))
  _script=""
  for _i in $(seq 0 $(($1 - 1))); do
    eval "_addr=\$NODE_BUS_peer$_i"
    _script="$_script timeout $_limit $DFLYCTL --address $_addr get --hardlink $ORIGIN_URL/file-$2 -O $_dir/out/$_i -q >>$_dir/get-$_i.log 2>&1 && date +%s.%N >$_dir/done-$_i || echo \"peer$_i: exit \$?: \$(head -n 1 $_dir/get-$_i.log)\" >>$_dir/failed &
"
  done
  : >"$ACCESS_LOG"
  sync
  # The daemons run before the transfer, like a service: their start-up
  # (plugins, caches, announces) is not the transfer's CPU.
  # shellcheck disable=SC2086 # one pid per word
  _d0=$(pid_ticks $DFLY_PIDS $DFLY_BUS_PIDS)
  _w0=$(nginx_ticks)
  _perf=""
  if [ -n "${PERF_DIR:-}" ]; then
    # shellcheck disable=SC2086 # options, one per word
    perf record ${PERF_RECORD:--F 1999 -a -g} -o "$PERF_DIR/dfly-n$1-$2.data" >/dev/null 2>&1 &
    _perf=$!
    sleep 0.5 # perf's start-up
  fi
  _t0=$(now)
  fanout "$_dir/stat" "$_script"
  _t1=$(now)
  [ -z "$_perf" ] || { kill -INT "$_perf"; wait "$_perf"; }
  # shellcheck disable=SC2086
  _ticks=$(($(pid_ticks $DFLY_PIDS $DFLY_BUS_PIDS) - _d0 + $(stat_ticks "$_dir/stat")))
  dfly_stop
  # Stopped, every request to the origin has ended and is in the log.
  _w1=$(nginx_ticks)
  if [ -e "$_dir/failed" ]; then
    RUN_ERROR="dflyctl get failed: $(head -n 3 "$_dir/failed" | sed '2,$s/^/; /' | tr -d '\n')"
    dfly_fail
    return 1
  fi
  verify "$_dir/out" "$1" "$2" || return 1
  RUN_SECONDS=$(elapsed "$_t0" "$_t1")
  RUN_ORIGIN_BYTES=$(origin_bytes "/file-$2")
  RUN_TICKS=$((_ticks + _w1 - _w0))
  RUN_NOTE=$(spread "$_t0" "$_dir"/done-*)
  if [ "${KEEP:-0}" = 1 ]; then
    dfly_keep
  else
    rm -rf "$_dir"
  fi
}

# run_dfly_tls N MIB: run_dfly with every link on mutual TLS.
run_dfly_tls () {
  DFLY_TLS=1
  run_dfly "$@"
  _rc=$?
  DFLY_TLS=0
  return $_rc
}

# --- figures -------------------------------------------------------------

# Kumar–Ross: no way to give N peers an F-byte file from a server uploading
# u_s with peers uploading u_i each (no download cap: d_min infinite) in
# less than max(F/u_s, N·F/(u_s + Σu_i)). Everything starts at the origin,
# so u_s is the origin's cap; for dfly Σu_i counts the seed node's upload
# with the N peers' (it is one more uploader), which only lowers the bound.
kumar_ross () { # N MIB UPLOADERS
  awk -v n="$1" -v f="$2" -v us="$rate_mib" -v u="$rate_mib" -v k="$3" 'BEGIN {
    a = f / us; b = n * f / (us + k * u); printf "%.3f", (a > b ? a : b) }'
}

DFLY_BROKEN=""

# measure N MIB: ROUNDS of each system, interleaved so drift hits all
# alike; prints each system's medians and the bound, and sets MED_<system>_s
# (seconds), _b (origin bytes over F), _c (CPU-s per GiB) — "n/a" when the
# system did not run — and BOUND.
measure () {
  for _sys in origin bittorrent dfly dfly_tls; do
    eval "_s_$_sys='' _b_$_sys='' _c_$_sys=''"
  done
  for _round in $(seq "$rounds"); do
    for _sys in $systems; do
      case "$_sys" in dfly*) [ -z "$DFLY_BROKEN" ] || continue ;; esac
      RUN_ERROR=""
      RUN_NOTE=""
      _drops=$(listen_drops)
      if "run_$_sys" "$1" "$2"; then
        _drops=$(($(listen_drops) - _drops))
        [ "$_drops" -eq 0 ] || RUN_NOTE="${RUN_NOTE:+$RUN_NOTE, }$_drops SYNs dropped at full accept queues"
        diag "n=$1 size_mib=$2 round $_round: $_sys ${RUN_SECONDS}s, origin sent $RUN_ORIGIN_BYTES bytes, $RUN_TICKS CPU ticks${RUN_NOTE:+, $RUN_NOTE}"
        eval "_s_$_sys=\"\$_s_$_sys $RUN_SECONDS\""
        eval "_b_$_sys=\"\$_b_$_sys $(divide "$RUN_ORIGIN_BYTES" $(($2 * 1048576)))\""
        # CPU-seconds per GiB delivered to the N peers.
        eval "_c_$_sys=\"\$_c_$_sys $(awk -v t="$RUN_TICKS" -v hz="$clk_tck" -v n="$1" -v f="$2" \
          'BEGIN { printf "%.2f", t / hz / (n * f / 1024) }')\""
      elif [ "$_sys" = dfly ] || [ "$_sys" = dfly_tls ]; then
        DFLY_BROKEN=$RUN_ERROR
        echo "bench swarm: $_sys run failed: n=$1 size_mib=$2: $RUN_ERROR"
      else
        bail_out "the $_sys run cannot run: n=$1 size_mib=$2: $RUN_ERROR"
      fi
    done
  done
  for _sys in origin bittorrent dfly dfly_tls; do
    for _what in s b c; do
      _list=""
      eval "_list=\$_${_what}_$_sys"
      _m=$(echo "$_list" | median)
      eval "MED_${_sys}_$_what=\${_m:-n/a}"
    done
    eval "echo \"bench swarm: n=$1 size_mib=$2 system=$_sys seconds=\$MED_${_sys}_s" \
      "origin_bytes_ratio=\$MED_${_sys}_b cpu_s_per_gib=\$MED_${_sys}_c\""
  done
  BOUND=$(kumar_ross "$1" "$2" $(($1 + 1)))
  echo "bench swarm: n=$1 size_mib=$2 system=bound seconds=$BOUND" \
    "bittorrent_bound=$(kumar_ross "$1" "$2" "$1")" \
    "origin_only_bound=$(awk -v n="$1" -v f="$2" -v us="$rate_mib" 'BEGIN { printf "%.3f", n * f / us }')"
}

# ratio A B: A / B, or n/a when either is missing.
ratio () {
  case "$1$2" in
    *n/a*) echo n/a ;;
    *) divide "$1" "$2" ;;
  esac
}

diag "rate_mib=$rate_mib (origin and each uploader) rounds=$rounds ns=\"$ns\""
# shellcheck disable=SC2154 # measure sets the MED_* by eval
for n in $ns; do
  big=$size_mib
  # N × F beyond MAX_TOTAL_MIB would make the all-from-origin run long:
  # take the largest multiple of 16 MiB that fits.
  if [ $((n * big)) -gt "$max_total_mib" ]; then
    big=$((max_total_mib / n / 16 * 16))
    [ "$big" -ge 16 ] || big=16
    echo "bench swarm: note: n=$n uses size_mib=$big, not $size_mib (MAX_TOTAL_MIB=$max_total_mib)"
  fi
  make_file "$small_mib"
  make_file "$big"

  measure "$n" "$small_mib"
  echo "bench swarm: n=$n size_mib=$small_mib" \
    "ratio_vs_bittorrent=$(ratio "$MED_dfly_s" "$MED_bittorrent_s")" \
    "ratio_vs_origin=$(ratio "$MED_dfly_s" "$MED_origin_s")" \
    "origin_bytes_ratio=$MED_dfly_b"

  measure "$n" "$big"
  echo "bench swarm: n=$n ratio_vs_bound=$(ratio "$MED_dfly_s" "$BOUND")" \
    "ratio_vs_bittorrent=$(ratio "$MED_dfly_s" "$MED_bittorrent_s")" \
    "ratio_vs_origin=$(ratio "$MED_dfly_s" "$MED_origin_s")" \
    "origin_bytes_ratio=$MED_dfly_b"
  # The same swarm on mutual TLS, and what TLS adds.
  echo "bench swarm: n=$n tls=on ratio_vs_bound=$(ratio "$MED_dfly_tls_s" "$BOUND")" \
    "ratio_vs_tls_off=$(ratio "$MED_dfly_tls_s" "$MED_dfly_s")" \
    "cpu_s_per_gib=$MED_dfly_tls_c cpu_s_per_gib_tls_off=$MED_dfly_c" \
    "origin_bytes_ratio=$MED_dfly_tls_b"
done

# The baselines ran; dfly not running is still a bench that could not run.
[ -z "$DFLY_BROKEN" ]
