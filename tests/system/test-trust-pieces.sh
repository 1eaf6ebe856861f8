#!/bin/sh
# test-trust-pieces.sh — no forged or rotten piece reaches an output, on 127.0.13.x
#
# A scheduler, a seed and four peers fetch from a real nginx while
# dfly-hostile attacks them:
# - forge-parent: a host that registers as a parent holding the task and
#   serves every piece with bytes changed so that it keeps its CRC-32C.
#   Under the default SHA-256 piece digests every copy is byte-identical and
#   the forger gave no child a byte; under crc32c the same forgery passes the
#   per-piece check (the attack is real: outputs differ).
. "$top_srcdir/tests/lib.sh"

need python3
[ -x "$DFLY_HOSTILE" ] || bail_out "no dfly-hostile at $DFLY_HOSTILE"
WWW="$SCRATCH/www"
OUT="$SCRATCH/out"
mkdir -p "$WWW" "$OUT"
PIECE=262144
# 16 pieces of 256 KiB each.
head -c $((16 * PIECE)) /dev/urandom >"$WWW/sha"
head -c $((16 * PIECE)) /dev/urandom >"$WWW/crc"
start_nginx "$WWW"

SCHEDULER_PORT=$(pick_port)
SCHEDULER="127.0.13.3:$SCHEDULER_PORT"
SCHEDULERS="  schedulers: [\"$SCHEDULER\"]"
PIECES="download:
  piece_length: 256KiB
  min_piece_length: 256KiB"
FORGER_IP=127.0.13.20

start_node sched 127.0.13.3 "[scheduler]" "scheduler:" "  port: $SCHEDULER_PORT" \
  "storage:" "  backend: \"\""
start_node seed 127.0.13.4 "[seed]" "peer:" "$SCHEDULERS" "$PIECES"
PEERS="peer1 peer2 peer3 peer4"
i=1
for peer in $PEERS; do
  start_node "$peer" "127.0.13.1$i" "[peer]" "peer:" "$SCHEDULERS" "$PIECES"
  i=$((i + 1))
done
for node in sched seed $PEERS; do
  wait_for_node "$node" 30 || bail_out "node $node did not come up"
done
wait_for_line "$SCRATCH/sched.log" "host 127.0.13.14-peer4 joined" 10 ||
  bail_out "the scheduler did not hear every host"

GET_TIMEOUT=120

# task_id NODE FILE: the id of the task NODE holds for FILE.
task_id () {
  node_ctl "$1" --json tasks | python3 -c '
import json, sys
print([t["id"] for t in json.load(sys.stdin) if t["url"].endswith("/" + sys.argv[1])][0])' "$2"
}

# forger_bytes FILE NODE...: the bytes each NODE's task for FILE holds from
# the forger, summed (StatTask's parents: peer id -> bytes).
forger_bytes () {
  _file=$1
  shift
  _sum=0
  for _node in "$@"; do
    _bytes=$(node_ctl "$_node" --json task show "$(task_id "$_node" "$_file")" | python3 -c '
import json, sys
print(sum(b for p, b in json.load(sys.stdin)["parents"].items() if "-forger-" in p))')
    _sum=$((_sum + ${_bytes:-0}))
  done
  echo "$_sum"
}

# forge FILE NAME: peer1 fetches FILE (through the seed), then the forger
# registers as a parent holding it, in the background, output in
# $SCRATCH/forger-NAME.out.
forge () {
  get_all "$1" peer1
  is "peer1 fetches $1 first, through the seed" "$GET_FAILED $(identical "$1" peer1)" " 1"
  _id=$(task_id peer1 "$1")
  "$DFLY_HOSTILE" forge-parent "$SCHEDULER" "$FORGER_IP" "$_id" "$NGINX_URL/$1" "$WWW/$1" \
    "$PIECE" 40 >"$SCRATCH/forger-$2.out" 2>&1 &
  FORGER_PID=$!
  track_pid "$FORGER_PID"
  wait_for_line "$SCRATCH/sched.log" "peer $FORGER_IP-forger-forged registered" 10 ||
    bail_out "the forger did not register"
  # Its piece reports follow the register on the same stream.
  sleep 1
}

# forger_done NAME: stops the forger (it prints its counters on SIGTERM);
# FORGED: the pieces it sent forged.
forger_done () {
  kill_pid "$FORGER_PID"
  wait "$FORGER_PID" 2>/dev/null
  untrack_pid "$FORGER_PID"
  FORGED=$(sed -n 's/^forged=//p' "$SCRATCH/forger-$1.out")
  diag "forger ($1): $(tr '\n' ' ' <"$SCRATCH/forger-$1.out")"
}

# --- forged pieces under the default (SHA-256) ---------------------------
forge sha sha
get_all sha peer2 peer3 peer4
is "three peers fetch while the forger is a parent" "$GET_FAILED" ""
is "... every copy is byte-identical to the origin's" "$(identical sha peer2 peer3 peer4)" 3
caught=$(cat "$SCRATCH/peer2.log" "$SCRATCH/peer3.log" "$SCRATCH/peer4.log" |
  grep -c "parent $FORGER_IP-forger-forged served piece [0-9]* with a wrong digest")
check "... the forger's pieces were caught ($caught times)" test "$caught" -ge 1
is "... and no child holds a byte from the forger" "$(forger_bytes sha peer2 peer3 peer4)" 0
forger_done sha
check "... though it sent forged pieces (${FORGED:-none})" test "${FORGED:-0}" -ge 1

# --- the same forgery under crc32c passes the per-piece check -----------
for node in seed $PEERS; do
  sed -i 's/^  min_piece_length: 256KiB$/  min_piece_length: 256KiB\n  piece_digest: crc32c/' \
    "$SCRATCH/$node/dflyd.yaml"
  node_ctl "$node" reload >/dev/null 2>&1 || bail_out "$node did not reload"
done
forge crc crc
get_all crc peer2 peer3 peer4
is "under crc32c, three peers fetch while the forger is a parent" "$GET_FAILED" ""
from_forger=$(forger_bytes crc peer2 peer3 peer4)
diag "bytes the children took from the forger under crc32c: $from_forger"
check "... its forged pieces pass the CRC-32C check" test "$from_forger" -gt 0
check "... and reach outputs: not every copy equals the origin's" \
  test "$(identical crc peer2 peer3 peer4)" -lt 3
forger_done crc

done_testing
