#!/bin/sh
# test-oci.sh — `dflyctl get` of OCI blobs through dflyd from a real docker-registry
#
# A blob by oci://REGISTRY/REPO@sha256:… and by its registry URL
# (http://REGISTRY/v2/REPO/blobs/sha256:…, claimed by the oci source over
# the http source) arrives byte-identical; the same blob through two
# repositories is one task keyed by its digest; a blob whose stored bytes no
# longer match its digest fails with exit 6; a tagged image arrives as a
# directory (manifest, config, layers) through dflyctl's directory mode.
. "$top_srcdir/tests/lib.sh"

need curl sha256sum
OUT="$SCRATCH/out"
mkdir -p "$OUT"
start_bus
start_registry

CONFIG="$SCRATCH/dflyd.yaml"
write_config "$CONFIG" \
  "download:" "  min_piece_length: 4KiB" \
  "http:" "  connect_timeout: 2s" "  read_timeout: 5s" "  retries: 1" "  retry_backoff_ms: 100" \
  "oci:" "  insecure_registries: [\"$REGISTRY\"]"
start_dflyd "$CONFIG"
wait_for_dflyd 20 || bail_out "dflyd did not come up"

ctl () {
  timeout 60 "$DFLYCTL" --address "$BUS_ADDRESS" "$@"
}

get () {
  GET_STATUS=0
  ctl get "$2" -O "$OUT/$1" --piece-length 4096 >"$SCRATCH/get.out" 2>"$SCRATCH/get.err" ||
    GET_STATUS=$?
}

head -c 100000 /dev/urandom >"$SCRATCH/layer"
LAYER=$(push_blob lib/app "$SCRATCH/layer") || bail_out "pushing a blob failed"
push_blob other/app "$SCRATCH/layer" >/dev/null || bail_out "pushing a blob failed"
HEX=${LAYER#sha256:}

get oci-blob "oci://$REGISTRY/lib/app@$LAYER"
if [ "$GET_STATUS" -eq 0 ] && cmp -s "$SCRATCH/layer" "$OUT/oci-blob"; then
  ok "an oci:// blob URL arrives byte-identical"
else
  not_ok "an oci:// blob URL arrives byte-identical (exit $GET_STATUS)"
  sed 's/^/#   /' "$SCRATCH/get.err"
fi

get http-blob "http://$REGISTRY/v2/other/app/blobs/$LAYER"
if [ "$GET_STATUS" -eq 0 ] && cmp -s "$SCRATCH/layer" "$OUT/http-blob"; then
  ok "the registry's http blob URL of another repository arrives byte-identical"
else
  not_ok "the registry's http blob URL arrives byte-identical (exit $GET_STATUS)"
  sed 's/^/#   /' "$SCRATCH/get.err"
fi

ctl --json tasks >"$SCRATCH/tasks.json"
check "the blob through two repositories is one task, keyed by its digest" \
  json_check "$SCRATCH/tasks.json" "[t['id'] for t in d] == ['$HEX']"

# A tagged image, whole, into a directory: manifest.json, config.json and
# each layer under blobs/sha256/.
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}' \
  >"$SCRATCH/config"
CONFIG_DIGEST=$(push_blob lib/img "$SCRATCH/config") || bail_out "pushing the config failed"
push_blob lib/img "$SCRATCH/layer" >/dev/null || bail_out "pushing a layer failed"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",%s%s}' \
  "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"$CONFIG_DIGEST\",\"size\":$(wc -c <"$SCRATCH/config")}," \
  "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"$LAYER\",\"size\":100000}]" \
  >"$SCRATCH/manifest"
push_manifest lib/img v1 "$SCRATCH/manifest" >/dev/null || bail_out "pushing the manifest failed"
image_status=0
ctl get "oci://$REGISTRY/lib/img:v1" -O "$OUT/image" >"$SCRATCH/image.out" 2>&1 ||
  image_status=$?
is "a tagged image into a directory: exit 0" "$image_status" 0
check "... its manifest is manifest.json" cmp -s "$SCRATCH/manifest" "$OUT/image/manifest.json"
check "... its config is config.json" cmp -s "$SCRATCH/config" "$OUT/image/config.json"
check "... its layer is blobs/sha256/<hex>" cmp -s "$SCRATCH/layer" "$OUT/image/blobs/sha256/$HEX"

# A blob whose bytes in the registry's storage no longer match its digest.
head -c 50000 /dev/urandom >"$SCRATCH/bad"
BAD=$(push_blob lib/app "$SCRATCH/bad") || bail_out "pushing a blob failed"
BAD_FILE=$(registry_blob_file "$BAD")
[ -f "$BAD_FILE" ] || bail_out "no blob file at $BAD_FILE"
head -c 50000 /dev/urandom >"$BAD_FILE"
get bad "oci://$REGISTRY/lib/app@$BAD"
is "a blob whose bytes do not match its digest fails with exit 6" "$GET_STATUS" 6
check "... and leaves no output" test ! -e "$OUT/bad"

# A digest the registry does not have.
get missing "oci://$REGISTRY/lib/app@sha256:$(printf '%064d' 0)"
is "a missing blob fails with exit 4 (not found)" "$GET_STATUS" 4

stop_dflyd || not_ok "dflyd stopped cleanly (status $DFLYD_STATUS)"
stop_registry
done_testing
