#!/bin/sh
# The whole test suite: installs what it needs, builds with warnings as
# errors under gcc and clang, runs every test, then runs every test again
# in an ASan+UBSan build.
set -eu
cd "$(dirname "$0")/.."
sh deploy/install-deps.sh
out=${MDG_BUILD_ROOT:-build-test}
start=$(date +%s)

CC=gcc meson setup --wipe "$out/gcc" -Dwerror=true --buildtype=debugoptimized >/dev/null 2>&1 ||
  CC=gcc meson setup "$out/gcc" -Dwerror=true --buildtype=debugoptimized
ninja -C "$out/gcc"
CC=clang meson setup --wipe "$out/clang" -Dwerror=true --buildtype=debugoptimized >/dev/null 2>&1 ||
  CC=clang meson setup "$out/clang" -Dwerror=true --buildtype=debugoptimized
ninja -C "$out/clang"
CC=clang meson setup --wipe "$out/asan" -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false -Dfuzz=true \
  --buildtype=debug >/dev/null 2>&1 ||
  CC=clang meson setup "$out/asan" -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false -Dfuzz=true --buildtype=debug
ninja -C "$out/asan"

echo "== tests (gcc build)"
meson test -C "$out/gcc" --print-errorlogs --num-processes 2
echo "== tests (ASan+UBSan build)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C "$out/asan" --print-errorlogs --num-processes 2 --timeout-multiplier 3
echo "test suite finished in $(( $(date +%s) - start )) s"
