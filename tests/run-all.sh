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

# Both flavours run to the end, each reported, even when the first fails;
# the exit status is non-zero if either did.
status=0
echo "== tests (gcc build)"
if meson test -C "$out/gcc" --print-errorlogs --num-processes 2; then gcc_result=passed; else gcc_result=FAILED; status=1; fi
echo "== tests (ASan+UBSan build)"
if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C "$out/asan" --print-errorlogs --num-processes 2 --timeout-multiplier 3; then
  asan_result=passed
else
  asan_result=FAILED
  status=1
fi
echo "== gcc build: $gcc_result; ASan+UBSan build: $asan_result"
echo "test suite finished in $(( $(date +%s) - start )) s"
exit $status
