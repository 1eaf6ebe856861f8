#!/bin/sh
# Regenerate the build system, then configure unless NOCONFIGURE is set.
set -e
srcdir=$(dirname "$0")
test -n "$srcdir" || srcdir=.
(
  cd "$srcdir"
  mkdir -p build-aux m4
  autoreconf --force --install
  # automake does not install the TAP driver on its own.
  cp -f "$(automake --print-libdir)/tap-driver.sh" build-aux/
)
if [ -z "$NOCONFIGURE" ]; then
  exec "$srcdir/configure" "$@"
fi
