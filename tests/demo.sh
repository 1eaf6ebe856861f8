#!/bin/sh
# The README's first quick-start command: sets everything up, builds dfly, and
# runs the embedded default — one dflyd with every role (manager, scheduler,
# seed peer, peer) on loopback and a private D-Bus — then downloads a real
# file through it from a local nginx origin (DEMO_MIB, default 512) with
# `dflyctl get`, progress bar and all, fetches it again from the cache, and
# shows the daemon with dflyctl.
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
nginx_pid=""
cleanup () {
  set +e
  [ -n "$dflyd_pid" ] && kill "$dflyd_pid" 2>/dev/null && wait "$dflyd_pid" 2>/dev/null
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
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

# A real origin: nginx serving a generated file on loopback.
mkdir -p "$work/www" "$work/nginx" "$work/out"
head -c $((${DEMO_MIB:-512} * 1024 * 1024)) /dev/urandom >"$work/www/dataset.bin"
origin_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
user=""
[ "$(id -u)" -ne 0 ] || user="user root;"
cat >"$work/nginx/nginx.conf" <<NGINX
$user
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 64; }
http {
  access_log $work/nginx/access.log;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  server { listen 127.0.0.1:$origin_port; root $work/www; }
}
NGINX
/usr/sbin/nginx -c "$work/nginx/nginx.conf" -p "$work/nginx/" &
nginx_pid=$!
i=0
until curl -fsS -o /dev/null -I "http://127.0.0.1:$origin_port/dataset.bin" 2>/dev/null; do
  i=$((i + 1))
  [ $i -le 50 ] || { echo "nginx did not start"; exit 1; }
  sleep 0.1
done

url="http://127.0.0.1:$origin_port/dataset.bin"
echo "\$ dflyctl get $url -O out/dataset.bin"
"$build/dflyctl" --address "$address" get "$url" -O "$work/out/dataset.bin"
cmp "$work/www/dataset.bin" "$work/out/dataset.bin" && echo "(byte-identical to the origin's file)"
echo
echo "\$ dflyctl get $url -O out/again.bin     # now a cache hit: the origin is not asked"
"$build/dflyctl" --address "$address" get "$url" -O "$work/out/again.bin"
echo
echo "\$ dflyctl tasks"
"$build/dflyctl" --address "$address" tasks
echo
echo "origin requests (nginx access log):"
cat "$work/nginx/access.log"
echo
echo "dflyd log:"
cat "$work/dflyd.log"
