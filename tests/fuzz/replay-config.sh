#!/bin/sh
# Replays the config fuzz corpus through the parser built with the normal
# compiler (and sanitizers, if configured), as part of `make check`.
set -e
exec "${top_builddir:?}/tests/fuzz/fuzz-config-replay" "${top_srcdir:?}/tests/fuzz/corpus/config"
