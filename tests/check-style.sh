#!/bin/sh
# The project's style rules that a machine can check (HACKING.md, "Style"), as TAP.
# Each rule lists the offending lines; a rule passes when there are none.
set -u
top=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top" || exit 1
# The sources: what git tracks here; in a tree that is no git checkout of its
# own (an unpacked tarball), the C files of the source folders except those a
# build generated in place (gdbus-codegen and protoc-c say so at the top).
if [ "$(git rev-parse --show-toplevel 2>/dev/null)" = "$(pwd -P)" ]; then
  sources=$(git ls-files '*.c' '*.h')
else
  sources=$(find core plugins proto tests -name '*.[ch]' | sort | while IFS= read -r f; do
    head -3 "$f" | grep -Eqi 'generated.*do not (edit|modify)' || echo "$f"
  done)
fi
n=0
failed=0

rule () {
  description=$1
  offenders=$2
  n=$((n + 1))
  if [ -z "$offenders" ]; then
    echo "ok $n - $description"
  else
    echo "not ok $n - $description"
    echo "$offenders" | sed 's/^/# /' | head -20
    failed=1
  fi
}

echo "1..11"
rule "every source file opens with a comment naming it" "$(
  for f in $sources; do
    head -1 "$f" | grep -q "^/\* $(basename "$f") — " || echo "$f"
  done)"
rule "no goto (g_autoptr and early returns instead)" "$(grep -n '\bgoto\b' $sources)"
rule "no g_error() on input outside tests" "$(grep -n 'g_error (' $(echo "$sources" | grep -v '^tests/\|/test-') )"
rule "no tabs in C sources" "$(grep -nP '\t' $sources)"
rule "no trailing whitespace" "$(grep -nE '[[:space:]]+$' $sources)"
rule "bus signals carry real GTypes, never G_TYPE_POINTER" "$(grep -n 'G_TYPE_POINTER' core/lib/dfly-bus.c)"
# A plugin may include its own headers (beside it in its folder), the
# shared role code, the peer engine library (plugins/roles/engine) and the
# protocol library (proto/, libdfly-proto); from
# core, only the installed dfly/ API.
rule "plugins include only the public dfly API from core" "$(
  for f in $(find plugins -name '*.c' ! -name 'test-*'); do
    grep -n '#include "' "$f" | grep -v '"config.h"\|"dfly/\|"dfly-[a-z-]*-role' |
      while IFS= read -r line; do
        header=$(echo "$line" | sed 's/.*#include "\([^"]*\)".*/\1/')
        [ -f "$(dirname "$f")/$header" ] || [ -f "proto/$header" ] ||
          [ -f "plugins/roles/engine/$header" ] || echo "$f:$line"
      done
  done)"
# Plugins keep their state on the instance or the context: a file-static
# variable would be shared by every instance and outlive a reload. GObject
# signal ids, written once by class_init, are the exception.
rule "no mutable file-static state in plugins" "$(
  for f in $(echo "$sources" | grep '^plugins/.*\.c$' | grep -v '/test-'); do
    grep -nE '^static [^(]*(;|=)' "$f" |
      grep -vE '^[0-9]+:static (const |[^=]*const [A-Za-z_0-9]+\[|guint signals\[)' |
      sed "s|^|$f:|"
  done)"
# The text g_prefix_error puts before a message reads "doing x: message".
rule "g_prefix_error text ends in \": \"" "$(
  grep -n 'g_prefix_error *(' $sources | grep '"' | grep -v ': "[,)]')"
# A function that can fail returns gboolean or a pointer. A void one that
# takes a GError ** only sets it (set_*), or is a callback whose signature a
# library fixes (on_*, GMarkupParser's).
rule "no void function taking a GError ** (but set_* and on_* callbacks)" "$(
  for f in $sources; do
    awk -v f="$f" '
      /^(static )?void$/ { pending = FNR; next }
      pending && FNR == pending + 1 {
        line = $0
        while (line !~ /\)/ && (getline more) > 0) line = line more
        if (line ~ /GError \*\*/ && line !~ /^([a-z_]*_)?(set_|on_)/) print f ":" pending + 1 ": " $0
        pending = 0
      }
      /^(static )?void +[a-z_]+ \(.*GError \*\*/ && $0 !~ /void +([a-z_]*_)?(set_|on_)/ { print f ":" FNR ": " $0 }
    ' "$f"
  done)"
# The bus carries what somebody says and somebody hears: each signal of
# dfly-bus.h has an emitter and a subscriber outside the bus and the tests.
rule "every bus signal has an emitter and a subscriber in the tree" "$(
  code=$(echo "$sources" | grep '\.c$' | grep -v '^tests/\|/test-\|core/lib/dfly-bus\.c')
  for name in $(sed -n 's/^#define DFLY_BUS_\([A-Z_]*\) .*/\1/p' core/include/dfly/dfly-bus.h); do
    emit=$(echo "dfly_bus_emit_$name" | tr 'A-Z' 'a-z')
    grep -q "$emit (" $code || echo "DFLY_BUS_$name: nothing calls $emit"
    grep -q "DFLY_BUS_$name\b" $code || echo "DFLY_BUS_$name: nothing connects to it"
  done)"
exit $failed
