#!/bin/sh
# Replays the source.allow / source.deny fuzz corpus through the matcher
# built with the normal compiler (and sanitizers, if configured), as part of
# `make check`.
set -e
exec "${top_builddir:?}/tests/fuzz/fuzz-source-policy-replay" "${top_srcdir:?}/tests/fuzz/corpus/source-policy"
