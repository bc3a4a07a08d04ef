#!/usr/bin/env bash
# fuzz/ci.sh: what CI runs for the fuzzers, time-boxed (293 s measured on 2 cores).
#
#   fuzz/ci.sh [-t SECONDS] [--afl-seconds N] [--mutants all|N]
#
#   -t             libFuzzer seconds per target (default 60)
#   --afl-seconds  AFL++ seconds on the target of the day (default 30)
#   --mutants      all mutants (default), or N of them chosen by the day of the year
#                  (fuzz/mutants/check.sh --rotate N), if CI time runs short
#
# Steps, each recorded ok / FAIL (a failing step does not stop the others):
#   build       the fuzz preset's libFuzzer targets and replay drivers (build/fuzz)
#   replay      every corpus and saved regression through the replay drivers (ctest
#               does the same in the fuzz preset; here it costs a second)
#   libfuzzer   fuzz/run.sh: 60 s per target, one after the other, so each has a core
#               to itself and its execs/s mean something
#   afl         fuzz/run.sh -e afl: 30 s of AFL++ on one target, by day of the year
#               (fuzz_buddy, fuzz_slab, fuzz_allocator in turn)
#   oss-fuzz    ci/oss-fuzz/check.sh: the OSS-Fuzz build.sh, its outputs, a short run
#   mutants     fuzz/mutants/check.sh: every mutant caught within 60 s
# Prints a summary (with execs/s per target from results/fuzz/*.json) and exits 1 if any
# step failed, e.g. a fuzzer found a crash (saved to fuzz/regressions/, see README.md).
set -euo pipefail

usage() { sed -n '2,22s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

secs=60 afl_secs=30 mutants=all
while [ $# -gt 0 ]; do
  case $1 in
    -t) secs=$2; shift 2 ;;
    --afl-seconds) afl_secs=$2; shift 2 ;;
    --mutants) mutants=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "ci.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
logs=$root/build/fuzz-ci
mkdir -p "$logs"
targets=(fuzz_buddy fuzz_slab fuzz_allocator)
norand=(setarch "$(uname -m)" -R)
summary=()
failed=0
begin=$SECONDS

# step NAME COMMAND...: runs a step with its output in $logs/NAME.log and on screen.
step() {
  local name=$1 start=$SECONDS rc=0
  shift
  echo "==> fuzz ci: $name: $*"
  "$@" 2>&1 | tee "$logs/$name.log" || rc=${PIPESTATUS[0]}
  if [ "$rc" -eq 0 ]; then
    summary+=("$(printf 'ok   %-10s %4d s' "$name" $((SECONDS - start)))")
  else
    summary+=("$(printf 'FAIL %-10s %4d s  exit %d, log %s' "$name" $((SECONDS - start)) "$rc" \
                 "$logs/$name.log")")
    failed=$((failed + 1))
  fi
}

build() {
  cmake --preset fuzz > "$logs/configure.log" 2>&1 || { tail -n 20 "$logs/configure.log"; return 1; }
  cmake --build --preset fuzz --target "${targets[@]}" "${targets[@]/%/_replay}" \
    > "$logs/build-output.log" 2>&1 ||
    { grep -E 'error|FAILED' "$logs/build-output.log" | head -n 20; return 1; }
  echo "built ${targets[*]} and their replay drivers in build/fuzz"
}

replay() {
  local t
  for t in "${targets[@]}"; do
    ASAN_OPTIONS=detect_leaks=0 "${norand[@]}" "build/fuzz/fuzz/${t}_replay" \
      "fuzz/corpus/$t" "fuzz/regressions/$t" 2> "$logs/replay-$t.err" | sed "s/^/$t: /" ||
      { grep -E "^$t: op|ERROR|SUMMARY" "$logs/replay-$t.err" | head -n 5; return 1; }
  done
}

day=$((10#$(date +%j)))
afl_target=${targets[$((day % ${#targets[@]}))]}
mutant_args=()
[ "$mutants" = all ] || mutant_args=(--rotate "$mutants")

step build build
step replay replay
step libfuzzer bash fuzz/run.sh --no-build -t "$secs" all
step afl bash fuzz/run.sh -e afl -t "$afl_secs" "$afl_target"
step oss-fuzz bash ci/oss-fuzz/check.sh
step mutants bash fuzz/mutants/check.sh "${mutant_args[@]}"

echo
echo "==================== fuzz ci summary ===================="
printf '%s\n' "${summary[@]}"
for f in results/fuzz/*-libfuzzer.json "results/fuzz/$afl_target-afl.json"; do
  [ -f "$f" ] || continue
  /usr/bin/python3 - "$f" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"     {r['target']:15} {r['engine']:9} {r['execs']:>9} execs {r['execs_per_sec']:>8}/s"
      f"  corpus {r['corpus_size']:>5}  crashes {r['crashes']}  ({r['status']})")
EOF
done
[ -f results/fuzz/mutants.json ] && /usr/bin/python3 - results/fuzz/mutants.json <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for m in d["mutants"]:
    how = f"caught by {m['caught_by']} in {m['seconds']} s" if m["status"] == "caught" else m["status"].upper()
    print(f"     mutant {m['name']:28} {how}")
EOF
echo "=========================================================="
echo "fuzz ci: wall time $((SECONDS - begin)) s"
echo "fuzz-ci: $(( ${#summary[@]} - failed )) passed, $failed failed"
[ "$failed" -eq 0 ]
