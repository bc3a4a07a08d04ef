#!/usr/bin/env bash
# Proves ThreadSanitizer is watching the stress runs. In a scratch copy of the repository
# it builds bsa_stress with TSan and runs, for every mutant in stress/mutants/ (a patch
# against core/src that breaks the concurrency on purpose):
#   control  the unpatched core on the mutant's scenario: must pass, no TSan report
#   mutant   the patched core on the same scenario: must produce a TSan data-race report
# Succeeds only if every control is clean and TSan flags every mutant. The repository
# itself is never touched.
#
#   stress/tsan_mutant_check.sh [--cc clang-14|gcc] [--seconds N] [--keep] [PATCH...]
#
#   --cc       compiler of the TSan build (default clang-14)
#   --seconds  duration of each run (default 3)
#   --keep     keep the scratch directory (its path is printed)
#   PATCH      mutants to check (default stress/mutants/*.patch)
# A mutant names its scenario in a "Scenario: NAME" line before the diff.
set -euo pipefail

usage() { sed -n '2,17s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cc=clang-14
seconds=3
keep=0
patches=()
while [ $# -gt 0 ]; do
  case $1 in
    --cc) cc=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "tsan_mutant_check: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) patches+=("$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"); shift ;;
  esac
done
[ ${#patches[@]} -gt 0 ] || patches=("$root"/stress/mutants/*.patch)

scratch=$(mktemp -d "${TMPDIR:-/tmp}/bsa-tsan-mutant.XXXXXX")
if [ $keep -eq 0 ]; then
  trap 'rm -rf "$scratch"' EXIT
else
  echo "tsan_mutant_check: scratch directory $scratch (kept)"
fi
src=$scratch/src
build=$scratch/build
mkdir -p "$src"
# Everything but build trees, results and git metadata: the copy builds like the original.
tar -C "$root" --exclude=./build --exclude=./results --exclude=./.git -cf - . | tar -C "$src" -xf -

echo "tsan_mutant_check: configuring a $cc TSan build in $build"
cmake -S "$src" -B "$build" -G Ninja -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DBSA_SANITIZE=thread -DBSA_BUILD_STRESS=ON -DBSA_BUILD_TESTS=OFF -DBSA_INSTALL=OFF \
  >"$scratch/configure.log" 2>&1 || { tail -n 30 "$scratch/configure.log"; exit 1; }

build_stress() { # LOG
  cmake --build "$build" --target bsa_stress >"$1" 2>&1 || { grep -E 'error|FAILED' "$1" | head -n 20; return 1; }
}

# run SCENARIO LOG: the stress run under TSan; its exit status.
run() {
  local rc=0
  setarch "$(uname -m)" -R timeout $((seconds * 10 + 120)) \
    env TSAN_OPTIONS="halt_on_error=1:exitcode=66" \
    "$build/stress/bsa_stress" --scenario "$1" --threads 4 --duration "$seconds" \
    --progress 0 --json '' >"$2" 2>&1 || rc=$?
  return $rc
}

races() { grep -c 'WARNING: ThreadSanitizer: data race' "$1" || true; }

failures=0
for patch in "${patches[@]}"; do
  name=$(basename "$patch" .patch)
  scenario=$(sed -n 's/^Scenario: *//p' "$patch" | head -n 1)
  if [ -z "$scenario" ]; then
    echo "FAIL $name: no 'Scenario:' line in $patch"; failures=$((failures + 1)); continue
  fi

  build_stress "$scratch/$name.control-build.log" # after the last mutant's revert
  rc=0; run "$scenario" "$scratch/$name.control.log" || rc=$?
  if [ $rc -ne 0 ] || [ "$(races "$scratch/$name.control.log")" -ne 0 ]; then
    echo "FAIL $name: the unpatched core is not clean on $scenario (exit $rc):"
    grep -E 'ThreadSanitizer|FAIL' "$scratch/$name.control.log" | head -n 5
    failures=$((failures + 1)); continue
  fi

  if ! (cd "$src" && patch -p1 --forward --quiet <"$patch") >"$scratch/$name.patch.log" 2>&1; then
    echo "FAIL $name: the patch does not apply to core/src any more:"
    cat "$scratch/$name.patch.log"; failures=$((failures + 1)); continue
  fi
  if build_stress "$scratch/$name.build.log"; then
    rc=0; run "$scenario" "$scratch/$name.mutant.log" || rc=$?
    n=$(races "$scratch/$name.mutant.log")
    where=$(grep -m 1 '^SUMMARY: ThreadSanitizer' "$scratch/$name.mutant.log" | sed "s|$src/||" || true)
    if [ "$n" -gt 0 ]; then
      echo "ok   $name: control clean; TSan flags the mutant on $scenario (exit $rc)"
      echo "     $where"
    else
      echo "FAIL $name: TSan reported nothing on $scenario (exit $rc); last lines:"
      tail -n 5 "$scratch/$name.mutant.log"; failures=$((failures + 1))
    fi
  else
    echo "FAIL $name: the patched core does not build"; failures=$((failures + 1))
  fi
  (cd "$src" && patch -p1 -R --quiet <"$patch") # back to the control for the next one
done

if [ $failures -ne 0 ]; then
  echo "tsan_mutant_check: $failures of ${#patches[@]} mutants FAILED"
  exit 1
fi
echo "tsan_mutant_check: TSan flagged all ${#patches[@]} mutants; controls clean"
