#!/usr/bin/env bash
# Builds and installs bsa into a temporary prefix, then builds and runs ci/consumer
# three ways, as users will: find_package(bsa CONFIG), pkg-config, add_subdirectory.
# The install uses `--prefix` at install time (not the configured prefix) on purpose:
# the package files must name the prefix actually installed to.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cc=${CC:-cc}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
prefix="$work/prefix"
consumer="$root/ci/consumer"

step() { echo "--- check_install: $*"; }

step "build bsa (Release, no tests) and install to $prefix"
cmake -S "$root" -B "$work/bsa" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DBSA_BUILD_TESTS=OFF -DBSA_INSTALL=ON >"$work/bsa-configure.log"
cmake --build "$work/bsa" >"$work/bsa-build.log"
cmake --install "$work/bsa" --prefix "$prefix" | sed 's/^/    /'
for f in include/bsa.h include/bsa_hosted.h lib/libbsa.a lib/libbsa_hosted.a \
         lib/cmake/bsa/bsaConfig.cmake lib/cmake/bsa/bsaConfigVersion.cmake \
         lib/cmake/bsa/bsaTargets.cmake lib/pkgconfig/bsa.pc; do
  [ -f "$prefix/$f" ] || { echo "missing from the install: $f" >&2; exit 1; }
done

step "consumer via find_package(bsa CONFIG)"
cmake -S "$consumer" -B "$work/c-find" -G Ninja -DCMAKE_PREFIX_PATH="$prefix" \
      >"$work/c-find.log"
cmake --build "$work/c-find" >>"$work/c-find.log"
"$work/c-find/consumer"

step "consumer via pkg-config ($cc consumer.c \$(pkg-config --cflags --libs bsa))"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
flags=$(pkg-config --cflags --libs bsa)
echo "    pkg-config: $flags"
case "$flags" in
  *"$prefix"*) ;;
  *) echo "bsa.pc does not point into $prefix" >&2; exit 1 ;;
esac
# shellcheck disable=SC2086 # the flags are meant to split into words
"$cc" -std=c11 -o "$work/c-pkg" "$consumer/consumer.c" $flags
"$work/c-pkg"

step "consumer via add_subdirectory($root)"
cmake -S "$consumer" -B "$work/c-sub" -G Ninja -DBSA_SOURCE_DIR="$root" >"$work/c-sub.log"
cmake --build "$work/c-sub" >>"$work/c-sub.log"
"$work/c-sub/consumer"

echo "check_install: ok (find_package, pkg-config, add_subdirectory)"
