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

echo "1..7"
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
exit $failed
