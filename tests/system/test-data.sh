#!/bin/sh
# test-data.sh — the files a distro package ships besides the binaries:
# man pages render without warnings, the D-Bus files are well-formed XML,
# the systemd unit verifies, the sysusers.d entry creates user and group
# dfly, the pkg-config file is valid and relocatable, and the German
# catalogue compiles and translates.
. "$top_srcdir/tests/lib.sh"

S=$SCRATCH
DATA="$top_srcdir/data"
: "${DFLY_INSTALL_prefix:=/usr}"
: "${DFLY_INSTALL_sbindir:=$DFLY_INSTALL_prefix/sbin}"
: "${DFLY_INSTALL_sysconfdir:=/etc}"

# skip DESCRIPTION REASON: an ok line that says why nothing was checked.
skip () {
  TAP_COUNT=$((TAP_COUNT + 1))
  printf 'ok %d - %s # SKIP %s\n' "$TAP_COUNT" "$1" "$2"
}

# empty DESCRIPTION FILE: ok when FILE has no bytes; shows them if not.
empty () {
  if [ -s "$2" ]; then
    not_ok "$1"
    sed 's/^/#   /' "$2"
    return 1
  fi
  ok "$1"
}

# --- man pages ---------------------------------------------------------

for page in dflyd.8 dflyctl.1 dflyd.yaml.5; do
  if [ ! -f "$DATA/$page" ]; then
    not_ok "man page $page exists"
    continue
  fi
  if command -v man >/dev/null; then
    LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 \
      man --warnings -E UTF-8 -l -Tutf8 -Z "$DATA/$page" >/dev/null 2>"$S/$page.warnings"
    empty "man --warnings renders $page without a warning" "$S/$page.warnings"
  else
    skip "man --warnings renders $page without a warning" "man is not installed"
  fi
  if command -v groff >/dev/null; then
    groff -man -ww -z "$DATA/$page" >"$S/$page.groff" 2>&1
    empty "groff -man -ww renders $page without a warning" "$S/$page.groff"
  else
    skip "groff -man -ww renders $page without a warning" "groff is not installed"
  fi
  is "$page has a NAME section" "$(grep -c '^\.SH NAME' "$DATA/$page")" 1
done

# --- D-Bus files ---------------------------------------------------------

# well_formed FILE: parses as XML (external DTDs are not fetched).
well_formed () {
  if command -v xmllint >/dev/null; then
    xmllint --noout --nonet "$1"
  else
    python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$1"
  fi
}

for xml in org.dfly.Daemon1.conf org.dfly.Daemon1.xml; do
  check "$xml is well-formed XML" well_formed "$DATA/$xml"
done
like "the policy lets only root and user dfly own the name" "$DATA/org.dfly.Daemon1.conf" \
  '<policy user="dfly">'
python3 - "$DATA/org.dfly.Daemon1.conf" >"$S/policy.out" 2>&1 <<'EOF'
import sys, xml.dom.minidom
doc = xml.dom.minidom.parse(sys.argv[1])
owners, senders, default = [], [], []
for policy in doc.getElementsByTagName("policy"):
    who = policy.getAttribute("user") or ("@" + policy.getAttribute("group")) \
        if not policy.getAttribute("context") else "default"
    for rule in policy.childNodes:
        if rule.nodeType != rule.ELEMENT_NODE:
            continue
        if who == "default":
            default.append((rule.tagName, sorted(rule.attributes.items())))
        elif rule.tagName == "allow" and rule.getAttribute("own"):
            owners.append(who)
        elif rule.tagName == "allow" and rule.getAttribute("send_destination"):
            senders.append((who, rule.getAttribute("send_interface")))
ok = True
def expect(what, got, want):
    global ok
    if got != want:
        print("%s: got %r, want %r" % (what, got, want))
        ok = False
expect("owners", sorted(owners), ["dfly", "root"])
ifaces = ["org.dfly.Daemon1", "org.freedesktop.DBus.Introspectable",
          "org.freedesktop.DBus.Peer", "org.freedesktop.DBus.Properties"]
expect("senders", sorted(senders), sorted([(w, i) for w in ("root", "@dfly") for i in ifaces]))
expect("default", sorted(default),
       [("deny", [("own", "org.dfly.Daemon1")]),
        ("deny", [("send_destination", "org.dfly.Daemon1")])])
sys.exit(0 if ok else 1)
EOF
if [ $? -eq 0 ]; then
  ok "... and only root and group dfly call it; the default denies both"
else
  not_ok "... and only root and group dfly call it; the default denies both"
  sed 's/^/#   /' "$S/policy.out"
fi

# --- the systemd unit ------------------------------------------------------

UNIT="$top_builddir/data/dflyd.service"
check "the unit is generated in the build tree" [ -f "$UNIT" ]
unlike "... with every @variable@ substituted" "$UNIT" '@[A-Za-z_]+@'
like "... running the installed dflyd on the system bus" "$UNIT" \
  "^ExecStart=$DFLY_INSTALL_sbindir/dflyd --system --config $DFLY_INSTALL_sysconfdir/dfly/dflyd.yaml\$"
like "... as user dfly" "$UNIT" '^User=dfly$'
like "... as a D-Bus service" "$UNIT" '^BusName=org.dfly.Daemon1$'

if command -v systemd-analyze >/dev/null; then
  # The installed dflyd does not exist yet: verify a copy that runs the
  # build tree's. Man pages are not installed either.
  mkdir -p "$S/unit"
  sed "s|^ExecStart=[^ ]*|ExecStart=$DFLYD|" "$UNIT" >"$S/unit/dflyd.service"
  RUN_STATUS=0
  (cd "$S/unit" && SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no \
    "$S/unit/dflyd.service") >"$S/verify.out" 2>&1 || RUN_STATUS=$?
  is "systemd-analyze verify accepts the unit" "$RUN_STATUS" 0
  unlike "... without a word about it" "$S/verify.out" "dflyd\\.service"
  if [ "$RUN_STATUS" -ne 0 ] || grep -q "dflyd\\.service" "$S/verify.out"; then
    sed 's/^/#   /' "$S/verify.out"
  fi
  # Hardening the operator relies on, read back by systemd itself.
  systemd-analyze security --offline=true --no-pager "$S/unit/dflyd.service" \
    >"$S/security.out" 2>&1 || true
  if grep -q "Overall exposure level" "$S/security.out"; then
    level=$(sed -n 's/.*Overall exposure level for dflyd.service: \([0-9.]*\).*/\1/p' \
      "$S/security.out")
    diag "systemd-analyze security: exposure $level"
    check "systemd-analyze security rates the unit below 3.0 (OK)" \
      python3 -c "import sys; sys.exit(0 if float('$level') < 3.0 else 1)"
  else
    skip "systemd-analyze security rates the unit below 3.0 (OK)" \
      "this systemd-analyze has no offline security check"
  fi
else
  skip "systemd-analyze verify accepts the unit" "systemd-analyze is not installed"
fi

# --- sysusers.d ------------------------------------------------------------

if command -v systemd-sysusers >/dev/null; then
  mkdir -p "$S/sysroot/etc"
  RUN_STATUS=0
  systemd-sysusers --root="$S/sysroot" "$DATA/dfly.sysusers.conf" >"$S/sysusers.out" 2>&1 ||
    RUN_STATUS=$?
  is "systemd-sysusers accepts dfly.sysusers.conf" "$RUN_STATUS" 0
  like "... and creates the user dfly, home /var/lib/dfly, no login shell" \
    "$S/sysroot/etc/passwd" '^dfly:x:[0-9]+:[0-9]+:[^:]*:/var/lib/dfly:/(usr/)?s?bin/nologin$'
  like "... and the group dfly" "$S/sysroot/etc/group" '^dfly:x:[0-9]+:'
  uid=$(sed -n 's/^dfly:x:\([0-9]*\):.*/\1/p' "$S/sysroot/etc/passwd")
  below_1000 () { [ -n "$1" ] && [ "$1" -lt 1000 ]; }
  check "... as a system user (uid $uid below 1000)" below_1000 "$uid"
else
  skip "systemd-sysusers accepts dfly.sysusers.conf" "systemd-sysusers is not installed"
fi

# --- pkg-config --------------------------------------------------------------

PC="$top_builddir/data/dfly-plugin-1.pc"
check "the .pc file is generated in the build tree" [ -f "$PC" ]
if command -v pkg-config >/dev/null && [ -f "$PC" ]; then
  check "pkg-config --validate accepts it" pkg-config --validate "$PC"
  is "... it says plugin ABI 1" "$(pkg-config --variable=abi "$PC")" 1
  is "... it requires GLib, GObject, GIO, GModule and libsoup (the HTTP client's header)" \
    "$(pkg-config --print-requires "$PC" | sort | tr '\n' ' ')" \
    "gio-2.0 glib-2.0 gmodule-2.0 gobject-2.0 libsoup-3.0 "
  like "... plugins link with the version script" "$PC" \
    '^plugin_ldflags=-shared -Wl,--version-script=\$\{pkgdatadir\}/dfly-plugin\.map$'
  prefix=$(sed -n 's/^prefix=//p' "$PC")
  grep -v '^prefix=' "$PC" >"$S/pc-rest"
  unlike "... every other path is relative to \${prefix}" "$S/pc-rest" "^[a-z_]+=$prefix(/|\$)"
else
  skip "pkg-config --validate accepts it" "pkg-config is not installed"
fi

# --- gettext -----------------------------------------------------------------

missing=""
while read -r file; do
  case $file in '' | '#'*) continue ;; esac
  [ -f "$top_srcdir/$file" ] || missing="$missing $file"
done <"$top_srcdir/po/POTFILES.in"
is "every file in po/POTFILES.in exists" "$missing" ""

missing=""
for file in $(cd "$top_srcdir" && grep -lE '(^|[^A-Za-z0-9_])(N|C|NC)?_ *\("' \
  core/*/*.c plugins/*/*/*.c 2>/dev/null); do
  grep -qx "$file" "$top_srcdir/po/POTFILES.in" || missing="$missing $file"
done
is "every C file with _() strings is in po/POTFILES.in" "$missing" ""

like "po/LINGUAS lists de" "$top_srcdir/po/LINGUAS" '^de$'
if command -v msgfmt >/dev/null; then
  mkdir -p "$S/locale/de/LC_MESSAGES"
  RUN_STATUS=0
  msgfmt --check --statistics -o "$S/locale/de/LC_MESSAGES/dfly.mo" "$top_srcdir/po/de.po" \
    >"$S/msgfmt.out" 2>&1 || RUN_STATUS=$?
  is "msgfmt --check accepts po/de.po" "$RUN_STATUS" 0
  unlike "... with no fuzzy or untranslated message" "$S/msgfmt.out" "fuzzy|untranslated"
  if command -v gettext >/dev/null; then
    msgid="Check a configuration file and exit"
    got=$(TEXTDOMAINDIR="$S/locale" LANGUAGE=de LC_ALL=C.UTF-8 gettext -d dfly "$msgid")
    is "the catalogue translates a dflyd option" "$got" \
      "Eine Konfigurationsdatei prüfen und beenden"
  else
    skip "the catalogue translates a dflyd option" "gettext is not installed"
  fi
else
  skip "msgfmt --check accepts po/de.po" "msgfmt is not installed"
fi

done_testing
