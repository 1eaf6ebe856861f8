#!/bin/sh
# test-swarm-sources.sh — an OCI layer and an S3 object through the swarm
#
# The eight-peer swarm of test-swarm.sh (ranked by the "bandwidth"
# scheduling algorithm), with a real docker-registry and a real s3rver as
# origins. Each is reached through an nginx reverse proxy, so that nginx's
# access log counts the bytes every origin sent; the seed peer alone goes
# to them, the eight peers get every byte from each other.
. "$top_srcdir/tests/lib.sh"

need python3 docker-registry
WWW="$SCRATCH/www"
OUT="$SCRATCH/out"
mkdir -p "$WWW" "$OUT"
MIB=1048576
SIZE_MIB=32

start_registry
start_s3rver "$SCRATCH/s3" bkt
REGISTRY_PROXY_PORT=$(pick_port)
S3_PROXY_PORT=$(pick_port)
NGINX_EXTRA="
  server {
    listen 127.0.0.1:$REGISTRY_PROXY_PORT;
    location / { proxy_pass http://$REGISTRY; proxy_buffering off; }
  }
  server {
    listen 127.0.0.1:$S3_PROXY_PORT;
    location / {
      proxy_pass $S3RVER_URL;
      proxy_set_header Host \$http_host;
      proxy_buffering off;
    }
  }"
start_nginx "$WWW"
REGISTRY_PROXY="127.0.0.1:$REGISTRY_PROXY_PORT"

head -c $((SIZE_MIB * MIB)) /dev/urandom >"$SCRATCH/layer"
LAYER=$(push_blob lib/app "$SCRATCH/layer") || bail_out "pushing the layer failed"
head -c $((SIZE_MIB * MIB)) /dev/urandom >"$SCRATCH/model.bin"
s3_put bkt model.bin "$SCRATCH/model.bin" || bail_out "storing the S3 object failed"

SCHEDULER_PORT=$(pick_port)
SCHEDULERS="peer:
  schedulers: [\"127.0.3.3:$SCHEDULER_PORT\"]"
# Every node can reach both origins (through the proxies); only the seed does.
COMMON="download:
  piece_length: 1MiB
  min_piece_length: 1MiB
oci:
  insecure_registries: [\"$REGISTRY_PROXY\"]
s3:
  endpoint: http://127.0.0.1:$S3_PROXY_PORT
  region: us-east-1
  path_style: 1
  access_key_id: S3RVER
  secret_access_key: S3RVER"
# This swarm's scheduler ranks parents with the second algorithm plugin.
start_node sched 127.0.3.3 "[scheduler]" "scheduler:" "  port: $SCHEDULER_PORT" \
  "  algorithm: bandwidth" "storage:" "  backend: \"\""
start_node seed 127.0.3.4 "[seed]" "$SCHEDULERS" "$COMMON"
PEERS="peer1 peer2 peer3 peer4 peer5 peer6 peer7 peer8"
i=1
for peer in $PEERS; do
  start_node "$peer" "127.0.3.1$i" "[peer]" "$SCHEDULERS" "$COMMON"
  i=$((i + 1))
done
for node in sched seed $PEERS; do
  wait_for_node "$node" 30 || bail_out "node $node did not come up"
done
wait_for_line "$SCRATCH/sched.log" "host 127.0.3.18-peer8 joined" 10 ||
  bail_out "the scheduler did not hear every host"

# swarm_get NAME URL EXPECTED: every peer fetches URL at once; then checks.
swarm_get () {
  _name=$1
  _pids=""
  for _node in $PEERS; do
    timeout 120 "$DFLYCTL" --address "$(node_bus "$_node")" get "$2" \
      -O "$OUT/$_node-$_name" -q >"$SCRATCH/get-$_node-$_name.out" 2>&1 &
    _pids="$_pids $!"
  done
  _failed=0
  for _pid in $_pids; do
    wait "$_pid" || _failed=$((_failed + 1))
  done
  _same=0
  for _node in $PEERS; do
    cmp -s "$3" "$OUT/$_node-$_name" && _same=$((_same + 1))
  done
  is "8 peers fetch $2 through the swarm" "$_failed failed, $_same identical" \
    "0 failed, 8 identical"
  [ "$_failed" -eq 0 ] || cat "$SCRATCH"/get-*-"$_name".out | sed 's/^/#   /'
}

swarm_get layer "oci://$REGISTRY_PROXY/lib/app@$LAYER" "$SCRATCH/layer"
ratio=$(nginx_ratio "/v2/lib/app/blobs/$LAYER" "$SCRATCH/layer")
diag "registry bytes / layer size: $ratio"
check "the registry sent the layer about once ($ratio <= 1.05)" at_most 1.05 "$ratio"

swarm_get model "s3://bkt/model.bin" "$SCRATCH/model.bin"
ratio=$(nginx_ratio /bkt/model.bin "$SCRATCH/model.bin")
diag "S3 bytes / object size: $ratio"
check "s3rver sent the object about once ($ratio <= 1.05)" at_most 1.05 "$ratio"

node_ctl peer8 tasks >"$SCRATCH/tasks.out" 2>&1
like "peer8's layer came from parents" "$SCRATCH/tasks.out" " parents .*oci://"
like "... and so did its S3 object" "$SCRATCH/tasks.out" " parents .*s3://bkt/model.bin"

done_testing
