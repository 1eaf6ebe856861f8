#!/bin/sh
# Replays the upload-server fuzz corpus (piece GETs, one-shot POSTs, seed
# orders, sync-pieces upgrades and frames, junk) against a real upload
# server in the replaying process, built with the normal compiler (and
# sanitizers, if configured), as part of `make check`.
set -e
exec "${top_builddir:?}/tests/fuzz/fuzz-upload-server-replay" "${top_srcdir:?}/tests/fuzz/corpus/upload-server"
