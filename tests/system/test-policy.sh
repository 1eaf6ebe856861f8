#!/bin/sh
# test-policy.sh — the shipped D-Bus policy, data/org.dfly.Daemon1.conf, on a
# private bus of type system with the real system bus defaults: root owns the
# name and calls dflyd; nobody can neither own the name nor call it. When
# the test may make a private mount namespace, it also gives that namespace
# a user and group dfly (and an operator in group dfly) to prove that user
# dfly may own the name and that the group may call dflyd.
#
# Needs root: clients run as other users through setpriv.

if [ "$(id -u)" -ne 0 ]; then
  echo "1..0 # SKIP needs root to run D-Bus clients as other users"
  exit 0
fi

# Re-run in a private mount namespace, where /etc/passwd and /etc/group can be
# replaced without touching the machine's.
if [ -z "${DFLY_POLICY_NS:-}" ]; then
  if command -v unshare >/dev/null 2>&1 &&
    unshare --mount --propagation private true 2>/dev/null; then
    DFLY_POLICY_NS=1 exec unshare --mount --propagation private -- /bin/sh "$0" "$@"
  fi
  DFLY_POLICY_NS=0
fi

. "$top_srcdir/tests/lib.sh"

S=$SCRATCH
POLICY="$top_srcdir/data/org.dfly.Daemon1.conf"
NOBODY_UID=65534
NOBODY_GID=65534

command -v setpriv >/dev/null || skip_all "setpriv (util-linux) is not installed"
command -v dbus-send >/dev/null || skip_all "dbus-send is not installed"
command -v gdbus >/dev/null || skip_all "gdbus is not installed"

# Other users must reach the bus socket and read the configs; the scratch
# directory stays unlistable.
chmod 0711 "$S"

# as UID GID GROUPS COMMAND...: COMMAND as that user, with exactly the
# supplementary groups GROUPS (comma-separated gids, or "" for none).
as () {
  _uid=$1 _gid=$2 _groups=$3
  shift 3
  if [ -n "$_groups" ]; then
    setpriv --reuid="$_uid" --regid="$_gid" --groups="$_groups" -- env HOME=/nonexistent "$@"
  else
    setpriv --reuid="$_uid" --regid="$_gid" --clear-groups -- env HOME=/nonexistent "$@"
  fi
}

# --- users of the namespace -----------------------------------------------

# free_id DATABASE: a uid or gid above 60000 that DATABASE does not know.
free_id () {
  _id=64100
  while getent "$1" "$_id" >/dev/null 2>&1; do
    _id=$((_id + 1))
  done
  echo "$_id"
}

HAVE_DFLY_USERS=0
if [ "$DFLY_POLICY_NS" = 1 ] && ! getent passwd dfly >/dev/null 2>&1 &&
  ! getent group dfly >/dev/null 2>&1; then
  DFLY_UID=$(free_id passwd)
  DFLY_GID=$(free_id group)
  OP_UID=$((DFLY_UID + 1))
  while getent passwd "$OP_UID" >/dev/null 2>&1; do
    OP_UID=$((OP_UID + 1))
  done
  cp /etc/passwd "$S/passwd" && cp /etc/group "$S/group" &&
    printf 'dfly:x:%s:%s:dfly:/nonexistent:/usr/sbin/nologin\n' "$DFLY_UID" "$DFLY_GID" >>"$S/passwd" &&
    printf 'dflyop:x:%s:%s:dfly operator:/nonexistent:/usr/sbin/nologin\n' "$OP_UID" "$NOBODY_GID" >>"$S/passwd" &&
    printf 'dfly:x:%s:dflyop\n' "$DFLY_GID" >>"$S/group" &&
    chmod 0644 "$S/passwd" "$S/group" &&
    mount --bind "$S/passwd" /etc/passwd && mount --bind "$S/group" /etc/group &&
    [ "$(getent group dfly | cut -d: -f3)" = "$DFLY_GID" ] &&
    HAVE_DFLY_USERS=1
  [ "$HAVE_DFLY_USERS" = 1 ] || diag "could not add user and group dfly in the namespace"
fi

# skip_unless_users DESCRIPTION COMMAND...: the check, or a skip when the
# namespace has no user dfly.
skip_unless_users () {
  if [ "$HAVE_DFLY_USERS" = 1 ]; then
    check "$@"
  else
    TAP_COUNT=$((TAP_COUNT + 1))
    printf 'ok %d - %s # SKIP no private mount namespace for a user dfly\n' "$TAP_COUNT" "$1"
  fi
}

# --- a private system bus --------------------------------------------------

# The defaults of /usr/share/dbus-1/system.conf, then our policy file, as the
# system bus includes system.d/*.conf: nothing else opens the bus.
cat >"$S/system-bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$S/system-bus.socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Properties"/>
    <deny send_destination="org.freedesktop.DBus"
          send_interface="org.freedesktop.DBus"
          send_member="UpdateActivationEnvironment"/>
  </policy>
  <include>$POLICY</include>
</busconfig>
EOF

if dbus-daemon --config-file="$S/system-bus.conf" --fork --nosyslog \
  --print-address=3 --print-pid=4 \
  3>"$S/system-bus.address" 4>"$S/system-bus.pid" </dev/null >>"$S/system-bus.log" 2>&1; then
  BUS_PID=$(cat "$S/system-bus.pid")
  BUS_ADDRESS=$(head -n 1 "$S/system-bus.address")
  track_pid "$BUS_PID"
  ok "a system bus starts with the shipped policy"
else
  not_ok "a system bus starts with the shipped policy"
  done_testing
fi
# Without the namespace's user dfly, dbus-daemon rightly notes its absence.
if [ "$HAVE_DFLY_USERS" = 1 ]; then
  cp "$S/system-bus.log" "$S/system-bus.complaints"
else
  grep -Ev 'Unknown (username|group) "dfly"' "$S/system-bus.log" >"$S/system-bus.complaints"
fi
unlike "... and dbus-daemon has no complaint about it" "$S/system-bus.complaints" "."
export DBUS_SYSTEM_BUS_ADDRESS="$BUS_ADDRESS"

# request_name OUT UID GID GROUPS: RequestName org.dfly.Daemon1 as that user,
# without queueing; the process exits at once, so the name is free after.
request_name () {
  _out=$1
  shift
  as "$@" timeout 10 dbus-send --system --print-reply --dest=org.freedesktop.DBus \
    /org/freedesktop/DBus org.freedesktop.DBus.RequestName \
    string:org.dfly.Daemon1 uint32:4 >"$S/$_out" 2>&1
}

request_name own-nobody.out "$NOBODY_UID" "$NOBODY_GID" ""
like "nobody may not own org.dfly.Daemon1" "$S/own-nobody.out" \
  "org.freedesktop.DBus.Error.AccessDenied"
request_name own-root.out 0 0 ""
like "root may own org.dfly.Daemon1" "$S/own-root.out" "uint32 1\$"
if [ "$HAVE_DFLY_USERS" = 1 ]; then
  request_name own-dfly.out "$DFLY_UID" "$DFLY_GID" "$DFLY_GID"
  request_name own-op.out "$OP_UID" "$NOBODY_GID" "$DFLY_GID"
fi
skip_unless_users "user dfly may own org.dfly.Daemon1" grep -q "uint32 1\$" "$S/own-dfly.out"
skip_unless_users "a member of group dfly may not" \
  grep -q "org.freedesktop.DBus.Error.AccessDenied" "$S/own-op.out"

# A dflyd run by nobody is refused the name and says so. No roles, no
# plugins: only the name is at stake.
mkdir -p "$S/empty"
cat >"$S/nobody.yaml" <<EOF
daemon:
  roles: []
  state_dir: $S/empty
  cache_dir: $S/empty
storage:
  backend: ""
EOF
chmod 0644 "$S/nobody.yaml"
as "$NOBODY_UID" "$NOBODY_GID" "" timeout 20 "$DFLYD" --bus-address "$BUS_ADDRESS" \
  --config "$S/nobody.yaml" --plugin-dir "$S/empty" </dev/null >"$S/dflyd-nobody.log" 2>&1
is "a dflyd run by nobody exits 1" "$?" 1
like "... because it cannot own the name" "$S/dflyd-nobody.log" \
  "cannot own the D-Bus name org.dfly.Daemon1"

# --- dflyd as root ---------------------------------------------------------

write_config "$S/dflyd.yaml"
start_dflyd "$S/dflyd.yaml"
check "dflyd run by root owns the name and answers root" wait_for_dflyd 20 || done_testing

run root-status.out root-status.err "$DFLYCTL" --address "$BUS_ADDRESS" status
is "dflyctl status as root exits 0" "$RUN_STATUS" 0
run root-plugins.out root-plugins.err "$DFLYCTL" --system --json plugins
is "dflyctl --system --json plugins as root exits 0" "$RUN_STATUS" 0
run root-introspect.out root-introspect.err timeout 10 gdbus introspect --system \
  --dest org.dfly.Daemon1 --object-path /org/dfly/Daemon1
like "root may introspect dflyd" "$S/root-introspect.out" "interface org.dfly.Daemon1"

run nobody-status.out nobody-status.err as "$NOBODY_UID" "$NOBODY_GID" "" \
  "$DFLYCTL" --address "$BUS_ADDRESS" status
is "dflyctl status as nobody is refused with exit status 9" "$RUN_STATUS" 9
is "... and prints nothing on stdout" "$(wc -c <"$S/nobody-status.out" | tr -d ' ')" 0
run nobody-reload.out nobody-reload.err as "$NOBODY_UID" "$NOBODY_GID" "" \
  "$DFLYCTL" --system reload
is "dflyctl --system reload as nobody exits 9" "$RUN_STATUS" 9
run nobody-introspect.out nobody-introspect.err as "$NOBODY_UID" "$NOBODY_GID" "" \
  timeout 10 gdbus introspect --system --dest org.dfly.Daemon1 --object-path /org/dfly/Daemon1
like "nobody may not introspect dflyd" "$S/nobody-introspect.err" "AccessDenied"
run nobody-ping.out nobody-ping.err as "$NOBODY_UID" "$NOBODY_GID" "" \
  timeout 10 dbus-send --system --print-reply --dest=org.dfly.Daemon1 /org/dfly/Daemon1 \
  org.freedesktop.DBus.Peer.Ping
like "nobody may not ping dflyd" "$S/nobody-ping.err" "AccessDenied"
run nobody-get.out nobody-get.err as "$NOBODY_UID" "$NOBODY_GID" "" \
  timeout 10 dbus-send --system --print-reply --dest=org.dfly.Daemon1 /org/dfly/Daemon1 \
  org.freedesktop.DBus.Properties.GetAll string:org.dfly.Daemon1
like "nobody may not read dflyd's properties" "$S/nobody-get.err" "AccessDenied"

if [ "$HAVE_DFLY_USERS" = 1 ]; then
  run op-status.out op-status.err as "$OP_UID" "$NOBODY_GID" "$DFLY_GID" \
    "$DFLYCTL" --address "$BUS_ADDRESS" status
  OP_STATUS=$RUN_STATUS
  run op-ping.out op-ping.err as "$OP_UID" "$NOBODY_GID" "$DFLY_GID" \
    timeout 10 dbus-send --system --print-reply --dest=org.dfly.Daemon1 /org/dfly/Daemon1 \
    org.freedesktop.DBus.Peer.Ping
  OP_PING=$RUN_STATUS
  run dfly-status.out dfly-status.err as "$DFLY_UID" "$DFLY_GID" "$DFLY_GID" \
    "$DFLYCTL" --address "$BUS_ADDRESS" --json status
fi
skip_unless_users "a member of group dfly may run dflyctl status" [ "${OP_STATUS:-1}" = 0 ]
skip_unless_users "... and ping dflyd" [ "${OP_PING:-1}" = 0 ]
skip_unless_users "user dfly may run dflyctl --json status" \
  json_check "$S/dfly-status.out" "isinstance(d, dict)"

stop_dflyd 15
is "dflyd exits 0 on SIGTERM" "$DFLYD_STATUS" 0

done_testing
