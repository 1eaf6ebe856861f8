#!/bin/sh
# test-trust-tls.sh — a swarm on mutual TLS from one cluster CA
#
# dflyctl makes the CA and each host's certificate; a hub (scheduler, seed
# and peer) and two peers download a file from nginx over TLS links only:
# announces, sync streams and piece connections. A host whose certificate
# another CA issued, and a client without one, are refused at the handshake.
. "$top_srcdir/tests/lib.sh"

need curl openssl
WWW="$SCRATCH/www"
OUT="$SCRATCH/out"
CERTS="$SCRATCH/certs"
mkdir -p "$WWW" "$OUT" "$CERTS"
head -c $((24 * 1048576)) /dev/urandom >"$WWW/blob"
start_nginx "$WWW"
ORIGIN="http://127.0.0.1:$NGINX_PORT"

# ---- the three commands of the README's secure set-up ----
check "dflyctl makes a cluster CA" "$DFLYCTL" cert ca --out "$CERTS/ca" --name "test cluster"
issue () {
  check "dflyctl issues $1 a certificate ($2)" "$DFLYCTL" cert issue --ca "$CERTS/ca" \
    --host-id "$1" --role "$2" --ip "$3" --out "$CERTS/$1"
}
issue hub scheduler,seed,peer 127.0.4.1
issue peer1 peer 127.0.4.2
issue peer2 peer 127.0.4.3
issue fakeseed peer 127.0.4.5
# The intruder's CA is not the cluster's.
check "another CA" "$DFLYCTL" cert ca --out "$CERTS/other"
check "the intruder's certificate, from it" "$DFLYCTL" cert issue --ca "$CERTS/other" \
  --host-id intruder --role seed,peer --out "$CERTS/intruder"

# tls_section NAME [CA-DIR]: the tls lines of NAME's config.
tls_section () {
  printf 'tls:\n  ca: %s/ca/ca.pem\n  cert: %s/%s/%s.pem\n  key: %s/%s/%s-key.pem\n' \
    "$CERTS" "$CERTS" "$1" "$1" "$CERTS" "$1" "$1"
}

SCHEDULER_PORT=$(pick_port)
SCHEDULERS="peer:
  schedulers: [\"127.0.4.1:$SCHEDULER_PORT\"]"
COMMON="download:
  piece_length: 1MiB
  min_piece_length: 1MiB"
start_node hub 127.0.4.1 "[scheduler, seed, peer]" "scheduler:" "  port: $SCHEDULER_PORT" \
  "$COMMON" "$(tls_section hub)"
start_node peer1 127.0.4.2 "[peer]" "$SCHEDULERS" "$COMMON" "$(tls_section peer1)"
start_node peer2 127.0.4.3 "[peer]" "$SCHEDULERS" "$COMMON" "$(tls_section peer2)"
for node in hub peer1 peer2; do
  wait_for_node "$node" 30 || bail_out "node $node did not come up"
done
like "the hub is who its certificate says" "$SCRATCH/hub.log" "tls: this host is hub"
wait_for_line "$SCRATCH/hub.log" "host peer2 joined" 10 ||
  bail_out "the scheduler did not hear peer2 by its certificate's name"
ok "the scheduler knows peer2 by its certificate's host id"

# ---- a download over TLS links ----
timeout 120 "$DFLYCTL" --address "$(node_bus peer1)" get "$ORIGIN/blob" -O "$OUT/peer1" -q \
  >"$SCRATCH/get-peer1.out" 2>&1
check "peer1 gets the file over TLS, byte-identical" cmp -s "$WWW/blob" "$OUT/peer1"
timeout 120 "$DFLYCTL" --address "$(node_bus peer2)" get "$ORIGIN/blob" -O "$OUT/peer2" -q \
  >"$SCRATCH/get-peer2.out" 2>&1
check "peer2 too" cmp -s "$WWW/blob" "$OUT/peer2"
node_ctl peer2 tasks >"$SCRATCH/tasks.out" 2>&1
like "peer2's pieces came from parents, over TLS piece connections" "$SCRATCH/tasks.out" \
  " parents .*$ORIGIN/blob"
ratio=$(nginx_ratio /blob "$WWW/blob")
check "the origin sent the file about once ($ratio <= 1.05)" at_most 1.05 "$ratio"

# ---- who is refused ----
start_node intruder 127.0.4.4 "[peer]" "$SCHEDULERS" "$COMMON" "$(tls_section intruder)"
# Its own certificate does not chain to its own tls.ca (the cluster's):
# dflyd refuses to start with it, saying why.
wait_exit "$(node_pid intruder)" 10 || bail_out "dflyd started with another CA's certificate"
like "a host with another CA's certificate does not start" "$SCRATCH/intruder.log" \
  "another CA issued it"
# Made to trust its own CA, it cannot join: the hub's certificate is not
# its CA's, and its own is not the hub's.
sed -i "s|$CERTS/ca/ca.pem|$CERTS/other/ca.pem|" "$SCRATCH/intruder/dflyd.yaml"
"$DFLYD" --bus-address "$(node_bus intruder)" --config "$SCRATCH/intruder/dflyd.yaml" \
  --plugin-dir "$DFLY_PLUGIN_BUILD_DIR" </dev/null >>"$SCRATCH/intruder.log" 2>&1 &
track_pid $!
NODE_PID_intruder=$!
wait_for_node intruder 30 || bail_out "the intruder did not come up"
timeout 60 "$DFLYCTL" --address "$(node_bus intruder)" get "$ORIGIN/blob" -O "$OUT/intruder" -q \
  >"$SCRATCH/get-intruder.out" 2>&1
like "the intruder cannot reach the scheduler" "$SCRATCH/intruder.log" \
  "scheduler 127.0.4.1:$SCHEDULER_PORT is unreachable: .*certificate"
unlike "... which never hears of it" "$SCRATCH/hub.log" "host intruder joined"
# Its certificate, shown by a client that skips checking the hub's: the
# scheduler refuses it at the handshake.
if curl -s -m 5 -o /dev/null -k --cert "$CERTS/intruder/intruder.pem" \
  --key "$CERTS/intruder/intruder-key.pem" "https://127.0.4.1:$SCHEDULER_PORT/v1/stat-task"; then
  not_ok "another CA's client certificate is refused"
else
  ok "another CA's client certificate is refused"
fi
like "... at the handshake, saying so" "$SCRATCH/hub.log" \
  "tls: refusing .*Unacceptable TLS certificate"

# A host of the cluster running the seed role with a certificate that does
# not grant it: the scheduler refuses its seed announces.
start_node fakeseed 127.0.4.5 "[seed]" "$SCHEDULERS" "$COMMON" "$(tls_section fakeseed)"
wait_for_node fakeseed 30 || bail_out "fakeseed did not come up"
wait_for_line "$SCRATCH/hub.log" "host fakeseed announces itself as a .*seed without the seed role" 10
like "a seed without the seed role in its certificate is refused" "$SCRATCH/hub.log" \
  "host fakeseed announces itself as a .*seed without the seed role; refused"
unlike "... and never joins" "$SCRATCH/hub.log" "host fakeseed joined"

# A host of the cluster speaking for another: peer1's certificate, peer2's
# id, for its host, its leave and its peer.
DFLY_HOSTILE_TLS_CA="$CERTS/ca/ca.pem" DFLY_HOSTILE_TLS_CERT="$CERTS/peer1/peer1.pem" \
  DFLY_HOSTILE_TLS_KEY="$CERTS/peer1/peer1-key.pem" timeout 60 "$DFLY_HOSTILE" spoof-host \
  "127.0.4.1:$SCHEDULER_PORT" peer2 "$ORIGIN/blob" >"$SCRATCH/spoof.out" 2>&1
like "announcing another host's id is refused" "$SCRATCH/spoof.out" "^announce_host_status=403$"
like "making another host leave is refused" "$SCRATCH/spoof.out" "^leave_host_status=403$"
like "a peer registered as another host's closes the stream" "$SCRATCH/spoof.out" \
  "^stream_closed=1$"
like "... each refusal logged" "$SCRATCH/hub.log" \
  "for host peer2 from host peer1 refused: a host speaks only for itself"
unlike "peer2 never left" "$SCRATCH/hub.log" "host peer2 left"

# A plaintext client, and a TLS client without a certificate.
if curl -s -m 5 -o /dev/null "http://127.0.4.1:$SCHEDULER_PORT/v1/stat-task"; then
  not_ok "plaintext to the scheduler is refused"
else
  ok "plaintext to the scheduler is refused"
fi
if curl -s -m 5 -o /dev/null --cacert "$CERTS/ca/ca.pem" \
  "https://127.0.4.1:$SCHEDULER_PORT/v1/stat-task"; then
  not_ok "TLS without a client certificate is refused"
else
  ok "TLS without a client certificate is refused"
fi
# With peer1's certificate the same request is answered (a 4xx for its
# empty body): the refusals above were about certificates.
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -k \
  --cert "$CERTS/peer1/peer1.pem" --key "$CERTS/peer1/peer1-key.pem" \
  "https://127.0.4.1:$SCHEDULER_PORT/v1/stat-task")
case "$code" in
4??) ok "with a cluster certificate the scheduler answers ($code)" ;;
*) not_ok "with a cluster certificate the scheduler answers ($code)" ;;
esac

done_testing
