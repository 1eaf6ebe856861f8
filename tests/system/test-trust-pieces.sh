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
# - accuse: two hosts report an honest parent's pieces as bad. The parent
#   reads them back, finds them intact and is not banned: a new child still
#   takes pieces from it, and every copy is byte-identical.
# - bit rot: one byte of a piece in a real parent's storage flips. The child
#   that fetches it catches it, the parent reads the piece back, drops it
#   and stops serving it; the child gets it elsewhere.
# - a child configured for sha256 whose reference digests are crc32c (the
#   seed was configured so) takes nothing from parents: it cannot check them.
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
head -c $((16 * PIECE)) /dev/urandom >"$WWW/accused"
head -c $((16 * PIECE)) /dev/urandom >"$WWW/rot"
head -c $((16 * PIECE)) /dev/urandom >"$WWW/mixed"
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
  wait_for_line "$SCRATCH/sched.log" "peer $FORGER_IP-forger-liar registered" 10 ||
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
  grep -c "parent $FORGER_IP-forger-liar served piece [0-9]* with a wrong digest")
check "... the forger's pieces were caught ($caught times)" test "$caught" -ge 1
is "... and no child holds a byte from the forger" "$(forger_bytes sha peer2 peer3 peer4)" 0
forger_done sha
check "... though it sent forged pieces (${FORGED:-none})" test "${FORGED:-0}" -ge 1

# --- two hosts falsely accuse an honest parent ----------------------------
get_all accused peer1
is "peer1 fetches accused, through the seed" "$GET_FAILED $(identical accused peer1)" " 1"
accused_id=$(task_id peer1 accused)
for liar in 21 22; do
  "$DFLY_HOSTILE" accuse "$SCHEDULER" "127.0.13.$liar" "$accused_id" "$NGINX_URL/accused" \
    "$PIECE" 127.0.13.11 0,1,2,3 >"$SCRATCH/accuser-$liar.out" 2>&1 ||
    diag "accuser $liar: $(tr '\n' ' ' <"$SCRATCH/accuser-$liar.out")"
done
like "an accuser accused peer1 of 4 pieces" "$SCRATCH/accuser-22.out" "^accused=4$"
for n in 0 1 2 3; do
  wait_for_line "$SCRATCH/sched.log" "127.0.13.11-peer1-.* read piece $n back intact" 10 ||
    diag "no answer for piece $n yet"
done
intact=$(grep -c "task $accused_id: piece [0-3] read back intact" "$SCRATCH/peer1.log")
is "peer1 read the 4 accused pieces back from its disk: intact" "$intact" 4
unlike "... and dropped none" "$SCRATCH/peer1.log" "task $accused_id: piece .* dropping it"
get_all accused peer2
is "a new child fetches accused" "$GET_FAILED $(identical accused peer2)" " 1"
from_peer1=$(node_ctl peer2 --json task show "$accused_id" | python3 -c '
import json, sys
print(sum(b for p, b in json.load(sys.stdin)["parents"].items() if p.startswith("127.0.13.11-")))')
check "... taking pieces from the accused parent ($from_peer1 bytes): it is not banned" \
  test "${from_peer1:-0}" -gt 0

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

# --- a forgeable reference does not downgrade a sha256 child --------------
sed -i '/^  piece_digest: crc32c$/d' "$SCRATCH/peer4/dflyd.yaml"
node_ctl peer4 reload >/dev/null 2>&1 || bail_out "peer4 did not reload"
get_all mixed peer1
is "peer1 (crc32c) fetches mixed through the seed (crc32c)" "$GET_FAILED $(identical mixed peer1)" \
  " 1"
get_all mixed peer4
is "peer4 (sha256) fetches mixed" "$GET_FAILED $(identical mixed peer4)" " 1"
like "... refusing the crc32c reference digests" "$SCRATCH/peer4.log" \
  "piece digests .crc32c:.*. cannot be checked under download.piece_digest sha256"
mixed_id=$(task_id peer4 mixed)
is "... so it took no byte from a parent" \
  "$(node_ctl peer4 --json task show "$mixed_id" | python3 -c '
import json, sys
print(json.load(sys.stdin)["from-parents"])')" 0

# --- bit rot in a real parent's storage -----------------------------------
for node in seed $PEERS; do
  sed -i '/^  piece_digest: crc32c$/d' "$SCRATCH/$node/dflyd.yaml"
  node_ctl "$node" reload >/dev/null 2>&1 || bail_out "$node did not reload"
done
get_all rot peer1
is "peer1 fetches rot, through the seed (SHA-256 again)" "$GET_FAILED $(identical rot peer1)" " 1"
rot_id=$(task_id peer1 rot)
# One byte of piece 2 flips in peer1's content file (plugins/storage/disk:
# tasks/<2 hex>/<task id>). Then the seed goes, so a child's only parent
# for it is peer1, and the origin.
python3 - "$SCRATCH/peer1/cache" "$rot_id" "$((2 * PIECE + 1000))" <<'PY' ||
import glob, os, sys
(path,) = glob.glob(os.path.join(sys.argv[1], "tasks", "*", sys.argv[2]))
with open(path, "r+b") as f:
    f.seek(int(sys.argv[3]))
    b = f.read(1)
    f.seek(int(sys.argv[3]))
    f.write(bytes([b[0] ^ 0x40]))
PY
  bail_out "could not corrupt peer1's copy"
kill_pid "$(node_pid seed)"
get_all rot peer3
is "a child fetches rot while peer1's piece 2 is rotten" "$GET_FAILED $(identical rot peer3)" " 1"
like "... it caught the rotten piece" "$SCRATCH/peer3.log" \
  "parent 127.0.13.11-peer1-.* served piece 2 with a wrong digest"
wait_for_line "$SCRATCH/peer1.log" "task $rot_id: piece 2 read back as .*: dropping it" 10
like "peer1 read piece 2 back, found it bad and dropped it" "$SCRATCH/peer1.log" \
  "task $rot_id: piece 2 read back as sha256:.*: dropping it"
like "... the scheduler offers peer1 no more for it" "$SCRATCH/sched.log" \
  "127.0.13.11-peer1-.* read piece 2 back bad and dropped it"
is "... peer1 no longer serves piece 2" \
  "$(curl -s -o /dev/null -w '%{http_code}' -r $((2 * PIECE))-$((3 * PIECE - 1)) \
    "http://127.0.13.11:4000/v1/tasks/$rot_id")" 404
is "... and serves piece 3 still" \
  "$(curl -s -o /dev/null -w '%{http_code}' -r $((3 * PIECE))-$((4 * PIECE - 1)) \
    "http://127.0.13.11:4000/v1/tasks/$rot_id")" 206

done_testing
