#!/bin/sh
# test-download-big.sh — the slower tier: a 1 GiB file, and a dflyd killed
# with SIGKILL mid-download that resumes from its verified pieces
#
# The resume check counts bytes in nginx's access log: after the restart
# the origin must send what was missing and (almost) nothing more.
. "$top_srcdir/tests/lib.sh"

WWW="$SCRATCH/www"
OUT="$SCRATCH/out"
mkdir -p "$WWW/limited" "$OUT"
start_bus
start_nginx "$WWW"
CONFIG="$SCRATCH/dflyd.yaml"
write_config "$CONFIG" "download:" "  min_piece_length: 1MiB" "  concurrency: 4"
start_dflyd "$CONFIG"
wait_for_dflyd 20 || bail_out "dflyd did not come up"

ctl () {
  timeout 300 "$DFLYCTL" --address "$BUS_ADDRESS" "$@"
}

# --- 1 GiB ---------------------------------------------------------------
head -c 1073741824 /dev/urandom >"$WWW/big"
ctl get "$NGINX_URL/big" -O "$OUT/big" -q 2>"$SCRATCH/get.err"
is "1 GiB: dflyctl get exits 0" "$?" 0
is "1 GiB: the output is byte-identical" \
  "$(sha256sum <"$OUT/big" | cut -d' ' -f1)" "$(sha256sum <"$WWW/big" | cut -d' ' -f1)"
is "1 GiB: the origin sent it once" "$(nginx_bytes /big)" 1073741824
# Memory stays bounded: buffers, not files (not meaningful under ASan).
peak_kib=$(awk '/^VmHWM:/ { print $2 }' "/proc/$DFLYD_PID/status")
if grep -q asan "/proc/$DFLYD_PID/maps"; then
  ok "1 GiB: peak RSS not checked under AddressSanitizer (${peak_kib} KiB)"
else
  check "1 GiB: dflyd's peak RSS stays under 64 MiB (${peak_kib} KiB)" test "$peak_kib" -lt 65536
fi
rm -f "$WWW/big" "$OUT/big"
for id in $(ctl --json tasks | python3 -c 'import json,sys; [print(t["id"]) for t in json.load(sys.stdin)]'); do
  ctl task rm "$id" >/dev/null
done

# --- SIGKILL mid-download, then resume -----------------------------------
size=33554432
head -c $size /dev/urandom >"$WWW/limited/file"
ctl get "$NGINX_URL/limited/file" -O "$OUT/file" --piece-length 1MiB -q \
  >/dev/null 2>"$SCRATCH/first.err" &
first_pid=$!
task_id=""
done_bytes=0
i=0
# Wait until about a third is verified (bounded: 30 s).
while [ $i -lt 300 ] && [ "$done_bytes" -lt $((size / 3)) ]; do
  sleep 0.1
  i=$((i + 1))
  line=$(ctl --json tasks 2>/dev/null | python3 -c '
import json, sys
for t in json.load(sys.stdin):
    if t["url"].endswith("/limited/file"):
        print(t["id"], t["completed-length"])' 2>/dev/null)
  [ -n "$line" ] || continue
  task_id=${line% *}
  done_bytes=${line#* }
done
check "resume: the download got a third of the way ($done_bytes bytes)" \
  test "$done_bytes" -ge $((size / 3))
kill -KILL "$DFLYD_PID"
wait_exit "$DFLYD_PID" 10
untrack_pid "$DFLYD_PID"
wait "$first_pid"
check "resume: the client of the killed daemon failed" test "$?" -ne 0
check "resume: no output appeared" test ! -e "$OUT/file"
# nginx logs a request when its connection closes: let them all land.
sleep 1
sent_before=$(nginx_bytes /limited/file)

start_dflyd "$CONFIG" dflyd-restarted
wait_for_dflyd 20 || bail_out "dflyd did not come back"
held=$(ctl --json task show "$task_id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["completed-length"])')
check "resume: after the restart the task holds verified pieces ($held bytes)" test "$held" -gt 0
missing=$((size - held))

ctl get "$NGINX_URL/limited/file" -O "$OUT/file" --piece-length 1MiB -q 2>"$SCRATCH/second.err"
is "resume: the second dflyctl get exits 0" "$?" 0
check "resume: the output is byte-identical" cmp -s "$WWW/limited/file" "$OUT/file"
sleep 0.5
sent_after=$(($(nginx_bytes /limited/file) - sent_before))
diag "held $held of $size bytes after the restart; missing $missing; origin sent $sent_after"
check "resume: the origin sent what was missing ($missing bytes)" test "$sent_after" -ge "$missing"
check "resume: ... and nothing more than one piece beyond it" \
  test "$sent_after" -le $((missing + 1048576))

stop_dflyd || not_ok "dflyd stopped cleanly (status $DFLYD_STATUS)"
done_testing
