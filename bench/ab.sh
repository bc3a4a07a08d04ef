#!/usr/bin/env bash
# A/B: two builds of bsa's benchmarks, run alternately, compared benchmark by benchmark.
#
#   bench/ab.sh [--runs N] [--min-time S] [--filter REGEX] [--out DIR] OLD NEW
#
# OLD and NEW are each a bsa_bench_bsa binary or a git revision of this repository
# (built once into build/ab/<commit>/, the bsa_bench_bsa target only). Every run is a
# fresh process, and the order alternates (old new, new old, old new, ...): this machine
# has phases that last a whole process (README, "Where bsa stands"), so each side needs
# several processes, taken in turns. Each process writes Google Benchmark JSON to
# <out>/raw/{old,new}.run<N>.json; reports/ab_summary.py then writes <out>/ab.json and
# <out>/ab.md (per benchmark: median and minimum of each side, new/old, U-test p) and
# prints the table. Wall time only: for instruction counts use bench/icount.sh.
# Defaults: 8 runs x 0.1 s, every benchmark, --out results/ab.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=8
min_time=0.1
filter=""
out="$root/results/ab"
usage() { sed -n '2,14s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }
args=()
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --min-time) min_time=$2; shift 2 ;;
    --filter) filter=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "ab: unknown argument: $1" >&2; usage >&2; exit 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
[ ${#args[@]} -eq 2 ] || { echo "ab: need OLD and NEW" >&2; usage >&2; exit 2; }
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "ab: --runs must be a positive count" >&2; exit 2; }

# The binary for OLD or NEW: the path itself if it is an executable, else the revision's
# bsa_bench_bsa, built from `git archive` (the revision's files only, never the work tree).
binary_of() {
  local spec=$1 sha dir
  if [ -f "$spec" ] && [ -x "$spec" ]; then
    echo "$spec"
    return
  fi
  sha=$(git -C "$root" rev-parse --verify --quiet "$spec^{commit}") ||
    { echo "ab: '$spec' is neither an executable nor a revision" >&2; return 1; }
  dir="$root/build/ab/${sha:0:12}"
  if [ ! -x "$dir/build/bench/bsa_bench_bsa" ]; then
    echo "ab: building $spec (${sha:0:12}) in $dir" >&2
    rm -rf "$dir"
    mkdir -p "$dir/src"
    git -C "$root" archive "$sha" | tar -x -C "$dir/src"
    # This tree's build script, not the revision's: every side is built the same way.
    "$root/bench/build.sh" "$dir/src" "$dir/build" bsa_bench_bsa >"$dir/build.log" 2>&1 ||
      { tail -n 30 "$dir/build.log" >&2; echo "ab: build of $spec failed" >&2; return 1; }
  fi
  echo "$dir/build/bench/bsa_bench_bsa"
}

old=$(binary_of "${args[0]}")
new=$(binary_of "${args[1]}")
rm -rf "$out/raw"
mkdir -p "$out/raw"
printf '%s\n' "old ${args[0]} $old" "new ${args[1]} $new" >"$out/raw/sides.txt"
echo "ab: $runs runs x min_time ${min_time}s${filter:+, filter $filter}: old $old, new $new"

start=$SECONDS
run_side() { # side run
  local side=$1 r=$2 bin
  [ "$side" = old ] && bin=$old || bin=$new
  local a=(--benchmark_min_time="$min_time" --benchmark_out="$out/raw/$side.run$r.json"
           --benchmark_out_format=json --benchmark_context="ab_side=$side,ab_run=$r")
  [ -n "$filter" ] && a+=(--benchmark_filter="$filter")
  if ! "$bin" "${a[@]}" >"$out/raw/$side.run$r.log" 2>&1; then
    tail -n 20 "$out/raw/$side.run$r.log" >&2
    echo "ab: $side failed in run $r (log $out/raw/$side.run$r.log)" >&2
    exit 1
  fi
}
for ((r = 1; r <= runs; r++)); do
  if ((r % 2)); then order=(old new); else order=(new old); fi
  for side in "${order[@]}"; do run_side "$side" "$r"; done
  printf 'ab: run %d/%d (%s first)  %ds\n' "$r" "$runs" "${order[0]}" $((SECONDS - start))
done

/usr/bin/python3 "$root/reports/ab_summary.py" --dir "$out" --runs "$runs"
