#!/bin/sh
# run.sh — build one fuzz target with libFuzzer and sanitizers, and fuzz it.
#
#   tests/fuzz/run.sh TARGET SECONDS BUILD_DIR
#   tests/fuzz/run.sh --list
#
# TARGET is a name from the table below (tests/fuzz/fuzz-TARGET.c defines
# LLVMFuzzerTestOneInput); BUILD_DIR is a configured build tree (for
# config.h; built without --enable-sanitizers when a target links its
# libraries). The target is compiled straight from the sources it parses
# with, not from libdfly-1, so that all of them carry the fuzzer's coverage.
# The seed corpus is copied to BUILD_DIR/fuzz/TARGET/corpus, which grows
# across runs; crashes land in BUILD_DIR/fuzz/TARGET/artifacts. The exit
# status is libFuzzer's: non-zero on a crash, leak, timeout or OOM.
# Extra libFuzzer options may be given in $FUZZ_ARGS (e.g. -jobs=4).
set -eu

usage() {
  echo "usage: $0 TARGET SECONDS BUILD_DIR" >&2
  echo "targets: $targets" >&2
  exit 2
}

# The table: one entry per target, all paths relative to the source tree.
#   sources — core files compiled in besides tests/fuzz/fuzz-TARGET.c
#   modules — pkg-config modules they need
#   corpus  — the seed corpus
#   built   — generated files compiled in, relative to BUILD_DIR
#   libs    — libtool libraries of BUILD_DIR linked as they are, without
#             the fuzzer's coverage: for what the code under test merely
#             calls (a context, a config, the HTTP client)
#   asan_options — added to ASAN_OPTIONS
#   options — libFuzzer options of the target's own
targets="config frame url source-policy message wire piece-http http-range s3-xml oci scheduler upload-server cert proxy manager-json"
target_entry() {
  built=""
  libs=""
  asan_options=""
  options=""
  case "$1" in
  config)
    sources="core/lib/dfly-config.c core/lib/dfly-config-reader.c core/lib/dfly-config-value.c
      core/lib/dfly-config-section.c core/lib/dfly-enums.c core/lib/dfly-error.c
      core/lib/dfly-piece-digest.c core/lib/dfly-source-policy.c"
    modules="glib-2.0 gobject-2.0 gio-2.0 gmodule-2.0 yaml-0.1 libxxhash gnutls"
    corpus="tests/fuzz/corpus/config"
    ;;
  frame)
    sources="core/lib/dfly-frame.c core/lib/dfly-error.c"
    built="proto/envelope.pb-c.c"
    modules="glib-2.0 gio-2.0 libprotobuf-c"
    corpus="tests/fuzz/corpus/frame"
    ;;
  message)
    sources="proto/dfly-message.c core/lib/dfly-error.c"
    built="proto/common.pb-c.c proto/scheduler.pb-c.c proto/peer.pb-c.c"
    modules="glib-2.0 gio-2.0 libprotobuf-c"
    corpus="tests/fuzz/corpus/message"
    ;;
  wire)
    # The listener's guards, TLS and the context it calls come linked.
    sources="proto/dfly-wire.c proto/dfly-message.c"
    libs="proto/libdfly-proto.la core/libdfly-1.la"
    modules="glib-2.0 gobject-2.0 gio-2.0 libprotobuf-c libsoup-3.0"
    corpus="tests/fuzz/corpus/wire"
    ;;
  source-policy)
    sources="core/lib/dfly-source-policy.c core/lib/dfly-error.c"
    modules="glib-2.0 gobject-2.0 gio-2.0"
    corpus="tests/fuzz/corpus/source-policy"
    ;;
  cert)
    sources="core/lib/dfly-cert.c core/lib/dfly-identity.c core/lib/dfly-error.c"
    modules="glib-2.0 gobject-2.0 gio-2.0 libsoup-3.0 gnutls"
    corpus="tests/fuzz/corpus/cert"
    ;;
  url)
    sources="core/lib/dfly-task-id.c core/lib/dfly-error.c"
    modules="glib-2.0 gio-2.0"
    corpus="tests/fuzz/corpus/url"
    ;;
  piece-http)
    sources="proto/dfly-piece-http.c core/lib/dfly-task-id.c core/lib/dfly-error.c"
    modules="glib-2.0 gobject-2.0 gio-2.0 libsoup-3.0"
    corpus="tests/fuzz/corpus/piece-http"
    ;;
  manager-json)
    sources="plugins/roles/manager/dfly-manager-model.c plugins/roles/engine/dfly-scheduler-list.c
      core/lib/dfly-error.c"
    modules="glib-2.0 gobject-2.0 gio-2.0 json-glib-1.0"
    corpus="tests/fuzz/corpus/manager-json"
    ;;
  http-range)
    sources="core/lib/dfly-http-range.c"
    modules="glib-2.0"
    corpus="tests/fuzz/corpus/http-range"
    ;;
  s3-xml)
    sources="plugins/sources/s3/dfly-s3-xml.c core/lib/dfly-error.c"
    modules="glib-2.0 gio-2.0"
    corpus="tests/fuzz/corpus/s3-xml"
    ;;
  oci)
    sources="plugins/sources/oci/dfly-oci-manifest.c plugins/sources/oci/dfly-oci-auth.c
      plugins/sources/oci/dfly-oci-ref.c"
    libs="core/libdfly-1.la"
    modules="glib-2.0 gobject-2.0 gio-2.0 libsoup-3.0 json-glib-1.0"
    corpus="tests/fuzz/corpus/oci"
    ;;
  scheduler)
    # The schedule's files, whichever there are: all but the role's and
    # its service's (which the target stands in for).
    sources="$(cd "$srcdir" && ls plugins/roles/scheduler/dfly-*.c |
      grep -v -e dfly-scheduler-role.c -e dfly-scheduler-service.c)
      plugins/schedulers/default/dfly-default-scheduler.c
      plugins/schedulers/default/dfly-parent-score.c plugins/schedulers/default/dfly-parent-weights.c"
    libs="proto/libdfly-proto.la core/libdfly-1.la"
    modules="glib-2.0 gobject-2.0 gio-2.0 gio-unix-2.0 libsoup-3.0 libprotobuf-c"
    corpus="tests/fuzz/corpus/scheduler"
    ;;
  upload-server)
    sources="plugins/roles/engine/dfly-upload-server.c plugins/roles/engine/dfly-piece-sender.c
      plugins/roles/engine/dfly-upload-policy.c proto/dfly-piece-http.c proto/dfly-wire.c"
    libs="plugins/roles/peer/libtest-disk.la plugins/roles/engine/libdfly-peer-engine.la
      proto/libdfly-proto.la core/libdfly-1.la"
    modules="glib-2.0 gobject-2.0 gio-2.0 gio-unix-2.0 libsoup-3.0 libprotobuf-c sqlite3"
    corpus="tests/fuzz/corpus/upload-server"
    # libsoup's leak (tests/lsan.supp) is told by its whole stack. With
    # threads of connections in flight, a check after each input sees
    # their allocations as leaks: leaks are looked for when the run ends.
    asan_options="fast_unwind_on_malloc=0"
    options="-detect_leaks=0"
    ;;
  proxy)
    sources="plugins/roles/proxy/dfly-proxy-headers.c plugins/roles/proxy/dfly-proxy-range.c
      plugins/roles/proxy/dfly-proxy-rules.c plugins/roles/proxy/dfly-proxy-target.c
      plugins/roles/proxy/dfly-proxy-settings.c"
    libs="core/libdfly-1.la"
    modules="glib-2.0 gobject-2.0 gio-2.0 libsoup-3.0"
    corpus="tests/fuzz/corpus/proxy"
    ;;
  *)
    return 1
    ;;
  esac
}

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
if [ "${1:-}" = "--list" ]; then
  echo "$targets"
  exit 0
fi
[ $# -eq 3 ] || usage
target=$1
seconds=$2
build_dir=$3
target_entry "$target" || usage
case "$seconds" in
  ''|*[!0-9]*) echo "$0: SECONDS must be a number: $seconds" >&2; exit 2 ;;
esac
[ -f "$build_dir/config.h" ] || {
  echo "$0: $build_dir/config.h not found; run configure there first" >&2
  exit 2
}

build_dir=$(cd "$build_dir" && pwd)
work="$build_dir/fuzz/$target"
binary="$work/fuzz-$target"
mkdir -p "$work/corpus" "$work/artifacts"

CC=${CLANG:-clang}
set -- "$srcdir/tests/fuzz/fuzz-$target.c"
for source in $sources; do
  set -- "$@" "$srcdir/$source"
done
for source in $built; do
  [ -f "$build_dir/$source" ] || make -C "$build_dir" -s "$source"
  set -- "$@" "$build_dir/$source"
done
for lib in $libs; do
  [ -f "$build_dir/$lib" ] || make -C "$build_dir" -s "$lib"
  libdir="$build_dir/$(dirname "$lib")/.libs"
  name=$(basename "$lib" .la)
  set -- "$@" -L"$libdir" -l"${name#lib}" -Wl,-rpath,"$libdir"
done
echo "building $binary"
# shellcheck disable=SC2046,SC2086 # pkg-config output and $modules are lists
"$CC" -g -O1 -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$srcdir" -I"$srcdir/core/include" -I"$srcdir/proto" -I"$build_dir/core/include" -I"$build_dir" \
  -DG_LOG_DOMAIN='"dfly-fuzz"' \
  -DGLIB_VERSION_MIN_REQUIRED=GLIB_VERSION_2_74 -DGLIB_VERSION_MAX_ALLOWED=GLIB_VERSION_2_74 \
  "$@" $(pkg-config --cflags --libs $modules) -o "$binary"

cp "$srcdir/$corpus"/* "$work/corpus/"

# GLib 2.74's slice allocator would hide use-after-free from ASan; a
# g_critical must count as a finding, not scroll past: GLib stops on it
# with SIGTRAP, which ASan must catch for libFuzzer to keep the input.
# Leaks inside system libraries are tests/lsan.supp's.
G_SLICE=always-malloc G_DEBUG=fatal-warnings
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:handle_sigtrap=1}${asan_options:+:$asan_options}
LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$srcdir/tests/lsan.supp}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export G_SLICE G_DEBUG ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS

echo "fuzzing $target for ${seconds}s"
status=0
# shellcheck disable=SC2086 # $options and FUZZ_ARGS are lists of options
"$binary" -max_total_time="$seconds" -rss_limit_mb=1024 -timeout=10 \
  -artifact_prefix="$work/artifacts/" -print_final_stats=1 $options ${FUZZ_ARGS:-} \
  "$work/corpus" || status=$?

if [ "$status" -ne 0 ]; then
  echo "$0: $target: fuzzer found a problem (exit $status); inputs in $work/artifacts:" >&2
  ls -l "$work/artifacts" >&2
  echo "replay one with: $binary FILE" >&2
fi
exit "$status"
