# tests/oci-clients.sh — helpers for real container clients pulling through dfly
#
# Sourced by the tests and the benchmark that run containerd, podman and skopeo against a
# token-auth docker-registry (tests/system/test-proxy-*.sh, tests/bench/bench-image.sh),
# before tests/lib.sh: clients_unshare runs first, the rest use lib.sh. Go clients never send a loopback literal through a mirror
# or proxy, so the registry gets a name: the scripts run in a mount namespace of their own
# (clients_unshare, called before lib.sh) where a bind-mounted copy of /etc/hosts maps
# $CLIENTS_REGISTRY_NAME to 127.0.0.1 for every process they start, dflyd included.

CLIENTS_REGISTRY_NAME=dfly-registry
CLIENTS_USER=dfly
CLIENTS_PASSWORD=dfly-secret

# clients_unshare ARG...: re-runs the calling script in a private mount namespace (root
# only; a TAP skip otherwise). Call it first, before lib.sh makes a scratch directory.
clients_unshare () {
  [ -z "${DFLY_CLIENTS_UNSHARED:-}" ] || return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "1..0 # SKIP needs root (a mount namespace, containerd)"
    exit 0
  fi
  DFLY_CLIENTS_UNSHARED=1
  export DFLY_CLIENTS_UNSHARED
  exec unshare -m --propagation private -- sh "$0" "$@"
}

# clients_hosts: $CLIENTS_REGISTRY_NAME resolves to 127.0.0.1 in this namespace.
clients_hosts () {
  cp /etc/hosts "$SCRATCH/hosts"
  printf '127.0.0.1 %s\n' "$CLIENTS_REGISTRY_NAME" >>"$SCRATCH/hosts"
  mount --bind "$SCRATCH/hosts" /etc/hosts || bail_out "cannot bind-mount a hosts file"
  getent hosts "$CLIENTS_REGISTRY_NAME" >/dev/null || bail_out "$CLIENTS_REGISTRY_NAME does not resolve"
}

# clients_registry: a token-auth docker-registry (lib.sh's start_registry) reached as
# $CLIENTS_REGISTRY (NAME:PORT). Its stdout, in $CLIENTS_REGISTRY_LOG, holds an access-log
# line per request with the bytes of the body sent, which registry_blob_bytes sums.
clients_registry () {
  start_registry registry "$CLIENTS_USER" "$CLIENTS_PASSWORD" token
  CLIENTS_REGISTRY="$CLIENTS_REGISTRY_NAME:${REGISTRY##*:}"
  CLIENTS_REGISTRY_LOG="$SCRATCH/registry.log"
}

# clients_image DIR REPO:TAG [LAYERS-MIB]: the fixture image (tests/oci-image.py: linux/amd64
# and linux/arm64, each with its own layers of LAYERS-MIB, default "2,3,4"), built once per
# build tree under tests/oci-cache, linked at DIR and pushed to the registry. Sets
# IMAGE_BLOB_BYTES (config and layers of linux/amd64: what a pull on this host fetches) and
# IMAGE_REF (NAME:PORT/REPO:TAG).
clients_image () {
  python3 "$top_srcdir/tests/oci-image.py" build "$1" --layers "${3:-2,3,4}" \
    --cache "$top_builddir/tests/oci-cache" || bail_out "oci-image.py build failed"
  python3 "$top_srcdir/tests/oci-image.py" push "$1" "$REGISTRY" "$2" \
    --creds "$CLIENTS_USER:$CLIENTS_PASSWORD" >"$SCRATCH/push.out" 2>&1 ||
    { cat "$SCRATCH/push.out"; bail_out "oci-image.py push failed"; }
  python3 "$top_srcdir/tests/oci-image.py" info "$1" >"$SCRATCH/image.json" ||
    bail_out "oci-image.py info failed"
  IMAGE_BLOB_BYTES=$(python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))["platforms"]["linux/amd64"]["blob_bytes"])' "$SCRATCH/image.json")
  IMAGE_REF="$CLIENTS_REGISTRY/$2"
}

# image_blobs: the linux/amd64 image's blob digests (config, then layers), one a line; a
# line that is no digest if the image's summary cannot be read (no check passes on none).
image_blobs () {
  python3 -c 'import json, sys
p = json.load(open(sys.argv[1]))["platforms"]["linux/amd64"]
print("\n".join([p["config"]] + [l["digest"] for l in p["layers"]]))' "$SCRATCH/image.json" ||
    echo "no-image-summary"
}

# expected_files FILE: what the linux/amd64 image unpacks to (oci-image.py files) in FILE.
expected_files () {
  python3 "$top_srcdir/tests/oci-image.py" files "$SCRATCH/image" linux/amd64 >"$1" && [ -s "$1" ] ||
    bail_out "oci-image.py files failed"
}

# registry_blob_bytes: body bytes the registry sent for GETs of blobs so far, from its
# access log (combined format: "GET /v2/R/blobs/sha256:… HTTP/1.1" STATUS BYTES). The
# registry logs a request once it has been answered.
registry_blob_bytes () {
  awk '$6 == "\"GET" && $7 ~ /\/blobs\/sha256:/ && $10 ~ /^[0-9]+$/ { s += $10 }
    END { printf "%.0f\n", s }' "$CLIENTS_REGISTRY_LOG"
}

# registry_once DESCRIPTION [SINCE [BYTES [COPIES]]]: a check that the registry's blob bytes
# since SINCE (0) are at most COPIES (1) + 2% × BYTES (IMAGE_BLOB_BYTES): the blobs were
# served once (or at most COPIES times).
registry_once () {
  _sent=$(($(registry_blob_bytes) - ${2:-0}))
  _ratio=$(ratio_of "$_sent" "${3:-$IMAGE_BLOB_BYTES}")
  _most=$(awk -v c="${4:-1}" 'BEGIN { printf "%.2f", c + 0.02 }')
  diag "registry blob bytes: $_sent, $_ratio of the image's"
  check "$1 ($_ratio <= $_most)" at_most "$_most" "$_ratio"
}

# ratio_of A B: A / B with 3 decimals.
ratio_of () {
  awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.3f\n", a / b }'
}

# --- containerd ----------------------------------------------------------

# start_containerd NAME: a private containerd (root, state and sockets under
# $SCRATCH/NAME; no CRI, no opt, only the overlayfs and native snapshotters worth
# having). Sets CTR_SOCK_<NAME>; its log is $SCRATCH/containerd-NAME.log.
start_containerd () {
  _cd="$SCRATCH/$1"
  mkdir -p "$_cd/root" "$_cd/state"
  cat >"$_cd/config.toml" <<EOF
version = 2
root = "$_cd/root"
state = "$_cd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]
[grpc]
  address = "$_cd/containerd.sock"
[ttrpc]
  address = "$_cd/containerd.sock.ttrpc"
[debug]
  level = "info"
[metrics]
  address = ""
EOF
  containerd --config "$_cd/config.toml" </dev/null >>"$SCRATCH/containerd-$1.log" 2>&1 &
  track_pid $!
  eval "CTR_SOCK_$1=\$_cd/containerd.sock CTR_PID_$1=\$!"
  _tries=100
  until ctr -a "$_cd/containerd.sock" version >/dev/null 2>&1; do
    pid_alive "$(eval "echo \$CTR_PID_$1")" || bail_out "containerd $1 exited (see containerd-$1.log)"
    [ "$_tries" -gt 0 ] || bail_out "containerd $1 did not answer in 10 s"
    _tries=$((_tries - 1))
    sleep 0.1
  done
}

# ctr_of NAME ARG...: ctr talking to containerd NAME.
ctr_of () {
  _sock=$(eval "echo \$CTR_SOCK_$1")
  shift
  ctr -a "$_sock" "$@"
}

# hosts_dir DIR [MIRROR-URL]: a containerd hosts directory for the registry, plain http,
# with MIRROR-URL (http://127.0.0.1:PORT, a dflyd's proxy) tried first if given.
hosts_dir () {
  mkdir -p "$1/$CLIENTS_REGISTRY"
  {
    printf 'server = "http://%s"\n' "$CLIENTS_REGISTRY"
    if [ -n "${2:-}" ]; then
      printf '\n[host."%s"]\n  capabilities = ["pull", "resolve"]\n' "$2"
    fi
  } >"$1/$CLIENTS_REGISTRY/hosts.toml"
}

# rootfs_files DIR: "SHA256  ./PATH" of DIR's regular files, sorted (oci-image.py files'
# format).
rootfs_files () {
  (cd "$1" && find . -type f -exec sha256sum {} + | sort -k 2)
}

# --- two dflyds with the proxy ------------------------------------------------

# start_proxy_pair NET PROXY-LINE: node A (NET.2: scheduler, seed, peer, proxy) and node B
# (NET.3: peer, proxy, A's scheduler), 1 MiB pieces, each proxy on 127.0.0.1:PROXY_A or
# PROXY_B with PROXY-LINE (a YAML line of the proxy section) added; waits until A's
# scheduler has heard B.
start_proxy_pair () {
  _sched=$(pick_port)
  PROXY_A=$(pick_port)
  PROXY_B=$(pick_port)
  _pieces="download:
  piece_length: 1MiB
  min_piece_length: 1MiB"
  start_node A "$1.2" "[scheduler, seed, peer, proxy]" "scheduler:" "  port: $_sched" \
    "$_pieces" "proxy:" "  port: $PROXY_A" "$2"
  start_node B "$1.3" "[peer, proxy]" "peer:" "  schedulers: [\"$1.2:$_sched\"]" \
    "$_pieces" "proxy:" "  port: $PROXY_B" "$2"
  wait_for_node A 30 || bail_out "node A did not come up"
  wait_for_node B 30 || bail_out "node B did not come up"
  wait_for_line "$SCRATCH/A.log" "host $1.3-B joined" 10 || bail_out "the scheduler did not hear node B"
}

# swarm_failures: why nodes A and B's proxies passed blobs through, if they did (two lines).
swarm_failures () {
  grep -h 'through the swarm failed' "$SCRATCH/A.log" "$SCRATCH/B.log" | head -n 2 | sed 's/^/#   /'
}

# --- what the dflyds hold ----------------------------------------------------

# blob_tasks NODE held|parents: the linux/amd64 image's blobs of which NODE holds no whole
# task (held), or holds one not all of whose bytes came from parents (parents), each as
# HEX(COMPLETED/FROM-PARENTS) on one line; empty when there are none.
blob_tasks () {
  node_ctl "$1" --json tasks 2>/dev/null | python3 -c '
import json, sys
image = json.load(open(sys.argv[1]))["platforms"]["linux/amd64"]
blobs = [(image["config"], None)] + [(l["digest"], l["size"]) for l in image["layers"]]
try:
    tasks = json.load(sys.stdin)
except ValueError:
    tasks = []
bad = []
for digest, size in blobs:
    found = [t for t in tasks if t.get("url", "").endswith(digest)]
    done = max((t.get("completed-length", 0) for t in found), default=-1)
    parents = max((t.get("from-parents", 0) for t in found), default=-1)
    whole = found and done > 0 and (size is None or done == size)
    if not whole or (sys.argv[2] == "parents" and parents != done):
        bad.append("%s(%d/%d)" % (digest[7:19], done, parents))
print(" ".join(bad))' "$SCRATCH/image.json" "$2" || echo "cannot read node $1's tasks or the image"
}
