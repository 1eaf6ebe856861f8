#!/bin/sh
# test-proxy.sh — the proxy role: forward proxy, registry mirror, ranges, errors
#
# One dflyd running scheduler, seed, peer and proxy; a real nginx origin and
# a real docker-registry behind token auth. Through the proxy: curl -x and
# wget fetch a file through the swarm (bytes equal, nginx sends it once, a
# second fetch says the task was there), Range requests of every form get
# 206 from the pieces (416 past the end), a range read fetches only the
# pieces it covers (X-Dragonfly-Prefetch brings the rest, at
# proxy.prefetch_rate_limit when set), a small range read again comes from
# memory, a Python client's random 64 KiB range reads are checked byte
# for byte; a file on a slow origin streams to
# the client before its task ends, and a client that leaves does not stop
# the task the next one joins. Upstream errors reach the client as they
# came (status, body; never cached); rules and X-Dragonfly-Use-P2P pass
# requests straight through. As a registry mirror (ns=, X-Dragonfly-Registry,
# proxy.registry_mirror), a token-auth registry's 401 -> token -> retry
# works, blobs come through the swarm checked against their digest, and
# manifests pass through; a registry answering garbage gets the client a
# 502, one that stalls a 504 (http.read_timeout), for blobs and manifests.
# Hostile or bad requests: X-Dragonfly-* values,
# a loop through the proxy itself, an oversized body, a denied address,
# smuggling-shaped heads, and basic auth on a second proxy.
. "$top_srcdir/tests/lib.sh"

need curl wget python3 docker-registry sha256sum cmp
WWW="$SCRATCH/www"
OUT="$SCRATCH/out"
mkdir -p "$WWW/slow" "$WWW/direct" "$OUT"
head -c 20000000 /dev/urandom >"$WWW/big.bin"
head -c 3000000 /dev/urandom >"$WWW/ranges.bin"
head -c 8388608 /dev/urandom >"$WWW/slow/stream.bin"
head -c 8388608 /dev/urandom >"$WWW/slow/leave.bin"
head -c 100000 /dev/urandom >"$WWW/direct/plain.bin"
head -c 12582912 /dev/urandom >"$WWW/lazy.bin"
head -c 8388608 /dev/urandom >"$WWW/paced.bin"
start_nginx "$WWW"
start_registry tokens tester 's3cr3t-pass' token

PROXY_PORT=$(pick_port)
write_config "$SCRATCH/dflyd.yaml" \
  "download:
  min_piece_length: 64KiB
http:
  connect_timeout: 2s
  read_timeout: 5s
  retries: 0
proxy:
  port: $PROXY_PORT
  registry_mirror: http://$REGISTRY
  insecure_registries: [\"$REGISTRY\"]
  max_request_body: 64KiB
  rules: [\"/direct/ direct\", \"\\\\.bin\$\", \"blobs/sha256.*\"]"
sed -i 's/^  roles: .*/  roles: [scheduler, seed, peer, proxy]/' "$SCRATCH/dflyd.yaml"
start_bus
start_dflyd "$SCRATCH/dflyd.yaml"
wait_for_dflyd 20 || bail_out "dflyd did not come up"
is "the proxy listens on the configured port" "$(proxy_port "$DFLYD_LOG")" "$PROXY_PORT"
PROXY="http://127.0.0.1:$PROXY_PORT"

# fetch NAME URL [CURL-OPTION...]: curl through the proxy into $OUT/NAME,
# headers into $OUT/NAME.h; FETCH_CODE is the status.
fetch () {
  _name=$1
  _url=$2
  shift 2
  FETCH_CODE=$(curl -sS --max-time 60 -x "$PROXY" -D "$OUT/$_name.h" -o "$OUT/$_name" \
    -w '%{http_code}' "$@" "$_url" 2>"$OUT/$_name.err") || FETCH_CODE="curl-failed:$?"
}

# header NAME FIELD: the value of FIELD in $OUT/NAME.h (the last answer's).
header () {
  tr -d '\r' <"$OUT/$1.h" | awk -v f="$2" 'BEGIN { IGNORECASE = 1 }
    tolower($0) ~ "^" tolower(f) ":" { sub(/^[^:]*: */, ""); v = $0 } END { print v }'
}

# slice FILE OFFSET LENGTH: those bytes of FILE.
slice () {
  python3 -c 'import sys
f = open(sys.argv[1], "rb"); f.seek(int(sys.argv[2]))
sys.stdout.buffer.write(f.read(int(sys.argv[3])))' "$@"
}

# ---- forward proxy, through the swarm ----
fetch big1 "$NGINX_URL/big.bin"
is "curl -x: 200 through the swarm" "$FETCH_CODE" 200
check "... the bytes are the origin's" cmp -s "$OUT/big1" "$WWW/big.bin"
is "... Content-Length is the file's" "$(header big1 Content-Length)" 20000000
like "... X-Dragonfly-Task-ID names the task" "$OUT/big1.h" "^X-Dragonfly-Task-ID: [0-9a-f]{64}"
is "... the task was not there before" "$(header big1 X-Dragonfly-Task-Download-Finished)" false
TASK=$(header big1 X-Dragonfly-Task-ID)

fetch big2 "$NGINX_URL/big.bin"
is "a second fetch: 200" "$FETCH_CODE" 200
check "... the same bytes" cmp -s "$OUT/big2" "$WWW/big.bin"
is "... the same task" "$(header big2 X-Dragonfly-Task-ID)" "$TASK"
is "... which was there already" "$(header big2 X-Dragonfly-Task-Download-Finished)" true
RATIO=$(nginx_ratio /big.bin "$WWW/big.bin")
check "... nginx sent the file once for both (ratio $RATIO)" at_most 1.0 "$RATIO"

http_proxy="$PROXY" wget -q -T 60 -O "$OUT/wget.bin" "$NGINX_URL/big.bin" 2>"$OUT/wget.err"
check "wget with http_proxy gets the same bytes" cmp -s "$OUT/wget.bin" "$WWW/big.bin"

# ---- ranges ----
SIZE=3000000
fetch span "$NGINX_URL/ranges.bin" -r 1000-1999
is "Range bytes=1000-1999: 206" "$FETCH_CODE" 206
is "... Content-Range" "$(header span Content-Range)" "bytes 1000-1999/$SIZE"
slice "$WWW/ranges.bin" 1000 1000 >"$OUT/span.want"
check "... the right 1000 bytes" cmp -s "$OUT/span" "$OUT/span.want"
fetch open "$NGINX_URL/ranges.bin" -r 2999000-
is "Range bytes=2999000-: 206" "$FETCH_CODE" 206
is "... Content-Range to the end" "$(header open Content-Range)" "bytes 2999000-2999999/$SIZE"
slice "$WWW/ranges.bin" 2999000 1000 >"$OUT/open.want"
check "... the last 1000 bytes" cmp -s "$OUT/open" "$OUT/open.want"
fetch suffix "$NGINX_URL/ranges.bin" -H "Range: bytes=-100"
is "Range bytes=-100: 206" "$FETCH_CODE" 206
is "... Content-Range of the last 100" "$(header suffix Content-Range)" "bytes 2999900-2999999/$SIZE"
slice "$WWW/ranges.bin" 2999900 100 >"$OUT/suffix.want"
check "... the last 100 bytes" cmp -s "$OUT/suffix" "$OUT/suffix.want"
fetch past "$NGINX_URL/ranges.bin" -r 3000000-3000010
is "a range past the end: 416" "$FETCH_CODE" 416
is "... Content-Range says the length" "$(header past Content-Range)" "bytes */$SIZE"
fetch over "$NGINX_URL/ranges.bin" -r 2999990-3000500
is "a range running past the end: 206" "$FETCH_CODE" 206
is "... cut at the end" "$(header over Content-Range)" "bytes 2999990-2999999/$SIZE"
fetch multi "$NGINX_URL/ranges.bin" -r 0-9,20-29
is "several ranges: the whole content, 200" "$FETCH_CODE" 200
check "... its bytes" cmp -s "$OUT/multi" "$WWW/ranges.bin"

# A small range read twice: the second comes from memory (no reader opened).
fetch small1 "$NGINX_URL/ranges.bin" -r 123456-189000
fetch small2 "$NGINX_URL/ranges.bin" -r 123456-189000
is "a small range read again: 206" "$FETCH_CODE" 206
slice "$WWW/ranges.bin" 123456 65545 >"$OUT/small.want"
check "... the right bytes" cmp -s "$OUT/small2" "$OUT/small.want"
is "... Content-Range" "$(header small2 Content-Range)" "bytes 123456-189000/$SIZE"
is "... from the small-read cache: one reader for both" \
  "$(grep -c 'reading bytes 123456+65545$' "$DFLYD_LOG")" 1

cat >"$SCRATCH/random-reads.py" <<'EOF'
import os, random, sys, time, urllib.request
proxy, url, path = sys.argv[1:4]
data = open(path, "rb").read()
opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy}))
rng = random.Random(7)
bad = 0
for i in range(200):
    off = rng.randrange(0, len(data) - 1)
    end = min(off + 65536, len(data)) - 1
    req = urllib.request.Request(url, headers={"Range": "bytes=%d-%d" % (off, end)})
    with opener.open(req, timeout=30) as r:
        body = r.read()
        if r.status != 206 or body != data[off:end + 1]:
            bad += 1
print("reads=200 bad=%d" % bad)
EOF
python3 "$SCRATCH/random-reads.py" "$PROXY" "$NGINX_URL/ranges.bin" "$WWW/ranges.bin" \
  >"$OUT/random.out" 2>&1
like "200 random 64 KiB range reads from Python: every byte right" "$OUT/random.out" \
  "^reads=200 bad=0\$"

# ---- a range read fetches only its pieces; prefetch fetches the rest ----
# wait_bytes URI BYTES SECONDS: until nginx has sent BYTES of URI.
wait_bytes () {
  _tries=$(($3 * 10))
  while [ "$(nginx_bytes "$1")" -lt "$2" ] && [ "$_tries" -gt 0 ]; do
    _tries=$((_tries - 1))
    sleep 0.1
  done
  [ "$(nginx_bytes "$1")" -ge "$2" ]
}
fetch lazy1 "$NGINX_URL/lazy.bin" -r 0-999
is "a range of a 12 MiB file: 206" "$FETCH_CODE" 206
LAZY_TASK=$(header lazy1 X-Dragonfly-Task-ID)
check "... its task stops once no one reads" \
  wait_for_line "$DFLYD_LOG" "task $LAZY_TASK: no reader wants more of it, stopping" 10
check "... having fetched only the 4 MiB piece the range covers ($(nginx_bytes /lazy.bin) bytes)" \
  at_most 4194304 "$(nginx_bytes /lazy.bin)"
fetch lazy2 "$NGINX_URL/lazy.bin" -r 5000000-5000999 -H "X-Dragonfly-Prefetch: true"
is "another range, with X-Dragonfly-Prefetch: true: 206" "$FETCH_CODE" 206
slice "$WWW/lazy.bin" 5000000 1000 >"$OUT/lazy2.want"
check "... right" cmp -s "$OUT/lazy2" "$OUT/lazy2.want"
check "... and the rest of the task follows" wait_bytes /lazy.bin 12582912 30
is "... each piece fetched once" "$(nginx_bytes /lazy.bin)" 12582912

# ---- streaming, and a client that leaves ----
# 8 MiB at 200 KiB/s a connection, in 256 KiB pieces (about 1 s each,
# download.concurrency of them at once: the task takes about 8 s): the
# first bytes come long before the task ends; this client gives up after 3 s.
FETCH_CODE=$(curl -sS --max-time 3 -x "$PROXY" -o "$OUT/early" -w '%{http_code}' \
  -H "X-Dragonfly-Piece-Length: 262144" "$NGINX_URL/slow/stream.bin" 2>/dev/null) || true
EARLY=$(stat -c %s "$OUT/early" 2>/dev/null || echo 0)
check "a slow origin's bytes stream before the task ends ($EARLY of 8388608 in 3 s)" \
  sh -c "[ $EARLY -gt 0 ] && [ $EARLY -lt 8388608 ]"
slice "$WWW/slow/stream.bin" 0 "$EARLY" >"$OUT/early.want"
check "... and they are the file's first bytes" cmp -s "$OUT/early" "$OUT/early.want"
fetch late "$NGINX_URL/slow/stream.bin" -H "X-Dragonfly-Piece-Length: 262144"
is "the next client gets the whole file" "$FETCH_CODE" 200
check "... right" cmp -s "$OUT/late" "$WWW/slow/stream.bin"
RATIO=$(nginx_ratio /slow/stream.bin "$WWW/slow/stream.bin")
check "... from the task the first client left running (nginx ratio $RATIO)" at_most 1.0 "$RATIO"

# A client that leaves before its answer's first piece is in (4 MiB at
# 200 KiB/s): its reader ends, nothing is answered on a closed request.
FETCH_CODE=$(curl -sS --max-time 1 -x "$PROXY" -o /dev/null -w '%{http_code}' \
  -H "X-Dragonfly-Piece-Length: 4194304" "$NGINX_URL/slow/leave.bin" 2>/dev/null) || true
is "a client leaving before the first piece gets nothing" "$FETCH_CODE" 000
check "... and dflyd serves on" curl -sS -o /dev/null -x "$PROXY" "$NGINX_URL/direct/plain.bin"

# ---- upstream errors pass through ----
fetch missing "$NGINX_URL/never.bin"
is "a 404 through the swarm reaches the client as a 404" "$FETCH_CODE" 404
like "... with the origin's own body" "$OUT/missing" "404 Not Found"
is "... marked as the upstream's error" "$(header missing X-Dragonfly-Error-Type)" source
head -c 5000 /dev/urandom >"$WWW/never.bin"
fetch missing2 "$NGINX_URL/never.bin"
is "the error was not cached: once there, the file comes" "$FETCH_CODE" 200
check "... right" cmp -s "$OUT/missing2" "$WWW/never.bin"

# ---- pass-through ----
fetch direct "$NGINX_URL/direct/plain.bin"
is "a direct rule passes the request through" "$FETCH_CODE" 200
check "... the origin's answer, its ETag kept" sh -c "[ -n '$(header direct ETag)' ]"
is "... no task" "$(header direct X-Dragonfly-Task-ID)" ""
check "... right" cmp -s "$OUT/direct" "$WWW/direct/plain.bin"
fetch nop2p "$NGINX_URL/big.bin" -H "X-Dragonfly-Use-P2P: false"
is "X-Dragonfly-Use-P2P: false passes a P2P URL through" "$(header nop2p X-Dragonfly-Task-ID)" ""
check "... nginx's own answer (ETag)" sh -c "[ -n '$(header nop2p ETag)' ]"
fetch head "$NGINX_URL/big.bin" -I
is "HEAD passes through" "$FETCH_CODE" 200
is "... with the length" "$(header head Content-Length)" 20000000

# ---- registry mirror, token auth ----
head -c 700000 /dev/urandom >"$SCRATCH/blob"
BLOB=$(push_blob library/app "$SCRATCH/blob") || bail_out "could not push a blob"
diag "blob $BLOB"
MIRROR_PATH="/v2/library/app/blobs/$BLOB"
FETCH_CODE=$(curl -sS --max-time 30 -D "$OUT/noauth.h" -o "$OUT/noauth" -w '%{http_code}' \
  "$PROXY$MIRROR_PATH?ns=$REGISTRY")
is "mirror (ns=): without a token, the registry's 401" "$FETCH_CODE" 401
check "... with its Bearer challenge" sh -c "grep -qi '^WWW-Authenticate: Bearer' '$OUT/noauth.h'"
PULL=$(registry_token library/app pull)
FETCH_CODE=$(curl -sS --max-time 30 -D "$OUT/blob1.h" -o "$OUT/blob1" -w '%{http_code}' \
  -H "Authorization: Bearer $PULL" "$PROXY$MIRROR_PATH?ns=$REGISTRY")
is "... with the token: 200" "$FETCH_CODE" 200
check "... the blob's bytes" cmp -s "$OUT/blob1" "$SCRATCH/blob"
is "... Docker-Content-Digest" "$(header blob1 Docker-Content-Digest)" "$BLOB"
is "... the task is the digest's" "$(header blob1 X-Dragonfly-Task-ID)" "${BLOB#sha256:}"
FETCH_CODE=$(curl -sS --max-time 30 -D "$OUT/blob2.h" -o "$OUT/blob2" -w '%{http_code}' \
  -H "Authorization: Bearer $PULL" -H "X-Dragonfly-Registry: http://$REGISTRY" \
  "$PROXY$MIRROR_PATH")
is "mirror (X-Dragonfly-Registry): 200 from the task" "$(header blob2 X-Dragonfly-Task-Download-Finished)" true
FETCH_CODE=$(curl -sS --max-time 30 -o "$OUT/blob3" -w '%{http_code}' \
  -H "Authorization: Bearer $PULL" "$PROXY$MIRROR_PATH")
is "mirror (proxy.registry_mirror): 200" "$FETCH_CODE" 200
check "... right" cmp -s "$OUT/blob3" "$SCRATCH/blob"
FETCH_CODE=$(curl -sS --max-time 30 -o "$OUT/v2" -w '%{http_code}' \
  -H "Authorization: Bearer $PULL" "$PROXY/v2/?ns=$REGISTRY")
is "the /v2/ ping passes through" "$FETCH_CODE" 200

# ---- a registry that answers garbage, or stalls ----
# One socket server: on /garbage/ it writes bytes that are no HTTP and
# closes; on anything else it reads the request and says nothing.
BAD_PORT=$(pick_port)
cat >"$SCRATCH/bad-registry.py" <<'PYEOF'
import socket, sys, threading, time
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", int(sys.argv[1])))
server.listen(16)
def serve(conn):
    request = conn.recv(65536)
    if b"/garbage/" in request:
        conn.sendall(b"\x00\xffnot http at all\r\n\r\n" * 10)
        conn.close()
    else:
        time.sleep(60)
        conn.close()
while True:
    conn, _ = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
PYEOF
python3 "$SCRATCH/bad-registry.py" "$BAD_PORT" </dev/null >"$SCRATCH/bad-registry.log" 2>&1 &
BAD_PID=$!
track_pid "$BAD_PID"
_tries=50
until curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$BAD_PORT/garbage/"; [ $? -ne 7 ]; do
  _tries=$((_tries - 1))
  [ "$_tries" -gt 0 ] || bail_out "the bad registry did not start"
  sleep 0.1
done
for shape in garbage stall; do
  want=502
  [ "$shape" = garbage ] || want=504
  for path in "/$shape/v2/x/blobs/sha256:$(printf '%064d' 0)" "/$shape/v2/x/manifests/latest"; do
    how="a manifest (passed through)"
    case $path in */blobs/*) how="a blob (through the swarm)" ;; esac
    FETCH_CODE=$(curl -sS --max-time 30 -o "$OUT/$shape.body" -D "$OUT/$shape.h" \
      -w '%{http_code}' -x "$PROXY" "http://127.0.0.1:$BAD_PORT$path" 2>/dev/null) ||
      FETCH_CODE="curl-failed:$?"
    is "a registry answering $shape for $how: $want" "$FETCH_CODE" "$want"
    is "... the proxy's own error" "$(header "$shape" X-Dragonfly-Error-Type)" proxy
  done
done
check "dflyd serves on after them" curl -sS -o /dev/null -x "$PROXY" "$NGINX_URL/direct/plain.bin"

# ---- bad and hostile requests ----
FETCH_CODE=$(curl -sS -o "$OUT/prio" -w '%{http_code}' -x "$PROXY" \
  -H "X-Dragonfly-Priority: 9" "$NGINX_URL/big.bin")
is "X-Dragonfly-Priority: 9 is refused: 400" "$FETCH_CODE" 400
like "... saying why" "$OUT/prio" "X-Dragonfly-Priority must be a whole number from 0 to 6"
FETCH_CODE=$(curl -sS -o "$OUT/usep2p" -w '%{http_code}' -x "$PROXY" \
  -H "X-Dragonfly-Use-P2P: maybe" "$NGINX_URL/big.bin")
is "X-Dragonfly-Use-P2P: maybe: 400" "$FETCH_CODE" 400
FETCH_CODE=$(curl -sS -o "$OUT/ns" -w '%{http_code}' "$PROXY/v2/?ns=a/b@c")
is "a malformed ns=: 400" "$FETCH_CODE" 400
FETCH_CODE=$(curl -sS -o "$OUT/loop" -w '%{http_code}' \
  -H "X-Dragonfly-Registry: http://127.0.0.1:$PROXY_PORT" "$PROXY/v2/x")
is "a request sent back to the proxy itself: 508" "$FETCH_CODE" 508
head -c 100000 /dev/urandom >"$SCRATCH/body"
FETCH_CODE=$(curl -sS -o "$OUT/body" -w '%{http_code}' -x "$PROXY" \
  --data-binary "@$SCRATCH/body" "$NGINX_URL/direct/post")
is "a body over max_request_body: 413" "$FETCH_CODE" 413
head -c 1000 /dev/urandom >"$SCRATCH/small-body"
FETCH_CODE=$(curl -sS -o "$OUT/chunked" -w '%{http_code}' -x "$PROXY" \
  -H "Transfer-Encoding: chunked" --data-binary "@$SCRATCH/small-body" "$NGINX_URL/direct/post")
is "a chunked body, which could go on for ever: 413" "$FETCH_CODE" 413
FETCH_CODE=$(curl -sS -o "$OUT/post" -w '%{http_code}' -x "$PROXY" \
  --data-binary "@$SCRATCH/small-body" "$NGINX_URL/direct/plain.bin")
is "a small POST passes through (nginx's own 405 for a static file)" "$FETCH_CODE" 405
FETCH_CODE=$(curl -sS -o "$OUT/meta" -D "$OUT/meta.h" -w '%{http_code}' -x "$PROXY" \
  "http://169.254.169.254/latest/meta-data/")
is "the cloud metadata address: 403" "$FETCH_CODE" 403
is "... the proxy's refusal" "$(header meta X-Dragonfly-Error-Type)" proxy
like "... saying why" "$OUT/meta" "denied"
FETCH_CODE=$(curl -sS -o "$OUT/tag" -w '%{http_code}' -x "$PROXY" \
  -H "X-Dragonfly-Tag: $(printf 'x%.0s' $(seq 300))" "$NGINX_URL/big.bin")
is "a tag over 255 bytes: 400" "$FETCH_CODE" 400

# Raw heads: Content-Length with Transfer-Encoding, an oversized head, garbage.
cat >"$SCRATCH/raw.py" <<'EOF'
import socket, sys
port = int(sys.argv[1])
def ask(data):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(data)
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except socket.timeout:
        out += b"(timeout)"
    except ConnectionResetError:
        pass
    s.close()
    return out.split(b"\r\n", 1)[0].decode("latin-1") or "(closed)"
origin = sys.argv[2]
print("smuggle:", ask(b"POST " + origin.encode() + b"/direct/x HTTP/1.1\r\nHost: a\r\n"
      b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: a\r\n\r\n"))
print("bighead:", ask(b"GET " + origin.encode() + b"/big.bin HTTP/1.1\r\nHost: a\r\nX-Big: "
      + b"a" * 200000 + b"\r\n\r\n"))
print("garbage:", ask(b"\x00\x01\x02 nonsense\r\n\r\n"))
EOF
python3 "$SCRATCH/raw.py" "$PROXY_PORT" "$NGINX_URL" >"$OUT/raw.out" 2>&1
unlike "CL+TE together: no second request smuggled to the origin" "$NGINX_ACCESS_LOG" "/admin"
like "... the request itself gets an answer" "$OUT/raw.out" "^smuggle: HTTP/1.1 [0-9]{3}"
like "an oversized head: refused (4xx, or the connection closed)" "$OUT/raw.out" \
  "^bighead: (HTTP/1.1 4[0-9][0-9]|\(closed\))"
like "garbage: refused (400, or the connection closed)" "$OUT/raw.out" \
  "^garbage: (HTTP/1.[01] 400|\(closed\))"
check "dflyd is still serving" curl -sS -o /dev/null -x "$PROXY" "$NGINX_URL/direct/plain.bin"
# containers/image probes a mirror with https first: the ClientHello is
# closed at once (curl: TLS connect error, 35), not left to time out (28).
HELLO=0
curl -sS -k --max-time 5 -o /dev/null "https://127.0.0.1:$PROXY_PORT/v2/" 2>/dev/null || HELLO=$?
is "an https probe of the plain proxy is closed at once" "$HELLO" 35

# ---- basic auth, on a second proxy ----
AUTH_PORT=$(pick_port)
start_node auth 127.0.0.1 "[peer, proxy]" "proxy:" "  port: $AUTH_PORT" "  auth_user: alice" \
  "  auth_password: \"op en-sesame\"" "  prefetch_rate_limit: 2MiB" \
  "download:" "  min_piece_length: 64KiB"
proxy_port "$SCRATCH/auth.log" 20 >/dev/null || bail_out "the second proxy did not start"
FETCH_CODE=$(curl -sS -o /dev/null -D "$OUT/noauth2.h" -w '%{http_code}' \
  -x "http://127.0.0.1:$AUTH_PORT" "$NGINX_URL/direct/plain.bin")
is "basic auth: no credentials, 407" "$FETCH_CODE" 407
check "... with a Basic challenge" sh -c "grep -qi '^Proxy-Authenticate: Basic' '$OUT/noauth2.h'"
FETCH_CODE=$(curl -sS -o /dev/null -w '%{http_code}' -x "http://127.0.0.1:$AUTH_PORT" \
  -U "alice:wrong" "$NGINX_URL/direct/plain.bin")
is "... a wrong password, 407" "$FETCH_CODE" 407
FETCH_CODE=$(curl -sS -o "$OUT/authed" -w '%{http_code}' -x "http://127.0.0.1:$AUTH_PORT" \
  -U "alice:op en-sesame" "$NGINX_URL/direct/plain.bin")
is "... the right one, 200" "$FETCH_CODE" 200
check "... right" cmp -s "$OUT/authed" "$WWW/direct/plain.bin"

# A prefetch at proxy.prefetch_rate_limit (2 MiB/s) of 8 MiB in 1 MiB pieces.
FETCH_CODE=$(curl -sS -o "$OUT/paced" -w '%{http_code}' -x "http://127.0.0.1:$AUTH_PORT" \
  -U "alice:op en-sesame" -r 0-999 -H "X-Dragonfly-Prefetch: true" \
  -H "X-Dragonfly-Use-P2P: true" \
  -H "X-Dragonfly-Piece-Length: 1048576" "$NGINX_URL/paced.bin")
is "a range with prefetch at 2 MiB/s: 206" "$FETCH_CODE" 206
sleep 1
PACED=$(nginx_bytes /paced.bin)
check "... a second later the rest has not all come ($PACED of 8388608 bytes)" \
  sh -c "[ $PACED -lt 8388608 ]"
check "... but it does come" wait_bytes /paced.bin 8388608 30
like "... and the prefetch says it is done" "$SCRATCH/auth.log" "prefetch of task [0-9a-f]+ done"

unlike "no warning or critical in the log" "$DFLYD_LOG" "(WARNING|CRITICAL)"
check "dflyd stops cleanly" stop_dflyd
done_testing
