#!/bin/sh
# test-trust-scheduler.sh — peers that lie to a real scheduler
#
# One scheduler and peers on 127.0.9.x, a real nginx origin, no seed (so the
# scheduler itself chooses which real peer fetches each task from the
# origin), and dfly-hostile:
# - claim-source registers first, asking for the source, and reports a
#   wrong length and piece digests of zeros: a peer that asked is not the
#   task's reference, the real peers' copies are byte-identical and the
#   scheduler keeps the real length;
# - hostile-lengths registers first, is made the reference, and claims 2^40
#   bytes in 1-byte pieces: refused with a log line, nobody aborts, the real
#   copies are byte-identical;
# - fake-hosts announces 100 hosts with a 2^32-1 s interval (refused) and
#   10,000 with 1 h (the table's cap): a peer started after them still gets
#   into the table, and the three real peers download a new file through
#   the swarm, the origin sending it about once;
# - lying-scheduler tells a peer its task holds 16 MiB, then 2^40 bytes, in
#   1-byte pieces before sending it to the source: the peer ignores both
#   lengths (no piece table of 16 Mi entries) and fetches the real bytes.
. "$top_srcdir/tests/lib.sh"

[ -x "$DFLY_HOSTILE" ] || bail_out "no dfly-hostile at $DFLY_HOSTILE"
WWW="$SCRATCH/www"
OUT="$SCRATCH/out"
mkdir -p "$WWW" "$OUT"
MIB=1048576
for file in claimed lengths after lied; do
  head -c $((8 * MIB)) /dev/urandom >"$WWW/$file"
done
start_nginx "$WWW"

PORT=$(pick_port)
SCHEDULER="127.0.9.1:$PORT"
SCHEDULERS="  schedulers: [\"$SCHEDULER\"]"
PIECES="download:
  piece_length: 1MiB
  min_piece_length: 1MiB"
start_node sched 127.0.9.1 "[scheduler]" "scheduler:" "  port: $PORT" \
  "storage:" "  backend: \"\""
start_node peer1 127.0.9.11 "[peer]" "peer:" "$SCHEDULERS" "$PIECES"
start_node peer2 127.0.9.12 "[peer]" "peer:" "$SCHEDULERS" "$PIECES"
for node in sched peer1 peer2; do
  wait_for_node "$node" 30 || bail_out "node $node did not come up"
done
wait_for_line "$SCRATCH/sched.log" "host 127.0.9.12-peer2 joined" 10 ||
  bail_out "the scheduler did not hear every host"

# liar ATTACK FILE: starts the attack on FILE's task in the background
# (LIAR_PID) and waits for the scheduler's answer to it (LIAR_OUT).
liar () {
  LIAR_OUT="$SCRATCH/$1.out"
  "$DFLY_HOSTILE" "$1" "$SCHEDULER" "$NGINX_URL/$2" 120 >"$LIAR_OUT" 2>"$SCRATCH/$1.err" &
  LIAR_PID=$!
  track_pid "$LIAR_PID"
  wait_for_line "$LIAR_OUT" "^response=" 15 || diag "$1 got no answer"
}
# liar_end: stops the attack; its last line says what the scheduler believes.
liar_end () {
  kill -TERM "$LIAR_PID"
  wait_exit "$LIAR_PID" 15
  untrack_pid "$LIAR_PID"
  sed -n 's/^stat_content_length=//p' "$LIAR_OUT"
}
alive () {
  for _node in "$@"; do
    pid_alive "$(node_pid "$_node")" || return 1
  done
}

# --- a peer that asked for the source lies about it ---------------------------
liar claim-source claimed
like "the attacker asked and was let go to the source" "$LIAR_OUT" \
  "^response=back-to-source: asked for$"
get_all claimed peer1 peer2
is "the real peers finish" "$GET_FAILED" ""
is "their copies are byte-identical to the origin" "$(identical claimed peer1 peer2)" 2
is "the scheduler kept the real length, not the attacker's" "$(liar_end)" $((8 * MIB))
like "a real peer was made the reference" "$SCRATCH/sched.log" \
  "peer 127.0.9.1[12]-.* goes back to source: no seed peer has the task"

# --- the reference claims 2^40 bytes in 1-byte pieces -------------------------
liar hostile-lengths lengths
like "the attacker was made the reference" "$LIAR_OUT" \
  "^response=back-to-source: no seed peer has the task$"
get_all lengths peer1 peer2
is "the real peers finish" "$GET_FAILED" ""
is "their copies are byte-identical to the origin" "$(identical lengths peer1 peer2)" 2
is "the scheduler kept the real length" "$(liar_end)" $((8 * MIB))
like "the scheduler refused the length, with a log line" "$SCRATCH/sched.log" \
  "1099511627776 bytes in pieces of 1 is out of bounds"
like "and took the attacker's word no more" "$SCRATCH/sched.log" \
  "peer 127.0.0.1-liar-liar is no longer the task's reference"
check "the scheduler and the peers are still running" alive sched peer1 peer2

# --- 10,000 fake hosts ----------------------------------------------------------
"$DFLY_HOSTILE" fake-hosts "$SCHEDULER" 100 4294967295 >"$SCRATCH/huge.out" 2>&1
like "hosts announcing a 2^32-1 s interval are refused" "$SCRATCH/huge.out" "^refused=100$"
"$DFLY_HOSTILE" fake-hosts "$SCHEDULER" 10000 3600 >"$SCRATCH/fake.out" 2>&1
like "10,000 fake hosts with a 1 h interval are taken" "$SCRATCH/fake.out" "^announced=10000$"
like "the table filled, with a log line" "$SCRATCH/sched.log" "host table full \\(10000 hosts\\)"
start_node peer3 127.0.9.13 "[peer]" "peer:" "$SCHEDULERS" "$PIECES"
wait_for_node peer3 30 || bail_out "node peer3 did not come up"
check "a peer started after the flood gets into the table" \
  wait_for_line "$SCRATCH/sched.log" "host 127.0.9.13-peer3 joined" 10
get_all after peer1 peer2 peer3
is "the real peers finish" "$GET_FAILED" ""
is "their copies are byte-identical to the origin" "$(identical after peer1 peer2 peer3)" 3
ratio=$(nginx_ratio /after "$WWW/after")
check "the swarm still works: the origin sent the file about once ($ratio)" at_most 1.05 "$ratio"
cat "$SCRATCH"/peer[123].log >"$SCRATCH/peers.log"
like "real peers were offered each other as parents" "$SCRATCH/peers.log" \
  "parent 127.0.9.1[123]-peer[123]-.* at http://127.0.9.1[123]:"
check "the scheduler and the peers are still running" alive sched peer1 peer2 peer3

# --- a scheduler that lies about lengths ----------------------------------------
"$DFLY_HOSTILE" lying-scheduler 127.0.9.2 120 >"$SCRATCH/lying.out" 2>"$SCRATCH/lying.err" &
LYING_PID=$!
track_pid "$LYING_PID"
wait_for_line "$SCRATCH/lying.out" "^port=" 10 || bail_out "the lying scheduler did not start"
LYING_PORT=$(sed -n 's/^port=//p' "$SCRATCH/lying.out")
start_node peer4 127.0.9.14 "[peer]" "peer:" "  schedulers: [\"127.0.9.2:$LYING_PORT\"]" "$PIECES"
wait_for_node peer4 30 || bail_out "node peer4 did not come up"
get_all lied peer4
is "the peer told absurd lengths finishes" "$GET_FAILED" ""
is "its copy is byte-identical to the origin" "$(identical lied peer4)" 1
is "it ignored both lengths, with a log line each" \
  "$(grep -c "out of bounds or contradicts what is known; ignored" "$SCRATCH/peer4.log")" 2
check "the peer is still running" alive peer4
kill -TERM "$LYING_PID"
wait_exit "$LYING_PID" 15
untrack_pid "$LYING_PID"
like "the lying scheduler answered its registration" "$SCRATCH/lying.out" "^registers=[1-9]"

done_testing
