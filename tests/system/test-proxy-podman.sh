#!/bin/sh
# test-proxy-podman.sh — skopeo and podman pull one image through dfly's registry mirror
#
# (Nodes on 127.0.16.x.) The registry and image of test-proxy-containerd.sh (a token-auth
# docker-registry named dfly-registry in a private mount namespace, a two-platform image of
# three layers). Node A runs a scheduler, a seed, a peer and the proxy; node B a peer and the
# proxy. containers/image (skopeo, podman) tries a registries.conf mirror first and sends it
# no hint of the upstream, so each proxy has proxy.registry_mirror set to the registry.
# skopeo copies the image through A into a directory; podman (rootful, vfs storage under the
# scratch directory) pulls it through B. Both fall back to the registry on a mirror error,
# so the registry's access log is what shows the mirrors served: its blob bytes stay within
# 2% of the image's for both. skopeo's blobs hash to their digests, podman's image is the
# index's digest and unpacks to the fixture's files, and B's dflyd got its layers from
# parents.
DFLY_CLIENTS_TOP=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$DFLY_CLIENTS_TOP/tests/oci-clients.sh"
clients_unshare "$@"
. "$DFLY_CLIENTS_TOP/tests/lib.sh"

need podman skopeo docker-registry
command -v runc >/dev/null || [ -x /usr/sbin/runc ] || skip_all "runc is not installed"
[ -e "$DFLY_PLUGIN_BUILD_DIR/proxy.so" ] || skip_all "the proxy role is not built"

clients_hosts
clients_registry
clients_image "$SCRATCH/image" test/image:v1 "2,3,4"
diag "image $IMAGE_REF: $IMAGE_BLOB_BYTES bytes of linux/amd64 blobs"

start_proxy_pair 127.0.16 "  registry_mirror: http://$CLIENTS_REGISTRY"

# registries_conf FILE PROXY-PORT: the registry, plain http, behind a mirror at the proxy.
registries_conf () {
  cat >"$1" <<EOF
unqualified-search-registries = []

[[registry]]
prefix = "$CLIENTS_REGISTRY"
location = "$CLIENTS_REGISTRY"
insecure = true

[[registry.mirror]]
location = "127.0.0.1:$2"
insecure = true
EOF
}
registries_conf "$SCRATCH/registries-a.conf" "$PROXY_A"
registries_conf "$SCRATCH/registries-b.conf" "$PROXY_B"
# containers/image never hands --creds to a mirror of another host name: credentials for
# the mirrors (each proxy relays the registry's challenge) come from an auth file by host.
basic=$(printf '%s' "$CLIENTS_USER:$CLIENTS_PASSWORD" | base64)
cat >"$SCRATCH/auth.json" <<EOF
{"auths": {"$CLIENTS_REGISTRY": {"auth": "$basic"}, "127.0.0.1:$PROXY_A": {"auth": "$basic"},
  "127.0.0.1:$PROXY_B": {"auth": "$basic"}}}
EOF


# --- skopeo through node A ------------------------------------------------
timeout 120 skopeo --debug --registries-conf "$SCRATCH/registries-a.conf" copy \
  --src-authfile "$SCRATCH/auth.json" "docker://$IMAGE_REF" "dir:$SCRATCH/skopeo" \
  >"$SCRATCH/skopeo.out" 2>&1
check "skopeo copies $IMAGE_REF through node A's proxy" test $? -eq 0 ||
  grep -v 'level=debug' "$SCRATCH/skopeo.out" | tail -n 20 | sed 's/^/#   /'
registry_once "... the registry served the blobs once"
# A pass-through costs the registry one copy too: the swarm's path leaves whole tasks.
is "... node A's dflyd fetched every blob, whole" "$(blob_tasks A held)" "" || swarm_failures
like "... asking the mirror first" "$SCRATCH/skopeo.out" "127\.0\.0\.1:$PROXY_A"
# Every blob of the image, named by its digest, holding bytes of that digest.
bad=""
for digest in $(image_blobs); do
  hex=${digest#sha256:}
  [ "$(sha256sum <"$SCRATCH/skopeo/$hex" 2>/dev/null | cut -d' ' -f1)" = "$hex" ] ||
    bad="$bad $hex"
done
is "skopeo's copy holds every blob of the image, each of its digest" "$bad" ""

# --- podman through node B ------------------------------------------------
# (podman refuses a runroot of more than 50 characters: a relative one from its directory.)
mkdir -p "$SCRATCH/podman"
podman_b () {
  (cd "$SCRATCH/podman" && CONTAINERS_REGISTRIES_CONF="$SCRATCH/registries-b.conf" timeout 120 \
    podman --root "$SCRATCH/podman/root" --runroot run --storage-driver vfs --runtime runc \
    --cgroup-manager cgroupfs --events-backend file "$@")
}
podman_b --log-level debug pull --authfile "$SCRATCH/auth.json" "$IMAGE_REF" \
  >"$SCRATCH/podman.out" 2>&1
check "podman pulls $IMAGE_REF through node B's proxy" test $? -eq 0 ||
  grep -v 'level=debug' "$SCRATCH/podman.out" | tail -n 20 | sed 's/^/#   /'
registry_once "the registry served the blobs about once for skopeo and podman" || swarm_failures
like "... podman asking the mirror first" "$SCRATCH/podman.out" "127\.0\.0\.1:$PROXY_B"

index=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["index"])' "$SCRATCH/image.json")
is "podman's image is the image's index" \
  "$(podman_b image inspect --format '{{.Digest}}' "$IMAGE_REF" 2>&1)" "$index"
expected_files "$SCRATCH/expected-files"
mounted=$(podman_b image mount "$IMAGE_REF" 2>"$SCRATCH/mount.err")
if [ -n "$mounted" ] && [ -d "$mounted" ]; then
  rootfs_files "$mounted" >"$SCRATCH/files-podman"
  podman_b image unmount "$IMAGE_REF" >/dev/null 2>&1
else
  : >"$SCRATCH/files-podman"
  diag "podman image mount: $(cat "$SCRATCH/mount.err")"
fi
check "podman's image unpacks to the image's files" \
  cmp -s "$SCRATCH/expected-files" "$SCRATCH/files-podman"

# Through B's proxy, not around it: B's dflyd holds every blob, from parents.
is "node B holds every blob of the image, every byte from parents" "$(blob_tasks B parents)" "" ||
  swarm_failures
# Both fall back to the registry unseen: neither fetched a blob there itself.
unlike "no blob went from the registry to skopeo or podman directly" "$CLIENTS_REGISTRY_LOG" \
  '"GET /v2/[^ ]*/blobs/[^"]*" [0-9]+ [0-9]+ "[^"]*" "(skopeo|containers)/'

done_testing
