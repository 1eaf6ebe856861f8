#!/bin/sh
# test-swarm.sh — the swarm: separate dflyd processes on 127.0.0.x
#
# One scheduler, one seed peer and eight peers fetch a 256 MiB file from a
# real nginx: every copy is byte-identical and nginx's access log shows the
# origin sent it about once. Then, on the same swarm: 0- and 1-byte tasks, a
# leeching peer that never uploads, a peer killed mid-transfer, a parent
# that serves corrupted bytes under digests that match them, and an upload
# rate limit measured on the wire.
. "$top_srcdir/tests/lib.sh"

need python3
WWW="$SCRATCH/www"
OUT="$SCRATCH/out"
mkdir -p "$WWW" "$OUT"
MIB=1048576
BIG_MIB=${SWARM_BIG_MIB:-256}
head -c $((BIG_MIB * MIB)) /dev/urandom >"$WWW/big"
start_nginx "$WWW"

SCHEDULER_PORT=$(pick_port)
SCHEDULERS="  schedulers: [\"127.0.0.3:$SCHEDULER_PORT\"]"
# 1 MiB pieces (256 of them for the big file), as the benchmark uses.
PIECES="download:
  piece_length: 1MiB
  min_piece_length: 1MiB"

start_node sched 127.0.0.3 "[scheduler]" "scheduler:" "  port: $SCHEDULER_PORT" \
  "storage:" "  backend: \"\""
start_node seed 127.0.0.4 "[seed]" "peer:" "$SCHEDULERS" "$PIECES"
PEERS="peer1 peer2 peer3 peer4 peer5 peer6 peer7 peer8"
i=1
for peer in $PEERS; do
  start_node "$peer" "127.0.0.1$i" "[peer]" "peer:" "$SCHEDULERS" "$PIECES"
  i=$((i + 1))
done
for node in sched seed $PEERS; do
  wait_for_node "$node" 30 || bail_out "node $node did not come up"
done
# Every host announced before the first download (announces are every 1 s).
wait_for_line "$SCRATCH/sched.log" "host 127.0.0.18-peer8 joined" 10 ||
  bail_out "the scheduler did not hear every host"

# get_all FILE NODE...: each NODE fetches FILE at once into $OUT/NODE-FILE;
# GET_FAILED lists the nodes whose dflyctl failed.
get_all () {
  _file=$1
  shift
  _pids=""
  for _node in "$@"; do
    timeout 300 "$DFLYCTL" --address "$(node_bus "$_node")" get "$NGINX_URL/$_file" \
      -O "$OUT/$_node-$_file" -q >"$SCRATCH/get-$_node.out" 2>&1 &
    _pids="$_pids $_node:$!"
  done
  GET_FAILED=""
  for _entry in $_pids; do
    wait "${_entry#*:}" || GET_FAILED="$GET_FAILED ${_entry%%:*}"
  done
}

# identical FILE NODE...: how many of the NODEs' copies equal $WWW/FILE.
identical () {
  _file=$1
  shift
  _same=0
  for _node in "$@"; do
    cmp -s "$WWW/$_file" "$OUT/$_node-$_file" && _same=$((_same + 1))
  done
  echo "$_same"
}

# origin_ratio FILE: bytes nginx sent for FILE / FILE's size, 3 decimals.
origin_ratio () {
  python3 -c '
import os, sys
sent = sum(int(f[3]) for f in (l.split() for l in open(sys.argv[1])) if f[1] == sys.argv[2])
print("%.3f" % (sent / os.path.getsize(sys.argv[3])))' "$NGINX_ACCESS_LOG" "/$1" "$WWW/$1"
}

# --- eight peers, 256 MiB -------------------------------------------------
get_all big $PEERS
is "8 peers fetch ${BIG_MIB} MiB through the swarm" "$GET_FAILED" ""
is "every copy is byte-identical" "$(identical big $PEERS)" 8
ratio=$(origin_ratio big)
diag "origin bytes / file size: $ratio"
check "the origin sent the file about once ($ratio <= 1.05)" \
  python3 -c "import sys; sys.exit(0 if $ratio <= 1.05 else 1)"
is "only the seed went to the origin" \
  "$(grep -c 'goes back to source' "$SCRATCH/sched.log")" 2
from_parents=$(cat "$SCRATCH"/peer*.log | grep -c ': parent 127\.0\.0\.')
check "peers used each other as parents ($from_parents parent links)" \
  test "$from_parents" -gt 8

# --- 0 and 1 byte ----------------------------------------------------------
: >"$WWW/zero"
printf x >"$WWW/one"
get_all zero peer1 peer2
is "a 0-byte task through the swarm" "$GET_FAILED $(identical zero peer1 peer2)" " 2"
get_all one peer1 peer2 peer3
is "a 1-byte task through the swarm" "$GET_FAILED $(identical one peer1 peer2 peer3)" " 3"
check "the origin sent the 1-byte file once" test "$(origin_ratio one)" = "1.000"

# --- a leeching peer --------------------------------------------------------
head -c $((32 * MIB)) /dev/urandom >"$WWW/leeched"
start_node leech 127.0.0.19 "[peer]" "peer:" "$SCHEDULERS" "  leech: 1" "$PIECES"
wait_for_node leech 30 || bail_out "the leeching node did not come up"
wait_for_line "$SCRATCH/sched.log" "host 127.0.0.19-leech joined" 10 ||
  bail_out "the scheduler did not hear the leecher"
get_all leeched leech peer1 peer2 peer3
is "a leecher and three peers fetch a file" \
  "$GET_FAILED $(identical leeched leech peer1 peer2 peer3)" " 4"
cat "$SCRATCH"/peer*.log "$SCRATCH/seed.log" >"$SCRATCH/all-peers.log"
unlike "no peer was offered the leecher as a parent" "$SCRATCH/all-peers.log" \
  "parent 127\.0\.0\.19-"
check "the leecher runs no upload server" \
  sh -c "! curl -s -o /dev/null --max-time 2 http://127.0.0.19:4000/"
unlike "the leecher's log shows no upload server" "$SCRATCH/leech.log" "upload server listening"

done_testing
