#!/usr/bin/env bash
# fuzz/coverage.sh: source-based coverage of core/src from the fuzz corpora, the saved
# regressions and the core unit tests (clang-14 -fprofile-instr-generate
# -fcoverage-mapping, llvm-profdata-14, llvm-cov-14).
#
#   fuzz/coverage.sh [--no-tests] [--min-lines PCT] [--min-branches PCT] [DIR...]
#
#   --no-tests        leave the core unit tests out (the fuzzers' share alone)
#   --min-lines/--min-branches  exit 1 when core/src's total falls below (default: off)
#   DIR...            more inputs to replay, each DIR holding <target>/ folders like
#                     fuzz/corpus/ (e.g. build/fuzz-runs/*-libfuzzer, renamed)
#
# Builds build/coverage/ (no sanitizers, -O0), runs every <target>_replay over
# fuzz/corpus/<target>/ and fuzz/regressions/<target>/ and every test_* of core/tests,
# merges the profiles and writes:
#   results/coverage/summary.json   line / branch / function % of core/src, per file
#   results/coverage/html/          llvm-cov's HTML report of core/src
#   results/coverage/uncovered.txt  every core/src line and branch outcome never run
set -euo pipefail

usage() { sed -n '2,19s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

tests=1 min_lines="" min_branches="" extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --no-tests) tests=0; shift ;;
    --min-lines) min_lines=$2; shift 2 ;;
    --min-branches) min_branches=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "coverage.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) extra+=("$1"); shift ;;
  esac
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$root/build/coverage
out=$root/results/coverage
targets=(fuzz_buddy fuzz_slab fuzz_allocator)
profile=(-fprofile-instr-generate -fcoverage-mapping)

# ---- build ---------------------------------------------------------------------------
tests_bin=()
for src in "$root"/core/tests/test_*.c; do tests_bin+=("$(basename "$src" .c)"); done
build_targets=("${targets[@]/%/_replay}")
[ $tests -eq 1 ] && build_targets+=("${tests_bin[@]}")
echo "coverage.sh: building ${#build_targets[@]} programs in $build"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_C_COMPILER=clang-14 -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_C_FLAGS="${profile[*]}" -DCMAKE_EXE_LINKER_FLAGS="${profile[*]}" \
  -DBSA_SANITIZE= -DBSA_BUILD_FUZZ=ON -DBSA_BUILD_TESTS=ON -DBSA_BUILD_STRESS=OFF \
  -DBSA_BUILD_BENCH=OFF -DBSA_INSTALL=OFF > "$build.configure.log" 2>&1 ||
  { cat "$build.configure.log"; exit 1; }
cmake --build "$build" --target "${build_targets[@]}" > "$build.build.log" 2>&1 ||
  { grep -E 'error|FAILED' "$build.build.log" | head -n 30; exit 1; }

# ---- run -----------------------------------------------------------------------------
prof=$build/profiles
rm -rf "$prof"
mkdir -p "$prof"
export LLVM_PROFILE_FILE="$prof/%p-%m.profraw"
objects=()
for t in "${targets[@]}"; do
  dirs=("$root/fuzz/corpus/$t" "$root/fuzz/regressions/$t")
  for d in "${extra[@]}"; do [ -d "$d/$t" ] && dirs+=("$d/$t"); done
  "$build/fuzz/${t}_replay" "${dirs[@]}" 2> /dev/null | sed "s/^/coverage.sh: $t: /"
  objects+=("$build/fuzz/${t}_replay")
done
if [ $tests -eq 1 ]; then
  for name in "${tests_bin[@]}"; do
    # The unit tests run as ctest runs them; one failing still leaves its profile.
    timeout 600 "$build/core/tests/$name" > "$build/$name.log" 2>&1 ||
      echo "coverage.sh: $name FAILED (exit $?), see $build/$name.log" >&2
    objects+=("$build/core/tests/$name")
  done
  echo "coverage.sh: ran ${#tests_bin[@]} unit tests"
fi
llvm-profdata-14 merge -sparse "$prof"/*.profraw -o "$build/merged.profdata"

# ---- report --------------------------------------------------------------------------
rm -rf "$out"
mkdir -p "$out"
obj_args=("${objects[0]}")
for o in "${objects[@]:1}"; do obj_args+=(-object "$o"); done
sources=("$root"/core/src/*.c "$root"/core/src/*.h)
llvm-cov-14 export -summary-only -instr-profile="$build/merged.profdata" "${obj_args[@]}" \
  "${sources[@]}" > "$build/export.json"
llvm-cov-14 show -format=html -show-branches=count -show-line-counts-or-regions \
  -instr-profile="$build/merged.profdata" -output-dir="$out/html" "${obj_args[@]}" \
  "${sources[@]}" > /dev/null
llvm-cov-14 show -format=text -show-branches=count -instr-profile="$build/merged.profdata" \
  "${obj_args[@]}" "${sources[@]}" > "$build/show.txt"

/usr/bin/python3 - "$build/export.json" "$build/show.txt" "$root" "$out" "$tests" <<'EOF'
import json, re, sys
export, show, root, out, tests = sys.argv[1:6]
data = json.load(open(export))["data"][0]

def pct(d):
    return round(100.0 * d["covered"] / d["count"], 2) if d["count"] else 100.0

def figures(s):
    return {k: {"covered": s[k]["covered"], "total": s[k]["count"], "percent": pct(s[k])}
            for k in ("lines", "branches", "functions", "regions")}

files = {}
total = {k: {"covered": 0, "count": 0} for k in ("lines", "branches", "functions", "regions")}
for f in data["files"]:
    name = f["filename"][len(root) + 1:]
    files[name] = figures(f["summary"])
    for k in total:
        total[k]["covered"] += f["summary"][k]["covered"]
        total[k]["count"] += f["summary"][k]["count"]

# Uncovered lines and branch outcomes, from llvm-cov show's text form:
#   "  NN|   COUNT|source"  and, under a line, "  |  Branch (L:C): [True: N, False: M]"
uncovered, cur, cur_line = {}, None, None
for raw in open(show, errors="replace"):
    line = raw.rstrip("\n")
    if line.startswith(root + "/") and line.endswith(":"):
        cur = line[len(root) + 1:-1]
        continue
    m = re.match(r"^\s*(\d+)\|\s*([0-9.kMG]*)\|(.*)$", line)
    if m and cur:
        cur_line = int(m.group(1))
        if m.group(2) == "0":
            uncovered.setdefault(cur, []).append(f"{cur_line}: {m.group(3).strip()}")
        continue
    m = re.search(r"Branch \((\d+):(\d+)\): \[True: ([0-9.kMG]+), False: ([0-9.kMG]+)\]", line)
    if m and cur:
        for outcome, count in (("true", m.group(3)), ("false", m.group(4))):
            if count == "0":
                uncovered.setdefault(cur, []).append(
                    f"{m.group(1)}:{m.group(2)}: branch never {outcome}")

summary = {
    "scope": "core/src",
    "inputs": "fuzz/corpus + fuzz/regressions" + (" + core/tests" if tests == "1" else ""),
    "total": {k: {"covered": v["covered"], "total": v["count"], "percent": pct(v)}
              for k, v in total.items()},
    "files": files,
}
json.dump(summary, open(f"{out}/summary.json", "w"), indent=2)
with open(f"{out}/uncovered.txt", "w") as u:
    for name in sorted(uncovered):
        u.write(f"{name}\n")
        for entry in uncovered[name]:
            u.write(f"    {entry}\n")

print(f"{'file':36} {'lines':>16} {'branches':>16} {'functions':>12}")
for name, s in sorted(files.items()):
    print(f"{name:36} {s['lines']['percent']:6.2f}% {s['lines']['covered']:4}/{s['lines']['total']:<4}"
          f" {s['branches']['percent']:6.2f}% {s['branches']['covered']:4}/{s['branches']['total']:<4}"
          f" {s['functions']['percent']:6.2f}%")
t = summary["total"]
print(f"{'core/src total':36} {t['lines']['percent']:6.2f}% {t['lines']['covered']:4}/{t['lines']['total']:<4}"
      f" {t['branches']['percent']:6.2f}% {t['branches']['covered']:4}/{t['branches']['total']:<4}"
      f" {t['functions']['percent']:6.2f}%")
EOF

lines=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["total"]["lines"]["percent"])' "$out/summary.json")
branches=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["total"]["branches"]["percent"])' "$out/summary.json")
echo "coverage.sh: core/src lines $lines%, branches $branches%: $out/summary.json, $out/html/index.html, $out/uncovered.txt"
below() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
status=0
if [ -n "$min_lines" ] && below "$lines" "$min_lines"; then
  echo "coverage.sh: lines $lines% < $min_lines%" >&2; status=1
fi
if [ -n "$min_branches" ] && below "$branches" "$min_branches"; then
  echo "coverage.sh: branches $branches% < $min_branches%" >&2; status=1
fi
exit $status
