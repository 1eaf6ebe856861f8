#!/bin/sh
# Replays the http-range fuzz corpus (Content-Range, Content-Length and
# Transfer-Encoding values) through the header parsers, built with the
# normal compiler (and sanitizers, if configured), as part of `make check`.
set -e
exec "${top_builddir:?}/tests/fuzz/fuzz-http-range-replay" "${top_srcdir:?}/tests/fuzz/corpus/http-range"
