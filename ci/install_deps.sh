#!/usr/bin/env bash
# Installs what building and testing bsa needs, through apt, only if something is
# missing: on a machine that has everything it touches nothing (not even apt-get
# update), so it is cheap to run first in every script. Idempotent, non-interactive.
set -euo pipefail

packages=(
  gcc binutils libc6-dev  # gcc-12 builds, ld -r / nm for check_freestanding.sh
  clang-14 libclang-rt-14-dev llvm-14  # clang builds, sanitizer and libFuzzer runtimes
  cmake ninja-build pkg-config  # build, presets, check_install.sh
  valgrind
  afl++ zip unzip  # fuzz/: AFL++ builds, OSS-Fuzz seed corpus zips (check.sh unzips them)
  g++ libbenchmark-dev libbenchmark-tools  # bench/: Google Benchmark, compare.py
  libjemalloc-dev libmimalloc-dev libgoogle-perftools-dev  # the peer allocators
  python3-matplotlib python3-numpy python3-scipy  # reports/ (run by /usr/bin/python3)
)

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install_deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install_deps: installing ${missing[*]}"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install_deps: need root or sudo" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install_deps: done"
