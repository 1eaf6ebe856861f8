#!/bin/sh
# test-bus-policy.sh — when the bus policy refuses dflyctl, it says so and
# exits 9, instead of claiming dflyd is not running.
. "$top_srcdir/tests/lib.sh"
need dbus-daemon

S=$SCRATCH
CFG="$S/dflyd.yaml"
write_config "$CFG"

# Anyone may own names and talk, except to dflyd: what an operator outside
# group dfly meets on the system bus.
start_bus bus '<policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
    <deny send_destination="org.dfly.Daemon1"/>
  </policy>'

run absent.out absent.err "$DFLYCTL" --address "$BUS_ADDRESS" status
is "before dflyd starts, dflyctl exits 3" "$RUN_STATUS" 3

start_dflyd "$CFG"

# dflyctl cannot see dflyd answer here, so wait for the refusal instead.
refused () {
  RUN_STATUS=0
  "$DFLYCTL" --address "$BUS_ADDRESS" status >"$S/denied.out" 2>"$S/denied.err" || RUN_STATUS=$?
  [ "$RUN_STATUS" -ne 3 ]
}
tries=100
until refused || [ "$tries" -eq 0 ] || ! pid_alive "$DFLYD_PID"; do
  tries=$((tries - 1))
  sleep 0.1
done
is "once dflyd owns its name, a refused call exits 9" "$RUN_STATUS" 9
is "... with one line on stderr" "$(wc -l <"$S/denied.err" | tr -d ' ')" 1
like "... saying the bus policy refused it" "$S/denied.err" \
  "^dflyctl: the D-Bus policy refused the call; only root and members of group dfly may control dflyd\$"
is "... and nothing on stdout" "$(wc -c <"$S/denied.out" | tr -d ' ')" 0

run denied.out denied.err env DBUS_SYSTEM_BUS_ADDRESS="$BUS_ADDRESS" "$DFLYCTL" --json reload
is "the same on the system bus with --json" "$RUN_STATUS:$(wc -c <"$S/denied.out" | tr -d ' ')" "9:0"

stop_dflyd 15
is "dflyd exits 0 on SIGTERM" "$DFLYD_STATUS" 0

done_testing
