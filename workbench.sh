#!/usr/bin/env bash
# The project's main job: everything that proves bsa correct and fast, then the report.
#
#   ./workbench.sh          about 5 minutes: build + tests, 20 s of fuzzing per target,
#                           5 s per stress scenario, benchmarks (5 repetitions), report
#   ./workbench.sh --long   about an hour: 10 min of fuzzing per target, 2 min per stress
#                           scenario, 11 benchmark repetitions, coverage
#
# Stages run in order and each one's results land in results/ (JSON, PNG, HTML); a
# failing stage is reported and the next one still runs, so the report shows what there
# is. Exit status: non-zero if any stage failed.
set -euo pipefail

usage() { sed -n '2,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

long=0
for arg in "$@"; do
  case $arg in
    --long) long=1 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "workbench: unknown argument: $arg" >&2; usage >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$root"
if [ $long -eq 1 ]; then
  fuzz_secs=600 stress_secs=120 perf_mode=--long
else
  fuzz_secs=20 stress_secs=5 perf_mode=
fi

start=$SECONDS
summary=()
failed=0
# stage NAME COMMAND...: runs one stage, times it, remembers how it ended.
stage() {
  local name=$1 t0=$SECONDS rc=0
  shift
  echo
  echo "==> workbench [$((SECONDS - start))s] $name: $*"
  "$@" || rc=$?
  if [ $rc -eq 0 ]; then
    summary+=("$(printf 'ok    %-10s %4ss' "$name" $((SECONDS - t0)))")
  else
    summary+=("$(printf 'FAIL  %-10s %4ss  exit %s' "$name" $((SECONDS - t0)) $rc)")
    failed=$((failed + 1))
  fi
}

tests() {
  cmake --preset release >/dev/null
  cmake --build --preset release
  ctest --preset release -j "$(nproc)"
}

stage deps bash ci/install_deps.sh
stage tests tests
stage fuzz bash fuzz/run.sh -t "$fuzz_secs" all
stage stress bash stress/run.sh --duration "$stress_secs" --threads 2
[ $long -eq 1 ] && [ -x fuzz/coverage.sh ] && stage coverage bash fuzz/coverage.sh
stage perf ./perf.sh $perf_mode
# perf.sh renders the report too; render again so it holds every stage's latest results.
stage report /usr/bin/python3 reports/render.py

echo
echo "==================== workbench ===================="
printf '%s\n' "${summary[@]}"
echo "report: $root/results/report/report.html  (Markdown: results/report/report.md)"
echo "results: $root/results/{fuzz,stress,bench,coverage}/"
[ $failed -eq 0 ] && echo "workbench: all stages ok" || echo "workbench: $failed stage(s) FAILED"
[ $failed -eq 0 ]
