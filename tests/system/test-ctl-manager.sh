#!/bin/sh
# test-ctl-manager.sh — dflyctl cluster|scheduler|seed against a real
# manager: a dflyd running the manager role on a free port of 127.0.0.1,
# records created, listed (text and --json), shown, updated and deleted;
# hosts registered over the API with curl and listed; the API's errors,
# bad arguments, an unreachable manager, and servers that answer something
# else than the API (HTML, bad JSON, no HTTP, too much, nothing in time),
# each with its message and exit status.
. "$top_srcdir/tests/lib.sh"
need dbus-daemon curl

S=$SCRATCH
CFG="$S/dflyd.yaml"
mkdir -p "$S/state"
cat >"$CFG" <<EOF
daemon:
  roles: [manager]
  state_dir: $S/state
  log_level: info
manager:
  listen: 127.0.0.1
  port: 0
EOF

line_count () {
  wc -l <"$1" | tr -d ' '
}

# mctl COMMAND ARG...: dflyctl COMMAND against the manager, bounded
# (--manager is an option of the command, after its name).
mctl () {
  _command=$1
  shift
  timeout 30 "$DFLYCTL" "$_command" --manager "$MANAGER" "$@"
}

# fails DESCRIPTION STATUS REGEX COMMAND...: COMMAND exits STATUS with one
# line on stderr matching REGEX and nothing on stdout.
fails () {
  _desc=$1
  _status=$2
  _regex=$3
  shift 3
  run fails.out fails.err "$@"
  if [ "$RUN_STATUS" -eq "$_status" ] && [ "$(line_count "$S/fails.err")" -eq 1 ] &&
    grep -Eq -- "$_regex" "$S/fails.err" && [ ! -s "$S/fails.out" ]; then
    ok "$_desc"
  else
    not_ok "$_desc"
    diag "status $RUN_STATUS (expected $_status); stderr should be one line matching: $_regex"
    sed 's/^/#   stderr: /' "$S/fails.err"
    sed 's/^/#   stdout: /' "$S/fails.out"
  fi
}

# --- help and bad arguments: refused before any request ---------------

run help.out help.err "$DFLYCTL" help
for command in cluster scheduler seed; do
  like "help lists $command" "$S/help.out" "^  $command list\\|show\\|"
done
run cmdhelp.out cmdhelp.err "$DFLYCTL" cluster --help
is "cluster --help exits 0" "$RUN_STATUS" 0
for option in --manager --seed --name --bio --config --scopes --client-config --default \
  --no-default --scheduler-cluster --json; do
  like "cluster --help documents $option" "$S/cmdhelp.out" "^  (-[A-Za-z], )?$option"
done
run cmdhelp.out cmdhelp.err "$DFLYCTL" scheduler --help
like "scheduler --help documents --cluster" "$S/cmdhelp.out" "^  -c, --cluster=ID"

# A port nothing listens on: a refused argument must never get that far.
CLOSED_PORT=$(pick_port)
CLOSED="http://127.0.0.1:$CLOSED_PORT"
refused () {
  _desc=$1
  _regex=$2
  shift 2
  _command=$1
  shift
  fails "$_desc" 2 "$_regex" "$DFLYCTL" "$_command" --manager "$CLOSED" "$@"
}
refused "cluster without a subcommand" "^dflyctl: cluster: no subcommand given; use list, show, create, update, delete\$" cluster
refused "an unknown subcommand" "^dflyctl: scheduler: unknown subcommand “create”; use list, show, delete\$" scheduler create x
refused "show without an id" "^dflyctl: cluster show: no id given\$" cluster show
refused "create without a name" "^dflyctl: cluster create: no name given\$" cluster create
refused "an id that is not a number" "^dflyctl: seed show: bad id “abc”: ids are whole numbers from 1\$" seed show abc
refused "an id of 0" "bad id “0”" cluster delete 0
refused "a negative id" "bad id “-1”" scheduler show -- -1
refused "an id past 2^63-1" "bad id “9223372036854775808”" cluster show 9223372036854775808
refused "two ids" "^dflyctl: cluster show: too many arguments: “2”\$" cluster show 1 2
refused "--cluster that is not a number" "^dflyctl: scheduler list: bad --cluster “x1”" scheduler list --cluster x1
refused "--cluster with show" "^dflyctl: seed show: --cluster does not fit here: it goes with list\$" seed show 1 --cluster 1
refused "--scopes that is not JSON" "^dflyctl: cluster create: --scopes is not JSON: " cluster create a --scopes '{"idc":'
refused "--config that is a JSON list" "^dflyctl: cluster create: --config is not a JSON object" cluster create a --config '[1]'
refused "--scopes with --seed" "^dflyctl: cluster create: --scopes does not fit here: .*scheduler cluster" cluster create a --seed --scopes '{}'
refused "--scheduler-cluster without --seed" "--scheduler-cluster does not fit here" cluster create a --scheduler-cluster 1
refused "--bio with list" "^dflyctl: cluster list: --bio does not fit here" cluster list --bio x
refused "--name with create" "--name does not fit here: it goes with update" cluster create a --name b
refused "--default with --no-default" "--default does not fit here" cluster update 1 --default --no-default
refused "update with nothing to change" "^dflyctl: cluster update: nothing to change" cluster update 1
refused "a --manager URL of another scheme" "^dflyctl: bad --manager URL “ftp://h/”: the scheme is ftp" cluster list --manager ftp://h/
refused "a --manager URL without a host" "^dflyctl: bad --manager URL “http:///x”: the URL .* has no host" cluster list --manager http:///x
refused "a --manager URL with a password" "it holds a user name or password" cluster list --manager http://u:p@127.0.0.1:1
refused "a --manager URL with a query" "it has a query or a fragment" cluster list --manager 'http://127.0.0.1:1/?a=b'
refused "a --manager that is no URL" "^dflyctl: bad --manager URL “127.0.0.1:8080”" cluster list --manager 127.0.0.1:8080
fails "a bad DFLY_MANAGER" 2 "^dflyctl: bad DFLY_MANAGER URL “http://a b/”" \
  env DFLY_MANAGER='http://a b/' "$DFLYCTL" seed list

# --- unreachable ------------------------------------------------------

fails "a manager on a closed port: status 3, naming the URL" 3 \
  "^dflyctl: cannot reach the manager at $CLOSED: .*refused" \
  "$DFLYCTL" cluster --manager "$CLOSED" list
fails "... the same from DFLY_MANAGER, a trailing slash dropped" 3 \
  "^dflyctl: cannot reach the manager at $CLOSED: " env DFLY_MANAGER="$CLOSED/" "$DFLYCTL" seed list

# --- a real manager ---------------------------------------------------

start_bus
start_dflyd "$CFG"
if ! check "dflyd with the manager role answers within 10 s" wait_for_dflyd 10; then
  bail_out "dflyd did not come up"
fi
"$DFLYCTL" --address "$BUS_ADDRESS" status >"$S/status.out" 2>&1
MANAGER=$(sed -n 's#^  manager  *running  *REST API on \(http://127\.0\.0\.1:[0-9]*\)$#\1#p' "$S/status.out")
[ -n "$MANAGER" ] || bail_out "no manager URL in dflyctl status: $(cat "$S/status.out")"

run list0.out list0.err mctl cluster list
is "an empty list exits 0" "$RUN_STATUS" 0
is "... and says so" "$(cat "$S/list0.out")" "no scheduler clusters"
run list0.out list0.err mctl cluster --json list
is "... with --json, an empty array" "$RUN_STATUS:$(tr -d ' \n' <"$S/list0.out")" "0:[]"

run create.out create.err mctl cluster create alpha --bio 'the first' --scopes '{"idc": "dc1"}' \
  --default
is "cluster create exits 0" "$RUN_STATUS" 0
like "... printing the record: its name" "$S/create.out" "^name: +alpha\$"
like "... its bio" "$S/create.out" "^bio: +the first\$"
like "... its scopes as JSON" "$S/create.out" '^scopes: +\{"idc":"dc1"\}$'
like "... is_default as yes" "$S/create.out" "^is_default: +yes\$"
like "... the default config" "$S/create.out" '^config: +\{"candidate_parent_limit":4,"filter_parent_limit":15\}$'
ALPHA=$(sed -n 's/^id: *//p' "$S/create.out")

run create2.out create2.err mctl cluster create beta --json --client-config '{"load_limit": 7}'
is "cluster create --json exits 0" "$RUN_STATUS" 0
check "... printing the API's record as one JSON object" json_check "$S/create2.out" \
  "d['name'] == 'beta' and d['client_config'] == {'load_limit': 7} and d['is_default'] is False"
BETA=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' "$S/create2.out")

run list.out list.err mctl cluster list
is "cluster list exits 0" "$RUN_STATUS" 0
like "... with a header" "$S/list.out" "^ID +NAME +DEFAULT +UPDATED\$"
like "... a row for alpha" "$S/list.out" "^$ALPHA +alpha +yes +20[0-9-]+T[0-9:]+Z\$"
like "... a row for beta" "$S/list.out" "^$BETA +beta +no +20"
is "... and nothing else" "$(line_count "$S/list.out")" 3
run list.out list.err mctl cluster list --json
check "cluster list --json is the API's array" json_check "$S/list.out" \
  "sorted(r['name'] for r in d) == ['alpha', 'beta'] and all('created_at' in r for r in d)"

run show.out show.err mctl cluster show "$ALPHA"
is "cluster show exits 0" "$RUN_STATUS" 0
is "... the fields in the API's order, id first" "$(head -n 1 "$S/show.out" | tr -s ' ')" "id: $ALPHA"
like "... created_at" "$S/show.out" "^created_at: +20"
run show.out show.err mctl cluster --json show "$BETA"
check "cluster show --json" json_check "$S/show.out" "d['id'] == $BETA and d['name'] == 'beta'"

run update.out update.err mctl cluster update "$ALPHA" --name gamma --no-default \
  --config '{"candidate_parent_limit": 2, "filter_parent_limit": 9}'
is "cluster update exits 0" "$RUN_STATUS" 0
like "... renamed" "$S/update.out" "^name: +gamma\$"
like "... no longer the default" "$S/update.out" "^is_default: +no\$"
run show.out show.err mctl cluster --json show "$ALPHA"
check "... as the manager keeps it, the bio untouched" json_check "$S/show.out" \
  "d['name'] == 'gamma' and d['bio'] == 'the first' and d['config']['filter_parent_limit'] == 9"

# --- the API's errors --------------------------------------------------

fails "a name taken: status 1 and the API's message, field and status" 1 \
  "^dflyctl: manager: name: already taken in scheduler-clusters \\(HTTP 409\\)\$" \
  mctl cluster create beta
fails "a rename onto a taken name: the same" 1 "already taken in scheduler-clusters" \
  mctl cluster update "$ALPHA" --name beta
fails "no such id: status 4" 4 "^dflyctl: manager: no scheduler-clusters with id 999 \\(HTTP 404\\)\$" \
  mctl cluster show 999
fails "... for delete too" 4 "no scheduler-clusters with id 999" mctl cluster delete 999
fails "a bound the API checks: status 2, naming the field" 2 \
  "^dflyctl: manager: name: too long .*\\(HTTP 400\\)\$" \
  mctl cluster create "$(printf '%0300d' 0)"
fails "a seed peer cluster serving no scheduler cluster: status 2" 2 \
  "^dflyctl: manager: scheduler_cluster_id: .*\\(HTTP 400\\)\$" \
  mctl cluster create s0 --seed --scheduler-cluster 999

# --- seed peer clusters, schedulers and seed peers --------------------

run seedc.out seedc.err mctl cluster --json create s1 --seed --scheduler-cluster "$ALPHA" \
  --config '{"load_limit": 10}'
check "cluster create --seed makes a seed peer cluster" json_check "$S/seedc.out" \
  "d['name'] == 's1' and d['scheduler_cluster_id'] == $ALPHA and d['config'] == {'load_limit': 10}"
SEEDC=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' "$S/seedc.out")
run seedl.out seedl.err mctl cluster list --seed
like "cluster list --seed lists it" "$S/seedl.out" "^$SEEDC +s1 +$ALPHA +20"
like "... under its own header" "$S/seedl.out" "^ID +NAME +SCHEDULER CLUSTER +UPDATED\$"

register () {
  curl -sS --max-time 10 -o "$S/register.out" -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "$2" "$MANAGER/api/v1/$1"
}
is "a scheduler registers with curl" \
  "$(register schedulers "{\"hostname\": \"sched-1\", \"ip\": \"127.0.0.1\", \"port\": 8002, \"scheduler_cluster_id\": $ALPHA}")" 200
SCHED=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' "$S/register.out")
is "... and one on IPv6 with a terminal escape in its name" \
  "$(register schedulers "{\"hostname\": \"evil\\u001b[2J\", \"ip\": \"::1\", \"port\": 8003, \"scheduler_cluster_id\": $BETA}")" 200
is "a seed peer registers" \
  "$(register seed-peers "{\"hostname\": \"seed-1\", \"ip\": \"127.0.0.2\", \"port\": 65002, \"seed_peer_cluster_id\": $SEEDC}")" 200
SEED=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' "$S/register.out")

run sched.out sched.err mctl scheduler list
is "scheduler list exits 0" "$RUN_STATUS" 0
like "... with a header" "$S/sched.out" "^ID +HOSTNAME +ADDRESS +CLUSTER +STATE +UPDATED\$"
like "... sched-1 at ip:port, its cluster, active" "$S/sched.out" \
  "^$SCHED +sched-1 +127\\.0\\.0\\.1:8002 +$ALPHA +active +20"
like "... an IPv6 address in brackets" "$S/sched.out" " \\[::1\\]:8003 +$BETA +active "
like "... the escape shown, not sent to the terminal" "$S/sched.out" "evil\\\\x1b\\[2J"
unlike "... no raw escape byte" "$S/sched.out" "$(printf '\033')"
run sched.out sched.err mctl scheduler list --cluster "$ALPHA"
is "scheduler list --cluster: those of one cluster" "$(sed 1d "$S/sched.out" | awk '{print $2}')" "sched-1"
run sched.out sched.err mctl scheduler list --cluster 998
is "... none in another" "$RUN_STATUS:$(cat "$S/sched.out")" "0:no schedulers"
run sched.out sched.err mctl scheduler --json list
check "scheduler list --json" json_check "$S/sched.out" \
  "sorted(r['port'] for r in d) == [8002, 8003] and all(r['state'] == 'active' for r in d)"
run sched.out sched.err mctl scheduler show "$SCHED"
like "scheduler show: its hostname" "$S/sched.out" "^hostname: +sched-1\$"
like "... its last keepalive" "$S/sched.out" "^last_keepalive_at: +20"

run seed.out seed.err mctl seed list --cluster "$SEEDC"
like "seed list --cluster: the seed peer" "$S/seed.out" "^$SEED +seed-1 +127\\.0\\.0\\.2:65002 +$SEEDC +active "
run seed.out seed.err mctl seed --json show "$SEED"
check "seed show --json" json_check "$S/seed.out" "d['hostname'] == 'seed-1' and d['type'] == 'super'"

# --- deletes -----------------------------------------------------------

fails "a cluster still in use is not deleted: status 1" 1 \
  "^dflyctl: manager: .*still referenced.*\\(HTTP 409\\)\$" mctl cluster delete "$ALPHA"
run del.out del.err mctl scheduler delete "$SCHED"
is "scheduler delete exits 0" "$RUN_STATUS:$(cat "$S/del.out")" "0:scheduler $SCHED deleted"
run del.out del.err mctl seed --json delete "$SEED"
check "seed delete --json says what it did" json_check "$S/del.out" \
  "d == {'id': $SEED, 'result': 'deleted'}"
run del.out del.err mctl cluster delete --seed "$SEEDC"
is "cluster delete --seed" "$RUN_STATUS:$(cat "$S/del.out")" "0:seed peer cluster $SEEDC deleted"
run del.out del.err mctl cluster delete "$ALPHA"
is "... then the scheduler cluster it served" "$RUN_STATUS:$(cat "$S/del.out")" \
  "0:scheduler cluster $ALPHA deleted"
fails "... and it is gone" 4 "no scheduler-clusters with id $ALPHA" mctl cluster show "$ALPHA"
run env.out env.err env DFLY_MANAGER="$MANAGER" "$DFLYCTL" cluster list
like "DFLY_MANAGER names the manager when --manager is not given" "$S/env.out" "^$BETA +beta "

# --- servers that are not the API -------------------------------------

# One server, a behaviour per first path component (dflyctl keeps the
# --manager URL's path as a prefix of /api/v1/).
cat >"$S/fake.py" <<'EOF'
import socket, sys, threading, time
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(16)
open(sys.argv[1], "w").write("%d\n" % srv.getsockname()[1])

def answer(status, ctype, body, length=True):
    head = "HTTP/1.1 %s\r\nConnection: close\r\n" % status
    if ctype:
        head += "Content-Type: %s\r\n" % ctype
    if length:
        head += "Content-Length: %d\r\n" % len(body)
    return head.encode() + b"\r\n" + body

def serve(conn):
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    mode = data.split(b" ")[1].split(b"/")[1].decode() if data.count(b" ") > 1 else ""
    if mode == "html":
        conn.sendall(answer("502 Bad Gateway", "text/html", b"<html><body>bad gateway</body></html>"))
    elif mode == "badjson":
        conn.sendall(answer("200 OK", "application/json", b"[{\"id\": 1,"))
    elif mode == "object":
        conn.sendall(answer("200 OK", "application/json", b"{\"id\": 1}"))
    elif mode == "errshape":
        conn.sendall(answer("500 Internal Server Error", "application/json", b"{\"error\": {}}"))
    elif mode == "notype":
        conn.sendall(answer("200 OK", None, b"[]"))
    elif mode == "huge":
        conn.sendall(answer("200 OK", "application/json", b"", length=False))
        try:
            for _ in range(10 * 64):
                conn.sendall(b" " * 16384)
        except OSError:
            pass
    elif mode == "garbage":
        conn.sendall(b"\x00\x01 this is no HTTP at all\r\n\r\n")
    elif mode == "stall":
        time.sleep(15)
    conn.close()

while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
python3 "$S/fake.py" "$S/fake.port" </dev/null >>"$S/fake.log" 2>&1 &
FAKE_PID=$!
track_pid "$FAKE_PID"
tries=50
until [ -s "$S/fake.port" ] || [ "$tries" -eq 0 ]; do
  tries=$((tries - 1))
  sleep 0.1
done
FAKE="http://127.0.0.1:$(cat "$S/fake.port")"

fails "an HTML error page: status 1, the status and type named" 1 \
  "^dflyctl: the manager at $FAKE/html answered HTTP 502 with text/html, not JSON\$" \
  "$DFLYCTL" cluster --manager "$FAKE/html" list
fails "malformed JSON" 1 "^dflyctl: the manager at $FAKE/badjson answered HTTP 200 with malformed JSON: " \
  "$DFLYCTL" scheduler --manager "$FAKE/badjson" list
fails "an object where a list was due" 1 \
  "^dflyctl: the manager at $FAKE/object answered HTTP 200 with JSON that is not a list\$" \
  "$DFLYCTL" seed --manager "$FAKE/object" list
fails "an error that is not the API's" 1 \
  "^dflyctl: the manager at $FAKE/errshape answered HTTP 500 with JSON that is not an error of its API\$" \
  "$DFLYCTL" cluster --manager "$FAKE/errshape" show 1
fails "no content type" 1 "answered HTTP 200 with no content type, not JSON\$" \
  "$DFLYCTL" cluster --manager "$FAKE/notype" list
fails "an answer over 8 MiB is refused" 1 "^dflyctl: the manager at $FAKE/huge answered more than 8 MiB; refused\$" \
  "$DFLYCTL" cluster --manager "$FAKE/huge" list
fails "bytes that are not HTTP" 1 "^dflyctl: the manager at $FAKE/garbage gave no HTTP answer: " \
  "$DFLYCTL" cluster --manager "$FAKE/garbage" list
fails "a server that never answers: status 7 after 10 s" 7 \
  "^dflyctl: the manager at $FAKE/stall did not answer within 10 s\$" \
  timeout 30 "$DFLYCTL" cluster --manager "$FAKE/stall" list
kill_pid "$FAKE_PID"
untrack_pid "$FAKE_PID"

check "dflyd stops cleanly" stop_dflyd
unlike "dflyd logged no warning" "$DFLYD_LOG" "WARNING|CRITICAL"

# --- a manager on the cluster's mutual TLS ------------------------------

CERTS="$S/certs"
"$DFLYCTL" cert ca --out "$CERTS/ca" >/dev/null 2>&1 || bail_out "dflyctl cert ca failed"
"$DFLYCTL" cert issue --ca "$CERTS/ca" --host-id mgr --role manager --ip 127.0.0.1 \
  --out "$CERTS/mgr" >/dev/null 2>&1 || bail_out "dflyctl cert issue failed"
"$DFLYCTL" cert issue --ca "$CERTS/ca" --host-id ops --role peer --out "$CERTS/ops" \
  >/dev/null 2>&1 || bail_out "dflyctl cert issue failed"
"$DFLYCTL" cert issue --ca "$CERTS/ca" --host-id fake --role peer --out "$CERTS/fake" \
  >/dev/null 2>&1 || bail_out "dflyctl cert issue failed"
"$DFLYCTL" cert ca --out "$CERTS/other" >/dev/null 2>&1 || bail_out "dflyctl cert ca failed"
"$DFLYCTL" cert issue --ca "$CERTS/other" --host-id intruder --role peer --out "$CERTS/intruder" \
  >/dev/null 2>&1 || bail_out "dflyctl cert issue failed"
mkdir -p "$S/state-tls"
sed "s#state_dir: .*#state_dir: $S/state-tls#" "$CFG" >"$S/tls.yaml"
printf 'tls:\n  ca: %s\n  cert: %s\n  key: %s\n' "$CERTS/ca/ca.pem" "$CERTS/mgr/mgr.pem" \
  "$CERTS/mgr/mgr-key.pem" >>"$S/tls.yaml"
start_bus tls-bus
start_dflyd "$S/tls.yaml" dflyd-tls
if ! check "a manager on TLS answers within 10 s" wait_for_dflyd 10; then
  bail_out "dflyd on TLS did not come up"
fi
"$DFLYCTL" --address "$BUS_ADDRESS" status >"$S/status.out" 2>&1
MANAGER=$(sed -n 's#^  manager  *running  *REST API on \(https://127\.0\.0\.1:[0-9]*\)$#\1#p' "$S/status.out")
[ -n "$MANAGER" ] || bail_out "no https manager URL in dflyctl status: $(cat "$S/status.out")"
OPS="--ca $CERTS/ca/ca.pem --cert $CERTS/ops/ops.pem --key $CERTS/ops/ops-key.pem"

# shellcheck disable=SC2086 # one word per option
run tls.out tls.err mctl cluster create secure $OPS
is "cluster create with --ca, --cert and --key over https" "$RUN_STATUS" 0
like "... made the record" "$S/tls.out" "^name: +secure\$"
# shellcheck disable=SC2086
run tls.out tls.err mctl cluster list $OPS
like "... and lists it" "$S/tls.out" "^1 +secure +no +20"
fails "https with the system's trust store only: status 1, TLS named" 1 \
  "^dflyctl: TLS with the manager at $MANAGER failed: " mctl cluster list
fails "a client certificate of another CA is refused" 2 \
  "^dflyctl: --ca, --cert, --key: tls.cert .*intruder.pem is not valid under tls.ca" \
  mctl cluster list --ca "$CERTS/ca/ca.pem" --cert "$CERTS/intruder/intruder.pem" \
  --key "$CERTS/intruder/intruder-key.pem"
fails "a manager of another CA is not trusted" 1 "^dflyctl: TLS with the manager at $MANAGER failed: " \
  mctl cluster list --ca "$CERTS/other/ca.pem" --cert "$CERTS/intruder/intruder.pem" \
  --key "$CERTS/intruder/intruder-key.pem"
fails "a key that is not the certificate's: status 2" 2 \
  "^dflyctl: --ca, --cert, --key: tls.key .*fake-key.pem: not the key of tls.cert\$" \
  mctl cluster list --ca "$CERTS/ca/ca.pem" --cert "$CERTS/ops/ops.pem" --key "$CERTS/fake/fake-key.pem"
fails "--ca alone" 2 "^dflyctl: --ca, --cert and --key go together\$" \
  mctl cluster list --ca "$CERTS/ca/ca.pem"
fails "TLS files with an http:// manager" 2 "need an https:// manager" \
  "$DFLYCTL" cluster list --manager "$CLOSED" --ca "$CERTS/ca/ca.pem" --cert "$CERTS/ops/ops.pem" \
  --key "$CERTS/ops/ops-key.pem"
check "dflyd on TLS stops cleanly" stop_dflyd
unlike "... having logged no warning" "$DFLYD_LOG" "WARNING|CRITICAL"
done_testing
