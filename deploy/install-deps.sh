#!/bin/sh
# Installs the Debian 12 packages madoguchi needs to build, test and run
# (fonts-ipafont-gothic: the Japanese glyphs of the top page in headless
# Chromium, tests/e2e/test_toppage.py; without it every one is an empty box).
set -eu
PACKAGES="build-essential meson ninja-build pkg-config python3 \
  libmicrohttpd-dev libgnutls28-dev libssl-dev libsqlite3-dev libjansson-dev libinih-dev check \
  openssl sqlite3 curl clang clang-format libclang-rt-14-dev \
  libcurl4-openssl-dev libp11-dev softhsm2 opensc gnutls-bin \
  nginx chromium fonts-ipafont-gothic scdoc man-db prometheus systemd valgrind jq \
  postgresql-15 libpq-dev"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing:$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
