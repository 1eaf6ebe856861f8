#!/bin/sh
# bench-image.sh — container image pulls through dfly's registry mirror, against the direct paths
#
#   tests/bench/bench-image.sh [BUILD_DIR]
#
# Environment (defaults in brackets):
#   LAYERS_MIB  the image's layers, MiB each, comma-separated ["16,32,48"]
#   N           nodes of the swarm part [8]
#   RATE_MIB    upload cap of the registry and of every node in the swarm part, MiB/s [50]
#   ROUNDS      runs of each single-node pull; figures are medians [3]
#   READS       64 KiB range reads of each path in (c) [400]
#   PERF_DIR    records each run of (b) with `perf record` there (PERF_RECORD: its options)
#
# Needs root: it re-executes itself in a network and mount namespace of its own, where the
# token-auth docker-registry is named dfly-registry (tests/oci-clients.sh) and an htb qdisc
# on the namespace's lo caps what each uploader sends during (b). The image (tests/oci-image.py,
# linux/amd64 and linux/arm64) is built once per build tree. F below is the bytes of its
# linux/amd64 blobs (config and layers: what a pull fetches). Three parts:
#  (a) one node, uncapped: `ctr images pull` of the image straight from the registry against
#      one through a fresh dflyd's proxy (cold: it fetches every blob), then a fresh
#      containerd through the same dflyd (warm: every blob in its cache) against a plain
#      nginx serving the same image as a static registry. Each pull uses a fresh containerd;
#      the time includes unpacking, alike on both sides.
#  (b) N nodes (peer + proxy each, a scheduler and a seed beside them), each uploader capped
#      at RATE_MIB: every node fetches every blob through its own proxy at once (curl, the
#      runtime's requests: the mirror path, ns=, the Bearer token), against N curls straight
#      from the capped registry; the Kumar–Ross bound as bench-swarm.sh computes it, counting
#      the seed with the N peers as uploaders.
#  (c) random 64 KiB range reads of the largest layer: through the warm proxy against nginx
#      serving the file (one keep-alive client each, reconnecting when told to close).
# Not a test: it prints figures and fails only when something cannot run. The last line:
#   bench image: n=N cold_ratio=R1 warm_ratio=R2 swarm_ratio_vs_bound=R3 registry_bytes_ratio=R4 range_p99_ratio=R5
# R1: the proxy's cold throughput over the registry's direct one; R2: the warm proxy's over
# nginx's (above 1: faster than the direct path); R3: the swarm's time over the bound; R4:
# the registry's blob bytes during the swarm run over F; R5: the proxy's p99 range-read
# latency over nginx's.
set -u
build=${1:-${top_builddir:-$(pwd)}}

if [ -z "${DFLY_IMAGE_BENCH_NS:-}" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "Bail out! bench-image needs root (namespaces, tc, containerd)"
    exit 99
  fi
  DFLY_IMAGE_BENCH_NS=$(readlink /proc/self/ns/net)
  export DFLY_IMAGE_BENCH_NS
  exec unshare -n -m --propagation private -- sh "$0" "$@"
fi
if [ "$DFLY_IMAGE_BENCH_NS" = "$(readlink /proc/self/ns/net)" ]; then
  echo "Bail out! bench-image is not in a network namespace of its own"
  exit 99
fi

# lib.sh finds dflyd, dflyctl and the plugins under top_builddir.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=$(cd "$build" && pwd)
DFLY_CLIENTS_UNSHARED=1 # the namespace above is private already
export top_srcdir top_builddir DFLY_CLIENTS_UNSHARED
. "$top_srcdir/tests/oci-clients.sh"
. "$top_srcdir/tests/lib.sh"
TAP_DONE=1 # not a TAP test: the figures are the output

for program in containerd ctr curl ip tc docker-registry; do
  command -v "$program" >/dev/null || bail_out "$program is not installed (tests/setup.sh installs it)"
done
[ -e "$DFLY_PLUGIN_BUILD_DIR/proxy.so" ] || bail_out "the proxy role is not built"
ip link set lo up || bail_out "cannot bring up lo in the namespace"

layers=${LAYERS_MIB:-16,32,48}
n=${N:-8}
rate_mib=${RATE_MIB:-50}
rounds=${ROUNDS:-3}
reads=${READS:-400}

now () { date +%s.%N; }
elapsed () { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median () { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
divide () { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0 || a == "n/a" || b == "n/a") print "n/a"; else printf "%.2f", a / b }'; }

clients_hosts
clients_registry
clients_image "$SCRATCH/image" test/image:v1 "$layers"
REPO=test/image
F=$IMAGE_BLOB_BYTES
F_MIB=$(awk -v f="$F" 'BEGIN { printf "%.2f", f / 1048576 }')
diag "image $IMAGE_REF: F = $F bytes ($F_MIB MiB) of linux/amd64 blobs, layers $layers MiB"

# The same image as a static registry on a plain nginx: the tag and manifests by digest
# (files of those names, the tag served with the index's media type) and the blobs.
WWW="$SCRATCH/www"
mkdir -p "$WWW/v2/$REPO/manifests" "$WWW/v2/$REPO/blobs"
for blob in "$SCRATCH"/image/blobs/sha256/*; do
  ln -s "$blob" "$WWW/v2/$REPO/blobs/sha256:${blob##*/}"
  ln -s "$blob" "$WWW/v2/$REPO/manifests/sha256:${blob##*/}"
done
index_hex=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["index"][7:])' "$SCRATCH/image.json")
ln -s "$SCRATCH/image/blobs/sha256/$index_hex" "$WWW/v2/$REPO/manifests/v1"
STATIC_PORT=$(pick_port)
NGINX_EXTRA="server {
    listen 127.0.0.1:$STATIC_PORT;
    root $WWW;
    location = /v2/ { default_type application/json; return 200 '{}'; }
    location = /v2/$REPO/manifests/v1 { default_type application/vnd.oci.image.index.v1+json; }
  }"
start_nginx "$WWW"
STATIC="127.0.0.1:$STATIC_PORT"

TOKEN=$(registry_token "$REPO" pull) || bail_out "no token from the registry's token service"

# --- (a) one node ------------------------------------------------------------

PULL_RUN=0
# pull_seconds HOSTS-DIR REF: one `ctr images pull` of REF into a fresh containerd (stopped
# and removed after); adds its seconds to PULL_TIMES.
pull_seconds () {
  PULL_RUN=$((PULL_RUN + 1))
  start_containerd "c$PULL_RUN"
  _t0=$(now)
  ctr_of "c$PULL_RUN" images pull --plain-http --hosts-dir "$1" \
    --user "$CLIENTS_USER:$CLIENTS_PASSWORD" "$2" >"$SCRATCH/pull-$PULL_RUN.out" 2>&1 ||
    { tail -n 5 "$SCRATCH/pull-$PULL_RUN.out"; bail_out "ctr pull of $2 failed"; }
  _t1=$(now)
  _pid=$(eval "echo \$CTR_PID_c$PULL_RUN")
  kill_pid "$_pid"
  untrack_pid "$_pid"
  rm -rf "$SCRATCH/c$PULL_RUN"
  PULL_TIMES="$PULL_TIMES $(elapsed "$_t0" "$_t1")"
}

hosts_dir "$SCRATCH/hosts-direct"
direct_s="" cold_s="" warm_s="" static_s=""
PROXY_LINE="  insecure_registries: [\"$CLIENTS_REGISTRY\"]"
for round in $(seq "$rounds"); do
  PULL_TIMES=""
  sync
  pull_seconds "$SCRATCH/hosts-direct" "$IMAGE_REF"
  sync
  pull_seconds "$SCRATCH/hosts-direct" "$STATIC/$REPO:v1"
  # A fresh dflyd each round: cold means nothing cached.
  solo_port=$(pick_port)
  start_node "solo$round" "127.0.0.5" "[peer, proxy]" "proxy:" "  port: $solo_port" "$PROXY_LINE"
  wait_for_node "solo$round" 30 || bail_out "dflyd solo$round did not come up"
  hosts_dir "$SCRATCH/hosts-solo$round" "http://127.0.0.1:$solo_port"
  before=$(registry_blob_bytes)
  sync
  pull_seconds "$SCRATCH/hosts-solo$round" "$IMAGE_REF"
  sync
  pull_seconds "$SCRATCH/hosts-solo$round" "$IMAGE_REF"
  sent=$(($(registry_blob_bytes) - before))
  # shellcheck disable=SC2086 # four times
  set -- $PULL_TIMES
  direct_s="$direct_s $1" static_s="$static_s $2" cold_s="$cold_s $3" warm_s="$warm_s $4"
  diag "round $round: direct ${1}s, static nginx ${2}s, proxy cold ${3}s, warm ${4}s;" \
    "the registry sent $(ratio_of "$sent" "$F") F for the cold and warm pulls"
  [ "$round" -eq "$rounds" ] || {
    _pid=$(node_pid "solo$round")
    kill_pid "$_pid"
    untrack_pid "$_pid"
  }
done
SOLO=solo$rounds
SOLO_PROXY=$solo_port
direct=$(echo "$direct_s" | median) static=$(echo "$static_s" | median)
cold=$(echo "$cold_s" | median) warm=$(echo "$warm_s" | median)
# Throughput over the direct path's = the direct path's time over the proxy's.
cold_ratio=$(divide "$direct" "$cold")
warm_ratio=$(divide "$static" "$warm")
echo "bench image: part=a f_mib=$F_MIB direct_s=$direct cold_s=$cold cold_ratio=$cold_ratio" \
  "static_nginx_s=$static warm_s=$warm warm_ratio=$warm_ratio"

# --- (c) range reads (the warm node of (a)) ---------------------------------------

largest=$(python3 -c 'import json, sys
p = json.load(open(sys.argv[1]))["platforms"]["linux/amd64"]
print(max(p["layers"], key=lambda l: l["size"])["digest"])' "$SCRATCH/image.json")
# range_reads URL FILE [HEADER]: READS random 64 KiB ranges of URL, each checked against
# FILE; prints "P50 P99" in milliseconds.
range_reads () {
  python3 - "$1" "$2" "$reads" "${3:-}" <<'EOF'
import http.client, random, sys, time, urllib.parse
url, path, count, header = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
data = open(path, "rb").read()
u = urllib.parse.urlsplit(url)
target = u.path + ("?" + u.query if u.query else "")
headers = dict([header.split(": ", 1)]) if header else {}
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
rng = random.Random(64)
times = []
for _ in range(count):
    start = rng.randrange(0, len(data) - 65536)
    t0 = time.perf_counter()
    conn.request("GET", target, headers=dict(headers, Range=f"bytes={start}-{start + 65535}"))
    answer = conn.getresponse()
    body = answer.read()
    times.append(time.perf_counter() - t0)
    if answer.status != 206 or body != data[start:start + 65536]:
        sys.exit(f"range {start}: status {answer.status}, {len(body)} bytes, "
                 f"{'matching' if body == data[start:start + 65536] else 'wrong'}")
    if answer.getheader("Connection", "").lower() == "close":
        conn.close()
times.sort()
print("%.3f %.3f" % (times[len(times) // 2] * 1000, times[min(len(times) - 1, int(len(times) * 0.99))] * 1000))
EOF
}
blob_file="$SCRATCH/image/blobs/sha256/${largest#sha256:}"
reads_nginx=$(range_reads "http://$STATIC/v2/$REPO/blobs/$largest" "$blob_file") ||
  bail_out "range reads from nginx failed: $reads_nginx"
reads_proxy=$(range_reads "http://127.0.0.1:$SOLO_PROXY/v2/$REPO/blobs/$largest?ns=$CLIENTS_REGISTRY" \
  "$blob_file" "Authorization: Bearer $TOKEN") || bail_out "range reads through the proxy failed"
# shellcheck disable=SC2086 # two numbers each
set -- $reads_nginx $reads_proxy
static_p50=$1 static_p99=$2 proxy_p50=$3 proxy_p99=$4
range_ratio=$(divide "$proxy_p99" "$static_p99")
echo "bench image: part=c reads=$reads nginx_p50_ms=$static_p50 nginx_p99_ms=$static_p99" \
  "proxy_p50_ms=$proxy_p50 proxy_p99_ms=$proxy_p99 range_p99_ratio=$range_ratio"
_pid=$(node_pid "$SOLO")
kill_pid "$_pid"
untrack_pid "$_pid"

# --- (b) N nodes, capped -------------------------------------------------------

tc qdisc add dev lo root handle 1: htb default 999 || bail_out "tc: no htb qdisc"
rate_bits="$((rate_mib * 8388608))bit"
CLASS=16
# cap MATCH...: one more htb class at RATE_MIB for the packets u32 MATCH selects (what an
# address, or the registry's port, sends); unmatched traffic goes uncapped.
cap () {
  CLASS=$((CLASS + 1))
  tc class add dev lo parent 1: classid "1:$CLASS" htb rate "$rate_bits" ceil "$rate_bits" \
    burst 256k quantum 60000 || bail_out "tc: cannot add class 1:$CLASS"
  tc filter add dev lo parent 1: protocol ip u32 "$@" flowid "1:$CLASS" ||
    bail_out "tc: cannot add a filter for $*"
}
cap match ip src 127.0.0.1/32 match ip sport "${REGISTRY##*:}" 0xffff
SEED_IP=127.0.0.4
cap match ip src "$SEED_IP/32"
peer_ip () { echo "127.0.1.$((10 + $1))"; }
for i in $(seq 0 $((n - 1))); do
  cap match ip src "$(peer_ip "$i")/32"
done

BLOBS=$(image_blobs)
# fetch_all DIR BASE-URL [QUERY]: every blob of the image from BASE-URL/v2/REPO/blobs/ at
# once, into DIR, with the token (swarm_run checks them after its clock stops).
fetch_all () {
  mkdir -p "$1"
  _args=""
  for _d in $BLOBS; do
    _args="$_args $2/v2/$REPO/blobs/$_d${3:-} -o $1/${_d#sha256:}"
  done
  # shellcheck disable=SC2086 # one URL or option per word
  # (curl 7.88 draws its meter under --parallel even with -s.)
  curl -sSf --parallel --parallel-immediate --parallel-max 8 -H "Authorization: Bearer $TOKEN" $_args \
    2>"$1.err" || { head -n 3 "$1.err"; return 1; }
}

# blobs_match DIR: whether DIR holds every blob with its digest's bytes (then removed).
blobs_match () {
  for _d in $BLOBS; do
    [ "$(sha256sum <"$1/${_d#sha256:}" | cut -d' ' -f1)" = "${_d#sha256:}" ] || return 1
  done
  rm -rf "$1"
}

# cpu_ticks: the machine's busy and total clock ticks so far, all cores ("BUSY TOTAL").
cpu_ticks () {
  awk '$1 == "cpu" { total = 0; for (i = 2; i <= NF; i++) total += $i; print total - $5 - $6, total }' /proc/stat
}

# swarm_run FUNCTION PREFIX: FUNCTION I for each node I at once, each fetching into
# $SCRATCH/PREFIX-I; sets SWARM_SECONDS, the time until the last has every blob (as
# bench-swarm.sh, the digests are checked after the clock stops: 8 nodes hashing 96 MiB
# each on two cores would add a second to both sides).
swarm_run () {
  _pids=""
  _perf=""
  if [ -n "${PERF_DIR:-}" ]; then
    # shellcheck disable=SC2086 # options, one per word
    perf record ${PERF_RECORD:--F 1999 -a -g} -o "$PERF_DIR/image-$2.data" >/dev/null 2>&1 &
    _perf=$!
    sleep 0.5 # perf's start-up
  fi
  _c0=$(cpu_ticks)
  _t0=$(now)
  for i in $(seq 0 $((n - 1))); do
    "$1" "$i" &
    _pids="$_pids $!"
  done
  _failed=0
  for _p in $_pids; do
    wait "$_p" || _failed=$((_failed + 1))
  done
  _t1=$(now)
  _c1=$(cpu_ticks)
  [ -z "$_perf" ] || { kill -INT "$_perf"; wait "$_perf"; }
  [ "$_failed" -eq 0 ] || bail_out "$_failed of $n nodes did not get every blob ($1)"
  for i in $(seq 0 $((n - 1))); do
    blobs_match "$SCRATCH/$2-$i" || bail_out "node $i's blobs differ from the image's ($1)"
  done
  SWARM_SECONDS=$(elapsed "$_t0" "$_t1")
  # The share of every core's time that was busy: near 1, the cores, not the caps, set the pace.
  SWARM_CPU_BUSY=$(echo "$_c0 $_c1" | awk '{ printf "%.2f", ($4 - $2 > 0) ? ($3 - $1) / ($4 - $2) : 0 }')
}

# Every node straight from the registry (capped at its port).
direct_node () {
  fetch_all "$SCRATCH/direct-$1" "http://$CLIENTS_REGISTRY"
}
sync
swarm_run direct_node direct
swarm_direct=$SWARM_SECONDS busy_direct=$SWARM_CPU_BUSY

sched_port=$(pick_port)
schedulers="  schedulers: [\"127.0.0.3:$sched_port\"]"
start_node sched 127.0.0.3 "[scheduler]" "scheduler:" "  port: $sched_port" "storage:" "  backend: \"\""
# As bench-swarm.sh's nodes: 1 MiB pieces, and every node is one address to the caps.
swarm_lines="protocol:
  max_connections_per_address: 4096
download:
  piece_length: 1MiB
  min_piece_length: 1MiB"
start_node seed "$SEED_IP" "[seed]" "peer:" "$schedulers" "$swarm_lines"
for i in $(seq 0 $((n - 1))); do
  eval "SWARM_PROXY_$i=\$(pick_port)"
  start_node "peer$i" "$(peer_ip "$i")" "[peer, proxy]" "peer:" "$schedulers" "$swarm_lines" \
    "proxy:" "  port: $(eval "echo \$SWARM_PROXY_$i")" "$PROXY_LINE"
done
for node in sched seed $(for i in $(seq 0 $((n - 1))); do echo "peer$i"; done); do
  wait_for_node "$node" 30 || bail_out "node $node did not come up"
done
wait_for_line "$SCRATCH/sched.log" "host $(peer_ip $((n - 1)))-peer$((n - 1)) joined" 10 ||
  bail_out "the scheduler did not hear every host"

proxy_node () {
  fetch_all "$SCRATCH/proxy-$1" "http://127.0.0.1:$(eval "echo \$SWARM_PROXY_$1")" \
    "?ns=$CLIENTS_REGISTRY"
}
before=$(registry_blob_bytes)
sync
swarm_run proxy_node proxy
swarm_dfly=$SWARM_SECONDS busy_dfly=$SWARM_CPU_BUSY
registry_ratio=$(divide "$(($(registry_blob_bytes) - before))" "$F")

# Kumar–Ross: max(F/u_s, N·F/(u_s + Σu_i)) with every uploader at RATE_MIB; the seed counts
# with the N peers.
bound=$(awk -v n="$n" -v f="$F_MIB" -v u="$rate_mib" \
  'BEGIN { a = f / u; b = n * f / (u + (n + 1) * u); printf "%.3f", (a > b ? a : b) }')
swarm_ratio=$(divide "$swarm_dfly" "$bound")
echo "bench image: part=b n=$n rate_mib=$rate_mib direct_s=$swarm_direct dfly_s=$swarm_dfly" \
  "bound_s=$bound ratio_vs_bound=$swarm_ratio ratio_vs_direct=$(divide "$swarm_dfly" "$swarm_direct")" \
  "registry_bytes_ratio=$registry_ratio cpu_busy_direct=$busy_direct cpu_busy_dfly=$busy_dfly"

echo "bench image: n=$n cold_ratio=$cold_ratio warm_ratio=$warm_ratio" \
  "swarm_ratio_vs_bound=$swarm_ratio registry_bytes_ratio=$registry_ratio range_p99_ratio=$range_ratio"
