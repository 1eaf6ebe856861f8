#!/bin/sh
# Replays the protocol-message fuzz corpus through the checked decoder,
# built with the normal compiler (and sanitizers, if configured), as part of
# `make check`.
set -e
exec "${top_builddir:?}/tests/fuzz/fuzz-message-replay" "${top_srcdir:?}/tests/fuzz/corpus/message"
