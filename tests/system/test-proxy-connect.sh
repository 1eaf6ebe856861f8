#!/bin/sh
# test-proxy-connect.sh — the proxy role's CONNECT: tunnels and interception
#
# One dflyd running scheduler, seed, peer and proxy; a real nginx serving
# https with a certificate from a test CA, and a second https server whose
# certificate no one trusts. Through the proxy with curl -x: a CONNECT to a
# host outside proxy.intercept is a byte tunnel (the origin's own
# certificate reaches curl, the bytes are equal, the proxy never learns the
# URL and makes no task); one to a host in proxy.intercept is ended by the
# proxy with a leaf from the interception CA that "dflyctl cert ca" made,
# and its requests go through the rules like any other: a P2P rule makes
# the second fetch come from storage (nginx sees one GET, the answer
# carries X-Dragonfly-Task-ID), a direct rule passes through, a Host header
# naming another host gets 421, an upstream whose certificate fails the
# check gets 502. Refused before anything is reached: a port outside
# proxy.connect_ports (403), a link-local or source.deny address (403), a
# malformed target (400), one tunnel over proxy.max_tunnels (503). A
# silent tunnel is closed after protocol.idle_timeout, which frees its
# slot; an intercepted one whose client sends nothing, after
# protocol.header_timeout; and the tunnels still open end when dflyd stops.
. "$top_srcdir/tests/lib.sh"

need curl python3 cmp
WWW="$SCRATCH/www"
OUT="$SCRATCH/out"
mkdir -p "$WWW/direct" "$OUT"
head -c 3000000 /dev/urandom >"$WWW/tunnel.bin"
head -c 3000000 /dev/urandom >"$WWW/swarm.bin"
head -c 100000 /dev/urandom >"$WWW/direct/plain.bin"

# quiet COMMAND [ARG...]: COMMAND with its output in $SCRATCH/quiet.log.
quiet () {
  "$@" >>"$SCRATCH/quiet.log" 2>&1
}

# The origin's CA and certificate (localhost and 127.0.0.1), a stranger's
# for the untrusted server, and the interception CA.
check "dflyctl cert ca: the origin's CA" quiet "$DFLYCTL" cert ca --out "$SCRATCH/origin-ca" --name "origin CA"
check "dflyctl cert issue: the origin's certificate" quiet "$DFLYCTL" cert issue --ca "$SCRATCH/origin-ca" \
  --host-id origin --role peer --ip 127.0.0.1 --dns localhost --out "$SCRATCH/origin"
check "dflyctl cert ca: a stranger's CA" quiet "$DFLYCTL" cert ca --out "$SCRATCH/stranger-ca" --name stranger
check "dflyctl cert issue: the stranger's certificate" quiet "$DFLYCTL" cert issue \
  --ca "$SCRATCH/stranger-ca" --host-id stranger --role peer --ip 127.0.0.1 --dns localhost \
  --out "$SCRATCH/stranger"
check "dflyctl cert ca: the interception CA" quiet "$DFLYCTL" cert ca --out "$SCRATCH/icept" \
  --name "dfly interception CA"
ICEPT_CA="$SCRATCH/icept/ca.pem"
ORIGIN_CA="$SCRATCH/origin-ca/ca.pem"

TLS_PORT=$(pick_port)
BAD_PORT=$(pick_port)
CLOSED_PORT=$(pick_port)
NGINX_EXTRA="server {
    listen 127.0.0.1:$TLS_PORT ssl;
    ssl_certificate $SCRATCH/origin/origin.pem;
    ssl_certificate_key $SCRATCH/origin/origin-key.pem;
    root $WWW;
  }
  server {
    listen 127.0.0.1:$BAD_PORT ssl;
    ssl_certificate $SCRATCH/stranger/stranger.pem;
    ssl_certificate_key $SCRATCH/stranger/stranger-key.pem;
    root $WWW;
  }"
start_nginx "$WWW"
ORIGIN="127.0.0.1:$TLS_PORT"
check "nginx serves https with the origin's certificate" \
  curl -sf --cacert "$ORIGIN_CA" -o /dev/null "https://localhost:$TLS_PORT/direct/plain.bin"

write_config "$SCRATCH/dflyd.yaml" \
  "download:
  min_piece_length: 64KiB
http:
  connect_timeout: 2s
  read_timeout: 5s
  retries: 0
  ca_file: $ORIGIN_CA
protocol:
  idle_timeout: 6s
  header_timeout: 3s
source:
  deny: [127.0.0.3]
proxy:
  port: 0
  rules: [\"/direct/ direct\", \"\\\\.bin\$\"]
  intercept: [localhost]
  ca_cert: $ICEPT_CA
  ca_key: $SCRATCH/icept/ca-key.pem
  connect_ports: [443, $TLS_PORT, $BAD_PORT, $CLOSED_PORT]
  max_tunnels: 3"
sed -i 's/^  roles: .*/  roles: [scheduler, seed, peer, proxy]/' "$SCRATCH/dflyd.yaml"
start_bus
start_dflyd "$SCRATCH/dflyd.yaml"
wait_for_dflyd 20 || bail_out "dflyd did not come up"
PROXY_PORT=$(proxy_port "$DFLYD_LOG") || bail_out "the proxy did not say its port"
PROXY="http://127.0.0.1:$PROXY_PORT"

# fetch NAME URL [CURL-OPTION...]: curl through the proxy into $OUT/NAME,
# headers into $OUT/NAME.h; FETCH_CODE is the status, FETCH_EXIT curl's.
fetch () {
  _name=$1
  _url=$2
  shift 2
  FETCH_EXIT=0
  FETCH_CODE=$(curl -sS --max-time 60 -x "$PROXY" -D "$OUT/$_name.h" -o "$OUT/$_name" \
    -w '%{http_code}' "$@" "$_url" 2>"$OUT/$_name.err") || FETCH_EXIT=$?
}

# header NAME FIELD: the value of FIELD in $OUT/NAME.h (the last answer's).
header () {
  tr -d '\r' <"$OUT/$1.h" | awk -v f="$2" 'BEGIN { IGNORECASE = 1 }
    tolower($0) ~ "^" tolower(f) ":" { sub(/^[^:]*: */, ""); v = $0 } END { print v }'
}

# connect.py PORT MODE TARGET [N]: CONNECTs sent by hand to the proxy.
#   probe TARGET...  one line each: the status, "typed" if the answer has
#                    X-Dragonfly-Error-Type: proxy, the seconds it took;
#   hold TARGET N    N tunnels held open ("held S..."), one more ("extra S"),
#                    the seconds until the proxy closes the silent ones
#                    ("closed-after T"), then one more ("again S");
#   wait TARGET      one tunnel ("connected S"), then the seconds until it
#                    ends ("ended-after T").
cat >"$SCRATCH/connect.py" <<'EOF'
import socket, sys, time
port, mode, targets = int(sys.argv[1]), sys.argv[2], sys.argv[3:]

def connect(target):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(b"CONNECT " + target.encode() + b" HTTP/1.1\r\nHost: " + target.encode() + b"\r\n\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        if not chunk:
            break
        head += chunk
    lines = head.decode("latin-1").split("\r\n")
    words = lines[0].split(" ")
    typed = any(l.lower().startswith("x-dragonfly-error-type: proxy") for l in lines)
    return s, words[1] if len(words) > 1 else "none", typed

def seconds_to_end(sockets):
    start = time.monotonic()
    for s in sockets:
        try:
            while s.recv(4096):
                pass
        except OSError:
            pass
    return "%.0f" % (time.monotonic() - start)

if mode == "probe":
    for target in targets:
        start = time.monotonic()
        s, status, typed = connect(target)
        s.close()
        print(status, "typed" if typed else "untyped", "%.1f" % (time.monotonic() - start))
elif mode == "hold":
    held = [connect(targets[0]) for _ in range(int(targets[1]))]
    print("held", *[status for _, status, _ in held])
    extra, status, _ = connect(targets[0])
    extra.close()
    print("extra", status, flush=True)
    print("closed-after", seconds_to_end([s for s, _, _ in held]))
    again, status, _ = connect(targets[0])
    again.close()
    print("again", status)
else:
    s, status, _ = connect(targets[0])
    print("connected", status, flush=True)
    print("ended-after", seconds_to_end([s]))
EOF
raw_connect () {
  python3 "$SCRATCH/connect.py" "$PROXY_PORT" probe "$@"
}

# ---- a tunnel: bytes through, nothing seen ----
fetch tunnel1 "https://$ORIGIN/tunnel.bin" --cacert "$ORIGIN_CA"
is "tunnel: curl gets 200 from the origin" "$FETCH_CODE" 200
check "... the bytes are the origin's" cmp -s "$OUT/tunnel1" "$WWW/tunnel.bin"
is "... the answer is the origin's own (no task id)" "$(header tunnel1 X-Dragonfly-Task-ID)" ""
fetch tunnel2 "https://$ORIGIN/tunnel.bin" --cacert "$ORIGIN_CA"
check "... a second fetch is the same bytes" cmp -s "$OUT/tunnel2" "$WWW/tunnel.bin"
is "... and went to the origin again (nothing is cached from a tunnel)" \
  "$(nginx_requests /tunnel.bin 200)" 2
unlike "... the proxy never learned the URL, nor made a task" "$DFLYD_LOG" 'tunnel\.bin'
fetch tunnel3 "https://$ORIGIN/tunnel.bin" --cacert "$ICEPT_CA"
is "... the certificate curl sees is the origin's: the interception CA does not verify it" \
  "$FETCH_EXIT" 60

# ---- interception: the swarm behind an https origin ----
fetch icept1 "https://localhost:$TLS_PORT/swarm.bin" --cacert "$ICEPT_CA"
is "intercepted: 200 with the interception CA's leaf for localhost" "$FETCH_CODE" 200
check "... the bytes are the origin's" cmp -s "$OUT/icept1" "$WWW/swarm.bin"
header icept1 X-Dragonfly-Task-ID >"$OUT/icept1.task"
like "... it came through the swarm (X-Dragonfly-Task-ID)" "$OUT/icept1.task" '^[0-9a-f]{64}$'
fetch icept2 "https://localhost:$TLS_PORT/swarm.bin" --cacert "$ICEPT_CA"
is "... a second fetch: 200" "$FETCH_CODE" 200
check "... the same bytes" cmp -s "$OUT/icept2" "$WWW/swarm.bin"
is "... from storage: nginx was asked for it once" "$(nginx_requests /swarm.bin 200)" 1
is "... the same task" "$(header icept2 X-Dragonfly-Task-ID)" "$(header icept1 X-Dragonfly-Task-ID)"
fetch icept3 "https://localhost:$TLS_PORT/swarm.bin" --cacert "$ORIGIN_CA"
is "... the origin's CA does not verify the proxy's leaf" "$FETCH_EXIT" 60

fetch direct1 "https://localhost:$TLS_PORT/direct/plain.bin" --cacert "$ICEPT_CA"
is "intercepted, a direct rule: 200" "$FETCH_CODE" 200
check "... the bytes are the origin's" cmp -s "$OUT/direct1" "$WWW/direct/plain.bin"
is "... passed through (no task id)" "$(header direct1 X-Dragonfly-Task-ID)" ""

fetch misdirected "https://localhost:$TLS_PORT/direct/plain.bin" --cacert "$ICEPT_CA" \
  -H "Host: example.com"
is "intercepted, a Host naming another host: 421" "$FETCH_CODE" 421

fetch bad1 "https://localhost:$BAD_PORT/direct/plain.bin" --cacert "$ICEPT_CA"
is "intercepted, an upstream certificate no CA vouches for: 502" "$FETCH_CODE" 502
is "... marked as the proxy's answer" "$(header bad1 X-Dragonfly-Error-Type)" proxy
like "... saying why" "$OUT/bad1" 'TLS certificate not trusted'
fetch bad2 "https://localhost:$BAD_PORT/swarm.bin" --cacert "$ICEPT_CA"
is "... through the swarm too: 502, not a page pretending success" "$FETCH_CODE" 502

# ---- refused before anything is reached ----
set -- $(raw_connect "127.0.0.1:1")
is "a port outside proxy.connect_ports: 403" "$1 $2" "403 typed"
set -- $(raw_connect "169.254.169.254:443")
is "a link-local address (cloud metadata): 403" "$1 $2" "403 typed"
check "... at once, without trying to connect" at_most 1 "$3"
like "... the log says why" "$DFLYD_LOG" \
  'CONNECT 169\.254\.169\.254:443 refused: source\.deny: 169\.254\.169\.254 is denied \(link-local\)'
set -- $(raw_connect "127.0.0.3:$TLS_PORT")
is "an address source.deny lists: 403" "$1 $2" "403 typed"
for target in "localhost:notaport" "user@localhost:$TLS_PORT" "localhost:$TLS_PORT/x" \
  "bad_host!:$TLS_PORT" "localhost:99999"; do
  set -- $(raw_connect "$target")
  is "a malformed target ($target): 400" "$1" 400
done
set -- $(raw_connect "127.0.0.1:$CLOSED_PORT")
is "an upstream that refuses the connection: 502" "$1 $2" "502 typed"

# ---- the cap, the idle timeout and the end ----
python3 "$SCRATCH/connect.py" "$PROXY_PORT" hold "$ORIGIN" 3 >"$OUT/hold.out" 2>&1
like "max_tunnels 3: three tunnels open" "$OUT/hold.out" 'held 200 200 200'
like "... a fourth CONNECT: 503" "$OUT/hold.out" 'extra 503'
closed_after=$(sed -n 's/^closed-after //p' "$OUT/hold.out")
check "... silent tunnels are closed after protocol.idle_timeout (6 s; took ${closed_after:-?} s)" \
  test "${closed_after:-0}" -ge 4 -a "${closed_after:-99}" -le 10
like "... which frees their slots" "$OUT/hold.out" 'again 200'

# An intercepted CONNECT whose client never starts TLS holds its slot for
# protocol.header_timeout at most.
python3 "$SCRATCH/connect.py" "$PROXY_PORT" wait "localhost:$TLS_PORT" >"$OUT/mute.out" 2>&1
like "an intercepted CONNECT: 200 at once" "$OUT/mute.out" 'connected 200'
like "... closed when no TLS and request came within protocol.header_timeout (3 s)" \
  "$OUT/mute.out" 'ended-after [2-5]$'

# A tunnel open when dflyd stops ends with it.
python3 "$SCRATCH/connect.py" "$PROXY_PORT" wait "$ORIGIN" >"$OUT/stop.out" 2>&1 &
HOLDER=$!
track_pid "$HOLDER"
wait_for_line "$OUT/stop.out" 'connected' 10
like "a tunnel is open" "$OUT/stop.out" 'connected 200'
check "dflyd stops with a tunnel open" stop_dflyd 15
wait "$HOLDER" 2>/dev/null
untrack_pid "$HOLDER"
like "... and the tunnel ended with it" "$OUT/stop.out" 'ended-after [0-4]$'

done_testing
