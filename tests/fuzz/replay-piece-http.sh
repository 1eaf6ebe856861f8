#!/bin/sh
# Replays the piece-http fuzz corpus (request and response heads, some with
# body bytes after them) through the piece head parsers, built with the
# normal compiler (and sanitizers, if configured), as part of `make check`.
set -e
exec "${top_builddir:?}/tests/fuzz/fuzz-piece-http-replay" "${top_srcdir:?}/tests/fuzz/corpus/piece-http"
