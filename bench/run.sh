#!/usr/bin/env bash
# Runs the benchmarks of bsa and the four peers side by side, in one go.
#
#   bench/run.sh [--smoke | --default | --long] [--reps N] [--min-time S] [--filter REGEX]
#                [--allocators "bsa glibc jemalloc mimalloc tcmalloc"] [--build DIR] [--out DIR]
#
# Each allocator is its own process (bsa_bench_<name>; bsa's binary holds bsa_sized and
# bsa_unsized). Processes and repetitions are interleaved - rep 1: bsa glibc jemalloc
# mimalloc tcmalloc, rep 2: the same, ... - so slow drifts of the machine hit everyone
# alike. Every process writes Google Benchmark JSON (with the machine context) to
# <out>/raw/<name>.rep<N>.json; reports/summarize.py then merges the repetitions into
# <out>/<name>.json and writes <out>/summary.json (medians, ratios against bsa) and
# prints the tables.
#
# Modes: --smoke 1 rep x 0.002 s (CI: proves it runs), default 5 reps x 0.03 s (a couple
# of minutes), --long 11 reps x 0.2 s (about 30 minutes).
# Defaults: --build build/bench --out results/bench.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mode=default
reps=""
min_time=""
filter=""
allocators="bsa glibc jemalloc mimalloc tcmalloc"
build="$root/build/bench"
out="$root/results/bench"
usage() { sed -n '2,20s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }
while [ $# -gt 0 ]; do
  case $1 in
    --smoke) mode=smoke; shift ;;
    --default) mode=default; shift ;;
    --long) mode=long; shift ;;
    --reps) reps=$2; shift 2 ;;
    --min-time) min_time=$2; shift 2 ;;
    --filter) filter=$2; shift 2 ;;
    --allocators) allocators=$2; shift 2 ;;
    --build) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
case $mode in
  smoke) : "${reps:=1}" "${min_time:=0.002}" ;;
  default) : "${reps:=5}" "${min_time:=0.03}" ;;
  long) : "${reps:=11}" "${min_time:=0.2}" ;;
esac

bins=()
names=()
for a in $allocators; do
  bin="$build/bench/bsa_bench_$a"
  if [ -x "$bin" ]; then
    bins+=("$bin")
    names+=("$a")
  elif [ "$a" = bsa ]; then
    echo "bench: $bin not built (configure with -DBSA_BUILD_BENCH=ON)" >&2
    exit 1
  else
    echo "bench: $bin not built (peer library missing?): skipping $a" >&2
  fi
done

commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$root" status --porcelain -- core 2>/dev/null)" ]; then commit="$commit-dirty"; fi
rm -rf "$out/raw"
mkdir -p "$out/raw"
echo "bench: $mode mode, $reps rep(s) x min_time ${min_time}s, allocators: ${names[*]}," \
     "commit $commit -> $out"

start=$SECONDS
for ((r = 1; r <= reps; r++)); do
  for i in "${!bins[@]}"; do
    a=${names[$i]}
    t0=$SECONDS
    args=(--benchmark_min_time="$min_time" --benchmark_repetitions=1
          --benchmark_out="$out/raw/$a.rep$r.json" --benchmark_out_format=json
          --benchmark_context="commit=$commit,mode=$mode,repetition=$r,reps=$reps")
    [ -n "$filter" ] && args+=(--benchmark_filter="$filter")
    if ! "${bins[$i]}" "${args[@]}" >"$out/raw/$a.rep$r.log" 2>&1; then
      tail -n 20 "$out/raw/$a.rep$r.log" >&2
      echo "bench: $a failed in repetition $r (log $out/raw/$a.rep$r.log)" >&2
      exit 1
    fi
    printf 'bench: rep %d/%d %-9s %3ds  (total %ds)\n' "$r" "$reps" "$a" \
           $((SECONDS - t0)) $((SECONDS - start))
  done
done

/usr/bin/python3 "$root/reports/summarize.py" --dir "$out"
