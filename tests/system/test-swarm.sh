#!/bin/sh
# test-swarm.sh — the swarm: separate dflyd processes on 127.0.1.x
#
# (Each swarm test has a net of its own: make runs them in parallel.)
# One scheduler, one seed peer and eight peers fetch a 256 MiB file from a
# real nginx: every copy is byte-identical and nginx's access log shows the
# origin sent it about once. Then, on the same swarm: 0- and 1-byte tasks, a
# leeching peer that never uploads, a peer killed mid-transfer, a parent
# that serves corrupted bytes under digests that match them, an upload
# rate limit measured on the wire, the upload slots, and hostile raw piece
# requests.
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
SCHEDULERS="  schedulers: [\"127.0.1.3:$SCHEDULER_PORT\"]"
# 1 MiB pieces (256 of them for the big file), as the benchmark uses.
PIECES="download:
  piece_length: 1MiB
  min_piece_length: 1MiB"

start_node sched 127.0.1.3 "[scheduler]" "scheduler:" "  port: $SCHEDULER_PORT" \
  "storage:" "  backend: \"\""
start_node seed 127.0.1.4 "[seed]" "peer:" "$SCHEDULERS" "$PIECES"
PEERS="peer1 peer2 peer3 peer4 peer5 peer6 peer7 peer8"
i=1
for peer in $PEERS; do
  start_node "$peer" "127.0.1.1$i" "[peer]" "peer:" "$SCHEDULERS" "$PIECES"
  i=$((i + 1))
done
for node in sched seed $PEERS; do
  wait_for_node "$node" 30 || bail_out "node $node did not come up"
done
# Every host announced before the first download (announces are every 1 s).
wait_for_line "$SCRATCH/sched.log" "host 127.0.1.18-peer8 joined" 10 ||
  bail_out "the scheduler did not hear every host"


# --- eight peers, 256 MiB -------------------------------------------------
get_all big $PEERS
is "8 peers fetch ${BIG_MIB} MiB through the swarm" "$GET_FAILED" ""
is "every copy is byte-identical" "$(identical big $PEERS)" 8
ratio=$(nginx_ratio /big "$WWW/big")
diag "origin bytes / file size: $ratio"
check "the origin sent the file about once ($ratio <= 1.05)" \
  at_most 1.05 "$ratio"
# Each peer's StatTask: every byte it holds came from parents (the seed's
# from the origin), and which peers gave them: count the links between
# normal peers (the seed is 127.0.1.4).
big_id=$(node_ctl peer1 --json tasks | python3 -c '
import json, sys
print([t["id"] for t in json.load(sys.stdin) if t["url"].endswith("/big")][0])')
from_origin=0
peer_links=0
for peer in $PEERS; do
  # shellcheck disable=SC2046 # two numbers: bytes from the origin, links to peers
  set -- $(node_ctl "$peer" --json task show "$big_id" | python3 -c '
import json, sys
t = json.load(sys.stdin)
print(t["completed-length"] - t["from-parents"],
      sum(1 for p in t["parents"] if not p.startswith("127.0.1.4-")))')
  from_origin=$((from_origin + ${1:-1}))
  peer_links=$((peer_links + ${2:-0}))
done
is "only the seed went to the origin: no peer holds a byte from it" "$from_origin" 0
check "peers used each other as parents ($peer_links links between peers)" \
  test "$peer_links" -gt 8

node_ctl peer1 tasks >"$SCRATCH/tasks-peer1.out" 2>&1
like "dflyctl tasks shows a peer's bytes came from parents" "$SCRATCH/tasks-peer1.out" \
  " parents .*/big\$"
node_ctl seed tasks >"$SCRATCH/tasks-seed.out" 2>&1
like "... and the seed's from the origin" "$SCRATCH/tasks-seed.out" " origin .*/big\$"

# --- 0 and 1 byte ----------------------------------------------------------
: >"$WWW/zero"
printf x >"$WWW/one"
get_all zero peer1 peer2
is "a 0-byte task through the swarm" "$GET_FAILED $(identical zero peer1 peer2)" " 2"
get_all one peer1 peer2 peer3
is "a 1-byte task through the swarm" "$GET_FAILED $(identical one peer1 peer2 peer3)" " 3"
check "the origin sent the 1-byte file once" test "$(nginx_ratio /one "$WWW/one")" = "1.000"

# --- an origin that gives no length (chunked, no ranges) ----------------------
mkdir -p "$WWW/chunked"
head -c $((3 * MIB + 5)) /dev/urandom >"$WWW/chunked/streamed"
get_all chunked/streamed peer3 peer4
is "a task whose length the origin does not tell goes through the swarm" \
  "$GET_FAILED $(identical chunked/streamed peer3 peer4)" " 2"
check "the origin sent it once" test "$(nginx_ratio /chunked/streamed "$WWW/chunked/streamed")" = "1.000"

# --- a leeching peer --------------------------------------------------------
head -c $((32 * MIB)) /dev/urandom >"$WWW/leeched"
start_node leech 127.0.1.19 "[peer]" "peer:" "$SCHEDULERS" "  leech: 1" "$PIECES"
wait_for_node leech 30 || bail_out "the leeching node did not come up"
wait_for_line "$SCRATCH/sched.log" "host 127.0.1.19-leech joined" 10 ||
  bail_out "the scheduler did not hear the leecher"
get_all leeched leech peer1 peer2 peer3
is "a leecher and three peers fetch a file" \
  "$GET_FAILED $(identical leeched leech peer1 peer2 peer3)" " 4"
cat "$SCRATCH"/peer*.log "$SCRATCH/seed.log" >"$SCRATCH/all-peers.log"
unlike "no peer was offered the leecher as a parent" "$SCRATCH/all-peers.log" \
  "parent 127\.0\.1\.19-"
check "the leecher runs no upload server" \
  sh -c "! curl -s -o /dev/null --max-time 2 http://127.0.1.19:4000/"
unlike "the leecher's log shows no upload server" "$SCRATCH/leech.log" "upload server listening"

# --- a peer killed mid-transfer ----------------------------------------------
# Downloads slowed to 24 MiB/s (a live key), so 96 MiB take about 4 s.
set_rate () {
  for _node in "$@"; do
    sed -i "/^  rate_limit: /d; s/^download:\$/download:\n  rate_limit: $RATE/" \
      "$SCRATCH/$_node/dflyd.yaml"
    node_ctl "$_node" reload >/dev/null || diag "reloading $_node failed"
  done
}
RATE=24MiB set_rate peer1 peer2 peer3 peer4
head -c $((96 * MIB)) /dev/urandom >"$WWW/killed"
(get_all killed peer1 peer3 peer4; echo "$GET_FAILED" >"$SCRATCH/killed.failed") &
survivors=$!
timeout 300 "$DFLYCTL" --address "$(node_bus peer2)" get "$NGINX_URL/killed" \
  -O "$OUT/peer2-killed" -q >"$SCRATCH/get-peer2.out" 2>&1 &
victim_get=$!
sleep 1.5
kill -KILL "$(node_pid peer2)"
wait "$survivors"
victim_status=0
wait "$victim_get" || victim_status=$?
is "with peer2 killed mid-transfer the other peers finish" \
  "$(cat "$SCRATCH/killed.failed") $(identical killed peer1 peer3 peer4)" " 3"
check "peer2's download did not finish (dflyctl exit $victim_status)" \
  test "$victim_status" -ne 0 -a ! -e "$OUT/peer2-killed"
ratio=$(nginx_ratio /killed "$WWW/killed")
check "the origin still sent the file about once ($ratio)" \
  at_most 1.05 "$ratio"
RATE=0 set_rate peer1 peer3 peer4

# --- a parent serving corrupted bytes under matching digests ---------------
# peer5 fetches the file, then (stopped) has every piece overwritten with
# zeros and its index made to claim the zeros' CRC-32C, so the parent's own
# digests would vouch for the bytes. Restarted, it offers the task again.
head -c $((8 * MIB)) /dev/urandom >"$WWW/poisoned"
get_all poisoned peer5
is "peer5 fetches the file honestly first" "$GET_FAILED $(identical poisoned peer5)" " 1"
kill -TERM "$(node_pid peer5)"
wait_exit "$(node_pid peer5)" 15 || bail_out "peer5 did not stop"
python3 - "$SCRATCH/peer5/cache" "$NGINX_URL/poisoned" <<'PY' || bail_out "poisoning failed"
import glob, os, sqlite3, sys
cache, url = sys.argv[1], sys.argv[2]
table = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    table.append(c)
crc = 0xFFFFFFFF
for b in bytes(1048576):
    crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
fake = "crc32c:%08x" % (crc ^ 0xFFFFFFFF)
db = sqlite3.connect(os.path.join(cache, "storage.db"))
(task,) = db.execute("select id from tasks where url = ?", (url,)).fetchone()
path = glob.glob(os.path.join(cache, "tasks", "*", task))[0]
with open(path, "r+b") as f:
    f.write(bytes(os.path.getsize(path)))
db.execute("update pieces set digest = ? where task_id = ?", (fake, task))
db.commit()
PY
start_node peer5 127.0.1.15 "[peer]" "peer:" "$SCHEDULERS" "$PIECES"
wait_for_node peer5 30 || bail_out "peer5 did not come back"
# A cache hit: it registers as a parent holding the task.
timeout 60 "$DFLYCTL" --address "$(node_bus peer5)" get "$NGINX_URL/poisoned" \
  -O "$OUT/peer5-again" -q || diag "peer5's second get failed"
wait_for_line "$SCRATCH/sched.log" "peer 127\.0\.1\.15-peer5-.* registered" 10
sleep 1
get_all poisoned peer6 peer7 peer8
is "children of the lying parent still get correct bytes" \
  "$GET_FAILED $(identical poisoned peer6 peer7 peer8)" " 3"
cat "$SCRATCH/peer6.log" "$SCRATCH/peer7.log" "$SCRATCH/peer8.log" >"$SCRATCH/children.log"
like "a child caught the lie against the seed's digest" "$SCRATCH/children.log" \
  "parent 127\.0\.1\.15-peer5-.* served piece [0-9]+ with a wrong digest"
like "the scheduler heard of it" "$SCRATCH/sched.log" \
  "parent 127\.0\.1\.15-peer5-.* served piece [0-9]+ with a wrong digest"

# --- an upload rate limit ----------------------------------------------------
# A swarm of its own: a scheduler, a seed uploading at most 8 MiB/s, one
# peer. The seed's bytes sent are sampled 3 s apart mid-transfer.
LIMITED_PORT=$(pick_port)
start_node sched2 127.0.1.5 "[scheduler]" "scheduler:" "  port: $LIMITED_PORT" \
  "storage:" "  backend: \"\""
start_node seed2 127.0.1.6 "[seed]" "peer:" "  schedulers: [\"127.0.1.5:$LIMITED_PORT\"]" \
  "$PIECES" "upload:" "  rate_limit: 8MiB"
start_node lone 127.0.1.21 "[peer]" "peer:" "  schedulers: [\"127.0.1.5:$LIMITED_PORT\"]" "$PIECES"
for node in sched2 seed2 lone; do
  wait_for_node "$node" 30 || bail_out "node $node did not come up"
done
# Both hosts known before the download: a seed not yet heard of leaves the
# peer to fetch from the origin itself (a sanitized seed2 was seen to
# announce a second after lone).
wait_for_line "$SCRATCH/sched2.log" "host 127.0.1.21-lone joined" 10
wait_for_line "$SCRATCH/sched2.log" "host 127.0.1.6-seed2-seed joined" 10
head -c $((48 * MIB)) /dev/urandom >"$WWW/limited-up"
(get_all limited-up lone; echo "$GET_FAILED" >"$SCRATCH/limited.failed") &
lone_get=$!
sent () {
  node_ctl seed2 status | sed -n 's/.* \([0-9][0-9]*\) bytes sent.*/\1/p'
}
sleep 1.5
t1=$(date +%s.%N)
b1=$(sent)
sleep 3
t2=$(date +%s.%N)
b2=$(sent)
wait "$lone_get"
is "the peer behind the limited seed finishes" \
  "$(cat "$SCRATCH/limited.failed") $(identical limited-up lone)" " 1"
rate=$(python3 -c "print('%.0f' % ((${b2:-0} - ${b1:-0}) / ($t2 - $t1)))")
diag "the seed uploaded at $rate bytes/s (limit 8388608)"
check "upload.rate_limit is honoured within 10 % ($rate bytes/s)" \
  python3 -c "import sys; sys.exit(0 if abs($rate - 8388608) <= 838861 else 1)"

# --- the upload load limit ----------------------------------------------------
# One slot (a live key): while a slow client holds it (the whole 48 MiB at
# 8 MiB/s outlasts any socket buffer), a second piece
# request gets 503 and the first is served.
sed -i 's/^  rate_limit: 8MiB$/  rate_limit: 8MiB\n  seed_slots: 1/' "$SCRATCH/seed2/dflyd.yaml"
node_ctl seed2 reload >/dev/null || diag "reloading seed2 failed"
task=$(node_ctl lone --json tasks | python3 -c '
import json, sys
print([t["id"] for t in json.load(sys.stdin) if t["url"].endswith("/limited-up")][0])')
curl -s --limit-rate 64k -r 0-50331647 -o "$SCRATCH/slow-piece" \
  "http://127.0.1.6:4000/v1/tasks/$task" &
slow_curl=$!
sleep 1
status=$(curl -s -o /dev/null -w '%{http_code}' -r 0-1023 "http://127.0.1.6:4000/v1/tasks/$task")
is "with its one upload slot taken, the seed answers 503" "$status" 503
kill "$slow_curl" 2>/dev/null
wait "$slow_curl" 2>/dev/null
sleep 0.5
status=$(curl -s -o "$SCRATCH/one-piece" -w '%{http_code}' -r 0-1023 "http://127.0.1.6:4000/v1/tasks/$task")
is "once it is free, a piece is served (206)" "$status" 206
check "... with the right bytes" cmp -s -n 1024 "$SCRATCH/one-piece" "$WWW/limited-up"
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.1.6:4000/v1/tasks/$task")
is "a request without a range gets 416" "$status" 416
status=$(curl -s -o /dev/null -w '%{http_code}' -r 0-1 "http://127.0.1.6:4000/v1/tasks/../../etc")
is "a path that is no task id gets 400 or 404" "$(echo "$status" | sed 's/^40[04]$/4xx/')" 4xx

# --- hostile piece requests ---------------------------------------------------
# Raw bytes on one connection each, as no HTTP client would send them. The
# seed answers a range sent within 2 s with 429, so each check asks for
# ranges of its own; the one slot is free again (the 206 above).
cat >"$SCRATCH/raw.py" <<'PY'
import socket, sys
ip, port, task, path, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
content = open(path, "rb").read()
url = "/v1/tasks/" + task
post = ("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 0\r\n\r\n" % (url, ip)).encode()

def get(first, last, version="HTTP/1.1", extra=""):
    return ("GET %s %s\r\nHost: %s\r\nRange: bytes=%d-%d\r\n%s\r\n"
            % (url, version, ip, first, last, extra)).encode()

class Peer:
    def __init__(self):
        self.sock = socket.create_connection((ip, port), timeout=5)
        self.buf = b""

    def more(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError("closed before a whole response")
        self.buf += data

    # "STATUS", " ok" or " wrong" after a 206 (its bytes against its
    # Content-Range), and the Allow header if any.
    def response(self):
        while b"\r\n\r\n" not in self.buf:
            self.more()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = lines[0].split(" ")[1]
        headers = dict((k.strip().lower(), v.strip())
                       for k, v in (l.split(":", 1) for l in lines[1:]))
        length = int(headers.get("content-length", "0"))
        while len(self.buf) < length:
            self.more()
        body, self.buf = self.buf[:length], self.buf[length:]
        out = status
        if status == "206":
            span = headers["content-range"].split(" ")[1].split("/")[0]
            first, last = map(int, span.split("-"))
            out += " ok" if body == content[first:last + 1] else " wrong"
        if "allow" in headers:
            out += " Allow:" + headers["allow"]
        return out

    # "closed" once the server closes (FIN or RST), "open" if it has not
    # within 2 s, "extra" if it sends more.
    def state(self):
        if self.buf:
            return "extra"
        self.sock.settimeout(2)
        try:
            return "closed" if self.sock.recv(1) == b"" else "extra"
        except socket.timeout:
            return "open"
        except ConnectionError:
            return "closed"

try:
    peer = Peer()
    if mode == "pipelined":
        peer.sock.sendall(get(10000, 10999) + get(20000, 20099))
        answers = [peer.response(), peer.response()]
    elif mode == "huge-head":
        head = get(30000, 30099, extra="X-Pad: ")[:-4]
        head += b"a" * (9000 - len(head) - 4) + b"\r\n\r\n"
        assert len(head) == 9000
        peer.sock.sendall(head)
        answers = [peer.response()]
    elif mode == "garbage":
        peer.sock.sendall(b"GET /v1/tasks/\x00\xff junk\r\n\r\n")
        answers = [peer.response()]
    elif mode == "post":
        peer.sock.sendall(post)
        answers = [peer.response()]
    elif mode == "post-after-get":
        peer.sock.sendall(get(40000, 40099) + post)
        answers = [peer.response(), peer.response()]
    elif mode == "http10":
        peer.sock.sendall(get(50000, 50999, version="HTTP/1.0"))
        answers = [peer.response()]
    elif mode == "body":
        peer.sock.sendall(get(60000, 60099, extra="Content-Length: 5\r\n") + b"hello")
        answers = [peer.response()]
    print(" ".join(answers + [peer.state()]))
except Exception as e:
    print("error: %s: %s" % (type(e).__name__, e))
PY
# raw MODE: what seed2 answers to raw.py's request MODE, and whether it then
# closes the connection.
raw () {
  timeout 30 python3 "$SCRATCH/raw.py" 127.0.1.6 4000 "$task" "$WWW/limited-up" "$1" 2>&1
}
is "two pipelined GETs in one send are both answered, in order" \
  "$(raw pipelined)" "206 ok 206 ok open"
is "a 9000-byte head gets 431 and the connection closes" "$(raw huge-head)" "431 closed"
is "garbage after GET /v1/tasks/ gets 400 and the connection closes" "$(raw garbage)" \
  "400 closed"
is "a POST of a task gets 405 with Allow: GET" "$(raw post | sed 's/ closed$\| open$//')" \
  "405 Allow:GET"
is "a POST after a GET on one connection: 206, then 405, and the connection closes" \
  "$(raw post-after-get)" "206 ok 405 Allow:GET closed"
is "an HTTP/1.0 GET gets 206 and the connection closes" "$(raw http10)" "206 ok closed"
is "a GET with a body gets 400 and the connection closes" "$(raw body)" "400 closed"
status=$(curl -s -o "$SCRATCH/after-hostile" -w '%{http_code}' -r 70000-71023 \
  "http://127.0.1.6:4000/v1/tasks/$task")
is "after them the seed still serves a piece (206)" "$status" 206
check "... with the right bytes" sh -c \
  "tail -c +70001 '$WWW/limited-up' | head -c 1024 | cmp -s - '$SCRATCH/after-hostile'"

done_testing
