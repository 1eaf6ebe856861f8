#!/bin/sh
# test-manager-postgres.sh — two managers on one PostgreSQL database (the
# manager's high-availability store): a real server started here (initdb
# as user postgres, loopback, a free port), two dflyd running only the
# manager role, and their REST APIs through curl. A record written through
# one is read through the other; a host registered through both at once is
# one record; a name taken is 409; both outlive a server restart, and a
# server stopped for a while (500s, then answers); a server that is not
# there at start, or a schema newer than ours, stops the role with a
# message naming the server but not the password. The store's unit cases
# (test-manager-store) run on the same server too.
. "$top_srcdir/tests/lib.sh"
need dbus-daemon curl runuser

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$PGBIN" ] && [ -x "$PGBIN/initdb" ] ||
  skip_all "PostgreSQL's server is not installed (tests/setup.sh installs it)"
[ "$(id -u)" -eq 0 ] || skip_all "initdb runs as user postgres: this needs root"
id postgres >/dev/null 2>&1 || skip_all "there is no user postgres"

S=$SCRATCH
# The server runs as postgres: it must reach its directory through ours.
chmod 755 "$S"
PGDIR="$S/pg"
mkdir "$PGDIR"
chown postgres "$PGDIR"
PGLOG="$S/postgres.log"
: >"$PGLOG"
chown postgres "$PGLOG"

as_postgres () {
  runuser -u postgres -- "$@"
}

# pg_ctl ACTION [ARG...]: on our server, waiting at most 20 s.
pg_ctl () {
  as_postgres "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGLOG" -w -t 20 \
    -o "-k $PGDIR -h 127.0.0.1 -p $PG_PORT" "$@" >>"$S/pg_ctl.log" 2>&1
}

# track_postmaster: the server's pid (it changes on a restart) is killed by
# pid at exit. It goes first in lib.sh's list, which is killed newest
# first: the dflyd connected to it stop before it, or its SIGTERM (a smart
# shutdown) would wait for them.
PG_PID=""
track_postmaster () {
  [ -z "$PG_PID" ] || untrack_pid "$PG_PID"
  PG_PID=$(head -n 1 "$PGDIR/data/postmaster.pid")
  TEST_PIDS="$PG_PID $TEST_PIDS"
}

sql () {
  as_postgres "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres \
    -d "$1" -c "$2"
}

as_postgres "$PGBIN/initdb" -D "$PGDIR/data" -A trust -U postgres >>"$S/initdb.log" 2>&1 ||
  bail_out "initdb failed (see $S/initdb.log)"
_tries=5
until [ "$_tries" -eq 0 ]; do
  _tries=$((_tries - 1))
  PG_PORT=$(pick_port)
  pg_ctl start && break
  PG_PORT=""
done
[ -n "$PG_PORT" ] || bail_out "PostgreSQL did not start (see $PGLOG)"
track_postmaster
sql postgres "CREATE DATABASE dfly" && sql postgres "CREATE DATABASE dfly_unit" ||
  bail_out "psql could not create the databases"

# The password is never checked (trust), but must never show either.
DB="postgresql://postgres:s3cret@127.0.0.1:$PG_PORT/dfly"

# manager_config FILE NAME DATABASE: a dflyd running the manager only.
manager_config () {
  mkdir -p "$S/$2/state" "$S/$2/cache"
  cat >"$1" <<EOF
daemon:
  roles: [manager]
  state_dir: $S/$2/state
  cache_dir: $S/$2/cache
  log_level: info
  shutdown_timeout: 10
manager:
  listen: 127.0.0.1
  port: 0
  database: $3
EOF
}

# start_manager NAME [DATABASE]: a dflyd on its own bus; once its REST API
# listens, sets URL (http://127.0.0.1:PORT). G_DEBUG is left out: a role
# that fails to start is a warning, and the failing cases must log it.
start_manager () {
  manager_config "$S/$1.yaml" "$1" "${2:-$DB}"
  start_bus "bus-$1"
  env G_DEBUG= "$DFLYD" --bus-address "$BUS_ADDRESS" --config "$S/$1.yaml" \
    --plugin-dir "$DFLY_PLUGIN_BUILD_DIR" </dev/null >>"$S/$1.log" 2>&1 &
  DFLYD_PID=$!
  track_pid "$DFLYD_PID"
  URL=""
  wait_for_line "$S/$1.log" "REST API listening on|role manager failed" 15 || return 1
  URL=$(sed -n 's|.*REST API listening on \(http://[^ ]*\).*|\1|p' "$S/$1.log" | head -n 1)
}

# api OUT METHOD URL [BODY]: the HTTP status; the body to $S/OUT.
api () {
  curl -s -m 10 -o "$S/$1" -w '%{http_code}' -X "$2" -H 'Content-Type: application/json' \
    ${4:+--data-binary "$4"} "$3"
}

# --- the key -----------------------------------------------------------

manager_config "$S/check.yaml" check "$DB"
run check.out check.err "$DFLYD" --check-config "$S/check.yaml" \
  --plugin-dir "$DFLY_PLUGIN_BUILD_DIR"
is "dflyd --check-config accepts a postgresql:// URI for manager.database" "$RUN_STATUS" 0
manager_config "$S/relative.yaml" check "manager.db"
run check.out check.err "$DFLYD" --check-config "$S/relative.yaml" \
  --plugin-dir "$DFLY_PLUGIN_BUILD_DIR"
is "... and refuses a relative path (status 2)" "$RUN_STATUS" 2
like "... saying what it takes" "$S/check.err" \
  "manager: database: neither an absolute path nor a postgresql:// or postgres:// URI"

# --- two managers, one database ----------------------------------------

start_manager m1 || bail_out "the first manager did not start"
M1=$URL M1_PID=$DFLYD_PID
start_manager m2 || bail_out "the second manager did not start"
M2=$URL M2_PID=$DFLYD_PID
[ -n "$M1" ] && [ -n "$M2" ] || bail_out "a manager's REST API did not start"

is "a cluster is created through the first manager" \
  "$(api east.json POST "$M1/api/v1/scheduler-clusters" '{"name": "east", "bio": "it'"'"'s east"}')" 201
EAST=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' "$S/east.json")
is "... and read through the second" "$(api east2.json GET "$M2/api/v1/scheduler-clusters/$EAST")" 200
check "... as it was written" json_check "$S/east2.json" \
  "d['name'] == 'east' and d['bio'] == \"it's east\" and d['config']['filter_parent_limit'] == 15"

is "the same name through the second manager is refused with 409" \
  "$(api taken.json POST "$M2/api/v1/scheduler-clusters" '{"name": "east"}')" 409
check "... naming the field" json_check "$S/taken.json" "d['field'] == 'name'"
is "a scheduler naming no cluster is 400" \
  "$(api orphan.json POST "$M2/api/v1/schedulers" \
    '{"hostname": "s0", "ip": "10.0.0.9", "port": 8002, "scheduler_cluster_id": 999}')" 400
check "... naming the reference" json_check "$S/orphan.json" "d['field'] == 'scheduler_cluster_id'"

# The same scheduler registered through both managers at once, in five
# rounds of a new host each: one record per host, both answers its id.
ROUNDS=5
round=1
same=0
while [ "$round" -le "$ROUNDS" ]; do
  body='{"hostname": "s'$round'", "ip": "10.0.0.'$round'", "port": 8002, "scheduler_cluster_id": '$EAST'}'
  api r1.json POST "$M1/api/v1/schedulers" "$body" >"$S/r1.status" &
  _c1=$!
  api r2.json POST "$M2/api/v1/schedulers" "$body" >"$S/r2.status" &
  _c2=$!
  wait "$_c1" "$_c2"
  if [ "$(cat "$S/r1.status")" = 200 ] && [ "$(cat "$S/r2.status")" = 200 ] &&
    json_check "$S/r1.json" "d['state'] == 'active'" &&
    [ "$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' "$S/r1.json")" = \
      "$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' "$S/r2.json")" ]; then
    same=$((same + 1))
  fi
  round=$((round + 1))
done
is "a scheduler registered through both managers at once gets one id ($ROUNDS rounds)" "$same" "$ROUNDS"
is "the schedulers are listed through the first manager" \
  "$(api schedulers.json GET "$M1/api/v1/schedulers?scheduler_cluster_id=$EAST")" 200
check "... one record per host" json_check "$S/schedulers.json" \
  "sorted(r['hostname'] for r in d) == ['s%d' % i for i in range(1, $ROUNDS + 1)]"

# --- the server restarts under both ------------------------------------

pg_ctl restart -m fast || bail_out "PostgreSQL did not restart (see $PGLOG)"
track_postmaster
is "after a server restart the first manager answers" \
  "$(api after1.json GET "$M1/api/v1/scheduler-clusters/$EAST")" 200
is "... and the second" "$(api after2.json GET "$M2/api/v1/schedulers?scheduler_cluster_id=$EAST")" 200
check "... with nothing lost" json_check "$S/after2.json" "len(d) == $ROUNDS"
is "... and writes go on: a cluster created through the second" \
  "$(api west.json POST "$M2/api/v1/seed-peer-clusters" '{"name": "west", "scheduler_cluster_id": '$EAST'}')" 201
WEST=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' "$S/west.json")
is "... is read through the first" "$(api west1.json GET "$M1/api/v1/seed-peer-clusters/$WEST")" 200
like "the first manager logged that it reconnected" "$S/m1.log" "connection was lost; reconnecting"
like "... and the second" "$S/m2.log" "connection was lost; reconnecting"
check "both managers still run" pid_alive "$M1_PID"
check "... both of them" pid_alive "$M2_PID"
is "a cluster in use cannot be removed (409)" "$(api inuse.json DELETE "$M1/api/v1/scheduler-clusters/$EAST")" 409

# --- the server stopped, then back ------------------------------------

pg_ctl stop -m fast || bail_out "PostgreSQL did not stop (see $PGLOG)"
untrack_pid "$PG_PID"
PG_PID=""
is "with the server stopped a manager answers 500" \
  "$(api down.json GET "$M1/api/v1/scheduler-clusters")" 500
check "... telling the client no more than that" json_check "$S/down.json" \
  "d['message'] == \"the manager's store failed; its log says why\""
like "... and its log names the server, not the password" "$S/m1.log" \
  "manager store: postgresql://postgres@127\\.0\\.0\\.1:$PG_PORT/dfly: "
pg_ctl start || bail_out "PostgreSQL did not start again (see $PGLOG)"
track_postmaster
is "once it is back the same manager answers again" \
  "$(api up.json GET "$M1/api/v1/scheduler-clusters")" 200
check "... with the clusters" json_check "$S/up.json" "sorted(r['name'] for r in d) == ['east']"

# --- a server that is not there ----------------------------------------

BAD_PORT=$(pick_port)
start_manager bad "postgresql://postgres:s3cret@127.0.0.1:$BAD_PORT/dfly"
is "with a wrong port the manager role does not start" "$URL" ""
like "... saying why, naming the server" "$S/bad.log" \
  "role manager failed to start: manager.database: postgresql://postgres@127.0.0.1:$BAD_PORT/dfly: cannot connect: .*127\\.0\\.0\\.1.*$BAD_PORT"
kill_pid "$DFLYD_PID"
untrack_pid "$DFLYD_PID"

# --- a schema newer than ours ------------------------------------------

sql dfly "UPDATE dfly_schema_version SET version = 99" || bail_out "psql could not set the version"
start_manager newer
is "a schema version newer than ours stops the manager role" "$URL" ""
like "... saying so" "$S/newer.log" \
  "manager.database: postgresql://postgres@127.0.0.1:$PG_PORT/dfly: schema version 99 is newer than this dflyd's \\(1\\)"
kill_pid "$DFLYD_PID"
untrack_pid "$DFLYD_PID"

cat "$S/m1.log" "$S/m2.log" "$S/bad.log" "$S/newer.log" >"$S/all-dflyd.txt"
unlike "no dflyd log holds the password" "$S/all-dflyd.txt" "s3cret"

# --- the store's own cases on this server ------------------------------

STORE_TEST="$top_builddir/plugins/roles/manager/test-manager-store"
if [ -x "$STORE_TEST" ]; then
  run store.out store.err env DFLY_TEST_POSTGRES="postgresql://postgres@127.0.0.1:$PG_PORT/dfly_unit" \
    "$STORE_TEST"
  is "test-manager-store passes on PostgreSQL" "$RUN_STATUS" 0 ||
    sed 's/^/#   /' "$S/store.out" "$S/store.err"
  unlike "... skipping only the SQLite file's case" "$S/store.out" "# SKIP .*PostgreSQL only"
else
  ok "test-manager-store on PostgreSQL # SKIP not built (make check builds it)"
fi

done_testing
