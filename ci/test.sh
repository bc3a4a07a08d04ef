#!/usr/bin/env bash
# THE test command (README, .ci/run): installs dependencies, then for each preset
# configures, builds and runs ctest, then checks that the core is freestanding and that
# the install works for consumers. A failing step does not stop the others, so one run
# shows everything that is broken; the exit status is non-zero if any step failed.
#
# The last line is "ci: N passed, N failed": ctest tests of every preset, plus one per
# check script, plus one failure per configure or build step that failed.
#
# Environment: BSA_CI_PRESETS (default "release release-clang asan asan-clang tsan tsan-gcc"),
# BSA_CI_CTEST_TIMEOUT seconds per preset's ctest run (default 1200).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
read -r -a presets <<<"${BSA_CI_PRESETS:-release release-clang asan asan-clang tsan tsan-gcc}"
ctest_timeout=${BSA_CI_CTEST_TIMEOUT:-1200}
jobs=$(nproc)
logs="$root/build/ci-logs"
mkdir -p "$logs"

summary=()
passed=0
failed=0
failed_steps=0

# record STATUS STEP [DETAIL]: one summary line per step, printed now and at the end.
record() {
  local line
  line=$(printf '%-4s %-28s %s' "$1" "$2" "${3:-}")
  summary+=("$line")
  echo "==> $line"
  [ "$1" = ok ] || failed_steps=$((failed_steps + 1))
}

# step NAME COMMAND...: runs a step that counts as one test, with its output in the log.
step() {
  local name=$1 start=$SECONDS
  shift
  echo "==> $name: $*"
  if "$@"; then
    record ok "$name" "$((SECONDS - start))s"
    passed=$((passed + 1))
  else
    record FAIL "$name" "exit $? after $((SECONDS - start))s"
    failed=$((failed + 1))
  fi
}

# ctest_step PRESET WRAPPER...: runs ctest under timeout and adds its test counts.
ctest_step() {
  local preset=$1 start=$SECONDS log="$logs/ctest-$1.log" rc=0
  shift
  timeout "$ctest_timeout" "$@" ctest --preset "$preset" -j "$jobs" 2>&1 | tee "$log" || rc=$?
  # ctest's own summary: "100% tests passed, 0 tests failed out of 12"
  local counts
  counts=$(sed -n 's/.* \([0-9][0-9]*\) tests\{0,1\} failed out of \([0-9][0-9]*\).*/\1 \2/p' "$log" |
           tail -n 1)
  if [ -n "$counts" ]; then
    read -r nfail ntotal <<<"$counts"
    passed=$((passed + ntotal - nfail))
    failed=$((failed + nfail))
  else
    failed=$((failed + 1)) # no summary: ctest died, timed out or found no tests
  fi
  if [ $rc -eq 0 ]; then
    record ok "ctest $preset" "${counts:+$((ntotal - nfail))/$ntotal tests, }$((SECONDS - start))s"
  else
    [ $rc -eq 124 ] && echo "ctest $preset: timed out after ${ctest_timeout}s"
    record FAIL "ctest $preset" "exit $rc${counts:+, $nfail of $ntotal tests failed}, log $log"
  fi
}

step "install_deps" bash ci/install_deps.sh

for preset in "${presets[@]}"; do
  # ASan and TSan need a fixed address-space layout on this kernel (high-entropy ASLR
  # breaks their shadow mapping); setarch -R turns randomization off for ctest and
  # every test it starts.
  wrap=()
  case $preset in asan* | tsan* | fuzz*) wrap=(setarch "$(uname -m)" -R) ;; esac

  start=$SECONDS
  if ! cmake --preset "$preset" >"$logs/configure-$preset.log" 2>&1; then
    tail -n 30 "$logs/configure-$preset.log"
    record FAIL "configure $preset" "log $logs/configure-$preset.log"
    failed=$((failed + 1))
    continue
  fi
  record ok "configure $preset" "$((SECONDS - start))s"

  start=$SECONDS
  if ! cmake --build --preset "$preset" >"$logs/build-$preset.log" 2>&1; then
    grep -E 'error:|FAILED:' "$logs/build-$preset.log" | head -n 30 || true
    record FAIL "build $preset" "log $logs/build-$preset.log"
    failed=$((failed + 1))
    continue
  fi
  record ok "build $preset" "$((SECONDS - start))s"

  ctest_step "$preset" "${wrap[@]}"
done

step "check_freestanding" bash ci/check_freestanding.sh
step "check_install" bash ci/check_install.sh
# TSan must be watching: each stress mutant (a broken lock or atomic) has to be reported.
step "tsan_mutant_check" bash stress/tsan_mutant_check.sh
# Benchmarks build and run a tiny pass, the report renders, and the instruction counts
# must stay within +2% of reports/baseline (exact under callgrind). Wall time never fails.
step "perf_smoke_icount_gate" ./perf.sh --smoke
# The A/B tool (bench/ab.sh) builds a revision and compares it with that build.
step "check_ab" bash ci/check_ab.sh
# Fuzzing (fuzz/ci.sh, about 5 min): replay, 60 s of libFuzzer (ASan + UBSan) per
# target, 30 s of AFL++ on the target of the day, the OSS-Fuzz build.sh check, and every
# mutant of fuzz/mutants/ caught. A crash is minimised into fuzz/regressions/ and fails
# the step. Summaries: results/fuzz/.
step "fuzz_ci" bash fuzz/ci.sh
# Source-based coverage of core/src from the corpora plus the unit tests, as a gate.
step "fuzz_coverage" bash fuzz/coverage.sh --min-lines 95 --min-branches 90

echo
echo "==================== summary ===================="
printf '%s\n' "${summary[@]}"
echo "================================================="
if [ $failed_steps -ne 0 ]; then
  echo "ci/test.sh: $failed_steps step(s) FAILED"
else
  echo "ci/test.sh: all steps ok"
fi
echo "ci: $passed passed, $failed failed"
[ $failed_steps -eq 0 ] && [ $failed -eq 0 ]
