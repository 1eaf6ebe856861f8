#!/bin/sh
# test-proxy-containerd.sh — two real containerds pull one image through dfly's registry mirror
#
# (Nodes on 127.0.15.x.) A token-auth docker-registry named dfly-registry (a private mount
# namespace with its own /etc/hosts: containerd sends nothing for a loopback literal through
# a mirror) holds a two-platform image of three layers (tests/oci-image.py). Node A runs a
# scheduler, a seed, a peer and the proxy; node B a peer and the proxy, with A's scheduler.
# Each of two private containerds pulls with `ctr images pull --hosts-dir`, its hosts.toml
# naming its node's proxy as a mirror (pull, resolve) before the registry. containerd falls
# back to the registry on any mirror error, and says nothing for blobs, so what proves the
# mirror served them is the registry's own access log: its blob bytes stay within 2% of the
# image's, one copy for both nodes. The unpacked images hold exactly the fixture's files,
# both content stores the same blobs, and B's dflyd got its layers from parents. Then both
# pull the other platform at once, by the hosts.toml `dflyctl runtime containerd` writes:
# still one copy, though a seed order without the registry's credentials is refused there.
DFLY_CLIENTS_TOP=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$DFLY_CLIENTS_TOP/tests/oci-clients.sh"
clients_unshare "$@"
. "$DFLY_CLIENTS_TOP/tests/lib.sh"

need containerd ctr docker-registry
[ -e "$DFLY_PLUGIN_BUILD_DIR/proxy.so" ] || skip_all "the proxy role is not built"

clients_hosts
clients_registry
clients_image "$SCRATCH/image" test/image:v1 "2,3,4"
diag "image $IMAGE_REF: $IMAGE_BLOB_BYTES bytes of linux/amd64 blobs"

start_proxy_pair 127.0.15 "  insecure_registries: [\"$CLIENTS_REGISTRY\"]"
start_containerd ca
start_containerd cb
hosts_dir "$SCRATCH/hosts-a" "http://127.0.0.1:$PROXY_A"
hosts_dir "$SCRATCH/hosts-b" "http://127.0.0.1:$PROXY_B"

# pull NAME HOSTS-DIR [ARG...]: ctr pull of the image into containerd NAME, bounded.
pull () {
  _c=$1 _h=$2
  shift 2
  timeout 120 ctr -a "$(eval "echo \$CTR_SOCK_$_c")" --debug images pull --plain-http \
    --hosts-dir "$_h" --user "$CLIENTS_USER:$CLIENTS_PASSWORD" "$@" "$IMAGE_REF" \
    >"$SCRATCH/pull-$_c.out" 2>&1
}

# rootfs_check NAME: the image containerd NAME unpacked holds the fixture's files, byte
# for byte (mounted read-only for a look).
expected_files "$SCRATCH/expected-files"
rootfs_check () {
  mkdir -p "$SCRATCH/mnt-$1"
  ctr_of "$1" images mount "$IMAGE_REF" "$SCRATCH/mnt-$1" >/dev/null 2>&1 || return 1
  rootfs_files "$SCRATCH/mnt-$1" >"$SCRATCH/files-$1"
  ctr_of "$1" images unmount "$SCRATCH/mnt-$1" >/dev/null 2>&1
  cmp -s "$SCRATCH/expected-files" "$SCRATCH/files-$1" || {
    diag "containerd $1's rootfs:" "$(cat "$SCRATCH/files-$1")"
    return 1
  }
}


# --- node A's containerd, then node B's -----------------------------------
pull ca "$SCRATCH/hosts-a"
check "containerd A pulls $IMAGE_REF through node A's proxy" test $? -eq 0 ||
  tail -n 30 "$SCRATCH/pull-ca.out" | sed 's/^/#   /'
registry_once "... the registry served the blobs once"
# A pass-through costs the registry one copy too: the swarm's path leaves whole tasks.
is "... node A's dflyd fetched every blob, whole" "$(blob_tasks A held)" "" || swarm_failures

pull cb "$SCRATCH/hosts-b"
check "containerd B pulls $IMAGE_REF through node B's proxy" test $? -eq 0 ||
  tail -n 30 "$SCRATCH/pull-cb.out" | sed 's/^/#   /'
registry_once "the registry served the blobs about once for both containerds" || swarm_failures

check "containerd A's unpacked image holds the image's files" rootfs_check ca
check "containerd B's unpacked image holds the same files" rootfs_check cb
ctr_of ca content ls -q 2>/dev/null | sort >"$SCRATCH/content-a"
ctr_of cb content ls -q 2>/dev/null | sort >"$SCRATCH/content-b"
image_blobs | sort >"$SCRATCH/image-blobs"
check "both content stores hold the same blobs" cmp -s "$SCRATCH/content-a" "$SCRATCH/content-b"
is "... every blob of the image among them" \
  "$(comm -23 "$SCRATCH/image-blobs" "$SCRATCH/content-a" | tr '\n' ' ')" ""

# Through B's proxy, not around it: B's dflyd holds every blob, from parents.
is "node B holds every blob of the image, every byte from parents" \
  "$(blob_tasks B parents)" "" || swarm_failures
unlike "the ns parameter containerd adds never reached the registry" "$CLIENTS_REGISTRY_LOG" \
  '[?&]ns='

# --- both at once, the other platform ----------------------------------------
# By the hosts.toml that `dflyctl runtime containerd` writes: its X-Dragonfly-Registry
# header names the upstream, with its scheme, instead of ns=.
for node in a b; do
  mkdir -p "$SCRATCH/rt-$node"
  port=$PROXY_A
  [ "$node" = a ] || port=$PROXY_B
  "$DFLYCTL" runtime containerd --registry "http://$CLIENTS_REGISTRY" \
    --proxy "http://127.0.0.1:$port" --root "$SCRATCH/rt-$node" >"$SCRATCH/runtime-$node.out" 2>&1
done
like "dflyctl runtime containerd names B's proxy and the upstream in B's hosts.toml" \
  "$SCRATCH/rt-b/etc/containerd/certs.d/$CLIENTS_REGISTRY/hosts.toml" \
  "X-Dragonfly-Registry = \"http://$CLIENTS_REGISTRY\""
before=$(registry_blob_bytes)
arm_bytes=$(python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))["platforms"]["linux/arm64"]["blob_bytes"])' "$SCRATCH/image.json")
pull ca "$SCRATCH/rt-a/etc/containerd/certs.d" --platform linux/arm64 &
pid_a=$!
pull cb "$SCRATCH/rt-b/etc/containerd/certs.d" --platform linux/arm64 &
pid_b=$!
status_a=0 status_b=0
wait "$pid_a" || status_a=$?
wait "$pid_b" || status_b=$?
is "both containerds pull linux/arm64 at once" "$status_a $status_b" "0 0" || {
  tail -n 20 "$SCRATCH/pull-ca.out" "$SCRATCH/pull-cb.out" | sed 's/^/#   /'
}
# When B's request reaches the scheduler first, it orders A's seed to fetch the blob,
# without credentials (a requester's token never goes to the seed), and the token service
# refuses that order; A's own proxy request (with a token) then starts a task of its own
# rather than fail with the order's, and B gets the blob from A.
registry_once "... and the registry served each blob once" "$before" "$arm_bytes" ||
  swarm_failures
# containerd falls back to the registry unseen: it never fetched a blob there itself.
unlike "no blob went from the registry to containerd directly" "$CLIENTS_REGISTRY_LOG" \
  '"GET /v2/[^ ]*/blobs/[^"]*" [0-9]+ [0-9]+ "[^"]*" "containerd/'

done_testing
