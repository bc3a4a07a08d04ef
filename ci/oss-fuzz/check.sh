#!/usr/bin/env bash
# Runs ci/oss-fuzz/build.sh here the way OSS-Fuzz runs it for libFuzzer + ASan (no
# Docker on these machines): the same variables, the source at $SRC/bsa, a fresh $OUT.
# Then checks every target's files and runs each binary briefly on its seed corpus.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cmp -s "$root/ci/oss-fuzz/build.sh" "$root/.clusterfuzzlite/build.sh" ||
  { echo "oss-fuzz: .clusterfuzzlite/build.sh differs from ci/oss-fuzz/build.sh" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src/bsa" "$tmp/out"
# The tree as the Dockerfile's COPY gives it: every file git does not ignore.
(cd "$root" && git ls-files -z -c -o --exclude-standard |
   xargs -0 cp --parents -t "$tmp/src/bsa")

flags="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address"
flags+=" -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link"
export CC=clang-14 CXX=clang++-14 CFLAGS="$flags" CXXFLAGS="$flags"
export LIB_FUZZING_ENGINE=-fsanitize=fuzzer SRC=$tmp/src OUT=$tmp/out
echo "oss-fuzz: build.sh with CC=$CC CFLAGS=$CFLAGS LIB_FUZZING_ENGINE=$LIB_FUZZING_ENGINE"
(cd "$SRC/bsa" && bash "$SRC/bsa/ci/oss-fuzz/build.sh")

for target in fuzz_buddy fuzz_slab fuzz_allocator; do
  for f in "$target" "${target}_seed_corpus.zip" "$target.dict" "$target.options"; do
    [ -s "$OUT/$f" ] || { echo "oss-fuzz: missing $OUT/$f" >&2; exit 1; }
  done
  mkdir -p "$tmp/seeds/$target"
  (cd "$tmp/seeds/$target" && unzip -q "$OUT/${target}_seed_corpus.zip")
  echo "oss-fuzz: running $target on $(ls "$tmp/seeds/$target" | wc -l) seeds + 2000 runs"
  (cd "$OUT" && timeout 300 setarch "$(uname -m)" -R "./$target" -dict="$target.dict" \
     -runs=2000 -max_len=1024 "$tmp/seeds/$target" 2>&1 | tail -n 2)
done
echo "oss-fuzz: ok (3 targets built by build.sh, files present, runs clean)"
