#!/usr/bin/env bash
# The performance stage: build the benchmarks, run bsa and its four peers side by side,
# count bsa's instructions, check them against the baseline, render the report.
#
#   ./perf.sh                  default: 5 interleaved repetitions (a few minutes)
#   ./perf.sh --long           11 repetitions, longer runs (about 30 minutes)
#   ./perf.sh --smoke          CI: tiny runs that prove everything works (< 2 minutes)
#   ./perf.sh --update-baseline   after the run, store its results as reports/baseline/
#
# Steps: dependencies -> build (build/bench) -> bench/run.sh -> bench/icount.sh ->
# instruction-count gate (reports/icount_gate.py, fails past +2%) -> wall-time comparison
# with the baseline (reports/perf_compare.py; informational, not in --smoke) -> history
# (reports/history.jsonl; not in --smoke) -> report (results/report/report.html).
# Exit status: non-zero if a step fails or the instruction-count gate fails; wall-time
# differences never fail it.
set -euo pipefail

usage() { sed -n '2,16s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }
mode=default
update=0
for arg in "$@"; do
  case $arg in
    --smoke) mode=smoke ;;
    --long) mode=long ;;
    --update-baseline) update=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "perf: unknown argument: $arg" >&2; usage >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$root"
py=/usr/bin/python3
build=build/bench
results=results/bench
start=$SECONDS
step() { echo; echo "==> perf [$((SECONDS - start))s]: $*"; }

# ---- dependencies ---------------------------------------------------------------------
step "dependencies"
bash ci/install_deps.sh # the benchmark packages and peers are in its list

# ---- build ---------------------------------------------------------------------------------
step "build ($build, Release, BSA_BUILD_BENCH=ON)"
bench/build.sh . "$build"

# ---- measure -------------------------------------------------------------------------------
step "benchmarks ($mode)"
bench/run.sh "--$mode" --build "$build" --out "$results" 2>&1 | sed -u 's/^/  /' # pipefail

step "instruction counts (callgrind)"
bench/icount.sh --build "$build" --out "$results/icount.json"

status=0
step "instruction-count gate against reports/baseline/icount.json (+2%)"
if [ -f reports/baseline/icount.json ]; then
  $py reports/icount_gate.py --baseline reports/baseline/icount.json \
      --current "$results/icount.json" --out "$results/icount_gate.json" || status=1
else
  echo "perf: no reports/baseline/icount.json yet: gate skipped (--update-baseline stores one)"
  rm -f "$results/icount_gate.json"
fi

rm -f "$results/compare.json"
if [ $mode != smoke ]; then
  step "wall time against reports/baseline/bench (U-test; informational)"
  if [ -f reports/baseline/bench/bsa.json ]; then
    $py reports/perf_compare.py --baseline reports/baseline/bench --current "$results" \
        --out "$results/compare.json" >"$results/compare.txt" 2>&1 || true
    tail -n 12 "$results/compare.txt"
    echo "  (full comparison: $results/compare.txt)"
  else
    echo "perf: no reports/baseline/bench/bsa.json: comparison skipped"
  fi
  step "history"
  $py reports/history.py --summary "$results/summary.json" --icount "$results/icount.json" \
      --history reports/history.jsonl
fi

if [ $update -eq 1 ]; then
  step "storing this run as the baseline (reports/baseline/)"
  mkdir -p reports/baseline/bench
  cp "$results/bsa.json" "$results/summary.json" reports/baseline/bench/
  cp "$results/icount.json" reports/baseline/icount.json
  ls -l reports/baseline reports/baseline/bench
fi

step "report"
$py reports/render.py --results results --out results/report --baseline reports/baseline \
    --history reports/history.jsonl

echo
echo "perf: report        $root/results/report/report.html (also report.md + PNGs)"
echo "perf: bench JSON    $root/$results/ (summary.json, <allocator>.json, raw/)"
if [ $status -ne 0 ]; then
  echo "perf: FAILED: instruction counts above the baseline (see the gate above)"
else
  echo "perf: ok ($((SECONDS - start))s)"
fi
exit $status
