#!/bin/sh
# test-runtime.sh — "dflyctl runtime containerd|crio|podman|docker" under --root, without
# any dflyd or bus: each runtime's files as Python's tomllib and json read them, and as the
# runtimes' own code reads them (a private containerd fetching an image through the
# hosts.toml written, skopeo through the registries.conf written, both from a stand-in
# mirror that logs what it was asked and with which X-Dragonfly-Registry); a second run
# changing nothing, backups of what was there, --dry-run diffs that patch reproduces,
# daemon.json merged with its other keys kept, and hostile inputs refused with nothing
# written: bad URLs, JSON that is not an object of lists, symbolic links, a file where a
# directory should be, a directory that cannot be made.
. "$top_srcdir/tests/lib.sh"
need python3 diff

S=$SCRATCH
NO_BUS="unix:path=$S/no-bus-here"
PROXY=http://127.0.0.1:4001

ctl () {
  "$DFLYCTL" --address "$NO_BUS" "$@"
}

# fresh NAME: an empty root directory $S/NAME, its path in R.
fresh () {
  R=$S/$1
  rm -rf "$R"
  mkdir -p "$R"
}

# skip DESCRIPTION REASON: an ok line that says why nothing was checked.
skip () {
  TAP_COUNT=$((TAP_COUNT + 1))
  printf 'ok %d - %s # SKIP %s\n' "$TAP_COUNT" "$1" "$2"
}

# refused DESCRIPTION STATUS REGEX ARG...: dflyctl ARG... exits STATUS, says one line on
# stderr, matching REGEX, and nothing on stdout.
refused () {
  _desc=$1
  _want="$2 1 0"
  _regex=$3
  shift 3
  run refused.out refused.err ctl "$@"
  _got="$RUN_STATUS $(wc -l <"$S/refused.err") $(wc -c <"$S/refused.out")"
  if [ "$_got" = "$_want" ] && grep -Eq -- "$_regex" "$S/refused.err"; then
    ok "$_desc"
    return 0
  fi
  not_ok "$_desc"
  diag "status, stderr lines, stdout bytes: $_got (expected $_want)" "stderr should match: $_regex"
  cat "$S/refused.err" "$S/refused.out" | sed 's/^/#   /'
}

# toml_check FILE PYTHON-EXPRESSION: FILE parses as TOML (tomllib) and the expression over
# it (d) is true.
toml_check () {
  python3 - "$1" "$2" <<'EOF'
import sys, tomllib
try:
    with open(sys.argv[1], "rb") as f:
        d = tomllib.load(f)
except (OSError, tomllib.TOMLDecodeError) as e:
    print("# not TOML: %s" % e)
    sys.exit(1)
if not eval("(" + sys.argv[2] + "\n)", {"d": d}):
    print("# false: %s" % sys.argv[2])
    print("# over: %r" % d)
    sys.exit(1)
EOF
}

# stamp FILE: inode, modification time (ns) and mode, to tell a file left alone.
stamp () {
  stat -c '%i %.9Y %a' "$1"
}

# no_backups DIR: no *.dfly-backup* file under DIR.
no_backups () {
  [ -z "$(find "$1" -name '*.dfly-backup*')" ]
}

# --- help --------------------------------------------------------------------

run help.out help.err ctl help
like "dflyctl help lists runtime" "$S/help.out" \
  "^  runtime RUNTIME +Point containerd, crio, podman or docker at dfly's proxy\$"
run runtime-help.out runtime-help.err ctl runtime --help
is "runtime --help exits 0" "$RUN_STATUS" 0
for option in --registry --proxy --dry-run --root --json; do
  like "... documents $option" "$S/runtime-help.out" "^  (-[A-Za-z], )?$option"
done
run runtime-help2.out runtime-help2.err ctl help runtime
is "dflyctl help runtime says the same" "$RUN_STATUS:$(cat "$S/runtime-help2.out")" \
  "0:$(cat "$S/runtime-help.out")"

# --- containerd ----------------------------------------------------------------

fresh containerd
HOSTS=$R/etc/containerd/certs.d
run cd.out cd.err ctl runtime containerd --root "$R"
is "runtime containerd exits 0 with no bus" "$RUN_STATUS" 0
like "... says what it created" "$S/cd.out" "^created $HOSTS/docker.io/hosts.toml\$"
like "... and what it did" "$S/cd.out" \
  "^containerd under $R now pulls docker.io through http://127.0.0.1:4001\$"
check "Docker Hub's hosts.toml: its server, the proxy for pull and resolve, naming the upstream" \
  toml_check "$HOSTS/docker.io/hosts.toml" \
  'd["server"] == "https://registry-1.docker.io" and list(d["host"]) == ["'$PROXY'"]
   and d["host"]["'$PROXY'"]["capabilities"] == ["pull", "resolve"]
   and d["host"]["'$PROXY'"]["header"] == {"X-Dragonfly-Registry": "https://index.docker.io"}'
is "... mode 0644" "$(stat -c %a "$HOSTS/docker.io/hosts.toml")" 644
like "without config.toml, the note says what containerd 1.x needs" "$S/cd.err" \
  "^dflyctl: note: $R/etc/containerd/config.toml is missing: containerd 2 reads /etc/containerd/certs.d by default"
like "... the table" "$S/cd.err" '^  \[plugins\."io\.containerd\.grpc\.v1\.cri"\.registry\]$'
like "... and the key" "$S/cd.err" '^    config_path = "/etc/containerd/certs\.d"$'

before=$(stamp "$HOSTS/docker.io/hosts.toml")
run cd2.out cd2.err ctl runtime containerd --root "$R"
is "a second run exits 0" "$RUN_STATUS" 0
like "... says nothing is to change" "$S/cd2.out" \
  "^nothing to change: containerd already pulls docker.io through http://127.0.0.1:4001\$"
like "... file by file" "$S/cd2.out" "^unchanged $HOSTS/docker.io/hosts.toml\$"
is "... and leaves the file alone (inode, time, mode)" "$(stamp "$HOSTS/docker.io/hosts.toml")" \
  "$before"
check "... with no backup" no_backups "$R"

run cd3.out cd3.err ctl runtime containerd --root "$R" --registry https://GHCR.io/ \
  --registry http://reg.example:5000 --registry https://registry-1.docker.io \
  --registry https://ghcr.io:443 --proxy http://127.0.0.1:65001
is "several registries and another proxy: exits 0" "$RUN_STATUS" 0
like "... names them once each" "$S/cd3.out" \
  "now pulls ghcr.io, reg.example:5000, docker.io through http://127.0.0.1:65001\$"
check "ghcr.io's hosts.toml (the name in lower case, the default port dropped)" \
  toml_check "$HOSTS/ghcr.io/hosts.toml" \
  'd["server"] == "https://ghcr.io"
   and d["host"]["http://127.0.0.1:65001"]["header"]["X-Dragonfly-Registry"] == "https://ghcr.io"'
check "a plain-http registry with a port: its own directory, its scheme kept" \
  toml_check "$HOSTS/reg.example:5000/hosts.toml" \
  'd["server"] == "http://reg.example:5000"
   and d["host"]["http://127.0.0.1:65001"]["header"]["X-Dragonfly-Registry"] == "http://reg.example:5000"'
like "Docker Hub's file was changed for the new proxy" "$S/cd3.out" \
  "^changed $HOSTS/docker.io/hosts.toml \\(the old one is kept as $HOSTS/docker.io/hosts.toml.dfly-backup\\)\$"
check "... the backup is the file as it was" toml_check "$HOSTS/docker.io/hosts.toml.dfly-backup" \
  'list(d["host"]) == ["'$PROXY'"]'
check "... the new one names the upstream given" toml_check "$HOSTS/docker.io/hosts.toml" \
  'd["host"]["http://127.0.0.1:65001"]["header"]["X-Dragonfly-Registry"] == "https://registry-1.docker.io"'
cp "$HOSTS/docker.io/hosts.toml.dfly-backup" "$S/first-backup"
ctl runtime containerd --root "$R" >/dev/null 2>&1
check "a third change keeps the first backup as it was" \
  cmp -s "$S/first-backup" "$HOSTS/docker.io/hosts.toml.dfly-backup"
check "... and makes a timestamped one" \
  test -f "$(ls "$HOSTS/docker.io/hosts.toml.dfly-backup-"2*Z 2>/dev/null | head -1)"

# A hosts.toml of the user's, and what --dry-run says of it.
printf 'server = "https://registry-1.docker.io"\n\n[host."https://mirror.example"]\n  capabilities = ["pull"]\n' \
  >"$HOSTS/docker.io/hosts.toml"
chmod 600 "$HOSTS/docker.io/hosts.toml"
cp "$HOSTS/docker.io/hosts.toml" "$S/users-hosts"
before=$(stamp "$HOSTS/docker.io/hosts.toml")
find "$R" -name '*.dfly-backup*' | sort >"$S/backups-before"
run dry.out dry.err ctl runtime containerd --root "$R" --dry-run --registry https://index.docker.io
is "--dry-run exits 0" "$RUN_STATUS" 0
like "... says it would change the file" "$S/dry.out" \
  "^would change $HOSTS/docker.io/hosts.toml \\(keeping the old one as a backup\\)\$"
like "... prints a unified diff of it" "$S/dry.out" "^--- $HOSTS/docker.io/hosts.toml\$"
like "... removing the user's mirror" "$S/dry.out" '^-\[host\."https://mirror\.example"\]$'
like "... adding the proxy" "$S/dry.out" '^\+\[host\."http://127\.0\.0\.1:4001"\]$'
like "... and says nothing was written" "$S/dry.out" "^dry run: nothing was written\$"
is "... the file is left alone" "$(stamp "$HOSTS/docker.io/hosts.toml")" "$before"
check "... byte for byte" cmp -s "$S/users-hosts" "$HOSTS/docker.io/hosts.toml"
find "$R" -name '*.dfly-backup*' | sort >"$S/backups-after"
check "... and no backup made" cmp -s "$S/backups-before" "$S/backups-after"
sed -n '/^--- /,/^dry run/p' "$S/dry.out" | sed '$d' >"$S/dry.diff"
run write.out write.err ctl runtime containerd --root "$R" --registry https://index.docker.io
is "the same without --dry-run exits 0" "$RUN_STATUS" 0
if command -v patch >/dev/null; then
  cp "$S/users-hosts" "$S/patched"
  patch -s "$S/patched" <"$S/dry.diff" >"$S/patch.out" 2>&1
  check "patch applies the dry run's diff to what was there and gets what was written" \
    cmp -s "$S/patched" "$HOSTS/docker.io/hosts.toml"
else
  skip "patch applies the dry run's diff and gets what was written" "patch is not installed"
fi
is "... the user's file's mode kept" "$(stat -c %a "$HOSTS/docker.io/hosts.toml")" 600
check "... the user's file is the backup" \
  cmp -s "$S/users-hosts" "$(ls -t "$HOSTS/docker.io/hosts.toml.dfly-backup"* | head -1)"

fresh dry-new
run drynew.out drynew.err ctl runtime containerd --root "$R" --dry-run
like "--dry-run of a new file: would create it" "$S/drynew.out" \
  "^would create $R/etc/containerd/certs.d/docker.io/hosts.toml\$"
like "... a diff from /dev/null" "$S/drynew.out" "^--- /dev/null\$"
like "... of the whole file" "$S/drynew.out" '^\+server = "https://registry-1\.docker\.io"$'
check "... and makes nothing, not even a directory" test ! -e "$R/etc"
run dryjson.out dryjson.err ctl --json runtime containerd --root "$R" --dry-run
check "--json --dry-run: one object with the file's state and diff" json_check "$S/dryjson.out" \
  'd["runtime"] == "containerd" and d["dry-run"] is True and d["changed"] is True
   and d["files"][0]["state"] == "created" and d["files"][0]["diff"].startswith("--- /dev/null")
   and d["registries"] == ["https://index.docker.io"] and d["proxy"] == "'$PROXY'"
   and "is missing" in d["notes"][0]'
check "... and makes nothing" test ! -e "$R/etc"

# containerd's config.toml: read, never written.
fresh cd-config
mkdir -p "$R/etc/containerd"
if command -v containerd >/dev/null; then
  containerd config default >"$R/etc/containerd/config.toml" 2>/dev/null
else
  printf 'version = 2\n[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = ""\n' \
    >"$R/etc/containerd/config.toml"
fi
cp "$R/etc/containerd/config.toml" "$S/config.toml"
run cfg.out cfg.err ctl runtime containerd --root "$R"
like "containerd's default config.toml: the note asks for config_path" "$S/cfg.err" \
  "^dflyctl: note: $R/etc/containerd/config.toml does not set the registry's config_path"
like "... in the table of its version" "$S/cfg.err" \
  '^  \[plugins\."io\.containerd\.grpc\.v1\.cri"\.registry\]$'
check "... and config.toml is left as it was" cmp -s "$S/config.toml" "$R/etc/containerd/config.toml"
sed 's|^\( *\)config_path = .*|\1config_path = "/etc/containerd/certs.d"|' "$S/config.toml" \
  >"$R/etc/containerd/config.toml"
run cfg2.out cfg2.err ctl runtime containerd --root "$R"
is "with config_path set: no note" "$(cat "$S/cfg2.err")" ""
sed 's|^\( *\)config_path = .*|\1config_path = "/etc/docker/certs.d:/etc/containerd/certs.d/"|' \
  "$S/config.toml" >"$R/etc/containerd/config.toml"
run cfg3.out cfg3.err ctl runtime containerd --root "$R"
is "... nor with certs.d among several directories" "$(cat "$S/cfg3.err")" ""
printf "version = 2\n[plugins.'io.containerd.grpc.v1.cri'.registry]\n  config_path = '/srv/certs'\n[plugins.'io.containerd.grpc.v1.cri'.registry.mirrors.\"docker.io\"]\n  endpoint = [\"https://m.example\"]\n" \
  >"$R/etc/containerd/config.toml"
run cfg4.out cfg4.err ctl runtime containerd --root "$R"
like "config_path naming another directory: a note" "$S/cfg4.err" \
  "sets the registry's config_path to “/srv/certs”, not /etc/containerd/certs.d"
like "a registry.mirrors table: a note" "$S/cfg4.err" "has a registry.mirrors table"
printf 'version = 3\n' >"$R/etc/containerd/config.toml"
run cfg5.out cfg5.err ctl runtime containerd --root "$R"
is "containerd 2's config (version 3) reads certs.d by default: no note" "$(cat "$S/cfg5.err")" ""

# --- a stand-in mirror, and the runtimes' own code reading the files ------------

# It logs "METHOD PATH X-DRAGONFLY-REGISTRY NS" per request and serves one small image
# (an OCI manifest, its config and a layer) under any repository, tag "latest".
cat >"$S/mirror.py" <<'EOF'
import hashlib, http.server, json, sys, urllib.parse
log = open(sys.argv[1], "a", buffering=1)
layer = b"dfly runtime test layer\n" * 64
config = json.dumps({"architecture": "amd64", "os": "linux",
                     "rootfs": {"type": "layers", "diff_ids": []}}).encode()
def descriptor(media_type, data):
    return {"mediaType": media_type, "digest": "sha256:" + hashlib.sha256(data).hexdigest(),
            "size": len(data)}
manifest = json.dumps({"schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": descriptor("application/vnd.oci.image.config.v1+json", config),
    "layers": [descriptor("application/vnd.oci.image.layer.v1.tar", layer)]}).encode()
blobs = {"sha256:" + hashlib.sha256(d).hexdigest(): d for d in (config, layer, manifest)}
class Handler(http.server.BaseHTTPRequestHandler):
    def answer(self, with_body):
        url = urllib.parse.urlsplit(self.path)
        ns = urllib.parse.parse_qs(url.query).get("ns", ["-"])[0]
        log.write("%s %s %s %s\n" % (self.command, url.path,
                                     self.headers.get("X-Dragonfly-Registry", "-"), ns))
        last = url.path.split("/")[-1]
        data = manifest if last == "latest" else blobs.get(last)
        if url.path == "/v2/":
            data = b"{}"
        self.send_response(200 if data is not None else 404)
        data = data if data is not None else b"{}"
        if data is manifest:
            self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            self.send_header("Docker-Content-Digest", "sha256:" + hashlib.sha256(data).hexdigest())
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if with_body:
            self.wfile.write(data)
    def do_GET(self):
        self.answer(True)
    def do_HEAD(self):
        self.answer(False)
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
EOF
MIRROR_LOG=$S/mirror.log
: >"$MIRROR_LOG"
python3 "$S/mirror.py" "$MIRROR_LOG" >"$S/mirror.port" 2>"$S/mirror-stderr.log" &
MIRROR_PID=$!
track_pid "$MIRROR_PID"
wait_for_line "$S/mirror.port" '^[0-9]+$' 10 || bail_out "the stand-in mirror did not start"
MIRROR=http://127.0.0.1:$(cat "$S/mirror.port")

if command -v containerd >/dev/null && command -v ctr >/dev/null && [ "$(id -u)" -eq 0 ]; then
  C=$S/containerd-daemon
  mkdir -p "$C"
  cat >"$C/config.toml" <<EOF
version = 2
root = "$C/root"
state = "$C/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$C/sock"
[ttrpc]
  address = "$C/sock.ttrpc"
[metrics]
  address = ""
EOF
  containerd --config "$C/config.toml" </dev/null >"$S/containerd.log" 2>&1 &
  track_pid $!
  tries=100
  until ctr -a "$C/sock" version >/dev/null 2>&1 || [ "$tries" -eq 0 ]; do
    tries=$((tries - 1))
    sleep 0.1
  done
  fresh cd-real
  ctl runtime containerd --root "$R" --registry https://index.docker.io \
    --registry http://reg.example:5000 --proxy "$MIRROR" >/dev/null 2>&1
  : >"$MIRROR_LOG"
  run fetch.out fetch.err timeout 60 ctr -a "$C/sock" content fetch \
    --hosts-dir "$R/etc/containerd/certs.d" docker.io/library/dfly-test:latest
  is "containerd $(containerd --version | awk '{print $3}') fetches docker.io's image through the hosts.toml written" \
    "$RUN_STATUS" 0
  like "... resolving the tag at the mirror, told the upstream" "$MIRROR_LOG" \
    "^(HEAD|GET) /v2/library/dfly-test/manifests/latest https://index.docker.io docker.io\$"
  like "... and fetching the blobs there" "$MIRROR_LOG" \
    "^GET /v2/library/dfly-test/blobs/sha256:[0-9a-f]{64} https://index.docker.io docker.io\$"
  : >"$MIRROR_LOG"
  run fetch2.out fetch2.err timeout 60 ctr -a "$C/sock" content fetch \
    --hosts-dir "$R/etc/containerd/certs.d" reg.example:5000/team/app:latest
  is "... and reg.example:5000's, a name that does not even resolve" "$RUN_STATUS" 0
  like "... the mirror told that plain-http upstream" "$MIRROR_LOG" \
    "^(HEAD|GET) /v2/team/app/manifests/latest http://reg.example:5000 reg.example:5000\$"
else
  skip "a real containerd fetches through the hosts.toml written" "needs root, containerd and ctr"
fi

# --- CRI-O and podman -------------------------------------------------------------

fresh crio
DROP_IN=$R/etc/containers/registries.conf.d/dfly.conf
run crio.out crio.err ctl runtime crio --root "$R"
is "runtime crio exits 0" "$RUN_STATUS" 0
like "... says what it created" "$S/crio.out" "^created $DROP_IN\$"
check "the drop-in: docker.io, mirrored by the proxy over plain http" toml_check "$DROP_IN" \
  'd["registry"] == [{"prefix": "docker.io", "location": "docker.io",
     "mirror": [{"location": "127.0.0.1:4001", "insecure": True}]}]'
is "... and no note for the proxy's default upstream" "$(cat "$S/crio.err")" ""
before=$(stamp "$DROP_IN")
run podman.out podman.err ctl runtime podman --root "$R"
like "runtime podman after crio: the same file, nothing to change" "$S/podman.out" \
  "^nothing to change: podman already pulls docker.io through http://127.0.0.1:4001\$"
is "... the file left alone" "$(stamp "$DROP_IN")" "$before"
run podman2.out podman2.err ctl runtime podman --root "$R" --registry http://reg.example:5000 \
  --proxy https://proxy.example
is "podman with another registry and an https proxy: exits 0" "$RUN_STATUS" 0
check "... the registry insecure, the mirror not, its port said" toml_check "$DROP_IN" \
  'd["registry"] == [{"prefix": "reg.example:5000", "location": "reg.example:5000", "insecure": True,
     "mirror": [{"location": "proxy.example:443", "insecure": False}]}]'
like "... a note: the proxy's registry_mirror must be that registry" "$S/podman2.err" \
  "^dflyctl: note: podman's mirror requests do not say which registry they are for: .*set that to http://reg.example:5000 in dflyd.yaml\$"
check "... the old drop-in kept" toml_check "$DROP_IN.dfly-backup" \
  'd["registry"][0]["prefix"] == "docker.io"'

if command -v skopeo >/dev/null; then
  fresh crio-real
  ctl runtime crio --root "$R" --proxy "$MIRROR" >/dev/null 2>&1
  : >"$MIRROR_LOG"
  run skopeo.out skopeo.err timeout 60 skopeo --registries-conf \
    "$R/etc/containers/registries.conf.d/dfly.conf" inspect --raw docker://docker.io/library/dfly-test:latest
  is "skopeo ($(skopeo --version | awk '{print $3}')) reads the drop-in and gets the manifest" \
    "$RUN_STATUS" 0
  like "... from the mirror" "$MIRROR_LOG" "^GET /v2/library/dfly-test/manifests/latest "
  check "... the mirror's manifest" json_check "$S/skopeo.out" 'd["schemaVersion"] == 2'
else
  skip "skopeo reads the drop-in written" "skopeo is not installed"
fi

fresh crio-v1
mkdir -p "$R/etc/containers"
printf '[registries.search]\nregistries = ["docker.io"]\n' >"$R/etc/containers/registries.conf"
refused "a registries.conf of the v1 format: refused" 2 \
  "^dflyctl: runtime crio: $R/etc/containers/registries.conf is in the old v1 format \\(\\[registries.search\\]\\)" \
  runtime crio --root "$R"
check "... nothing written" test ! -e "$R/etc/containers/registries.conf.d"
refused "crio with two registries" 2 "^dflyctl: runtime crio: one --registry only: CRI-O and podman" \
  runtime crio --root "$R" --registry https://a.example --registry https://b.example

# --- Docker -------------------------------------------------------------------------

fresh docker
DJ=$R/etc/docker/daemon.json
run docker.out docker.err ctl runtime docker --root "$R"
is "runtime docker without daemon.json exits 0" "$RUN_STATUS" 0
check "... writes one with the proxy as a mirror" json_check "$DJ" \
  'd == {"registry-mirrors": ["'$PROXY'"]}'

fresh docker-merge
DJ=$R/etc/docker/daemon.json
mkdir -p "$R/etc/docker"
cat >"$DJ" <<'EOF'
{
    "log-driver": "journald",
    "registry-mirrors": ["https://mirror.example"],
    "log-opts": {"tag": "{{.Name}}", "labels": "a,b"},
    "max-concurrent-downloads": 3, "debug": false, "data-root": "/srv/dockér"
}
EOF
chmod 640 "$DJ"
cp "$DJ" "$S/daemon.json"
run merge.out merge.err ctl runtime docker --root "$R"
is "runtime docker with a daemon.json exits 0" "$RUN_STATUS" 0
check "... the proxy goes first among the mirrors, every other key kept as it was" \
  json_check "$DJ" \
  'd == {"log-driver": "journald", "registry-mirrors": ["'$PROXY'", "https://mirror.example"],
         "log-opts": {"tag": "{{.Name}}", "labels": "a,b"}, "max-concurrent-downloads": 3,
         "debug": False, "data-root": "/srv/dockér"}
   and list(d) == ["log-driver", "registry-mirrors", "log-opts", "max-concurrent-downloads",
                   "debug", "data-root"]'
is "... its mode kept" "$(stat -c %a "$DJ")" 640
check "... the original kept byte for byte" cmp -s "$S/daemon.json" "$DJ.dfly-backup"
is "... with its mode" "$(stat -c %a "$DJ.dfly-backup")" 640
like "... and the way to apply it said" "$S/merge.out" "^docker under $R now pulls docker.io"
before=$(stamp "$DJ")
run merge2.out merge2.err ctl runtime docker --root "$R" --proxy http://127.0.0.1:4001/
like "a second run (the proxy with a slash): nothing to change" "$S/merge2.out" "^nothing to change"
is "... daemon.json left alone" "$(stamp "$DJ")" "$before"
run merge3.out merge3.err ctl runtime docker --root "$R" --proxy http://10.1.2.3:4001
check "a proxy off loopback over http: added first, and as an insecure registry" json_check "$DJ" \
  'd["registry-mirrors"] == ["http://10.1.2.3:4001", "'$PROXY'", "https://mirror.example"]
   and d["insecure-registries"] == ["10.1.2.3:4001"] and d["log-driver"] == "journald"'
run merge4.out merge4.err ctl --json runtime docker --root "$R" --proxy http://10.1.2.3:4001
check "... again: unchanged, in JSON" json_check "$S/merge4.out" \
  'd["changed"] is False and d["files"] == [{"path": "'$DJ'", "state": "unchanged"}]'

# Hostile daemon.json: refused, left as it was, no backup.
# bad_json DESCRIPTION REGEX CONTENT: daemon.json holding CONTENT (printf format) is refused.
bad_json () {
  fresh bad-json
  mkdir -p "$R/etc/docker"
  # shellcheck disable=SC2059
  printf "$3" >"$R/etc/docker/daemon.json"
  cp "$R/etc/docker/daemon.json" "$S/bad.json"
  refused "$1" 2 "^dflyctl: runtime docker: $R/etc/docker/daemon.json:? $2" runtime docker --root "$R"
  if cmp -s "$S/bad.json" "$R/etc/docker/daemon.json" && no_backups "$R"; then
    ok "... left as it was, no backup"
  else
    not_ok "... left as it was, no backup"
  fi
}
bad_json "garbage daemon.json" "is not valid JSON \\(.*\\); it is left as it is\$" 'not json {'
bad_json "truncated daemon.json" "is not valid JSON" '{"registry-mirrors": ["http://a"'
bad_json "daemon.json holding a NUL" "is not valid JSON \\(it holds a NUL byte\\)" '{"a": "\000"}'
bad_json "daemon.json that is a list" "is not a JSON object; it is left as it is\$" '["x"]'
bad_json "registry-mirrors a string" "“registry-mirrors” is not a list; the file is left" \
  '{"registry-mirrors": "http://a"}'
bad_json "registry-mirrors holding a number" "“registry-mirrors” holds something other than strings" \
  '{"registry-mirrors": [1]}'
fresh big-json
mkdir -p "$R/etc/docker"
python3 -c 'print("{\"x\": \"" + "a" * (1 << 20) + "\"}")' >"$R/etc/docker/daemon.json"
refused "a daemon.json over 1 MiB" 2 "daemon.json is larger than 1048576 bytes" \
  runtime docker --root "$R"
fresh empty-json
mkdir -p "$R/etc/docker"
printf ' \n' >"$R/etc/docker/daemon.json"
run empty.out empty.err ctl runtime docker --root "$R"
check "a blank daemon.json is taken as {}" json_check "$R/etc/docker/daemon.json" \
  'd == {"registry-mirrors": ["'$PROXY'"]}'
refused "docker with a registry other than Docker Hub" 2 \
  "^dflyctl: runtime docker: Docker mirrors Docker Hub only \\(its registry-mirrors\\), so ghcr.io" \
  runtime docker --root "$R" --registry https://ghcr.io

# --- paths: links, files in the way, directories that cannot be made ----------------

fresh link-file
mkdir -p "$R/etc/docker" "$S/elsewhere"
printf '{"debug": true}\n' >"$S/elsewhere/daemon.json"
ln -s "$S/elsewhere/daemon.json" "$R/etc/docker/daemon.json"
refused "daemon.json a symbolic link: refused" 1 \
  "^dflyctl: runtime docker: $R/etc/docker/daemon.json is a symbolic link; replacing it would break" \
  runtime docker --root "$R"
check "... the link kept" test -L "$R/etc/docker/daemon.json"
check "... its target unchanged" json_check "$S/elsewhere/daemon.json" 'd == {"debug": True}'
fresh link-dir
mkdir -p "$R/etc" "$S/outside"
ln -s "$S/outside" "$R/etc/containerd"
refused "a directory under --root that is a symbolic link: refused" 1 \
  "^dflyctl: runtime containerd: $R/etc/containerd is a symbolic link, which could lead outside --root" \
  runtime containerd --root "$R"
check "... nothing written where it leads" test -z "$(ls -A "$S/outside")"
fresh file-in-way
mkdir -p "$R/etc/containerd"
: >"$R/etc/containerd/certs.d"
refused "a file where a directory should be" 1 \
  "^dflyctl: runtime containerd: $R/etc/containerd/certs.d is not a directory\$" \
  runtime containerd --root "$R"
fresh dir-in-way
mkdir -p "$R/etc/docker/daemon.json"
refused "a directory where daemon.json should be" 1 "daemon.json is not a regular file\$" \
  runtime docker --root "$R"
if [ "$(id -u)" -ne 0 ]; then
  fresh read-only
  mkdir -p "$R/etc"
  chmod 555 "$R/etc"
  refused "a directory that cannot be made" 1 \
    "^dflyctl: runtime docker: cannot make $R/etc/docker: Permission denied\$" \
    runtime docker --root "$R"
  chmod 755 "$R/etc"
  mkdir -p "$R/etc/docker"
  printf '{}\n' >"$R/etc/docker/daemon.json"
  chmod 000 "$R/etc/docker/daemon.json"
  refused "a daemon.json that cannot be read" 1 \
    "^dflyctl: runtime docker: cannot read $R/etc/docker/daemon.json: Permission denied\$" \
    runtime docker --root "$R"
  chmod 644 "$R/etc/docker/daemon.json"
  chmod 555 "$R/etc/docker"
  refused "a backup that cannot be made: nothing changed" 1 \
    "^dflyctl: runtime docker: cannot make the backup $R/etc/docker/daemon.json.dfly-backup: Permission denied\$" \
    runtime docker --root "$R"
  is "... daemon.json as it was" "$(cat "$R/etc/docker/daemon.json")" "{}"
  chmod 755 "$R/etc/docker"
else
  # Root may write anywhere but /proc.
  refused "a directory that cannot be made (/proc as --root)" 1 \
    "^dflyctl: runtime docker: cannot make /proc/etc/docker: " runtime docker --root /proc
fi

# --- bad arguments: status 2, one line, nothing written --------------------------

fresh args
refused "runtime alone" 2 "^dflyctl: runtime: no runtime given; use containerd, crio, podman or docker\$" \
  runtime
refused "an unknown runtime" 2 "^dflyctl: runtime: unknown runtime “rkt”" runtime rkt
refused "two runtimes" 2 "^dflyctl: runtime: takes one runtime, got also “crio”" \
  runtime containerd crio --root "$R"
refused "a registry without a scheme" 2 \
  "^dflyctl: runtime: --registry: “ghcr.io” is not a URL: it has no scheme such as https://\$" \
  runtime containerd --root "$R" --registry ghcr.io
refused "a registry of another scheme" 2 "--registry: “ftp://ghcr.io”: use an http:// or https:// URL\$" \
  runtime containerd --root "$R" --registry ftp://ghcr.io
refused "a registry with a path" 2 "--registry: “https://ghcr.io/v2/”: give the scheme, host and port only" \
  runtime containerd --root "$R" --registry https://ghcr.io/v2/
refused "a registry with a query" 2 "give the scheme, host and port only, no path or query\$" \
  runtime containerd --root "$R" --registry "https://ghcr.io/?x=1"
refused "a registry with credentials" 2 "a user or password does not belong in the URL\$" \
  runtime containerd --root "$R" --registry https://me:secret@ghcr.io
refused "a registry whose host climbs out (../)" 2 "“%2e%2e” is not a valid URL|“\\.\\.” is not a host name" \
  runtime containerd --root "$R" --registry https://%2e%2e
refused "a registry with an empty label" 2 "“a\\.\\.b” is not a host name or address\$" \
  runtime containerd --root "$R" --registry https://a..b
refused "a registry with a slash encoded in its host" 2 "is not a host name or address|is not a valid URL" \
  runtime containerd --root "$R" --registry https://a%2fb
refused "a registry with a blank" 2 "has a blank or a control character" \
  runtime containerd --root "$R" --registry "https://a b"
refused "the same registry twice, by two schemes" 2 \
  "--registry: https://ghcr.io and http://ghcr.io are the same registry, ghcr.io\$" \
  runtime containerd --root "$R" --registry https://ghcr.io --registry http://ghcr.io
refused "a bad proxy" 2 "^dflyctl: runtime: --proxy: “127.0.0.1:4001” is not a URL" \
  runtime docker --root "$R" --proxy 127.0.0.1:4001
refused "a proxy with a path" 2 "--proxy: “http://127.0.0.1:4001/v2”: give the scheme" \
  runtime docker --root "$R" --proxy http://127.0.0.1:4001/v2
refused "a missing --root" 2 "^dflyctl: runtime: --root: “$S/nowhere” is not a directory\$" \
  runtime docker --root "$S/nowhere"
refused "an empty --root" 2 "^dflyctl: runtime: --root: “” is not a directory\$" \
  runtime docker --root ""
check "... nothing written for the refused runs" test -z "$(ls -A "$R")"

done_testing
