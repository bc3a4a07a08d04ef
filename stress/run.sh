#!/usr/bin/env bash
# The long stress runs: builds bsa_stress and runs every scenario for a while, writing
# the JSON summary the reports read. Exit status is bsa_stress's (0: all passed).
#
#   stress/run.sh [--duration SEC] [--threads N] [--cpu-mode thread|shared|sched|exclusive]
#                 [--seed N] [--json PATH] [--sanitize tsan|asan] [-- BSA_STRESS_ARGS...]
#
# Defaults: 30 s per scenario, every online CPU (at least 2), thread mode, seed 1,
# a gcc release build in build/stress-release, results/stress/summary.json.
# --sanitize tsan: the same in a clang-14 TSan build (build/stress-tsan), JSON to
#   results/stress/summary-tsan.json; asan: gcc ASan + UBSan (build/stress-asan).
set -euo pipefail

usage() { sed -n '2,12s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
duration=30
threads=$(nproc)
[ "$threads" -ge 2 ] || threads=2
[ "$threads" -le 64 ] || threads=64
mode=thread
seed=1
json=
sanitize=
extra=()
while [ $# -gt 0 ]; do
  case $1 in
    --duration) duration=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --cpu-mode) mode=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --json) json=$2; shift 2 ;;
    --sanitize) sanitize=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    -h | --help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done

wrap=()
case $sanitize in
  "") preset=release; build=build/stress-release; json=${json:-results/stress/summary.json} ;;
  tsan | asan)
    preset=$sanitize; build=build/stress-$sanitize
    json=${json:-results/stress/summary-$sanitize.json}
    wrap=(setarch "$(uname -m)" -R) # sanitizer shadow maps need a fixed layout
    export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} ;;
  *) echo "run.sh: --sanitize takes tsan or asan" >&2; exit 2 ;;
esac

# Own build directory: the preset's settings plus the stress driver, without touching
# build/<preset> that the core tests and CI use.
cmake --preset "$preset" -B "$build" -DBSA_BUILD_STRESS=ON -DBSA_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target bsa_stress

echo "run.sh: ${sanitize:-release} build, $duration s per scenario, $threads threads," \
     "$mode mode, seed $seed -> $json"
"${wrap[@]}" "$build/stress/bsa_stress" --scenario all --duration "$duration" \
  --threads "$threads" --cpu-mode "$mode" --seed "$seed" --json "$json" \
  --watchdog $((duration * 2 + 60)) "${extra[@]}"
