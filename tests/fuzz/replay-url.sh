#!/bin/sh
# Replays the URL fuzz corpus through the query filter, task ids and piece
# lengths built with the normal compiler (and sanitizers, if configured), as
# part of `make check`.
set -e
exec "${top_builddir:?}/tests/fuzz/fuzz-url-replay" "${top_srcdir:?}/tests/fuzz/corpus/url"
