#!/bin/sh
# The README's first quick-start command: sets everything up, builds dfly, and
# runs the embedded default — one dflyd with every role (manager, scheduler,
# seed peer, peer) on 127.0.0.1 — with two more dflyds as plain peers on
# 127.0.0.2 and 127.0.0.3, each with its own private D-Bus. A real file
# (DEMO_MIB, default 512) from a local nginx origin goes to the first peer
# through the all-in-one seed, then to the second from the peers holding it:
# `dflyctl get` (progress bar and all), `dflyctl tasks` and `task show` saying
# where the bytes came from, and nginx's access log showing the origin sent it once.
# Then, as root with containerd and docker-registry there, a three-layer image
# goes through the all-in-one's registry mirror (the proxy role): `dflyctl
# runtime containerd` writes the hosts.toml, `ctr images pull` fetches it, and
# the registry's log shows each blob sent once, through the swarm.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
# Go clients never send a loopback literal through a mirror: the registry
# gets a name in a private mount namespace's /etc/hosts, which every process
# of the demo sees (root only; otherwise the image part is left out).
if [ "$(id -u)" -eq 0 ] && [ -z "${DFLY_DEMO_UNSHARED:-}" ] && command -v unshare >/dev/null; then
  DFLY_DEMO_UNSHARED=1 exec unshare -m --propagation private -- sh "$0" "$@"
fi
build=${BUILD_ROOT:-$top/build}/main
log=$build/build.log
echo "demo: checking for the Debian packages it needs (tests/setup.sh --demo)"
"$top/tests/setup.sh" --demo
mkdir -p "$build"
: >"$log"

# step MESSAGE COMMAND...: COMMAND with its output in the build log, saying
# every 15 s how far the compiler got, so a build does not look stuck.
step () {
  echo "demo: $1"
  shift
  rm -f "$log.done"
  (
    n=0
    until [ -e "$log.done" ]; do
      sleep 1
      n=$((n + 1))
      [ $((n % 15)) -ne 0 ] || echo "demo:   ... ${n} s, $(grep -c '^  CC ' "$log") files compiled"
    done
  ) &
  ticker=$!
  status=0
  "$@" >>"$log" 2>&1 || status=$?
  : >"$log.done"
  wait "$ticker"
  rm -f "$log.done"
  [ "$status" -eq 0 ] || { tail -30 "$log"; echo "demo: that failed (log: $log)"; exit 1; }
}
if [ ! -x "$top/configure" ]; then
  step "generating configure (autogen.sh)" sh -c 'cd "$1" && NOCONFIGURE=1 ./autogen.sh' sh "$top"
fi
if [ ! -f "$build/Makefile" ]; then
  step "configuring in $build" sh -c 'cd "$1" && "$2/configure" -q' sh "$build" "$top"
fi
step "building dfly (a few minutes the first time; log: $log)" make -C "$build" -j"$(nproc)"
echo "demo: built"
echo

work=$(mktemp -d "${TMPDIR:-/tmp}/dfly-demo.XXXXXX")
pids=""     # dflyds
bus_pids="" # their dbus-daemons, stopped after them
nginx_pid=""
# Every process here is a child of this shell, stopped and then reaped by
# pid: a daemon left to fork away would be nobody's to reap once killed
# (a defunct process wherever init does not reap).
cleanup () {
  set +e
  for pid in $pids $bus_pids $nginx_pid; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port () {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
manager_port=$(free_port)
scheduler_port=$(free_port)
proxy_port=$(free_port)

# node NAME IP ROLES [YAML...]: one dflyd on its own bus; ADDRESS_<NAME> is the bus.
node () {
  name=$1 ip=$2 roles=$3
  shift 3
  mkdir -p "$work/$name/state" "$work/$name/cache"
  {
    cat <<YAML
daemon:
  roles: $roles
  state_dir: $work/$name/state
  cache_dir: $work/$name/cache
host:
  ip: $ip
  hostname: $name
  announce_interval: 2s
upload:
  port: 0
YAML
    for line in "$@"; do
      printf '%s\n' "$line"
    done
  } >"$work/$name/dflyd.yaml"
  dbus-daemon --session --nofork --print-address=3 3>"$work/$name.bus-address" </dev/null \
    2>"$work/$name.bus.log" &
  bus_pids="$bus_pids $!"
  i=0
  until [ -s "$work/$name.bus-address" ]; do
    i=$((i + 1))
    [ $i -le 50 ] || { echo "dbus-daemon did not start"; exit 1; }
    sleep 0.1
  done
  address=$(head -n 1 "$work/$name.bus-address")
  eval "ADDRESS_$name=\$address"
  "$build/dflyd" --bus-address "$address" --config "$work/$name/dflyd.yaml" \
    --plugin-dir "$build/build-plugins" 2>"$work/$name.log" &
  pids="$pids $!"
  i=0
  until "$build/dflyctl" --address "$address" status >/dev/null 2>&1; do
    i=$((i + 1))
    if [ $i -gt 100 ]; then
      cat "$work/$name.log"; exit 1
    fi
    sleep 0.1
  done
}
ctl () {
  eval "address=\$ADDRESS_$1"
  shift
  "$build/dflyctl" --address "$address" "$@"
}

# The embedded default: every role in one dflyd (its peer speaks for the
# seed), and two peers that use its scheduler.
node allinone 127.0.0.1 "[manager, scheduler, seed, peer, proxy]" \
  "manager:" "  listen: 127.0.0.1" "  port: $manager_port" \
  "scheduler:" "  port: $scheduler_port" "proxy:" "  port: $proxy_port"
for n in 2 3; do
  node "peer$n" "127.0.0.$n" "[peer]" "peer:" "  schedulers: [\"127.0.0.1:$scheduler_port\"]"
done
sleep 2.5 # every host announced once
echo "\$ dflyctl status          # the all-in-one dflyd"
ctl allinone status
echo
echo "\$ dflyctl plugins"
ctl allinone plugins
echo
echo "\$ curl http://127.0.0.1:$manager_port/healthy"
curl -fsS "http://127.0.0.1:$manager_port/healthy"
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
echo "peer2 (127.0.0.2)\$ dflyctl get $url -O out/peer2.bin"
ctl peer2 get "$url" -O "$work/out/peer2.bin"
cmp "$work/www/dataset.bin" "$work/out/peer2.bin" && echo "(byte-identical to the origin's file)"
echo
echo "peer3 (127.0.0.3)\$ dflyctl get $url -O out/peer3.bin"
ctl peer3 get "$url" -O "$work/out/peer3.bin"
cmp "$work/www/dataset.bin" "$work/out/peer3.bin" && echo "(byte-identical to the origin's file)"
echo
echo "peer3\$ dflyctl get $url -O out/again.bin     # a cache hit: nobody is asked"
ctl peer3 get "$url" -O "$work/out/again.bin"
echo
for n in allinone peer2 peer3; do
  echo "$n\$ dflyctl tasks"
  ctl "$n" tasks
  echo
done
task=$(ctl peer3 --json tasks | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])')
echo "peer3\$ dflyctl task show ${task%"${task#????????????}"}     # where its pieces came from"
ctl peer3 task show "$task"
echo
echo "origin requests (nginx access log: the seed's ranged reads, the file once):"
head -n 4 "$work/nginx/access.log"
echo "... $(wc -l <"$work/nginx/access.log") requests in all"
awk '{ sum += $10 } END { printf "origin bytes sent: %d for a %d-byte file\n", sum, '"$(stat -c %s "$work/www/dataset.bin")"' }' \
  "$work/nginx/access.log"

# ---- an image through the all-in-one's registry mirror ----
if [ -z "${DFLY_DEMO_UNSHARED:-}" ] || ! command -v containerd >/dev/null ||
  ! command -v docker-registry >/dev/null; then
  echo
  echo "demo: (the image part needs root, containerd and docker-registry: tests/setup.sh installs them)"
  exit 0
fi
echo
cp /etc/hosts "$work/hosts"
echo "127.0.0.1 demo-registry" >>"$work/hosts"
mount --bind "$work/hosts" /etc/hosts
registry="demo-registry:$(free_port)"
mkdir -p "$work/registry/data" "$work/containerd" "$work/rt"
printf 'version: 0.1\nlog: {level: warn}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: %s}\n' \
  "$work/registry/data" "127.0.0.1:${registry#*:}" >"$work/registry/config.yml"
docker-registry serve "$work/registry/config.yml" >"$work/registry/log" 2>&1 &
pids="$pids $!"
cat >"$work/containerd/config.toml" <<TOML
version = 2
root = "$work/containerd/root"
state = "$work/containerd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$work/containerd/sock"
TOML
containerd --config "$work/containerd/config.toml" >"$work/containerd/log" 2>&1 &
pids="$pids $!"
i=0
until curl -fs -o /dev/null "http://$registry/v2/" && ctr -a "$work/containerd/sock" version >/dev/null 2>&1; do
  i=$((i + 1))
  [ $i -le 100 ] || { echo "docker-registry or containerd did not start"; exit 1; }
  sleep 0.1
done
python3 "$top/tests/oci-image.py" build "$work/image" --layers 2,3,4 >/dev/null
python3 "$top/tests/oci-image.py" push "$work/image" "$registry" demo/app:v1 >/dev/null
echo "(a two-platform image of three layers pushed to a local docker-registry as $registry/demo/app:v1)"
echo "\$ dflyctl runtime containerd --registry http://$registry --proxy http://127.0.0.1:$proxy_port --root \$work"
# (Its note on containerd's config.toml, stderr, does not apply to ctr --hosts-dir.)
"$build/dflyctl" runtime containerd --registry "http://$registry" \
  --proxy "http://127.0.0.1:$proxy_port" --root "$work/rt" 2>/dev/null | sed "s#$work/rt##g"
echo "\$ ctr images pull --hosts-dir /etc/containerd/certs.d $registry/demo/app:v1"
ctr -a "$work/containerd/sock" images pull --hosts-dir "$work/rt/etc/containerd/certs.d" \
  "$registry/demo/app:v1" | tail -n 3
echo
echo "allinone\$ dflyctl tasks     # each blob a task named by its digest"
ctl allinone tasks
echo
image_bytes=$(python3 "$top/tests/oci-image.py" info "$work/image" | python3 -c 'import json, sys
print(json.load(sys.stdin)["platforms"]["linux/amd64"]["blob_bytes"])')
awk -v image="$image_bytes" '$6 == "\"GET" && $7 ~ /\/blobs\/sha256:/ { n++; s += $10 }
  END { printf "registry log: %d blob GETs, %d bytes sent for an image of %d blob bytes\n", n, s, image }' \
  "$work/registry/log"
