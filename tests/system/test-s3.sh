#!/bin/sh
# test-s3.sh — `dflyctl get s3://…` through one dflyd from a real s3rver
#
# Objects byte for byte (empty, multi-piece ranged), S3 error codes and
# their exit statuses, presigned parameters that do not make a second task,
# listings (nested prefixes, 2500 keys over three pages) into a directory,
# and hostile keys refused. s3rver does not check signatures: the signer is
# tested against fixed vectors in plugins/sources/s3/test-s3-source.
. "$top_srcdir/tests/lib.sh"

need curl
OUT="$SCRATCH/out"
FILES="$SCRATCH/files"
mkdir -p "$OUT" "$FILES"
start_bus
start_s3rver "$SCRATCH/s3" bkt big

# The credentials are s3rver's; path style because the endpoint is an IP.
CONFIG="$SCRATCH/dflyd.yaml"
write_config "$CONFIG" \
  "download:" "  min_piece_length: 4KiB" "  concurrency: 4" \
  "http:" "  connect_timeout: 2s" "  read_timeout: 5s" "  retries: 1" "  retry_backoff_ms: 100" \
  "s3:" "  endpoint: $S3RVER_URL" "  region: us-east-1" \
  "  access_key_id: S3RVER" "  secret_access_key: S3RVER"
start_dflyd "$CONFIG"
wait_for_dflyd 20 || bail_out "dflyd did not come up"

ctl () {
  timeout 120 "$DFLYCTL" --address "$BUS_ADDRESS" "$@"
}

# get NAME URL [OPTION...]: downloads to $OUT/NAME; GET_STATUS, $SCRATCH/get.err
get () {
  _name=$1
  _url=$2
  shift 2
  GET_STATUS=0
  ctl get "$_url" -O "$OUT/$_name" "$@" >"$SCRATCH/get.out" 2>"$SCRATCH/get.err" ||
    GET_STATUS=$?
}

# fetch_ok DESC KEY FILE [OPTION...]: s3://bkt/KEY arrives equal to FILE.
fetch_ok () {
  _desc=$1
  _key=$2
  _file=$3
  shift 3
  get "$(basename "$_file").got" "s3://bkt/$_key" "$@"
  if [ "$GET_STATUS" -eq 0 ] && cmp -s "$_file" "$OUT/$(basename "$_file").got"; then
    ok "$_desc"
  else
    not_ok "$_desc (exit $GET_STATUS)"
    sed 's/^/#   /' "$SCRATCH/get.err"
  fi
}

# --- objects -------------------------------------------------------------
head -c 100000 /dev/urandom >"$FILES/object"
s3_put bkt data/object "$FILES/object" || bail_out "cannot PUT to s3rver"
fetch_ok "an object arrives byte for byte" data/object "$FILES/object"

: >"$FILES/empty"
s3_put bkt data/empty "$FILES/empty"
fetch_ok "a 0-byte object arrives (an empty file)" data/empty "$FILES/empty"

head -c 50001 /dev/urandom >"$FILES/pieces"
s3_put bkt data/pieces "$FILES/pieces"
fetch_ok "an object of 13 pieces of 4 KiB (ranged GETs) arrives intact" data/pieces \
  "$FILES/pieces" --piece-length 4096

head -c 3000 /dev/urandom >"$FILES/spaced"
s3_put bkt "data/a%20b%2Bc.bin" "$FILES/spaced"
fetch_ok "a key with a space and a plus (percent-encoded in the URL)" "data/a%20b%2Bc.bin" \
  "$FILES/spaced"

# --- errors ----------------------------------------------------------------
get nokey s3://bkt/data/no-such-key
is "NoSuchKey: exit status 4" "$GET_STATUS" 4
like "... the message names the S3 code and the URL" "$SCRATCH/get.err" \
  'S3 NoSuchKey \(HTTP 404\): s3://bkt/data/no-such-key'
check "... and nothing is left at the output" test ! -e "$OUT/nokey"

get nobucket s3://no-such-bucket/k
is "NoSuchBucket: exit status 4" "$GET_STATUS" 4
like "... the message names the S3 code" "$SCRATCH/get.err" 'S3 NoSuchBucket \(HTTP 404\)'

get bad-url "s3://bkt/"
is "a bucket without a key is refused for a single file (exit 2)" "$GET_STATUS" 2

# --- presigned-style parameters do not make another task --------------------
head -c 5000 /dev/urandom >"$FILES/presigned"
s3_put bkt data/presigned "$FILES/presigned"
fetch_ok "an object through a plain URL" data/presigned "$FILES/presigned"
mv "$OUT/presigned.got" "$OUT/presigned.first"
fetch_ok "... and through one with X-Amz-* parameters" \
  "data/presigned?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20240102T030405Z&X-Amz-Signature=abc" \
  "$FILES/presigned"
is "... both are one task" \
  "$(grep -E ': downloading s3://bkt/data/presigned' "$DFLYD_LOG" | awk '{ print $4 }' | sort -u |
    wc -l)" 1

# --- directories: List, then one Download per object ---------------------
mkdir -p "$FILES/tree/sub/deeper"
head -c 7000 /dev/urandom >"$FILES/tree/top"
head -c 1 /dev/urandom >"$FILES/tree/sub/one"
: >"$FILES/tree/sub/deeper/empty"
head -c 20000 /dev/urandom >"$FILES/tree/sub/deeper/leaf"
for f in top sub/one sub/deeper/empty sub/deeper/leaf; do
  s3_put bkt "tree/$f" "$FILES/tree/$f"
done
s3_put bkt "treeish" "$FILES/tree/top" # shares the prefix's text, not its "tree/"
run rec.out rec.err ctl get s3://bkt/tree --recursive -O "$OUT/tree"
is "--recursive over a prefix: exit 0" "$RUN_STATUS" 0
check "... writes the tree of nested keys byte for byte" diff -r "$FILES/tree" "$OUT/tree"
like "... reporting each file when stderr is no terminal" "$SCRATCH/rec.err" \
  '^sub/deeper/leaf: done \([0-9]/4 files\)$'
like "... and the total" "$SCRATCH/rec.err" "^4 files in $OUT/tree\$"

run rec2.out rec2.err ctl get s3://bkt/tree/sub/ --recursive -O "$OUT/sub" --piece-length 4096
check "a sub-prefix, with 4 KiB pieces, writes its subtree" diff -r "$FILES/tree/sub" "$OUT/sub"

run nobucket.out nobucket.err ctl get s3://no-such-bucket/ --recursive -O "$OUT/nob"
is "--recursive on a missing bucket: exit 4" "$RUN_STATUS" 4
like "... naming NoSuchBucket" "$SCRATCH/nobucket.err" 'NoSuchBucket'

run single.out single.err ctl get s3://bkt/tree/top --recursive --single -O "$OUT/x"
is "--recursive with --single is a usage error" "$RUN_STATUS" 2
run plat.out plat.err ctl get s3://bkt/tree/top --platform linux/amd64 -O "$OUT/x"
is "--platform without a directory download is a usage error" "$RUN_STATUS" 2

# 2500 objects: three pages of ListObjectsV2 (1000 keys each at most).
python3 - "$S3RVER_PORT" <<'PY' || bail_out "cannot fill bucket big"
import http.client, sys
conn = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=30)
for i in range(2500):
    body = ("object %d\n" % i).encode()
    conn.request("PUT", "/big/many/d%d/k%04d" % (i % 7, i), body=body,
                 headers={"Content-Type": "application/octet-stream"})
    r = conn.getresponse()
    r.read()
    if r.status != 200:
        sys.exit("PUT %d: %d" % (i, r.status))
PY
run many.out many.err ctl get s3://big/many/ --recursive -O "$OUT/many"
is "2500 objects over three listing pages: exit 0" "$RUN_STATUS" 0
is "... every one of them is written" "$(find "$OUT/many" -type f | wc -l)" 2500
is "... with its bytes" "$(cat "$OUT/many/d5/k2497")" "object 2497"
like "... and the total says so" "$SCRATCH/many.err" "^2500 files in "

# --- hostile keys: an origin that lists paths outside the directory -------
# s3rver keeps objects as files and cannot hold such keys: a fake S3 that
# only lists, switched to by a live reload of s3.endpoint.
FAKE_PORT=$(pick_port)
python3 - "$FAKE_PORT" >"$SCRATCH/fake-s3.log" 2>&1 <<'PY' &
import http.server, sys, urllib.parse
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        prefix = q.get("prefix", [""])[0]
        key = {"dots/": "dots/../x", "slashes/": "slashes/a//b", "abs/": "abs//etc/x"}.get(prefix, prefix + "ok")
        body = ('<?xml version="1.0" encoding="UTF-8"?><ListBucketResult>'
                '<IsTruncated>false</IsTruncated><Contents><Key>%s</Key><Size>1</Size>'
                '</Contents></ListBucketResult>' % key).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
PY
FAKE_PID=$!
track_pid "$FAKE_PID"
tries=50
until curl -s -o /dev/null "http://127.0.0.1:$FAKE_PORT/" || [ "$tries" -eq 0 ]; do
  tries=$((tries - 1))
  sleep 0.1
done
sed -i "s|^  endpoint: .*|  endpoint: http://127.0.0.1:$FAKE_PORT|" "$CONFIG"
ctl reload >/dev/null 2>&1
for prefix in dots slashes abs; do
  run hostile.out hostile.err ctl get "s3://bkt/$prefix/" --recursive -O "$OUT/hostile-$prefix"
  if [ "$RUN_STATUS" -ne 0 ] && grep -q "refusing key" "$SCRATCH/hostile.err" &&
    [ -z "$(ls -A "$OUT/hostile-$prefix" 2>/dev/null)" ] && [ ! -e "$OUT/x" ]; then
    ok "a listed key $prefix/… that is no safe path is refused, nothing written"
  else
    not_ok "a listed key $prefix/… that is no safe path is refused (exit $RUN_STATUS)"
    sed 's/^/#   /' "$SCRATCH/hostile.err"
  fi
done

done_testing
