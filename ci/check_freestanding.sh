#!/usr/bin/env bash
# Proves the core is freestanding: every core/src/*.c compiles with gcc and clang-14 at
# -O0, -O2 and -Os under -ffreestanding and the project's warnings, and the objects,
# linked into one with `ld -r`, reference no symbol outside ci/freestanding-allowed.txt.
# Compilers may emit calls on their own (memcpy/memset for struct copies and zeroing
# loops, __atomic_* for atomics they cannot inline, __udivti3, __stack_chk_fail, ...);
# this is where such a call shows up, for every optimisation level.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
allowed_file="$root/ci/freestanding-allowed.txt"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

shopt -s nullglob
sources=("$root"/core/src/*.c)
if [ ${#sources[@]} -eq 0 ]; then
  echo "check_freestanding: no core/src/*.c" >&2
  exit 1
fi

common=(-std=c11 -ffreestanding -nostdlib -fno-builtin
        -Wall -Wextra -Werror -Wconversion -Wshadow -Wstrict-prototypes
        -Wmissing-prototypes -Wcast-align -Wpointer-arith -Wundef -Wvla
        -I"$root/core/include" -I"$root/core/src")
# The allowed list without comments and blank lines, one name a line, sorted.
grep -v '^[[:space:]]*#' "$allowed_file" | tr -d '[:blank:]' | grep -v '^$' | sort -u \
  >"$work/allowed" || true

failed=0
for cc in gcc clang-14; do
  extra=()
  [ "$cc" = gcc ] && extra=(-fno-tree-loop-distribute-patterns)
  for opt in -O0 -O2 -Os; do
    tag="$cc $opt"
    dir="$work/$cc$opt"
    mkdir -p "$dir/obj"
    ok=1
    for src in "${sources[@]}"; do
      obj="$dir/obj/$(basename "${src%.c}").o"
      if ! "$cc" "${common[@]}" "${extra[@]}" "$opt" -c "$src" -o "$obj"; then
        echo "FAIL [$tag] does not compile: ${src#"$root"/}"
        ok=0
      fi
    done
    if [ $ok -eq 0 ]; then failed=1; continue; fi

    ld -r -o "$dir/bsa_all.o" "$dir"/obj/*.o
    nm -u "$dir/bsa_all.o" | awk '{print $NF}' | sort -u >"$dir/undefined"
    comm -23 "$dir/undefined" "$work/allowed" >"$dir/forbidden"

    echo "[$tag] undefined symbols: $(tr '\n' ' ' <"$dir/undefined")"
    if [ -s "$dir/forbidden" ]; then
      echo "FAIL [$tag] not in ci/freestanding-allowed.txt: $(tr '\n' ' ' <"$dir/forbidden")"
      # Name the files that pull each one in: that is where the fix goes.
      while read -r sym; do
        users=$(nm -A -u "$dir"/obj/*.o |
                awk -v s="$sym" '$NF == s { sub(/:.*/, "", $1); n = split($1, p, "/");
                                            printf "%s ", p[n] }')
        echo "       $sym <- ${users//.o/.c}"
      done <"$dir/forbidden"
      failed=1
    else
      echo "ok   [$tag] ${#sources[@]} files"
    fi
  done
done

if [ $failed -ne 0 ]; then
  echo "check_freestanding: FAILED"
  exit 1
fi
echo "check_freestanding: ok (gcc, clang-14 x -O0 -O2 -Os)"
