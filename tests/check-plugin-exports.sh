#!/bin/sh
# Every in-tree plugin exports exactly one dynamic symbol: dfly_plugin_query.
# (The linker version script core/dfly-plugin.map makes it so; this proves it.)
set -u
dir=${DFLY_PLUGIN_BUILD_DIR:?run through make check}
n=0
failed=0
plugins=$(ls "$dir"/*.so 2>/dev/null)
count=$(echo "$plugins" | grep -c . || true)
if [ "$count" -eq 0 ]; then
  echo "1..0 # SKIP no plugins built in $dir"
  exit 0
fi
echo "1..$count"
for so in $plugins; do
  n=$((n + 1))
  symbols=$(nm -D --defined-only "$so" | awk '{print $NF}' | sort | tr '\n' ' ')
  if [ "$symbols" = "dfly_plugin_query " ]; then
    echo "ok $n - $(basename "$so") exports only dfly_plugin_query"
  else
    echo "not ok $n - $(basename "$so") exports: $symbols"
    failed=1
  fi
done
exit $failed
