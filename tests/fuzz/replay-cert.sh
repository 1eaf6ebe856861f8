#!/bin/sh
# Replays the certificate fuzz corpus through the identity and "cert show"
# readers built with the normal compiler (and sanitizers, if configured), as
# part of `make check`.
set -e
exec "${top_builddir:?}/tests/fuzz/fuzz-cert-replay" "${top_srcdir:?}/tests/fuzz/corpus/cert"
