#!/bin/sh
# test-cert.sh — "dflyctl cert ca|issue|show" without any dflyd or bus: the
# files and their modes, --force, the certificate profile as OpenSSL reads
# it (URI SANs, key usages, the chain), a real mutual-TLS handshake between
# two issued hosts through OpenSSL, and every bad argument refused with
# status 2 and one line.
. "$top_srcdir/tests/lib.sh"
need openssl

S=$SCRATCH
# No bus is there: the cert commands must not need one.
NO_BUS="unix:path=$S/no-bus-here"
CA=$S/ca
HOSTS=$S/hosts

ctl () {
  "$DFLYCTL" --address "$NO_BUS" "$@"
}

mode_of () {
  stat -c %a "$1"
}

# refused DESCRIPTION STATUS REGEX ARG...: dflyctl ARG... exits STATUS with
# one line on stderr matching REGEX and nothing on stdout.
refused () {
  _desc=$1
  _status=$2
  _regex=$3
  shift 3
  run refused.out refused.err ctl "$@"
  if [ "$RUN_STATUS" -eq "$_status" ] && [ "$(wc -l <"$S/refused.err")" -eq 1 ] &&
    grep -Eq -- "$_regex" "$S/refused.err" && [ ! -s "$S/refused.out" ]; then
    ok "$_desc"
  else
    not_ok "$_desc"
    diag "status $RUN_STATUS (expected $_status); stderr should be one line matching: $_regex"
    sed 's/^/#   stderr: /' "$S/refused.err"
    sed 's/^/#   stdout: /' "$S/refused.out"
  fi
}

# --- help ----------------------------------------------------------------

run help.out help.err ctl help
like "dflyctl help lists cert" "$S/help.out" "^  cert ca\\|issue\\|show … +Make the cluster CA"
run cert-help.out cert-help.err ctl cert --help
is "cert --help exits 0" "$RUN_STATUS" 0
like "... names the subcommands" "$S/cert-help.out" "^  issue --ca DIR --host-id ID --role ROLE"
like "... and the options" "$S/cert-help.out" "^  -f, --force +ca, issue: replace existing files"

# --- the CA ------------------------------------------------------------

umask 022
run ca.out ca.err ctl cert ca --out "$CA" --name "test cluster" --days 30
is "cert ca exits 0 with no bus" "$RUN_STATUS" 0
like "... and says what it wrote" "$S/ca.out" "^wrote $CA/ca.pem and $CA/ca-key.pem"
is "the CA directory it made is 0700" "$(mode_of "$CA")" 700
is "ca-key.pem is 0600" "$(mode_of "$CA/ca-key.pem")" 600
is "ca.pem is 0644" "$(mode_of "$CA/ca.pem")" 644
openssl x509 -noout -text -in "$CA/ca.pem" >"$S/ca.txt" 2>&1
like "OpenSSL reads the CA: its name" "$S/ca.txt" "Subject: CN ?= ?test cluster"
like "... CA:TRUE, path length 0" "$S/ca.txt" "CA:TRUE, pathlen:0"
like "... certificate signing" "$S/ca.txt" "Certificate Sign, CRL Sign"
like "... an ECDSA P-256 key" "$S/ca.txt" "NIST CURVE: P-256"
check "... the key is PKCS#8" grep -q -- "-----BEGIN PRIVATE KEY-----" "$CA/ca-key.pem"

cp "$CA/ca.pem" "$S/ca.before"
refused "cert ca over an existing CA is refused" 1 \
  "^dflyctl: cert ca: $CA/ca.pem already exists; --force replaces it\$" cert ca --out "$CA"
check "... and leaves it as it was" cmp -s "$S/ca.before" "$CA/ca.pem"

# --- host certificates ---------------------------------------------------

run issue.out issue.err ctl cert issue --ca "$CA" --host-id 127.0.0.1-node-a \
  --role scheduler,seed --role peer --ip 127.0.0.1 --ip ::1 --dns localhost --days 7 --out "$HOSTS"
is "cert issue exits 0" "$RUN_STATUS" 0
like "... and says what it wrote" "$S/issue.out" \
  "^wrote $HOSTS/127.0.0.1-node-a.pem and $HOSTS/127.0.0.1-node-a-key.pem\$"
is "the host key is 0600" "$(mode_of "$HOSTS/127.0.0.1-node-a-key.pem")" 600
is "the host certificate is 0644" "$(mode_of "$HOSTS/127.0.0.1-node-a.pem")" 644
openssl x509 -noout -text -in "$HOSTS/127.0.0.1-node-a.pem" >"$S/host.txt" 2>&1
like "OpenSSL reads the host id as the common name" "$S/host.txt" "Subject: CN ?= ?127.0.0.1-node-a"
like "... the roles as URI SANs, and the addresses and names" "$S/host.txt" \
  "URI:urn:dfly:role:peer, URI:urn:dfly:role:seed, URI:urn:dfly:role:scheduler, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1, DNS:localhost"
like "... CA:FALSE" "$S/host.txt" "CA:FALSE"
like "... for both ends of a link" "$S/host.txt" \
  "TLS Web Server Authentication, TLS Web Client Authentication"
run verify-server.out verify-server.err \
  openssl verify -CAfile "$CA/ca.pem" -purpose sslserver "$HOSTS/127.0.0.1-node-a.pem"
is "OpenSSL verifies it as a server's against the CA" "$RUN_STATUS" 0
run verify-client.out verify-client.err \
  openssl verify -CAfile "$CA/ca.pem" -purpose sslclient "$HOSTS/127.0.0.1-node-a.pem"
is "... and as a client's" "$RUN_STATUS" 0
openssl x509 -noout -pubkey -in "$HOSTS/127.0.0.1-node-a.pem" >"$S/cert.pub"
openssl pkey -pubout -in "$HOSTS/127.0.0.1-node-a-key.pem" >"$S/key.pub"
check "the key written is the certificate's" cmp -s "$S/cert.pub" "$S/key.pub"

run show.out show.err ctl cert show "$HOSTS/127.0.0.1-node-a.pem"
is "cert show exits 0" "$RUN_STATUS" 0
like "... the host id" "$S/show.out" "^host id: +127.0.0.1-node-a\$"
like "... the roles" "$S/show.out" "^roles: +peer, seed, scheduler\$"
like "... the issuer" "$S/show.out" "^issuer: +CN=test cluster\$"
like "... not a CA" "$S/show.out" "^CA: +no\$"
like "... the validity" "$S/show.out" "^valid until: +[0-9]{4}-[0-9]{2}-[0-9]{2}T"
like "... the addresses" "$S/show.out" "^IP addresses: +127.0.0.1, ::1\$"
run show-json.out show-json.err ctl --json cert show "$HOSTS/127.0.0.1-node-a.pem"
check "cert show --json: one object with the same" json_check "$S/show-json.out" \
  'd["host-id"] == "127.0.0.1-node-a" and d["roles"] == ["peer", "seed", "scheduler"]
   and d["ca"] is False and d["expired"] is False and d["dns-names"] == ["localhost"]'
run show-ca.out show-ca.err ctl cert show "$CA/ca.pem"
like "cert show of the CA: a CA with no roles" "$S/show-ca.out" "^CA: +yes\$"
like "... no roles" "$S/show-ca.out" "^roles: +none\$"

# --force: a key file left readable is replaced by a private one.
chmod 644 "$HOSTS/127.0.0.1-node-a-key.pem"
cp "$HOSTS/127.0.0.1-node-a-key.pem" "$S/key.before"
refused "cert issue over existing files is refused" 1 "already exists; --force replaces it\$" \
  cert issue --ca "$CA" --host-id 127.0.0.1-node-a --role peer --out "$HOSTS"
check "... and leaves the key as it was" cmp -s "$S/key.before" "$HOSTS/127.0.0.1-node-a-key.pem"
run force.out force.err ctl cert issue --ca "$CA" --host-id 127.0.0.1-node-a --role peer \
  --out "$HOSTS" --force
is "cert issue --force exits 0" "$RUN_STATUS" 0
check "... a new key" sh -c "! cmp -s '$S/key.before' '$HOSTS/127.0.0.1-node-a-key.pem'"
is "... mode 0600 again" "$(mode_of "$HOSTS/127.0.0.1-node-a-key.pem")" 600
run show2.out show2.err ctl cert show "$HOSTS/127.0.0.1-node-a.pem"
like "... granting what the new one says" "$S/show2.out" "^roles: +peer\$"

# A second host, and a stranger from another CA with the same name.
ctl cert issue --ca "$CA" --host-id node-b --role peer --out "$HOSTS" >/dev/null
ctl cert ca --out "$S/other-ca" --name "test cluster" >/dev/null
ctl cert issue --ca "$S/other-ca" --host-id node-b --role seed --out "$S/stranger" >/dev/null
run verify-stranger.out verify-stranger.err \
  openssl verify -CAfile "$CA/ca.pem" "$S/stranger/node-b.pem"
check "OpenSSL refuses a certificate of another CA" [ "$RUN_STATUS" -ne 0 ]

# --- a real handshake: mutual TLS between two issued hosts --------------

# handshake NAME CLIENT-CERT CLIENT-KEY: node-a serves HTTP over TLS 1.3,
# asking for a client certificate of the CA; a client with CLIENT-CERT asks
# it for a page. Sets RUN_STATUS to the client's status.
handshake () {
  _port=$(pick_port)
  openssl s_server -accept "127.0.0.1:$_port" -naccept 1 -tls1_3 -www \
    -cert "$HOSTS/127.0.0.1-node-a.pem" -key "$HOSTS/127.0.0.1-node-a-key.pem" \
    -CAfile "$CA/ca.pem" -Verify 1 -verify_return_error >"$S/$1-server.log" 2>&1 </dev/null &
  _server=$!
  track_pid "$_server"
  wait_for_line "$S/$1-server.log" "^ACCEPT" 10 || diag "s_server did not start"
  run "$1-client.out" "$1-client.err" sh -c "printf 'GET / HTTP/1.0\\r\\n\\r\\n' |
    timeout 10 openssl s_client -connect 127.0.0.1:$_port -tls1_3 -cert '$2' -key '$3' \
      -CAfile '$CA/ca.pem' -verify_return_error -brief -ign_eof"
  wait_exit "$_server" 5 || kill_pid "$_server"
  untrack_pid "$_server"
}

handshake mutual "$HOSTS/node-b.pem" "$HOSTS/node-b-key.pem"
is "node-b completes a mutual TLS handshake with node-a" "$RUN_STATUS" 0
like "... having verified node-a's certificate" "$S/mutual-client.err" "^Verification: OK"
like "... node-a verified node-b's" "$S/mutual-server.log" "^depth=0 CN ?= ?node-b"
like "... and answered" "$S/mutual-client.out" "^HTTP/1.0 200 ok"
handshake stranger "$S/stranger/node-b.pem" "$S/stranger/node-b-key.pem"
like "node-a refuses a client with another CA's certificate" "$S/stranger-server.log" \
  "certificate verify failed"
unlike "... and does not answer it" "$S/stranger-client.out" "200 ok"

# --- bad arguments: status 2, one line, nothing written -----------------

refused "cert alone" 2 "^dflyctl: cert: no subcommand given; use ca, issue or show\$" cert
refused "an unknown subcommand" 2 "^dflyctl: cert: unknown subcommand “sign”" cert sign
refused "ca without --out" 2 "^dflyctl: cert ca: --out DIR is required\$" cert ca
refused "ca --days 0" 2 "^dflyctl: cert ca: --days must be 1 to 36600, not 0\$" \
  cert ca --out "$S/x" --days 0
refused "ca --days not a number" 2 "Cannot parse integer value “many” for --days" \
  cert ca --out "$S/x" --days many
refused "ca --role does not apply" 2 "^dflyctl: cert ca: --role does not apply; usage: " \
  cert ca --out "$S/x" --role peer
refused "ca --name too long" 2 "a CA name must be 1 to 64 bytes" \
  cert ca --out "$S/x" --name "$(printf '%065d' 0)"
check "... nothing made for the refused CAs" test ! -e "$S/x"
refused "issue without --ca" 2 "^dflyctl: cert issue: --ca DIR .* is required\$" \
  cert issue --host-id h --role peer --out "$S/x"
refused "issue without --host-id" 2 "^dflyctl: cert issue: --host-id ID is required\$" \
  cert issue --ca "$CA" --role peer --out "$S/x"
refused "issue without --out" 2 "^dflyctl: cert issue: --out DIR is required\$" \
  cert issue --ca "$CA" --host-id h --role peer
refused "issue without --role" 2 "^dflyctl: cert issue: --role is required" \
  cert issue --ca "$CA" --host-id h --out "$S/x"
refused "issue with an unknown role" 2 "^dflyctl: cert issue: unknown role “admin”; use peer" \
  cert issue --ca "$CA" --host-id h --role peer,admin --out "$S/x"
refused "issue with a host id holding a slash" 2 \
  "^dflyctl: cert issue: --host-id: the host id has the byte 0x2f at 2; only letters" \
  cert issue --ca "$CA" --host-id ../etc --role peer --out "$S/x"
refused "issue with a bad --ip" 2 "^dflyctl: cert issue: “10.0.0.256” is not an IP address\$" \
  cert issue --ca "$CA" --host-id h --role peer --ip 10.0.0.256 --out "$S/x"
refused "issue with a bad --dns" 2 "^dflyctl: cert issue: “a_b” is not a DNS name" \
  cert issue --ca "$CA" --host-id h --role peer --dns a_b --out "$S/x"
refused "issue outliving its CA" 2 "would outlive its CA, which expires " \
  cert issue --ca "$CA" --host-id h --role peer --days 31 --out "$S/x"
refused "issue from a directory without a CA" 1 \
  "^dflyctl: cert issue: cannot read $S/nothing/ca.pem: No such file or directory\$" \
  cert issue --ca "$S/nothing" --host-id h --role peer --out "$S/x"
mkdir -p "$S/host-as-ca" "$S/mixed"
cp "$HOSTS/node-b.pem" "$S/host-as-ca/ca.pem"
cp "$HOSTS/node-b-key.pem" "$S/host-as-ca/ca-key.pem"
refused "issue with a host certificate as the CA" 2 "the CA certificate is not a CA" \
  cert issue --ca "$S/host-as-ca" --host-id h --role peer --out "$S/x"
cp "$CA/ca.pem" "$S/mixed/ca.pem"
cp "$S/other-ca/ca-key.pem" "$S/mixed/ca-key.pem"
refused "issue with another CA's key" 2 "the CA key does not belong to the CA certificate" \
  cert issue --ca "$S/mixed" --host-id h --role peer --out "$S/x"
check "... nothing written for the refused hosts" test ! -e "$S/x"
refused "show without a file" 2 "^dflyctl: cert show: no file given; usage: dflyctl cert show FILE\$" \
  cert show
refused "show with two files" 2 "unexpected argument “b”" cert show a b
refused "show --out does not apply" 2 "^dflyctl: cert show: --out does not apply" \
  cert show --out "$S/x" "$CA/ca.pem"
printf 'not a certificate\n' >"$S/garbage.pem"
refused "show of a file that is no certificate" 2 "holds no certificate" cert show "$S/garbage.pem"
refused "show of a key" 2 "holds no certificate" cert show "$CA/ca-key.pem"
head -c 300 "$CA/ca.pem" >"$S/truncated.pem"
refused "show of a truncated certificate" 2 "is not valid X.509" cert show "$S/truncated.pem"
refused "show of a missing file" 1 "cannot read $S/missing.pem: No such file or directory" \
  cert show "$S/missing.pem"

done_testing
