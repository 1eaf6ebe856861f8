#!/bin/sh
# test-download.sh — `dflyctl get` through one dflyd from a real nginx origin
#
# Edge sizes around piece boundaries, origins without Content-Length or
# Range support, 404, 500 then recovery, a connection cut mid-piece, a
# stalled origin, digests, bad outputs, cancel and timeout, deduplication of
# concurrent requests, cache hits, and GC order. Byte counts come from
# nginx's access log.
. "$top_srcdir/tests/lib.sh"

WWW="$SCRATCH/www"
OUT="$SCRATCH/out"
mkdir -p "$WWW/norange" "$WWW/chunked" "$WWW/flaky" "$WWW/slow" "$OUT"
start_bus
start_nginx "$WWW"

# Small pieces so that small files span several; GC only when asked.
CONFIG="$SCRATCH/dflyd.yaml"
write_config "$CONFIG" \
  "download:" "  min_piece_length: 4KiB" "  concurrency: 4" \
  "http:" "  connect_timeout: 2s" "  read_timeout: 2s" "  retries: 2" "  retry_backoff_ms: 100" \
  "storage:" "  gc_interval: 1h" "  quota: 1MiB" "  high_watermark: 80" "  low_watermark: 60"
start_dflyd "$CONFIG"
wait_for_dflyd 20 || bail_out "dflyd did not come up"

ctl () {
  timeout 60 "$DFLYCTL" --address "$BUS_ADDRESS" "$@"
}

# get NAME URL [OPTION...]: downloads to $OUT/NAME; GET_STATUS, $SCRATCH/get.err
get () {
  _name=$1
  _url=$2
  shift 2
  GET_STATUS=0
  ctl get "$_url" -O "$OUT/$_name" "$@" >"$SCRATCH/get.out" 2>"$SCRATCH/get.err" ||
    GET_STATUS=$?
}

# fetch_ok DESC NAME FILE [OPTION...]: FILE under $WWW arrives intact.
fetch_ok () {
  _desc=$1
  _name=$2
  _file=$3
  shift 3
  get "$_name" "$NGINX_URL/$_file" "$@"
  if [ "$GET_STATUS" -eq 0 ] && cmp -s "$WWW/$_file" "$OUT/$_name"; then
    ok "$_desc"
  else
    not_ok "$_desc (exit $GET_STATUS)"
    sed 's/^/#   /' "$SCRATCH/get.err"
  fi
}

no_leftovers () {
  # Neither the output nor a temporary file beside it.
  if ls -A "$OUT" | grep -q -- "$1"; then
    not_ok "$2"
    ls -la "$OUT" | sed 's/^/#   /'
  else
    ok "$2"
  fi
}

make_file () {
  head -c "$2" /dev/urandom >"$WWW/$1"
}

# --- sizes around piece boundaries (piece length 4 KiB) -----------------
for size in 0 1 4095 4096 4097 8191 8192 8193 100000; do
  make_file "size-$size" "$size"
  fetch_ok "$size bytes with 4 KiB pieces arrive intact" "size-$size" "size-$size" \
    --piece-length 4096
done
make_file default-pieces 3000000
fetch_ok "3 MB with the default piece length arrives intact" default-pieces default-pieces

# --- piece digests: SHA-256 by default, CRC-32C and XXH3 when configured --
# piece_digests URL: "number digest" per committed piece, from storage.db.
piece_digests () {
  python3 - "$SCRATCH/cache/storage.db" "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
for n, d in db.execute("select p.number, p.digest from pieces p join tasks t on t.id = p.task_id"
                       " where t.url = ? order by p.number", (sys.argv[2],)):
    print(n, d)
PY
}
# SHA-256 of each 4 KiB piece of a file, computed independently (Python's hashlib).
sha256_pieces () {
  python3 - "$1" <<'PY'
import hashlib, sys
data = open(sys.argv[1], "rb").read()
for n in range(0, (len(data) + 4095) // 4096):
    print(n, "sha256:" + hashlib.sha256(data[n * 4096:(n + 1) * 4096]).hexdigest())
PY
}
# CRC-32C (Castagnoli) of each 4 KiB piece of a file, computed independently.
crc32c_pieces () {
  python3 - "$1" <<'PY'
import sys
table = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    table.append(c)
data = open(sys.argv[1], "rb").read()
for n in range(0, (len(data) + 4095) // 4096):
    crc = 0xFFFFFFFF
    for b in data[n * 4096:(n + 1) * 4096]:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    print(n, "crc32c:%08x" % (crc ^ 0xFFFFFFFF))
PY
}
piece_digests "$NGINX_URL/size-8193" >"$SCRATCH/digests.db"
sha256_pieces "$WWW/size-8193" >"$SCRATCH/digests.expected"
check "piece digests are SHA-256 by default, equal to an independent computation" \
  cmp -s "$SCRATCH/digests.db" "$SCRATCH/digests.expected"
sed -i 's/^  min_piece_length: 4KiB$/  min_piece_length: 4KiB\n  piece_digest: crc32c/' "$CONFIG"
ctl reload >/dev/null 2>&1
make_file crc32c 8193
fetch_ok "with download.piece_digest: crc32c (reloaded live)" crc32c crc32c --piece-length 4096
piece_digests "$NGINX_URL/crc32c" >"$SCRATCH/digests.db"
crc32c_pieces "$WWW/crc32c" >"$SCRATCH/digests.expected"
check "... the pieces carry CRC-32C digests, equal to an independent computation" \
  cmp -s "$SCRATCH/digests.db" "$SCRATCH/digests.expected"
sed -i 's/^  piece_digest: crc32c$/  piece_digest: xxh3/' "$CONFIG"
ctl reload >/dev/null 2>&1
make_file xxh3 10000
fetch_ok "with download.piece_digest: xxh3 (reloaded live)" xxh3 xxh3 --piece-length 4096
is "... the pieces carry XXH3-64 digests" \
  "$(piece_digests "$NGINX_URL/xxh3" | grep -cE '^[0-9]+ xxh3:[0-9a-f]{16}$')" 3

# --- origins without a length or without ranges ------------------------
make_file chunked/file 300000
fetch_ok "no Content-Length (chunked): arrives intact" chunked chunked/file --piece-length 65536
make_file norange/file 300000
fetch_ok "no Range support: arrives intact" norange norange/file --piece-length 65536
is "no Range support: one GET fetched it" "$(grep -c '^GET /norange/file 200 ' "$NGINX_ACCESS_LOG")" 1

# --- a cache hit asks nothing of the origin ----------------------------
before=$(wc -l <"$NGINX_ACCESS_LOG")
fetch_ok "the same URL again comes from the cache" default-again default-pieces
is "... without any request to the origin" "$(wc -l <"$NGINX_ACCESS_LOG")" "$before"

# --- errors from the origin --------------------------------------------
get missing "$NGINX_URL/no-such-file"
is "404: exit status 5 (source)" "$GET_STATUS" 5
like "404: the message names the HTTP status" "$SCRATCH/get.err" "HTTP 404"
is "404: asked once, never retried" "$(nginx_requests /no-such-file 404)" 1
no_leftovers missing "404: no output and no temporary file"

make_file flaky/file 200000
touch "$WWW/fail-flag"
# Lift the failure as soon as nginx has answered one 500.
( i=0; while [ $i -lt 100 ] && [ "$(nginx_requests /flaky/file 500)" -eq 0 ]; do
    sleep 0.05; i=$((i + 1)); done; rm -f "$WWW/fail-flag" ) &
flag_pid=$!
fetch_ok "500 then recovery: arrives intact" flaky flaky/file --piece-length 65536
wait "$flag_pid"
check "500 then recovery: the origin did answer 500 first" \
  test "$(nginx_requests /flaky/file 500)" -ge 1

# A connection cut mid-piece: kill nginx's worker while it sends.
make_file slow/cut 600000
ctl get "$NGINX_URL/slow/cut" -O "$OUT/cut" --piece-length 65536 >/dev/null \
  2>"$SCRATCH/cut.err" &
cut_pid=$!
sleep 1
worker=$(pgrep -P "$NGINX_PID" | head -n 1)
[ -n "$worker" ] && kill -KILL "$worker"
cut_status=0
wait "$cut_pid" || cut_status=$?
if [ "$cut_status" -eq 0 ] && cmp -s "$WWW/slow/cut" "$OUT/cut"; then
  ok "a connection cut mid-piece is retried: arrives intact"
else
  not_ok "a connection cut mid-piece is retried (exit $cut_status)"
  sed 's/^/#   /' "$SCRATCH/cut.err"
fi

# A stalled origin: it accepts and never answers.
python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
time.sleep(120)' >"$SCRATCH/stall.port" &
track_pid $!
i=0
while [ ! -s "$SCRATCH/stall.port" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
started=$(date +%s)
get stalled "http://127.0.0.1:$(cat "$SCRATCH/stall.port")/file"
elapsed=$(($(date +%s) - started))
is "a stalled origin: exit status 7 (timeout)" "$GET_STATUS" 7
check "... within the configured timeouts and retries (${elapsed}s)" test "$elapsed" -le 30
no_leftovers stalled "a stalled origin: no output"

# --- digests -----------------------------------------------------------
make_file digest 50000
sum=$(sha256sum "$WWW/digest" | cut -d' ' -f1)
fetch_ok "the right sha256 digest: accepted" digest-good digest --digest "sha256:$sum"
get digest-bad "$NGINX_URL/digest" --digest "sha256:$(printf '%064d' 0)"
is "a wrong digest: exit status 6" "$GET_STATUS" 6
like "... the message says so" "$SCRATCH/get.err" "digest"
no_leftovers digest-bad "a wrong digest: no output, no temporary file"
sum512=$(sha512sum "$WWW/digest" | cut -d' ' -f1)
fetch_ok "the right sha512 digest: accepted" digest-512 digest --digest "sha512:$sum512"

# --- bad outputs -------------------------------------------------------
ctl get "$NGINX_URL/digest" -O "$SCRATCH/no/such/dir/file" >/dev/null 2>"$SCRATCH/get.err"
is "output directory missing: exit status 2" "$?" 2
like "... named in the message" "$SCRATCH/get.err" "does not exist"
mkdir -p "$SCRATCH/locked"
if [ "$(id -u)" -eq 0 ]; then
  chattr +i "$SCRATCH/locked"
else
  chmod 555 "$SCRATCH/locked"
fi
ctl get "$NGINX_URL/digest" -O "$SCRATCH/locked/file" >/dev/null 2>"$SCRATCH/get.err"
locked_status=$?
chattr -i "$SCRATCH/locked" 2>/dev/null
chmod 755 "$SCRATCH/locked"
is "output directory not writable: exit status 2" "$locked_status" 2
like "... said so" "$SCRATCH/get.err" "not writable"
is "... and nothing was written there" "$(ls -A "$SCRATCH/locked")" ""

# --- deduplication: three requests at once, one transfer ---------------
make_file slow/shared 400000
for n in 1 2 3; do
  ctl get "$NGINX_URL/slow/shared" -O "$OUT/shared-$n" >/dev/null 2>&1 &
  eval "shared_pid_$n=\$!"
done
shared_ok=0
for n in 1 2 3; do
  eval "wait \$shared_pid_$n" && cmp -s "$WWW/slow/shared" "$OUT/shared-$n" &&
    shared_ok=$((shared_ok + 1))
done
is "three concurrent requests for one URL all arrive intact" "$shared_ok" 3
is "... and the origin sent the bytes once" "$(nginx_bytes /slow/shared)" 400000
ctl --json tasks >"$SCRATCH/tasks.json"
is "... as one task" \
  "$(python3 -c 'import json,sys; print(sum(1 for t in json.load(open(sys.argv[1])) if t["url"].endswith("/slow/shared")))' "$SCRATCH/tasks.json")" 1

# --- cancel and timeout ------------------------------------------------
make_file slow/cancel 2000000
ctl get "$NGINX_URL/slow/cancel" -O "$OUT/cancelled" >/dev/null 2>"$SCRATCH/cancel.err" &
cancel_pid=$!
task_id=""
i=0
while [ -z "$task_id" ] && [ $i -lt 50 ]; do
  sleep 0.1
  i=$((i + 1))
  task_id=$(ctl --json tasks 2>/dev/null | python3 -c '
import json, sys
for t in json.load(sys.stdin):
    if t["url"].endswith("/slow/cancel") and t.get("running"):
        print(t["id"])' 2>/dev/null)
done
ctl task cancel "$task_id" >/dev/null 2>&1
cancel_status=0
wait "$cancel_pid" || cancel_status=$?
is "a cancelled download: exit status 8" "$cancel_status" 8
no_leftovers cancelled "... no output, no temporary file"

get timed-out "$NGINX_URL/slow/cancel" --timeout 1
is "--timeout 1 on a slow origin: exit status 7" "$GET_STATUS" 7
no_leftovers timed-out "... no output, no temporary file"

# --- GC: least recently used first, down to the low watermark ----------
# quota 1 MiB: high 80 % = 838860 B, low 60 % = 629145 B. The tasks so far
# go first (older); then of gc-a..gc-d (300 KiB each, a used again last)
# b and c must go, a and d stay.
ctl task rm "$task_id" >/dev/null 2>&1
for n in a b c d; do
  make_file "gc-$n" 307200
  fetch_ok "GC setup: gc-$n" "gc-$n" "gc-$n"
  sleep 1.1
done
fetch_ok "GC setup: gc-a used again" gc-a-again gc-a
ctl cache gc >"$SCRATCH/gc.out" 2>&1
is "cache gc: exit status 0" "$?" 0
ctl --json tasks >"$SCRATCH/tasks.json"
held=$(python3 -c '
import json, sys
names = sorted(t["url"].rsplit("/", 1)[1] for t in json.load(open(sys.argv[1])))
print(" ".join(names))' "$SCRATCH/tasks.json")
is "GC evicted the least recently used, kept gc-a (used again) and gc-d" "$held" "gc-a gc-d"

stop_dflyd || not_ok "dflyd stopped cleanly (status $DFLYD_STATUS)"
done_testing
