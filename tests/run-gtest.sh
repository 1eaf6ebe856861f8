#!/bin/sh
# Runs one GTest binary with TAP output for automake's tap-driver; under
# valgrind when DFLY_VALGRIND is set (a definite leak or any memory error fails).
if [ -n "${DFLY_VALGRIND:-}" ]; then
  exec "$top_builddir/libtool" --mode=execute valgrind --quiet --error-exitcode=66 \
    --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite \
    --suppressions="$top_srcdir/tests/valgrind.supp" "$@" --tap
fi
exec "$@" --tap
