#!/bin/sh
# Installs what building and testing dfly needs on Debian 12 (run as root or
# with sudo available). Idempotent: installed packages are skipped quickly.
# --demo: only what building dfly and running tests/demo.sh need.
set -eu
build="build-essential autoconf automake libtool autopoint gettext pkg-config
  libglib2.0-dev libglib2.0-dev-bin libsoup-3.0-dev glib-networking libjson-glib-dev
  libsqlite3-dev libprotobuf-c-dev protobuf-c-compiler libyaml-dev libxxhash-dev libgnutls28-dev
  libpq-dev"
demo="dbus nginx curl python3 containerd docker-registry"
tests="clang clang-format libclang-rt-14-dev valgrind libxml2-utils groff-base man-db systemd xz-utils
  openssl docker-registry apache2-utils python3-cryptography aria2 opentracker mktorrent iproute2 procps
  containerd podman skopeo runc postgresql"
packages="$build $demo"
[ "${1:-}" = --demo ] || packages="$packages $tests"
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing="$missing $p"
done
# npm (for s3rver) from Debian, unless a node with its npm is already here
# (e.g. from nodesource, whose nodejs conflicts with Debian's npm package).
[ "${1:-}" = --demo ] || command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if [ -n "$missing" ]; then
  echo "setup: installing$missing" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# s3rver, the S3 server of tests/system/test-s3.sh, is not packaged.
s3rver_prefix=/var/cache/dfly-test/npm
if [ "${1:-}" != --demo ] && [ ! -x "$s3rver_prefix/node_modules/.bin/s3rver" ]; then
  echo "setup: installing s3rver@3.7.1 under $s3rver_prefix" >&2
  $sudo mkdir -p "$s3rver_prefix"
  $sudo npm install --no-audit --no-fund --silent --prefix "$s3rver_prefix" s3rver@3.7.1 >/dev/null
fi
