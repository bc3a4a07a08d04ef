#!/usr/bin/env bash
# fuzz/build_afl.sh [OUT_DIR]: AFL++ builds of the harnesses (default build/afl/<target>).
#
# afl-clang-fast -fsanitize=fuzzer links AFL++'s libFuzzer driver: persistent mode, the
# same LLVMFuzzerTestOneInput as the libFuzzer and replay builds. ASan + UBSan are on
# (AFL_USE_ASAN / AFL_USE_UBSAN), so afl-fuzz must run with -m none (fuzz/run.sh does).
# The model and helpers are compiled by plain clang (ASan + UBSan, no AFL++ edges): their
# branches say nothing about the core, and skipping them keeps the map small and fast.
# Extra flags through BSA_FUZZ_CFLAGS, e.g. BSA_FUZZ_CFLAGS=-DSOMETHING.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$root/build/afl}
mkdir -p "$out"
export AFL_USE_ASAN=1 AFL_USE_UBSAN=1 AFL_QUIET=1
read -r -a extra <<< "${BSA_FUZZ_CFLAGS:-}"
inc=(-I"$root/core/include" -I"$root/core/src" -I"$root/fuzz/model" -I"$root/fuzz/common")
mkdir -p "$out/support"
for f in "$root"/fuzz/model/*.c "$root"/fuzz/common/*.c; do
  clang-14 -std=gnu11 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
    "${inc[@]}" "${extra[@]}" -c "$f" -o "$out/support/$(basename "$f" .c).o"
done
for t in fuzz_buddy fuzz_slab fuzz_allocator; do
  afl-clang-fast -std=gnu11 -O1 -g -fsanitize=fuzzer "${inc[@]}" "${extra[@]}" \
    -o "$out/$t" "$root/fuzz/$t.c" "$out"/support/*.o "$root"/core/src/*.c
  echo "build_afl: $out/$t"
done
