#!/bin/sh
# replay-manager-json.sh — replays the manager-json seed corpus (records a client
# sends the manager's API, lists of schedulers a manager answers) through the
# control plane's JSON readers, built with the normal compiler (and sanitizers,
# if configured), as part of `make check`.
set -e
exec "${top_builddir:?}/tests/fuzz/fuzz-manager-json-replay" "${top_srcdir:?}/tests/fuzz/corpus/manager-json"
