#!/bin/sh
# test-manager-register.sh — schedulers and seed peers register with the manager, on 127.0.10.x
#
# A dflyd running the manager role, and one running a scheduler and a seed
# with manager.addr pointing at it: both register (with the ports they
# really bound and the clusters of manager.*_cluster_id) and keep alive
# every second, and the scheduler follows its cluster's config; a record
# removed at the manager comes back; peers with no schedulers listed take
# their cluster's from the manager (kept on disk for a start while it is
# down), and move to the one left when the other goes silent; the manager
# stopped and started again (same store) finds them still alive; a
# manager not yet up, or one answering garbage or far too much, is retried
# without harm; a malformed manager.addr stops the role with a clear
# message.
. "$top_srcdir/tests/lib.sh"

need curl
MANAGER_PORT=$(pick_port)
API="http://127.0.10.1:$MANAGER_PORT/api/v1"

# api METHOD PATH [JSON]: the manager's answer in $SCRATCH/api.json, the
# status printed.
api () {
  curl -s -o "$SCRATCH/api.json" -w '%{http_code}' -X "$1" ${3:+-H 'Content-Type: application/json'} \
    ${3:+--data "$3"} "$API$2"
}

# wait_json PATH EXPR [SECONDS]: until GET PATH answers JSON for which EXPR holds.
wait_json () {
  _tries=$((${3:-10} * 10))
  while [ "$_tries" -gt 0 ]; do
    if [ "$(api GET "$1")" = 200 ] && json_check "$SCRATCH/api.json" "$2" >/dev/null; then
      return 0
    fi
    _tries=$((_tries - 1))
    sleep 0.1
  done
  json_check "$SCRATCH/api.json" "$2"
  return 1
}

start_manager () {
  NODE_MANAGER_PORT=$MANAGER_PORT start_node manager 127.0.10.1 "[manager]"
  wait_for_node manager 20 || bail_out "the manager did not come up"
  for _i in $(seq 50); do
    [ "$(api GET /scheduler-clusters)" = 200 ] && return 0
    sleep 0.1
  done
  bail_out "the manager's API does not answer"
}

# The node comes up before the manager: it keeps trying.
SCHEDULER_PORT=$(pick_port)
NODE_MANAGER_LINES="  addr: 127.0.10.1:$MANAGER_PORT
  scheduler_cluster_id: 2
  seed_peer_cluster_id: 1
  keepalive_interval: 1s
  refresh_interval: 1s"
start_node node 127.0.10.2 "[scheduler, seed]" "scheduler:" "  port: $SCHEDULER_PORT" \
  "upload:" "  port: 0"
NODE_MANAGER_LINES=""
wait_for_node node 20 || bail_out "the node did not come up"
check "a manager not up yet is said to be retried" \
  wait_for_line "$SCRATCH/node.log" "manager at http://127.0.10.1:$MANAGER_PORT: registering in schedulers" 10
sleep 1.5
is "said once, not at every interval" \
  "$(grep -c 'registering in schedulers' "$SCRATCH/node.log")" 1

start_manager
# The clusters they join: id 1 of each kind, then the scheduler cluster 2.
is "a scheduler cluster is created" "$(api POST /scheduler-clusters '{"name":"one"}')" 201
is "a second one" "$(api POST /scheduler-clusters '{"name":"two"}')" 201
is "a seed peer cluster" "$(api POST /seed-peer-clusters '{"name":"seeds"}')" 201

check "the scheduler registers once its cluster exists" \
  wait_json "/schedulers" "len(d) == 1 and d[0]['state'] == 'active'" 10
check "with its host, the port it listens on and the cluster of manager.scheduler_cluster_id" \
  json_check "$SCRATCH/api.json" "d[0]['hostname'] == 'node' and d[0]['ip'] == '127.0.10.2'
  and d[0]['port'] == $SCHEDULER_PORT and d[0]['scheduler_cluster_id'] == 2"
UPLOAD_PORT=$(sed -n 's/.*upload server listening on 127\.0\.10\.2 port \([0-9]*\).*/\1/p' \
  "$SCRATCH/node.log" | head -1)
check "the seed peer registers" \
  wait_json "/seed-peers" "len(d) == 1 and d[0]['state'] == 'active'" 10
check "with the upload port it really bound (${UPLOAD_PORT:-none}; upload.port 0)" \
  json_check "$SCRATCH/api.json" "d[0]['port'] == ${UPLOAD_PORT:-0} and d[0]['type'] == 'super'
  and d[0]['seed_peer_cluster_id'] == 1"
check "the node says where it registered" wait_for_line "$SCRATCH/node.log" \
  "manager at http://127.0.10.1:$MANAGER_PORT: registered in schedulers as 1" 5

# The cluster's config reaches its scheduler: Dragonfly's default of 4
# candidate parents, then what it is changed to.
check "the scheduler takes its cluster's candidate_parent_limit" \
  wait_for_line "$SCRATCH/node.log" "scheduler cluster 2: 4 candidate parents" 10
is "the cluster's config is changed" \
  "$(api PATCH /scheduler-clusters/2 '{"config":{"candidate_parent_limit":2,"filter_parent_limit":15}}')" 200
check "and the scheduler follows within its refresh interval" \
  wait_for_line "$SCRATCH/node.log" "scheduler cluster 2: 2 candidate parents" 10
is "out of range (99): the scheduler's own setting applies" \
  "$(api PATCH /scheduler-clusters/2 '{"config":{"candidate_parent_limit":99}}')" 200
check "and it says so" wait_for_line "$SCRATCH/node.log" \
  "scheduler cluster 2: no candidate_parent_limit of 1 to 20, scheduler.candidate_parents applies" 10

api GET /schedulers/1 >/dev/null
first=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["last_keepalive_at"])' \
  "$SCRATCH/api.json")
sleep 2.2
api GET /schedulers/1 >/dev/null
check "keepalives move its last keepalive on (from $first)" \
  json_check "$SCRATCH/api.json" "d['last_keepalive_at'] > '$first' and d['state'] == 'active'"

# Removed at the manager: the next keepalive finds it gone and registers again.
is "the scheduler's record is removed" "$(api DELETE /schedulers/1)" 204
check "and it registers again, as a new record" \
  wait_json "/schedulers" "len(d) == 1 and d[0]['id'] == 2 and d[0]['state'] == 'active'" 10

# The manager stops and comes back on the same store: the records are there,
# and the keepalives resume.
_pid=$(node_pid manager)
kill_pid "$_pid"
untrack_pid "$_pid"
sleep 1.5
check "the node runs on while the manager is down" pid_alive "$(node_pid node)"
start_manager
check "after the manager's restart the same record is kept alive" \
  wait_json "/schedulers" "len(d) == 1 and d[0]['id'] == 2 and d[0]['state'] == 'active'" 10
check "the node says the manager answers again" wait_for_line "$SCRATCH/node.log" \
  "manager at http://127.0.10.1:$MANAGER_PORT: answering again" 5
node_ctl node status >"$SCRATCH/status.out" 2>&1
like "the scheduler and seed roles still run" "$SCRATCH/status.out" "scheduler +running"

# A peer with no schedulers listed takes them from the manager (the active
# ones of its cluster), and keeps the list for a start while it is down.
LEAF_MANAGER="  addr: 127.0.10.1:$MANAGER_PORT
  scheduler_cluster_id: 2
  refresh_interval: 1s"
NODE_MANAGER_LINES=$LEAF_MANAGER
start_node leaf 127.0.10.5 "[peer]"
NODE_MANAGER_LINES=""
wait_for_node leaf 20 || bail_out "the node leaf did not come up"
check "a peer takes its schedulers from the manager" wait_for_line "$SCRATCH/leaf.log" \
  "schedulers from the manager: 127\\.0\\.10\\.2:$SCHEDULER_PORT\$" 10
check "and announces itself to the scheduler it was given" \
  wait_for_line "$SCRATCH/node.log" "host 127\\.0\\.10\\.5-leaf joined" 10
check "the list is kept in its state directory" \
  json_check "$SCRATCH/leaf/state/manager-schedulers.json" "d == ['127.0.10.2:$SCHEDULER_PORT']"
_pid=$(node_pid leaf)
kill_pid "$_pid"
untrack_pid "$_pid"
_pid=$(node_pid manager)
kill_pid "$_pid"
untrack_pid "$_pid"
NODE_MANAGER_LINES=$LEAF_MANAGER
start_node leaf 127.0.10.5 "[peer]"
NODE_MANAGER_LINES=""
wait_for_node leaf 20 || bail_out "the node leaf did not come up again"
check "restarted while the manager is down, it starts from the kept list" \
  wait_for_line "$SCRATCH/leaf.log" \
  "schedulers from .*/leaf/state/manager-schedulers\\.json: 127\\.0\\.10\\.2:$SCHEDULER_PORT\$" 10
check "says once that the manager does not answer" wait_for_line "$SCRATCH/leaf.log" \
  "manager: no list of schedulers from http://127\\.0\\.10\\.1:$MANAGER_PORT/api/v1/schedulers\\?scheduler_cluster_id=2: .*keeping the last one" 10
sleep 2.5
is "and does not repeat it every second" \
  "$(grep -c 'no list of schedulers' "$SCRATCH/leaf.log")" 1
check "and joins its scheduler again" wait_for_line "$SCRATCH/node.log" \
  "host 127\\.0\\.10\\.5-leaf joined" 10
_pid=$(node_pid leaf)
kill_pid "$_pid"
untrack_pid "$_pid"
printf '{"not": "a list"' >"$SCRATCH/leaf/state/manager-schedulers.json"
NODE_MANAGER_LINES=$LEAF_MANAGER
start_node leaf 127.0.10.5 "[peer]"
NODE_MANAGER_LINES=""
wait_for_node leaf 20 || bail_out "the node leaf did not come up the third time"
check "a damaged list is ignored, saying why" wait_for_line "$SCRATCH/leaf.log" \
  "manager-schedulers\\.json: ignored: not a list of schedulers" 10
check "and the peer runs on, without schedulers" pid_alive "$(node_pid leaf)"

# A scheduler that leaves: the manager stops listing it once it is silent
# (keepalive_timeout 2 s here), and the peers of its cluster move to the
# other one of the cluster.
_pid=$(node_pid node)
kill_pid "$_pid"
untrack_pid "$_pid"
NODE_MANAGER_LINES="  keepalive_timeout: 2"
start_manager
NODE_MANAGER_LINES=""
is "a third scheduler cluster, for two schedulers" "$(api POST /scheduler-clusters '{"name":"pair"}')" 201
PAIR="  addr: 127.0.10.1:$MANAGER_PORT
  scheduler_cluster_id: 3
  keepalive_interval: 1s
  refresh_interval: 1s"
PORT_A=$(pick_port)
PORT_B=$(pick_port)
NODE_MANAGER_LINES=$PAIR
start_node sa 127.0.10.6 "[scheduler]" "scheduler:" "  port: $PORT_A"
start_node sb 127.0.10.7 "[scheduler]" "scheduler:" "  port: $PORT_B"
start_node pairpeer 127.0.10.8 "[peer]"
NODE_MANAGER_LINES=""
for _n in sa sb pairpeer; do
  wait_for_node "$_n" 20 || bail_out "node $_n did not come up"
done
check "the peer takes both schedulers of its cluster" wait_for_line "$SCRATCH/pairpeer.log" \
  "schedulers from the manager: (127\\.0\\.10\\.6:$PORT_A, 127\\.0\\.10\\.7:$PORT_B|127\\.0\\.10\\.7:$PORT_B, 127\\.0\\.10\\.6:$PORT_A)\$" 15
_pid=$(node_pid sa)
kill_pid "$_pid"
untrack_pid "$_pid"
check "once the first is silent, the manager lists only the second" \
  wait_json "/schedulers?scheduler_cluster_id=3" \
  "[r['port'] for r in d if r['state'] == 'active'] == [$PORT_B]" 15
check "and the peer follows" wait_for_line "$SCRATCH/pairpeer.log" \
  "schedulers from the manager: 127\\.0\\.10\\.7:$PORT_B\$" 10
WWW="$SCRATCH/www"
mkdir -p "$WWW"
head -c 3145728 /dev/urandom >"$WWW/blob"
start_nginx "$WWW"
run pair-get.out pair-get.err timeout 60 "$DFLYCTL" --address "$(node_bus pairpeer)" get \
  "$NGINX_URL/blob" -O "$SCRATCH/pair-blob" -q
is "a download through the peer works" "$RUN_STATUS" 0
check "its bytes are the origin's" cmp -s "$WWW/blob" "$SCRATCH/pair-blob"
like "and its task went to the scheduler left" "$SCRATCH/sb.log" "peer 127\\.0\\.10\\.8-pairpeer-.* registered"

# A "manager" answering garbage, then far more than an answer may hold.
GARBAGE_PORT=$(pick_port)
python3 - "$GARBAGE_PORT" >"$SCRATCH/garbage.log" 2>&1 <<'EOF' &
import http.server, sys
class Handler(http.server.BaseHTTPRequestHandler):
    count = 0
    def do_POST(self):
        Handler.count += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if Handler.count % 2:
            body = b"<html>not json</html>"
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.end_headers()
            chunk = b"[" * 65536
            try:
                for _ in range(256):
                    self.wfile.write(chunk)
            except OSError:
                pass
    def log_message(self, *args):
        sys.stderr.write("request\n")
http.server.HTTPServer(("127.0.10.1", int(sys.argv[1])), Handler).serve_forever()
EOF
GARBAGE_PID=$!
track_pid "$GARBAGE_PID"
for _i in $(seq 50); do
  curl -s -o /dev/null -X POST --data x "http://127.0.10.1:$GARBAGE_PORT/" && break
  sleep 0.1
done
NODE_MANAGER_LINES="  addr: http://127.0.10.1:$GARBAGE_PORT
  keepalive_interval: 1s"
start_node fooled 127.0.10.3 "[scheduler]" "scheduler:" "  port: $(pick_port)"
NODE_MANAGER_LINES=""
wait_for_node fooled 20 || bail_out "the node fooled did not come up"
sleep 3.5
requests=$(grep -c request "$SCRATCH/garbage.log")
check "it kept asking ($requests requests in 3.5 s)" [ "$requests" -ge 3 ]
like "an answer that is not a record is said so" "$SCRATCH/fooled.log" \
  "registering in schedulers: its answer (has no record id|has no length or is over 64 KiB)"
check "and the node still runs after an answer of 16 MiB with no length" pid_alive "$(node_pid fooled)"

# A malformed manager.addr: the role does not start, and says why (a
# role failing is a warning, fatal under the tests' G_DEBUG).
NODE_MANAGER_LINES="  addr: \"http://127.0.10.1:$MANAGER_PORT/some/path\""
saved_debug=${G_DEBUG:-}
G_DEBUG=
start_node bad 127.0.10.4 "[seed]"
G_DEBUG=$saved_debug
NODE_MANAGER_LINES=""
check "a malformed manager.addr fails the role with a clear message" wait_for_line \
  "$SCRATCH/bad.log" \
  "role seed failed to start: manager.addr: http://127.0.10.1:$MANAGER_PORT/some/path is not host:port nor an http\\(s\\)://host:port URL" 10
unlike "and it did not register" "$SCRATCH/bad.log" "registered in"

done_testing
