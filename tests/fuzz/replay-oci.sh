#!/bin/sh
# Replays the oci fuzz corpus (manifests, indexes, token answers,
# WWW-Authenticate challenges, image URLs) through the OCI source's
# parsers, built with the normal compiler (and sanitizers, if configured),
# as part of `make check`.
set -e
exec "${top_builddir:?}/tests/fuzz/fuzz-oci-replay" "${top_srcdir:?}/tests/fuzz/corpus/oci"
