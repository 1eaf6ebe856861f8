#!/bin/sh
# Replays the frame fuzz corpus through the decoder built with the normal
# compiler (and sanitizers, if configured), as part of `make check`.
set -e
exec "${top_builddir:?}/tests/fuzz/fuzz-frame-replay" "${top_srcdir:?}/tests/fuzz/corpus/frame"
