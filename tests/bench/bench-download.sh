#!/bin/sh
# bench-download.sh — one peer's download speed against curl, side by side
#
#   tests/bench/bench-download.sh [BUILD_DIR]     (SIZE_MIB=1024 ROUNDS=3)
#
# Serves a generated file from a real nginx on 127.0.0.1 and, in each round,
# times curl, a cold `dflyctl get` (task deleted first) and a warm one (cache
# hit) of the same URL into the same directory. The medians give the ratios;
# dflyd's peak RSS comes from VmHWM. Not a test: it prints figures and never
# fails on a time. The last line is:
#   bench download: ratio_vs_curl=R peak_rss_mib=M
# with R = curl's time / dfly's cold time (≥ 1 means dfly is at least as
# fast) and, on the line before it, the cache-hit ratio.
set -u
build=${1:-${top_builddir:-$(pwd)}}
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=$(cd "$build" && pwd)
DFLYD="$top_builddir/dflyd"
DFLYCTL="$top_builddir/dflyctl"
DFLY_PLUGIN_BUILD_DIR="$top_builddir/build-plugins"
export top_srcdir top_builddir DFLYD DFLYCTL DFLY_PLUGIN_BUILD_DIR
. "$top_srcdir/tests/lib.sh"

size_mib=${SIZE_MIB:-1024}
rounds=${ROUNDS:-3}
WWW="$SCRATCH/www"
OUT="$SCRATCH/out"
mkdir -p "$WWW" "$OUT"
# Random bytes, so nothing along the way can shortcut zeros.
head -c $((size_mib * 1024 * 1024)) /dev/urandom >"$WWW/file"
start_bus
start_nginx "$WWW"
write_config "$SCRATCH/dflyd.yaml"
sed -i 's/^  log_level: info$/  log_level: warning/' "$SCRATCH/dflyd.yaml"
start_dflyd "$SCRATCH/dflyd.yaml"
wait_for_dflyd 20 || bail_out "dflyd did not come up"

url="$NGINX_URL/file"
now () { date +%s.%N; }
elapsed () { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
divide () { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
median () { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

curl_times=""
cold_times=""
warm_times=""
for round in $(seq "$rounds"); do
  rm -f "$OUT/curl"
  # Every timed step starts with no dirty pages left by the one before, so
  # none pays for another's writeback.
  sync
  t0=$(now)
  curl -s -o "$OUT/curl" "$url" || bail_out "curl failed"
  t1=$(now)
  curl_times="$curl_times $(elapsed "$t0" "$t1")"
  rm -f "$OUT/curl"

  task=$("$DFLYCTL" --address "$BUS_ADDRESS" --json tasks | python3 -c '
import json, sys
for t in json.load(sys.stdin):
    print(t["id"])')
  for id in $task; do
    "$DFLYCTL" --address "$BUS_ADDRESS" task rm "$id" >/dev/null
  done
  rm -f "$OUT/dfly"
  sync
  t0=$(now)
  "$DFLYCTL" --address "$BUS_ADDRESS" get "$url" -O "$OUT/dfly" -q || bail_out "dflyctl get failed"
  t1=$(now)
  cold_times="$cold_times $(elapsed "$t0" "$t1")"
  cmp -s "$WWW/file" "$OUT/dfly" || bail_out "dfly's copy differs"
  rm -f "$OUT/dfly"
  sync

  t0=$(now)
  "$DFLYCTL" --address "$BUS_ADDRESS" get "$url" -O "$OUT/dfly" -q || bail_out "dflyctl get failed"
  t1=$(now)
  warm_times="$warm_times $(elapsed "$t0" "$t1")"
  rm -f "$OUT/dfly"
  diag "round $round: curl $(echo "$curl_times" | awk '{print $NF}')s," \
       "dfly cold $(echo "$cold_times" | awk '{print $NF}')s," \
       "dfly warm $(echo "$warm_times" | awk '{print $NF}')s"
done

peak_kib=$(awk '/^VmHWM:/ { print $2 }' "/proc/$DFLYD_PID/status")
curl_m=$(echo "$curl_times" | median)
cold_m=$(echo "$cold_times" | median)
warm_m=$(echo "$warm_times" | median)
stop_dflyd || diag "dflyd did not stop cleanly"
TAP_DONE=1 # not a TAP test: no plan, the figures are the output
echo "bench download: size_mib=$size_mib curl_s=$curl_m dfly_cold_s=$cold_m" \
  "dfly_warm_s=$warm_m cache_hit_ratio_vs_curl=$(divide "$curl_m" "$warm_m")"
echo "bench download: ratio_vs_curl=$(divide "$curl_m" "$cold_m")" \
  "peak_rss_mib=$(divide "$peak_kib" 1024)"
