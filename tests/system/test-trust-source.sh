#!/bin/sh
# test-trust-source.sh — what a seed will fetch, and what stays with the requester
#
# A scheduler-and-seed node and a peer node, a real nginx origin and two
# real docker-registries, one behind htpasswd and one behind token auth. A
# seed order for the cloud metadata address, directly and through an
# origin's 302, is refused with a clear error that reaches dflyctl;
# source.deny of a CIDR covering the origin makes the seed refuse it (the
# requester then fetches it itself) and, on the requester too, refuses it;
# an allowed origin still works. The registries' credentials stay with the
# requester: the seed, which has none, gets 401 (from the token-auth one, no
# token), and the requester fetches the blob itself, byte-identical. Each
# order is logged with its caller and a URL without its query; a download's
# D-Bus signals reach its caller alone.
. "$top_srcdir/tests/lib.sh"

need curl sha256sum docker-registry gdbus
WWW="$SCRATCH/www"
OUT="$SCRATCH/out"
mkdir -p "$WWW" "$OUT"

REDIRECT_PORT=$(pick_port)
NGINX_EXTRA="
  server {
    listen 127.0.0.1:$REDIRECT_PORT;
    location = /to-metadata { return 302 http://169.254.169.254/latest/meta-data/; }
    location = /to-mapped { return 302 http://[::ffff:169.254.169.254]/latest/; }
  }"
start_nginx "$WWW"
start_registry tokens tester 's3cr3t-pass' token
TOKEN_REGISTRY=$REGISTRY TOKEN_REALM=$REGISTRY_TOKEN_REALM TOKEN_LOG=$REGISTRY_TOKEN_LOG
start_registry registry tester 's3cr3t-pass'

SCHEDULER_PORT=$(pick_port)
COMMON="http:
  connect_timeout: 2s
  read_timeout: 5s
  retries: 1
  retry_backoff_ms: 100
oci:
  insecure_registries: [\"$REGISTRY\", \"$TOKEN_REGISTRY\"]"
SEED_CONFIG="$SCRATCH/seed/dflyd.yaml"
start_node seed 127.0.6.1 "[scheduler, seed]" "scheduler:" "  port: $SCHEDULER_PORT" "$COMMON"
start_node peer 127.0.6.2 "[peer]" "peer:" "  schedulers: [\"127.0.6.1:$SCHEDULER_PORT\"]" \
  "$COMMON"
for node in seed peer; do
  wait_for_node "$node" 30 || bail_out "node $node did not come up"
done
wait_for_line "$SCRATCH/seed.log" "host 127.0.6.2-peer joined" 10 ||
  bail_out "the scheduler did not hear the peer"

# get NAME URL [OPTION...]: the peer fetches URL to $OUT/NAME; GET_STATUS,
# $SCRATCH/NAME.err.
get () {
  _name=$1
  _url=$2
  shift 2
  GET_STATUS=0
  timeout 60 "$DFLYCTL" --address "$(node_bus peer)" get "$_url" -O "$OUT/$_name" "$@" \
    >"$SCRATCH/$_name.out" 2>"$SCRATCH/$_name.err" || GET_STATUS=$?
}

# A second client on the peer's bus, listening to everything dflyd says.
gdbus monitor --address "$(node_bus peer)" --dest org.dfly.Daemon1 >"$SCRATCH/monitor.out" 2>&1 &
MONITOR_PID=$!
track_pid "$MONITOR_PID"
wait_for_line "$SCRATCH/monitor.out" "Monitoring signals" 10 || diag "gdbus monitor did not start"

# --- an allowed origin, through the seed --------------------------------

head -c 300000 /dev/urandom >"$WWW/allowed.bin"
get allowed "$NGINX_URL/allowed.bin?token=hunter2-secret"
is "an allowed origin: dflyctl get exits 0" "$GET_STATUS" 0
check "... byte-identical" cmp -s "$WWW/allowed.bin" "$OUT/allowed"
check "the seed logs the order with its caller and the URL without its query" \
  wait_for_line "$SCRATCH/seed.log" \
  "order from 127\\.0\\.[0-9.]+: task [0-9a-f]{64}, $NGINX_URL/allowed\\.bin\$" 5
unlike "... and never the query's secret" "$SCRATCH/seed.log" "hunter2"

# --- the metadata address, directly and through a redirect ---------------

METADATA_ERROR="source\\.deny: 169\\.254\\.169\\.254 is denied \\(link-local\\)"
get metadata "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
is "a seed order for 169.254.169.254: dflyctl exits 9" "$GET_STATUS" 9
like "... and prints the refusal" "$SCRATCH/metadata.err" "$METADATA_ERROR"
check "the seed refused it too, with the same words" \
  wait_for_line "$SCRATCH/seed.log" "failed: $METADATA_ERROR" 5

get redirected "http://127.0.0.1:$REDIRECT_PORT/to-metadata"
is "a 302 from an allowed origin to 169.254.169.254: dflyctl exits 9" "$GET_STATUS" 9
like "... and prints the refusal" "$SCRATCH/redirected.err" "$METADATA_ERROR"
get mapped "http://127.0.0.1:$REDIRECT_PORT/to-mapped"
is "a 302 to its IPv4-mapped form: dflyctl exits 9" "$GET_STATUS" 9
like "... and prints the refusal" "$SCRATCH/mapped.err" "$METADATA_ERROR"
is "nginx answered each redirect twice (the seed's order, then the requester)" \
  "$(nginx_requests /to-metadata)/$(nginx_requests /to-mapped)" "2/2"

# --- source.deny covering the origin --------------------------------------

# The seed denies the origin's address: it refuses the order, and the
# requester, whose rules allow it, fetches it itself.
printf 'source:\n  deny: [127.0.0.0/24]\n' >>"$SEED_CONFIG"
node_ctl seed reload >"$SCRATCH/reload.out" 2>&1
like "the seed reloads source.deny" "$SCRATCH/reload.out" "source\\.deny"
head -c 200000 /dev/urandom >"$WWW/denied-at-seed.bin"
get denied-at-seed "$NGINX_URL/denied-at-seed.bin"
is "an origin only the seed denies: dflyctl get exits 0" "$GET_STATUS" 0
check "... byte-identical, fetched by the requester" \
  cmp -s "$WWW/denied-at-seed.bin" "$OUT/denied-at-seed"
like "the seed says why it did not fetch it" "$SCRATCH/seed.log" \
  "source\\.deny: 127\\.0\\.0\\.1 is denied \\(127\\.0\\.0\\.0/24\\)"
is "nginx sent it once" "$(nginx_bytes /denied-at-seed.bin)" 200000

# The requester denies it too: refused, with the rule.
printf 'source:\n  deny: [127.0.0.1/32]\n' >>"$SCRATCH/peer/dflyd.yaml"
node_ctl peer reload >/dev/null 2>&1
head -c 1000 /dev/urandom >"$WWW/denied.bin"
get denied "$NGINX_URL/denied.bin"
is "an origin both deny: dflyctl exits 9" "$GET_STATUS" 9
like "... naming the address and the rule" "$SCRATCH/denied.err" \
  "source\\.deny: 127\\.0\\.0\\.1 is denied \\(127\\.0\\.0\\.1/32\\)"
is "... and nginx sent nothing" "$(nginx_requests /denied.bin)" 0

# --- a registry only the requester has credentials for --------------------

# (The registry listens on 127.0.0.1 too: lift the deny on both nodes.)
sed '/^source:/,$d' "$SEED_CONFIG" >"$SEED_CONFIG.new" && mv "$SEED_CONFIG.new" "$SEED_CONFIG"
sed '/^source:/,$d' "$SCRATCH/peer/dflyd.yaml" >"$SCRATCH/peer.new" &&
  mv "$SCRATCH/peer.new" "$SCRATCH/peer/dflyd.yaml"
node_ctl seed reload >/dev/null 2>&1
node_ctl peer reload >/dev/null 2>&1
head -c 150000 /dev/urandom >"$SCRATCH/layer"
LAYER=$(push_blob lib/private "$SCRATCH/layer") || bail_out "pushing a blob failed"
BASIC="Basic $(printf '%s' "$REGISTRY_AUTH" | base64)"
get private "oci://$REGISTRY/lib/private@$LAYER" --header "Authorization: $BASIC"
is "a private blob: the requester with credentials gets it" "$GET_STATUS" 0
check "... byte-identical" cmp -s "$SCRATCH/layer" "$OUT/private"
like "the seed, without credentials, got 401" "$SCRATCH/seed.log" \
  "task ${LAYER#sha256:} failed: .*(401|ACCESS_DENIED|UNAUTHORIZED|credentials)"
BASIC64=$(printf '%s' "$REGISTRY_AUTH" | base64)
unlike "the credential reached neither the scheduler nor the seed" "$SCRATCH/seed.log" \
  "$BASIC64|s3cr3t"

# --- a token-auth registry: the requester holds a token, the seed nothing --

REGISTRY=$TOKEN_REGISTRY REGISTRY_TOKEN_REALM=$TOKEN_REALM
head -c 150000 /dev/urandom >"$SCRATCH/sealed"
SEALED=$(push_blob lib/sealed "$SCRATCH/sealed") || bail_out "pushing a blob with a token failed"
TOKEN=$(registry_token lib/sealed pull)
[ -n "$TOKEN" ] || bail_out "the token service gave no token"
: >"$TOKEN_LOG"
get sealed "oci://$REGISTRY/lib/sealed@$SEALED" --header "Authorization: Bearer $TOKEN"
is "a token-auth registry: the requester with a token gets the blob" "$GET_STATUS" 0
check "... byte-identical" cmp -s "$SCRATCH/sealed" "$OUT/sealed"
like "the seed, without credentials, was refused a token" "$TOKEN_LOG" \
  "^token 401 repository:lib/sealed:pull\$"
unlike "... and never got one" "$TOKEN_LOG" "^token 200"
like "... so its order failed" "$SCRATCH/seed.log" \
  "task ${SEALED#sha256:} failed: .*(401|ACCESS_DENIED|token service)"
unlike "the token reached neither the scheduler nor the seed" "$SCRATCH/seed.log" \
  "$(printf '%s' "$TOKEN" | cut -c1-40)"

# --- D-Bus: a download's signals reach its caller alone --------------------

# Stopping the peer broadcasts its roles' states: the monitor hears those.
kill -TERM "$(node_pid peer)"
wait_exit "$(node_pid peer)" 15 || diag "the peer did not stop"
kill_pid "$MONITOR_PID"
untrack_pid "$MONITOR_PID"
like "another client on the bus hears the broadcast RoleStateChanged" "$SCRATCH/monitor.out" \
  "RoleStateChanged"
unlike "... but none of the downloads' TaskProgress, TaskFinished or TaskFailed" \
  "$SCRATCH/monitor.out" "TaskProgress|TaskFinished|TaskFailed"

unlike "the seed logged no warnings or criticals" "$SCRATCH/seed.log" "WARNING|CRITICAL"
unlike "the peer logged no warnings or criticals" "$SCRATCH/peer.log" "WARNING|CRITICAL"
done_testing
