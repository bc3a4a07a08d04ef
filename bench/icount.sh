#!/usr/bin/env bash
# Instruction counts of bsa's key operations under callgrind: exact and repeatable.
#
#   bench/icount.sh [--build DIR] [--out FILE]
#
# Runs bsa_icount (bench/src/icount.c) under valgrind --tool=callgrind. The driver
# dumps callgrind's counters once per measurement, named "<op>@<ops>"; this script
# subtracts the fixed cost of a measurement (calib/empty) and divides by <ops>. Writes
# JSON: {"context": {...}, "instructions_per_op": {"pair_sized/64": 97.5, ...}}.
# Defaults: --build build/bench, --out results/bench/icount.json.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build="$root/build/bench"
out="$root/results/bench/icount.json"
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h | --help) sed -n '2,10s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "icount: unknown argument: $1" >&2; exit 2 ;;
  esac
done

bin="$build/bench/bsa_icount"
[ -x "$bin" ] || { echo "icount: $bin not built (BSA_BUILD_BENCH=ON, valgrind)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "icount: valgrind not installed" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
start=$SECONDS
valgrind --tool=callgrind -q --callgrind-out-file="$tmp/cg.out" "$bin" >"$tmp/log" 2>&1 || {
  cat "$tmp/log" >&2
  echo "icount: bsa_icount failed under callgrind" >&2
  exit 1
}

# One line per dump, in dump order: "<op>@<ops> <instructions>".
n=$(find "$tmp" -name 'cg.out.*' | wc -l)
for i in $(seq 1 "$n"); do
  f="$tmp/cg.out.$i"
  awk '/^desc: Trigger: Client Request: / { name = $5 }
       /^totals: / { total = $2 }
       END { if (name != "") print name, total }' "$f"
done >"$tmp/totals"

commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$root" status --porcelain -- core 2>/dev/null)" ]; then commit="$commit-dirty"; fi
mkdir -p "$(dirname "$out")"
awk -v commit="$commit" -v date="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
    -v valgrind="$(valgrind --version)" -v cc="$(cc --version | head -n 1)" \
    -v host="$(hostname)" '
  { split($1, a, "@"); name[NR] = a[1]; ops[NR] = a[2]; total[NR] = $2
    if (a[1] == "calib/empty") empty = $2 }
  END {
    printf "{\n  \"context\": {\"tool\": \"callgrind\", \"valgrind\": \"%s\", \"compiler\": \"%s\",", valgrind, cc
    printf " \"commit\": \"%s\", \"date\": \"%s\", \"host\": \"%s\",", commit, date, host
    printf " \"measurement_overhead\": %d,\n", empty
    printf "    \"note\": \"(dump total - calib/empty) / ops; calib/loop is the empty loop per iteration\"},\n"
    printf "  \"ops\": {"
    sep = ""
    for (i = 1; i <= NR; i++) {
      if (name[i] ~ /^calib\/(empty|warmup)$/) continue
      printf "%s\n    \"%s\": %d", sep, name[i], ops[i]; sep = ","
    }
    printf "\n  },\n  \"instructions_per_op\": {"
    sep = ""
    for (i = 1; i <= NR; i++) {
      if (name[i] ~ /^calib\/(empty|warmup)$/) continue
      printf "%s\n    \"%s\": %.2f", sep, name[i], (total[i] - empty) / ops[i]; sep = ","
    }
    printf "\n  }\n}\n"
  }' "$tmp/totals" >"$out"
echo "icount: $(($(wc -l <"$tmp/totals") - 2)) measurements in $((SECONDS - start))s -> $out"
