#!/bin/sh
# Replays the proxy fuzz corpus (request heads a proxy client sends)
# through the proxy role's parsers, built with the normal compiler (and
# sanitizers, if configured), as part of `make check`.
set -e
exec "${top_builddir:?}/tests/fuzz/fuzz-proxy-replay" "${top_srcdir:?}/tests/fuzz/corpus/proxy"
