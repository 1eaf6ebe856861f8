#!/bin/sh
# check-format.sh — every C source is as clang-format (.clang-format at the
# top) writes it, as TAP: one test, listing the files that differ and how.
# Format a file with `clang-format -i FILE`; the tree was formatted once with
# it, so a difference is a change that was not.
set -u
top=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$top" || exit 1
if ! command -v clang-format >/dev/null 2>&1; then
  echo "1..0 # SKIP clang-format is not installed"
  exit 0
fi
# The same list as check-style.sh: what git tracks, or outside a git
# checkout the C files of the source folders but generated ones.
if [ "$(git rev-parse --show-toplevel 2>/dev/null)" = "$(pwd -P)" ]; then
  sources=$(git ls-files '*.c' '*.h')
else
  sources=$(find core plugins proto tests -name '*.[ch]' | sort | while IFS= read -r f; do
    head -3 "$f" | grep -Eqi 'generated.*do not (edit|modify)' || echo "$f"
  done)
fi
echo "1..1"
differ=""
for f in $sources; do
  clang-format --style=file "$f" | cmp -s "$f" - || differ="$differ $f"
done
if [ -z "$differ" ]; then
  echo "ok 1 - every C source is formatted as .clang-format says"
  exit 0
fi
echo "not ok 1 - every C source is formatted as .clang-format says"
for f in $differ; do
  echo "# $f"
  clang-format --style=file "$f" | diff "$f" - | head -8 | sed 's/^/#   /'
done
exit 1
