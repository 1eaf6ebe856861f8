#!/bin/sh
# test-control.sh — dflyd's control interface end to end: a private
# dbus-daemon, one dflyd running all four roles, and dflyctl against it.
. "$top_srcdir/tests/lib.sh"
need dbus-daemon

S=$SCRATCH
CFG="$S/dflyd.yaml"
# A known scheduler port: the engine announces this host to it.
WRITE_CONFIG_SCHEDULER_PORT=$(pick_port)
write_config "$CFG"

ctl () {
  timeout 10 "$DFLYCTL" --address "$BUS_ADDRESS" "$@"
}

line_count () {
  wc -l <"$1" | tr -d ' '
}

byte_count () {
  wc -c <"$1" | tr -d ' '
}

# replace FILE SED-SCRIPT...: edits FILE in place (POSIX sed has no -i).
replace () {
  _file=$1
  shift
  sed "$@" "$_file" >"$_file.new" && mv "$_file.new" "$_file"
}

# --- dflyd's own command line: no bus needed --------------------------

VERSION=$("$DFLYCTL" --version | sed -n 's/^dflyctl //p')
run version.out version.err "$DFLYD" --version
is "dflyd --version exits 0" "$RUN_STATUS" 0
is "dflyd --version prints the package version" "$(cat "$S/version.out")" "dflyd $VERSION"

# The config's plugin sections are checked by the plugins named there.
run check.out check.err "$DFLYD" --check-config "$CFG" --plugin-dir "$DFLY_PLUGIN_BUILD_DIR"
is "dflyd --check-config accepts the test config" "$RUN_STATUS" 0
is "... and says FILE: OK" "$(cat "$S/check.out")" "$CFG: OK"

BAD="$S/bad-value.yaml"
sed 's/log_level: info/log_level: loud/' "$CFG" >"$BAD"
BAD_LINE=$(grep -n 'log_level: loud' "$BAD" | cut -d: -f1)
run check.out check.err "$DFLYD" --check-config "$BAD"
is "dflyd --check-config refuses a bad value with status 2" "$RUN_STATUS" 2
like "... naming file:line and the key" "$S/check.err" "$BAD:$BAD_LINE:.*log_level"

UNKNOWN="$S/unknown-key.yaml"
printf 'daemon:\n  log_level: info\n  frobnicate: 1\n' >"$UNKNOWN"
run check.out check.err "$DFLYD" --check-config "$UNKNOWN"
is "dflyd --check-config refuses an unknown key with status 2" "$RUN_STATUS" 2
like "... naming file:line and the key" "$S/check.err" "$UNKNOWN:3:.*frobnicate"

# A plugin's key is checked as the daemon's are; a section naming a plugin
# that is not installed names the directories searched.
printf 'default:\n  idc_affinity_weight: 2\n' >"$S/plugin-key.yaml"
run check.out check.err "$DFLYD" --check-config "$S/plugin-key.yaml" \
  --plugin-dir "$DFLY_PLUGIN_BUILD_DIR"
is "dflyd --check-config refuses a plugin's bad value with status 2" "$RUN_STATUS" 2
like "... naming file:line:column and the plugin's key" "$S/check.err" \
  "plugin-key.yaml:2:24: default.idc_affinity_weight: 2 is out of range"
printf 'nosuch:\n  a: 1\n' >"$S/no-plugin.yaml"
run check.out check.err "$DFLYD" --check-config "$S/no-plugin.yaml" \
  --plugin-dir "$DFLY_PLUGIN_BUILD_DIR"
is "dflyd --check-config refuses a section no plugin takes with status 2" "$RUN_STATUS" 2
like "... naming the section and the plugin directories" "$S/check.err" \
  "no-plugin.yaml:1:1: unknown section \"nosuch\": no plugin of that name in .*build-plugins"

# --- dflyctl's command line -------------------------------------------

run help.out help.err "$DFLYCTL" help
is "dflyctl help exits 0" "$RUN_STATUS" 0
for command in status plugins reload version help; do
  like "dflyctl help lists '$command'" "$S/help.out" "^  $command +[A-Z]"
done
run help2.out help2.err "$DFLYCTL" --help
is "dflyctl --help exits 0 and says the same" "$RUN_STATUS:$(cat "$S/help2.out")" "0:$(cat "$S/help.out")"

run unknown.out unknown.err "$DFLYCTL" frobnicate
is "an unknown command exits 2" "$RUN_STATUS" 2
like "... naming the command" "$S/unknown.err" "frobnicate"
like "... with a usage line" "$S/unknown.err" "^Usage: dflyctl "

run extra.out extra.err "$DFLYCTL" status extra
is "a command given arguments it does not take exits 2" "$RUN_STATUS" 2

run option.out option.err "$DFLYCTL" --no-such-option status
is "an unknown option exits 2" "$RUN_STATUS" 2

run buses.out buses.err "$DFLYCTL" --session --address unix:path=/nonexistent status
is "--session with --address exits 2" "$RUN_STATUS" 2

# --- no dflyd ---------------------------------------------------------

start_bus

run absent.out absent.err ctl status
is "dflyctl with no dflyd on the bus exits 3" "$RUN_STATUS" 3
is "... with one line on stderr" "$(line_count "$S/absent.err")" 1
like "... saying how to start dflyd on that bus" "$S/absent.err" \
  "^dflyctl: dflyd is not running on the bus at .*; start it with: dflyd --bus-address="
is "... and nothing on stdout" "$(byte_count "$S/absent.out")" 0

run absent.out absent.err ctl --json plugins
is "dflyctl --json with no dflyd exits 3 and prints no JSON" \
  "$RUN_STATUS:$(byte_count "$S/absent.out")" "3:0"

run absent.out absent.err env DBUS_SYSTEM_BUS_ADDRESS="$BUS_ADDRESS" "$DFLYCTL" status
is "dflyctl on the system bus (the default) with no dflyd exits 3" "$RUN_STATUS" 3
is "... and says to use systemctl" "$(cat "$S/absent.err")" \
  "dflyctl: dflyd is not running on the system bus; start it with: systemctl start dflyd"

run nobus.out nobus.err "$DFLYCTL" --address "unix:path=$S/no-bus-here" status
is "dflyctl with no bus at the address exits 3" "$RUN_STATUS:$(line_count "$S/nobus.err")" "3:1"

run version.out version.err ctl version
is "dflyctl version works with no dflyd" "$RUN_STATUS" 0
like "... and says dflyd is not reachable" "$S/version.out" "^dflyd: "

# --- dflyd up ---------------------------------------------------------

start_dflyd "$CFG"
if ! check "dflyd answers on the bus within 10 s" wait_for_dflyd 10; then
  bail_out "dflyd did not come up; see its log above"
fi

run status.out status.err ctl status
is "dflyctl status exits 0" "$RUN_STATUS" 0
like "status names version, pid and uptime" "$S/status.out" \
  "^dflyd $VERSION, pid $DFLYD_PID, up [0-9]+[smhd]"
is "status names the config file" "$(sed -n 2p "$S/status.out")" "config: $CFG"
for role in manager scheduler seed peer; do
  like "role $role is running" "$S/status.out" "^  $role +running( |\$)"
done
is "roles are listed in start order" \
  "$(sed -n 's/^  \([a-z]*\) .*/\1/p' "$S/status.out" | tr '\n' ' ')" \
  "manager scheduler seed peer "
like "the manager reports the port it really bound" "$S/status.out" \
  "^  manager +running +REST API on http://127\\.0\\.0\\.1:[1-9][0-9]*\$"

# The seed role's engine announces this host (as a seed) to the daemon's own
# scheduler over the protocol; the scheduler counts what it heard.
# Announces come every second here.
scheduler_sees_host () {
  ctl --json status >"$S/hosts.out" 2>&1 && json_check "$S/hosts.out" \
    "[r['detail'] for r in d['roles'] if r['name'] == 'scheduler'] == ['1 host']" >/dev/null
}
tries=100
until scheduler_sees_host || [ "$tries" -eq 0 ]; do
  tries=$((tries - 1))
  sleep 0.1
done
check "the scheduler sees this host (one, the seed and peer in one) within 10 s" scheduler_sees_host ||
  sed 's/^/#   /' "$S/hosts.out"

run status.json status.err ctl --json status
is "dflyctl --json status exits 0" "$RUN_STATUS" 0
check "--json status is one JSON object with version, pid, uptime, config path" \
  json_check "$S/status.json" \
  "d['version'] == '$VERSION' and d['pid'] == $DFLYD_PID
   and isinstance(d['uptime-seconds'], int) and d['uptime-seconds'] >= 0
   and d['config-path'] == '$CFG'"
check "--json status lists the four roles, running, in start order" \
  json_check "$S/status.json" \
  "[r['name'] for r in d['roles']] == ['manager', 'scheduler', 'seed', 'peer']
   and all(r['state'] == 'running' for r in d['roles'])"
check "--json status gives the scheduler's host count" \
  json_check "$S/status.json" \
  "[r['detail'] for r in d['roles'] if r['name'] == 'scheduler'] == ['1 host']"
check "--json status names this host as announced (a seed) and counts no download yet" \
  json_check "$S/status.json" \
  "d['host-id'].startswith('127.0.0.1-') and d['host-type'] == 'super'
   and (d['tasks-started'], d['tasks-succeeded'], d['tasks-failed']) == (0, 0, 0)"

run plugins.json plugins.err ctl --json plugins
is "dflyctl --json plugins exits 0" "$RUN_STATUS" 0
check "--json plugins lists the four roles as loaded, with their files" \
  json_check "$S/plugins.json" \
  "isinstance(d, list) and all(
     any(p['name'] == n and p['kind'] == 'role' and p['state'] == 'loaded'
         and p['reason'] == '' and p['version'] != '' and os.path.isfile(p['path'])
         for p in d)
     for n in ['manager', 'scheduler', 'seed', 'peer'])"

run plugins.out plugins.err ctl plugins
is "dflyctl plugins exits 0" "$RUN_STATUS" 0
like "plugins prints a header" "$S/plugins.out" "^NAME +KIND +VERSION +STATE +PATH\$"
like "plugins prints a row per plugin" "$S/plugins.out" "^manager +role +[^ ]+ +loaded +/"

# --- reload -----------------------------------------------------------

run reload.out reload.err ctl reload
is "reload of an unchanged file exits 0" "$RUN_STATUS" 0
is "... and says there are no changes" "$(cat "$S/reload.out")" "no changes"

replace "$CFG" -e 's/log_level: info/log_level: debug/' \
  -e 's/announce_interval: 1$/announce_interval: 2/'
run reload.out reload.err ctl reload
is "reload of an edited file exits 0" "$RUN_STATUS" 0
like "... and reports the log level change" "$S/reload.out" "^daemon\\.log_level: info -> debug\$"
like "... and the announce interval change" "$S/reload.out" "^host\\.announce_interval: 1s? -> 2s?\$"
is "... and nothing else" "$(line_count "$S/reload.out")" 2
like "dflyd logs the changes" "$DFLYD_LOG" "config changed: daemon\\.log_level: info -> debug"

cp "$CFG" "$S/running.yaml"
replace "$CFG" -e 's/log_level: debug/log_level: loud/'
BAD_LINE=$(grep -n 'log_level: loud' "$CFG" | cut -d: -f1)
run reload.out reload.err ctl reload
is "reload of a broken file exits 2" "$RUN_STATUS" 2
is "... with one line on stderr" "$(line_count "$S/reload.err")" 1
like "... naming file:line and the key" "$S/reload.err" "^dflyctl: .*$CFG:$BAD_LINE:.*log_level"
unlike "... without D-Bus error names" "$S/reload.err" "GDBus|org\\.dfly\\.Error|org\\.freedesktop"
run reload.json reload.err ctl --json reload
is "--json reload of a broken file exits 2 and prints no JSON" \
  "$RUN_STATUS:$(byte_count "$S/reload.json")" "2:0"
check "dflyd keeps running after a broken reload" pid_alive "$DFLYD_PID"
run status.out status.err ctl status
is "... and still answers" "$RUN_STATUS" 0

cp "$S/running.yaml" "$CFG"
run reload.json reload.err ctl --json reload
check "restoring the file: --json reload reports no changes, so the old config was kept" \
  json_check "$S/reload.json" "d == {'changes': []}"

replace "$CFG" -e 's/log_level: debug/log_level: info/'
kill -HUP "$DFLYD_PID"
check "SIGHUP reloads: dflyd logs the change" \
  wait_for_line "$DFLYD_LOG" "config changed: daemon\\.log_level: debug -> info" 10
check "dflyd keeps running after SIGHUP" pid_alive "$DFLYD_PID"
run reload.out reload.err ctl reload
is "after SIGHUP, reload has nothing left to change" "$RUN_STATUS:$(cat "$S/reload.out")" "0:no changes"

# --- shutdown ---------------------------------------------------------

# Role states travel as D-Bus signals: watch them while dflyd stops.
gdbus monitor --address "$BUS_ADDRESS" --dest org.dfly.Daemon1 >"$S/monitor.out" 2>&1 &
MONITOR_PID=$!
wait_for_line "$S/monitor.out" "Monitoring signals" 10 || diag "gdbus monitor did not start"
stop_dflyd 15
is "SIGTERM: dflyd exits 0 within the grace period" "$DFLYD_STATUS" 0
kill "$MONITOR_PID" 2>/dev/null
wait "$MONITOR_PID" 2>/dev/null
like "each role's stopping is a RoleStateChanged signal" "$S/monitor.out" \
  "RoleStateChanged \\('peer', 'stopping'\\)"
is "roles start in order" \
  "$(sed -n 's/.*role \([a-z]*\) running$/\1/p' "$DFLYD_LOG" | tr '\n' ' ')" \
  "manager scheduler seed peer "
is "roles stop in reverse order" \
  "$(sed -n 's/.*role \([a-z]*\) stopped$/\1/p' "$DFLYD_LOG" | tr '\n' ' ')" \
  "peer seed scheduler manager "
unlike "dflyd logged no warnings or criticals" "$DFLYD_LOG" "WARNING|CRITICAL"

run gone.out gone.err ctl status
is "after dflyd exits, dflyctl exits 3" "$RUN_STATUS" 3

done_testing
