#!/bin/sh
# test-third-party.sh — what a distro package and a plugin author get from
# `make install`: the staged tree holds everything it should (and no libtool
# .la in the plugin directory); a plugin built out of tree with nothing but
# `pkg-config dfly-plugin-1` exports one symbol and runs as a role of the
# installed dflyd next to the installed in-tree plugins; the German catalogue
# is installed and used; `make uninstall` leaves nothing behind.
. "$top_srcdir/tests/lib.sh"

S=$SCRATCH
D="$S/root"

# skip DESCRIPTION REASON: an ok line that says why nothing was checked.
skip () {
  TAP_COUNT=$((TAP_COUNT + 1))
  printf 'ok %d - %s # SKIP %s\n' "$TAP_COUNT" "$1" "$2"
}

# A make of the build tree, not of the `make check` running this test.
build_make () {
  env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES \
    timeout 600 "${MAKE:-make}" --no-print-directory -C "$top_builddir" "$@"
}

# install_dir NAME: an installation directory as the build tree's Makefile
# has it (exported by tests/install.mk; asked of make when run by hand).
printf 'print-%%:\n\t@echo '"'"'$($*)'"'"'\n' >"$S/print.mk"
install_dir () {
  eval "_dir=\${DFLY_INSTALL_$1:-}"
  if [ -z "$_dir" ]; then
    _dir=$(build_make -s -f Makefile -f "$S/print.mk" "print-$1")
  fi
  [ -n "$_dir" ] || bail_out "cannot tell where make installs $1"
  echo "$_dir"
}

prefix=$(install_dir prefix)
bindir=$(install_dir bindir)
sbindir=$(install_dir sbindir)
libdir=$(install_dir libdir)
includedir=$(install_dir includedir)
plugindir=$(install_dir plugindir)
sysconfdir=$(install_dir sysconfdir)
datadir=$(install_dir datadir)
pkgdatadir=$(install_dir pkgdatadir)
mandir=$(install_dir mandir)
localedir=$(install_dir localedir)
unitdir=$(install_dir systemdsystemunitdir)
policydir=$(install_dir dbuspolicydir)
sysusersdir=$(install_dir sysusersdir)

# --- make install ------------------------------------------------------------

RUN_STATUS=0
build_make install DESTDIR="$D" >"$S/install.log" 2>&1 || RUN_STATUS=$?
is "make install DESTDIR=… succeeds" "$RUN_STATUS" 0 || done_testing

# staged DESCRIPTION PATH...: ok when every PATH exists in the staged tree.
staged () {
  _desc=$1
  shift
  _missing=""
  for _path in "$@"; do
    [ -e "$D$_path" ] || _missing="$_missing $_path"
  done
  is "$_desc" "$_missing" ""
}

staged "the programs are installed" "$sbindir/dflyd" "$bindir/dflyctl"
staged "libdfly-1 is installed with its development link" \
  "$libdir/libdfly-1.so" "$libdir/pkgconfig/dfly-plugin-1.pc"
staged "the public headers are installed under include/dfly-1/dfly/" \
  "$includedir/dfly-1/dfly/dfly.h" "$includedir/dfly-1/dfly/dfly-plugin.h" \
  "$includedir/dfly-1/dfly/dfly-role.h" "$includedir/dfly-1/dfly/dfly-version.h"
missing=""
for header in $(sed -n 's/^#include "\(dfly[a-z-]*\.h\)"$/\1/p' \
  "$D$includedir/dfly-1/dfly/"*.h | sort -u); do
  [ -f "$D$includedir/dfly-1/dfly/$header" ] || missing="$missing $header"
done
is "... and every header they include is installed too" "$missing" ""
staged "the linker version script is installed" "$pkgdatadir/dfly-plugin.map"
staged "the in-tree plugins are installed" "$plugindir/manager.so" "$plugindir/scheduler.so" \
  "$plugindir/seed.so" "$plugindir/peer.so"
is "no libtool archive is left in the plugin directory" \
  "$(cd "$D$plugindir" && find . -name '*.la' | tr '\n' ' ')" ""
staged "the default config is installed" "$sysconfdir/dfly/dflyd.yaml"
staged "the systemd unit is installed" "$unitdir/dflyd.service"
staged "the D-Bus policy and interface are installed" \
  "$policydir/org.dfly.Daemon1.conf" "$datadir/dbus-1/interfaces/org.dfly.Daemon1.xml"
staged "the sysusers.d entry is installed as dfly.conf" "$sysusersdir/dfly.conf"
staged "the man pages are installed" \
  "$mandir/man8/dflyd.8" "$mandir/man1/dflyctl.1" "$mandir/man5/dflyd.yaml.5"
staged "the German catalogue is installed" "$localedir/de/LC_MESSAGES/dfly.mo"

# --- the German catalogue ------------------------------------------------------

if command -v gettext >/dev/null; then
  msgid="dflyd is not running on the session bus; start it with: dflyd --session"
  got=$(TEXTDOMAINDIR="$D$localedir" LC_ALL=C.UTF-8 LANGUAGE=de gettext -d dfly "$msgid")
  is "the installed catalogue translates dflyctl's hint" "$got" \
    "dflyd läuft nicht auf dem Sitzungsbus; starten Sie ihn mit: dflyd --session"
else
  skip "the installed catalogue translates dflyctl's hint" "gettext is not installed"
fi

# dflyctl finds its catalogue under the compiled-in localedir only: lay the
# staged one over it in a private mount namespace to see dflyctl speak German.
if [ "$(id -u)" -eq 0 ] && [ -d "$localedir" ] && command -v unshare >/dev/null &&
  unshare --mount --propagation private true 2>/dev/null; then
  RUN_STATUS=0
  unshare --mount --propagation private -- sh -c '
    mount --bind "$1" "$2" || exit 99
    shift 2
    exec env LC_ALL=C.UTF-8 LANGUAGE=de "$@"' sh "$D$localedir" "$localedir" \
    env LD_LIBRARY_PATH="$D$libdir" "$D$bindir/dflyctl" >"$S/de.out" 2>"$S/de.err" ||
    RUN_STATUS=$?
  is "the installed dflyctl without a command exits 2" "$RUN_STATUS" 2
  like "... and says so in German" "$S/de.err" "^dflyctl: kein Befehl angegeben\$"
  like "... with the German usage line" "$S/de.err" "^Aufruf: dflyctl "
else
  skip "the installed dflyctl speaks German" \
    "needs root, unshare and an existing $localedir to lay the catalogue over"
fi

# --- a third-party plugin, built out of tree with pkg-config only ----------------

# The staged .pc, with only its prefix moved into the staging tree: every
# other directory derives from ${prefix}. (PKG_CONFIG_SYSROOT_DIR would move
# GLib's -I and -L into the staging tree as well.)
mkdir -p "$S/pkgconfig" "$S/hello-build"
sed "s|^prefix=.*|prefix=$D$prefix|" "$D$libdir/pkgconfig/dfly-plugin-1.pc" \
  >"$S/pkgconfig/dfly-plugin-1.pc"
is "the .pc moves with its prefix alone" \
  "$(diff "$D$libdir/pkgconfig/dfly-plugin-1.pc" "$S/pkgconfig/dfly-plugin-1.pc" | grep -c '^>')" 1
export PKG_CONFIG_PATH="$S/pkgconfig"
like_text () {
  printf '%s\n' "$2" >"$S/text"
  like "$1" "$S/text" "$3"
}
like_text "pkg-config --cflags points into the staged headers" \
  "$(pkg-config --cflags dfly-plugin-1)" "-I$D$includedir/dfly-1( |\$)"
like_text "pkg-config --libs links the staged libdfly-1" \
  "$(pkg-config --libs dfly-plugin-1)" "-L$D$libdir -ldfly-1( |\$)"

RUN_STATUS=0
(cd "$S/hello-build" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u CFLAGS -u LDFLAGS \
  timeout 120 "${MAKE:-make}" -f "$top_srcdir/tests/third-party/Makefile") \
  >"$S/hello-build.log" 2>&1 || RUN_STATUS=$?
is "the hello plugin builds out of tree with its own Makefile" "$RUN_STATUS" 0
HELLO="$S/hello-build/hello.so"
check "... into hello.so" [ -f "$HELLO" ] || done_testing
unlike "... without a compiler warning" "$S/hello-build.log" "warning:"
like "... with the staged version script" "$S/hello-build.log" \
  "--version-script=$D$pkgdatadir/dfly-plugin\\.map"
is "hello.so exports exactly one symbol, dfly_plugin_query" \
  "$(nm -D --defined-only "$HELLO" | awk '{ print $3 }' | tr '\n' ' ')" "dfly_plugin_query "
is "hello-source.so too" "$(nm -D --defined-only "$S/hello-build/hello-source.so" |
  awk '{ print $3 }' | tr '\n' ' ')" "dfly_plugin_query "
check "a source plugin with a setting takes at most 80 lines of C" \
  [ "$(wc -l <"$top_srcdir/tests/third-party/hello-source.c")" -le 80 ]
if command -v readelf >/dev/null; then
  like_text "hello.so links libdfly-1" "$(readelf -d "$HELLO")" "NEEDED.*\\[libdfly-1\\.so\\.[0-9]+\\]"
fi

# --- the installed dflyd runs it ---------------------------------------------------

start_bus

# dflyctl and dflyd as installed, with the staged libdfly-1.
mkdir -p "$S/bin"
cat >"$S/bin/dflyctl" <<EOF
#!/bin/sh
LD_LIBRARY_PATH='$D$libdir' exec '$D$bindir/dflyctl' "\$@"
EOF
chmod +x "$S/bin/dflyctl"
DFLYCTL="$S/bin/dflyctl"

# hello-source has a setting of its own: the bytes it serves prove it arrived.
GREETING="Hallo from a plugin's own section! "
write_config "$S/base.yaml" "hello-source:" "  greeting: \"$GREETING\"" "  size: 1000"
sed 's/^  roles: .*/  roles: [manager, scheduler, seed, peer, hello]/' "$S/base.yaml" \
  >"$S/dflyd.yaml"

# --check-config holds the plugin's section to its table, with the position.
printf 'hello-source:\n  size: 2MiB\n' >"$S/bad-hello.yaml"
run check.out check.err env LD_LIBRARY_PATH="$D$libdir" "$D$sbindir/dflyd" \
  --check-config "$S/bad-hello.yaml" --plugin-dir "$D$plugindir" --plugin-dir "$S/hello-build"
is "dflyd --check-config refuses a bad value of the plugin's own key" "$RUN_STATUS" 2
like "... naming file:line:column and the key" "$S/check.err" \
  "bad-hello.yaml:2:9: hello-source.size: 2MiB is out of range"
run check.out check.err env LD_LIBRARY_PATH="$D$libdir" "$D$sbindir/dflyd" \
  --check-config "$S/dflyd.yaml" --plugin-dir "$D$plugindir" --plugin-dir "$S/hello-build"
is "dflyd --check-config accepts the plugin's section" "$RUN_STATUS" 0
DFLYD_LOG="$S/dflyd.log"
LD_LIBRARY_PATH="$D$libdir" "$D$sbindir/dflyd" --bus-address "$BUS_ADDRESS" \
  --config "$S/dflyd.yaml" --plugin-dir "$D$plugindir" --plugin-dir "$S/hello-build" \
  </dev/null >>"$DFLYD_LOG" 2>&1 &
DFLYD_PID=$!
track_pid "$DFLYD_PID"
check "the installed dflyd starts and answers" wait_for_dflyd 20 || done_testing

run plugins.json plugins.err "$DFLYCTL" --address "$BUS_ADDRESS" --json plugins
is "dflyctl --json plugins exits 0" "$RUN_STATUS" 0
check "... and lists hello as a loaded role from hello.so" json_check "$S/plugins.json" \
  "[(p['kind'], p['state'], p['version'], p['path']) for p in d if p['name'] == 'hello'] == \
[('role', 'loaded', '1.0.0', '$HELLO')]"
check "... next to the installed manager, scheduler, seed and peer" json_check "$S/plugins.json" \
  "all([(p['kind'], p['state'], os.path.dirname(p['path'])) for p in d if p['name'] == n] == \
[('role', 'loaded', '$D$plugindir')] for n in ('manager', 'scheduler', 'seed', 'peer'))"

run status.json status.err "$DFLYCTL" --address "$BUS_ADDRESS" --json status
is "dflyctl --json status exits 0" "$RUN_STATUS" 0
check "... and shows role hello running with its description" json_check "$S/status.json" \
  "[(r['state'], r['detail']) for r in d['roles'] if r['name'] == 'hello'] == \
[('running', 'says hello from outside the tree')]"
check "... after the four in-tree roles, in config order" json_check "$S/status.json" \
  "[r['name'] for r in d['roles']] == ['manager', 'scheduler', 'seed', 'peer', 'hello']"
run status.out status.err "$DFLYCTL" --address "$BUS_ADDRESS" status
like "dflyctl status shows the same in its table" "$S/status.out" \
  "hello +running +says hello from outside the tree"
like "the role logged that it started" "$DFLYD_LOG" "hello role started"

run get.out get.err "$DFLYCTL" --address "$BUS_ADDRESS" get hello://greeting -O "$S/hello.out"
is "dflyctl get hello://greeting from the third-party source exits 0" "$RUN_STATUS" 0
expected=$(python3 -c 'import sys; g = sys.argv[1]; sys.stdout.write((g * 1000)[:1000])' \
  "$GREETING")
is "... with 1000 bytes of the greeting its section set" "$(cat "$S/hello.out")" "$expected"

stop_dflyd 15
is "the installed dflyd exits 0 on SIGTERM" "$DFLYD_STATUS" 0

# --- make uninstall --------------------------------------------------------------

RUN_STATUS=0
build_make uninstall DESTDIR="$D" >"$S/uninstall.log" 2>&1 || RUN_STATUS=$?
is "make uninstall DESTDIR=… succeeds" "$RUN_STATUS" 0
is "... and leaves no file behind" "$(cd "$D" && find . ! -type d | sort | tr '\n' ' ')" ""

done_testing
