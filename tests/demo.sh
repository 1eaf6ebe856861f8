#!/bin/sh
# The README's first quick-start command: sets everything up, builds dfly, and
# runs the embedded default — one dflyd with every role (manager, scheduler,
# seed peer, peer) on loopback and a private D-Bus — then shows it with dflyctl.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD_ROOT:-$top/build}/main
"$top/tests/setup.sh"
mkdir -p "$build"
if [ ! -x "$build/dflyd" ]; then
  echo "building dfly in $build (log: $build/build.log)"
  (cd "$top" && NOCONFIGURE=1 ./autogen.sh && cd "$build" && "$top/configure" -q &&
    make -j"$(nproc)") >"$build/build.log" 2>&1 || { tail -30 "$build/build.log"; exit 1; }
else
  make -C "$build" -s -j"$(nproc)" >"$build/build.log" 2>&1 || { tail -30 "$build/build.log"; exit 1; }
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/dfly-demo.XXXXXX")
bus_pid=""
dflyd_pid=""
cleanup () {
  set +e
  [ -n "$dflyd_pid" ] && kill "$dflyd_pid" 2>/dev/null && wait "$dflyd_pid" 2>/dev/null
  [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

address=$(dbus-daemon --session --fork --print-address=1 --print-pid=3 3>"$work/bus.pid")
bus_pid=$(cat "$work/bus.pid")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/dflyd.yaml" <<YAML
daemon:
  roles: [manager, scheduler, seed, peer]
  state_dir: $work/state
  cache_dir: $work/cache
host:
  ip: 127.0.0.1
  announce_interval: 5s
manager:
  listen: 127.0.0.1
  port: $port
YAML
mkdir -p "$work/state" "$work/cache"
"$build/dflyd" --bus-address "$address" --config "$work/dflyd.yaml" \
  --plugin-dir "$build/build-plugins" 2>"$work/dflyd.log" &
dflyd_pid=$!
i=0
until "$build/dflyctl" --address "$address" status >/dev/null 2>&1; do
  i=$((i + 1))
  if [ $i -gt 100 ] || ! kill -0 "$dflyd_pid" 2>/dev/null; then
    cat "$work/dflyd.log"; exit 1
  fi
  sleep 0.1
done
echo "\$ dflyctl status"
"$build/dflyctl" --address "$address" status
echo
echo "\$ dflyctl plugins"
"$build/dflyctl" --address "$address" plugins
echo
echo "\$ curl http://127.0.0.1:$port/healthy"
curl -fsS "http://127.0.0.1:$port/healthy"
echo
echo
echo "dflyd log:"
cat "$work/dflyd.log"
