#!/bin/sh
# Replays the s3-xml fuzz corpus (object listings, error bodies, hostile
# XML) through the S3 source's parsers, built with the normal compiler (and
# sanitizers, if configured), as part of `make check`.
set -e
exec "${top_builddir:?}/tests/fuzz/fuzz-s3-xml-replay" "${top_srcdir:?}/tests/fuzz/corpus/s3-xml"
