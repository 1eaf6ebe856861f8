#!/bin/sh
# test-swarm-failover.sh — schedulers killed under a running swarm
#
# Two schedulers, one seed and three peers that know both. A download's
# task hashes to one scheduler; killing it mid-transfer sends every peer
# (and the seed) to the other, which learns the task again from what they
# report, and the downloads finish. Then the last scheduler is killed too:
# the peers fetch what they still lack from the origin and finish anyway.
. "$top_srcdir/tests/lib.sh"

need python3
WWW="$SCRATCH/www"
OUT="$SCRATCH/out"
mkdir -p "$WWW" "$OUT"
MIB=1048576
start_nginx "$WWW"

PORT_A=$(pick_port)
PORT_B=$(pick_port)
SCHEDULERS="  schedulers: [\"127.0.2.3:$PORT_A\", \"127.0.2.5:$PORT_B\"]"
# Peers download at 16 MiB/s so that a transfer lasts long enough to cut.
PIECES="download:
  piece_length: 1MiB
  min_piece_length: 1MiB"
start_node scheda 127.0.2.3 "[scheduler]" "scheduler:" "  port: $PORT_A" \
  "storage:" "  backend: \"\""
start_node schedb 127.0.2.5 "[scheduler]" "scheduler:" "  port: $PORT_B" \
  "storage:" "  backend: \"\""
start_node seed 127.0.2.4 "[seed]" "peer:" "$SCHEDULERS" "$PIECES"
PEERS="peer1 peer2 peer3"
i=1
for peer in $PEERS; do
  start_node "$peer" "127.0.2.1$i" "[peer]" "peer:" "$SCHEDULERS" "$PIECES" "  rate_limit: 16MiB"
  i=$((i + 1))
done
for node in scheda schedb seed $PEERS; do
  wait_for_node "$node" 30 || bail_out "node $node did not come up"
done
# The seed too: a peer registering before a scheduler knows the seed goes
# to the origin itself, and after the failover the seed, ordered by the
# other scheduler, fetched the file again (CI under ASan saw 2.000).
for log in scheda schedb; do
  for host in 127.0.2.13-peer3 127.0.2.4-seed-seed; do
    wait_for_line "$SCRATCH/$log.log" "host $host joined" 10 ||
      bail_out "$log did not hear every host ($host)"
  done
done

# start_gets FILE: every peer fetches FILE in the background (GET_PIDS).
start_gets () {
  GET_PIDS=""
  for _node in $PEERS; do
    timeout 300 "$DFLYCTL" --address "$(node_bus "$_node")" get "$NGINX_URL/$1" \
      -O "$OUT/$_node-$1" -q >"$SCRATCH/get-$_node.out" 2>&1 &
    GET_PIDS="$GET_PIDS $!"
  done
}
# finished_ok FILE: waits for the gets; FINISHED says how many failed and
# how many copies are identical (not in $(…): wait needs this shell).
finished_ok () {
  _failed=0
  for _pid in $GET_PIDS; do
    wait "$_pid" || _failed=$((_failed + 1))
  done
  _same=0
  for _node in $PEERS; do
    cmp -s "$WWW/$1" "$OUT/$_node-$1" && _same=$((_same + 1))
  done
  FINISHED="$_failed failed, $_same identical"
}
# registered_on NODE: how many peers registered on scheduler NODE so far.
registered_on () {
  grep -c ": peer .* registered" "$SCRATCH/$1.log"
}

# --- the task's scheduler dies: the other one takes over ----------------------
head -c $((64 * MIB)) /dev/urandom >"$WWW/first"
start_gets first
sleep 1.5
if [ "$(registered_on scheda)" -gt 0 ]; then
  dead=scheda alive=schedb
else
  dead=schedb alive=scheda
fi
before=$(registered_on "$alive")
diag "the task went to $dead; killing it"
kill -KILL "$(node_pid "$dead")"
finished_ok first
is "every peer finishes after its scheduler died" "$FINISHED" "0 failed, 3 identical"
check "the peers and the seed moved to $alive" test "$(registered_on "$alive")" -ge $((before + 4))
ratio=$(nginx_ratio /first "$WWW/first")
check "the origin still sent the file about once ($ratio)" \
  at_most 1.05 "$ratio"

# --- no scheduler left: the rest comes from the origin ------------------------
head -c $((64 * MIB)) /dev/urandom >"$WWW/second"
start_gets second
sleep 1.5
kill -KILL "$(node_pid "$alive")"
finished_ok second
is "with no scheduler left every peer still finishes" "$FINISHED" "0 failed, 3 identical"
cat "$SCRATCH"/peer*.log >"$SCRATCH/peers.log"
like "the peers said why they went to the origin" "$SCRATCH/peers.log" \
  "no scheduler is reachable, going to the source"

done_testing
