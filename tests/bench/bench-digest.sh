#!/bin/sh
# bench-digest.sh — piece digest throughput, side by side
#
#   tests/bench/bench-digest.sh [BUILD_DIR]     (SIZE_MIB=1024)
#
# Runs tests/bench/bench-digest (built with the tests): CRC-32C, XXH3 and
# SHA-256 through GnuTLS (the default piece digest) against GLib's GChecksum
# SHA-256, each over the same bytes in the same run. Prints one line per
# algorithm:
#   bench digest: NAME G GB/s C CPU-s/GiB R x GChecksum
# Not a test: it fails only if it cannot run, never on a time.
set -eu
build=$(cd "${1:-${top_builddir:-$(pwd)}}" && pwd)
[ -x "$build/tests/bench/bench-digest" ] || make -s -C "$build" tests/bench/bench-digest
"$build/tests/bench/bench-digest" "${SIZE_MIB:-1024}"
