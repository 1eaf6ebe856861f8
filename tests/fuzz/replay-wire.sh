#!/bin/sh
# Replays the wire fuzz corpus (whole frames) through dfly_wire_unpack,
# built with the normal compiler (and sanitizers, if configured), as part of
# `make check`.
set -e
exec "${top_builddir:?}/tests/fuzz/fuzz-wire-replay" "${top_srcdir:?}/tests/fuzz/corpus/wire"
