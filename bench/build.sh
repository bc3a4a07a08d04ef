#!/usr/bin/env bash
# Configures and builds the benchmarks of the source tree SRC in BUILD, the one way
# ./perf.sh and bench/ab.sh both build them (Release, BSA_BUILD_BENCH=ON, no tests, no
# install; Ninja when it is there).
#
#   bench/build.sh SRC BUILD [TARGET...]     no TARGET: every benchmark binary
#
# The configure output goes to BUILD/configure.log (its tail is shown if it fails).
set -euo pipefail

[ $# -ge 2 ] || { sed -n '2,8s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; exit 2; }
src=$1
build=$2
shift 2
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
mkdir -p "$build"
cmake -S "$src" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DBSA_BUILD_BENCH=ON \
      -DBSA_BUILD_TESTS=OFF -DBSA_INSTALL=OFF >"$build/configure.log" 2>&1 ||
  { tail -n 30 "$build/configure.log" >&2; exit 1; }
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake --build "$build" "${targets[@]}" -j "$(nproc)"
