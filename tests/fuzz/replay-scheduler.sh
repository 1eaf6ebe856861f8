#!/bin/sh
# Replays the scheduler fuzz corpus (programs of announces, hang-ups, hosts
# leaving and time passing) through the scheduler's schedule, built with
# the normal compiler (and sanitizers, if configured), as part of `make check`.
set -e
exec "${top_builddir:?}/tests/fuzz/fuzz-scheduler-replay" "${top_srcdir:?}/tests/fuzz/corpus/scheduler"
