#!/usr/bin/env bash
# fuzz/run.sh: build and run the differential fuzzers, summarise, keep crashes.
#
#   fuzz/run.sh [-e libfuzzer|afl] [-t SECONDS] [-j JOBS] [-m MAX_LEN] [--no-build]
#               [TARGET|all]
#
#   -e  engine (default libfuzzer); -t seconds per target (default 60); -j parallel jobs
#       per target (libFuzzer -jobs/-workers, AFL++ one -M and JOBS-1 -S; default 1);
#   -m  longest input in bytes (default 1024: 127 ops);
#   TARGET fuzz_buddy | fuzz_slab | fuzz_allocator | all (default all).
#
# Prints progress while it runs and a summary per target (execs, execs/s, coverage,
# corpus size, crashes), also written to results/fuzz/<target>-<engine>.json. A crash is
# minimised (libFuzzer -minimize_crash / afl-tmin) and saved to fuzz/regressions/<target>/
# (ctest replays that folder). Exit status 1 if any target crashed. Work files (corpus
# growth, logs, raw crashes) go to build/fuzz-runs/<target>-<engine>/.
set -euo pipefail

usage() { sed -n '2,16s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

engine=libfuzzer secs=60 jobs=1 max_len=1024 build=1 which=all
while [ $# -gt 0 ]; do
  case $1 in
    -e) engine=$2; shift 2 ;;
    -t) secs=$2; shift 2 ;;
    -j) jobs=$2; shift 2 ;;
    -m) max_len=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    -h | --help) usage; exit 0 ;;
    fuzz_buddy | fuzz_slab | fuzz_allocator | all) which=$1; shift ;;
    *) echo "run.sh: unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
done
case $engine in libfuzzer | afl) ;; *) echo "run.sh: engine must be libfuzzer or afl" >&2; exit 2 ;; esac
targets=(fuzz_buddy fuzz_slab fuzz_allocator)
[ "$which" = all ] || targets=("$which")

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
results=$root/results/fuzz
mkdir -p "$results"
norand=(setarch "$(uname -m)" -R) # ASan's shadow mapping wants no ASLR on this kernel

# ---- build -------------------------------------------------------------------------
if [ "$engine" = libfuzzer ]; then
  bindir=$root/build/fuzz/fuzz
  if [ $build -eq 1 ]; then
    cmake --preset fuzz > /dev/null
    cmake --build --preset fuzz --target "${targets[@]}" > /dev/null
  fi
else
  bindir=$root/build/afl
  if [ $build -eq 1 ]; then
    bash "$root/fuzz/build_afl.sh" "$bindir" > /dev/null
  fi
fi

# ---- helpers -----------------------------------------------------------------------
json() { # target engine execs eps cov_name cov ft corpus crashes status saved
  cat > "$results/$1-$2.json" <<EOF
{
  "target": "$1",
  "engine": "$2",
  "seconds": $secs,
  "jobs": $jobs,
  "max_len": $max_len,
  "execs": $3,
  "execs_per_sec": $4,
  "coverage": {"$5": $6, "features": $7},
  "corpus_size": $8,
  "crashes": $9,
  "status": "${10}",
  "saved_regressions": [${11}]
}
EOF
}

save_regression() { # target file -> prints the saved path
  local dir=$root/fuzz/regressions/$1 name
  mkdir -p "$dir"
  name=crash-$(sha1sum "$2" | cut -c1-12)
  cp "$2" "$dir/$name"
  echo "$dir/$name"
}

# ---- libFuzzer ---------------------------------------------------------------------
run_libfuzzer() {
  local t=$1 bin=$bindir/$1 work=$root/build/fuzz-runs/$1-libfuzzer
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/crashes"
  local opts=(-max_total_time="$secs" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048
              -dict="$root/fuzz/dict/$t.dict" -print_final_stats=1
              -artifact_prefix="$work/crashes/")
  echo "run.sh: $t: libFuzzer, $secs s, $jobs job(s)"
  local rc=0
  if [ "$jobs" -gt 1 ]; then
    (cd "$work" && timeout $((secs + 120)) "${norand[@]}" "$bin" "${opts[@]}" \
       -jobs="$jobs" -workers="$jobs" "$work/corpus" "$root/fuzz/corpus/$t" \
       > "$work/fuzz.log" 2>&1) &
    local pid=$!
    while kill -0 $pid 2> /dev/null; do
      sleep 10
      grep -h -E "pulse|NEW" "$work"/fuzz-*.log 2> /dev/null | tail -n 1 | sed "s/^/  $t: /" || true
    done
    wait $pid || rc=$?
    cat "$work"/fuzz-*.log > "$work/all.log" 2> /dev/null || true
  else
    timeout $((secs + 120)) "${norand[@]}" "$bin" "${opts[@]}" \
      "$work/corpus" "$root/fuzz/corpus/$t" 2>&1 | tee "$work/all.log" |
      grep --line-buffered -E "pulse|INITED|DONE|ERROR|^$t: op" | sed -u "s/^/  $t: /" || true
    rc=${PIPESTATUS[0]}
  fi
  local log=$work/all.log
  local execs eps cov ft
  execs=$(grep -h "stat::number_of_executed_units" "$log" | awk '{s += $2} END {print s + 0}')
  eps=$(grep -h "stat::average_exec_per_sec" "$log" | awk '{s += $2} END {print s + 0}')
  cov=$(grep -h -o "cov: [0-9]*" "$log" | awk '{print $2}' | sort -n | tail -n 1)
  ft=$(grep -h -o "ft: [0-9]*" "$log" | awk '{print $2}' | sort -n | tail -n 1)
  local corpus crashes saved="" status=ok
  corpus=$(find "$work/corpus" "$root/fuzz/corpus/$t" -type f | wc -l)
  crashes=$(find "$work/crashes" -type f | wc -l)
  if [ "$crashes" -gt 0 ]; then
    status=crash
    grep -h -E "^$t: op" "$log" | head -n 3 | sed "s/^/  $t: /" || true
    for c in "$work"/crashes/*; do
      local min=$work/min-$(basename "$c")
      "${norand[@]}" "$bin" -minimize_crash=1 -max_total_time=60 -runs=100000 \
        -exact_artifact_path="$min" "$c" > "$work/minimize.log" 2>&1 || true
      [ -s "$min" ] || cp "$c" "$min"
      local path
      path=$(save_regression "$t" "$min")
      echo "  $t: crash minimised ($(stat -c %s "$c") -> $(stat -c %s "$min") bytes): $path"
      saved="$saved${saved:+, }\"${path#"$root"/}\""
    done
  elif [ "$rc" -ne 0 ]; then
    status="error (exit $rc)"
  fi
  json "$t" libfuzzer "${execs:-0}" "${eps:-0}" cov "${cov:-0}" "${ft:-0}" "$corpus" \
    "$crashes" "$status" "$saved"
  printf 'run.sh: %-15s libfuzzer execs %s, %s/s, cov %s ft %s, corpus %s, crashes %s\n' \
    "$t" "${execs:-0}" "${eps:-0}" "${cov:-0}" "${ft:-0}" "$corpus" "$crashes"
  [ "$status" = ok ]
}

# ---- AFL++ -------------------------------------------------------------------------
afl_stat() { # file key
  awk -F' *: *' -v k="$2" '$1 == k {print $2}' "$1" 2> /dev/null | tr -d '%'
}

run_afl() {
  local t=$1 bin=$bindir/$1 work=$root/build/fuzz-runs/$1-afl
  rm -rf "$work"
  mkdir -p "$work/in"
  cp "$root/fuzz/corpus/$t"/* "$work/in/"
  echo "run.sh: $t: AFL++, $secs s, $jobs instance(s)"
  export AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 \
         AFL_NO_AFFINITY=1 AFL_SUPPRESS_INIT_WARN=1 AFL_QUIET=1
  local pids=() i
  for ((i = 0; i < jobs; i++)); do
    local role=(-M main)
    [ "$i" -gt 0 ] && role=(-S "sec$i")
    timeout $((secs + 60)) "${norand[@]}" afl-fuzz "${role[@]}" -i "$work/in" -o "$work/out" \
      -x "$root/fuzz/dict/$t.dict" -m none -t 1000 -V "$secs" -G "$max_len" -- "$bin" \
      > "$work/afl-$i.log" 2>&1 &
    pids+=($!)
  done
  local start=$SECONDS
  while kill -0 "${pids[0]}" 2> /dev/null; do
    sleep 10
    local st=$work/out/main/fuzzer_stats
    [ -f "$st" ] && echo "  $t: $((SECONDS - start)) s: execs $(afl_stat "$st" execs_done)," \
      "$(afl_stat "$st" execs_per_sec)/s, edges $(afl_stat "$st" edges_found)," \
      "corpus $(afl_stat "$st" corpus_count), crashes $(afl_stat "$st" saved_crashes)"
  done
  local rc=0
  for p in "${pids[@]}"; do wait "$p" || rc=$?; done
  local execs=0 eps=0 edges=0 cvg=0 corpus=0 crashes=0 saved="" status=ok s
  for s in "$work"/out/*/fuzzer_stats; do
    [ -f "$s" ] || continue
    execs=$((execs + $(afl_stat "$s" execs_done)))
    eps=$(awk -v a="$eps" -v b="$(afl_stat "$s" execs_per_sec)" 'BEGIN {print a + b}')
    local e
    e=$(afl_stat "$s" edges_found)
    [ "$e" -gt "$edges" ] && edges=$e && cvg=$(afl_stat "$s" bitmap_cvg)
    corpus=$((corpus + $(afl_stat "$s" corpus_count)))
  done
  if [ "$execs" -eq 0 ]; then
    status="error (exit $rc; see $work/afl-0.log)"
    tail -n 5 "$work/afl-0.log" | sed "s/^/  $t: /"
  fi
  for c in "$work"/out/*/crashes/id:*; do
    [ -f "$c" ] || continue
    crashes=$((crashes + 1))
    status=crash
    local min=$work/min-$crashes
    AFL_NO_AFFINITY=1 "${norand[@]}" afl-tmin -m none -i "$c" -o "$min" -- "$bin" \
      > "$work/tmin.log" 2>&1 || cp "$c" "$min"
    "${norand[@]}" "$root/build/fuzz/fuzz/${t}_replay" "$min" 2>&1 | grep -E "^$t: op" |
      sed "s/^/  $t: /" || true
    local path
    path=$(save_regression "$t" "$min")
    echo "  $t: crash minimised: $path"
    saved="$saved${saved:+, }\"${path#"$root"/}\""
  done
  json "$t" afl "$execs" "$eps" edges "$edges" "\"$cvg%\"" "$corpus" "$crashes" "$status" \
    "$saved"
  printf 'run.sh: %-15s afl       execs %s, %s/s, edges %s (%s%% of the map), corpus %s, crashes %s\n' \
    "$t" "$execs" "$eps" "$edges" "$cvg" "$corpus" "$crashes"
  [ "$status" = ok ]
}

failed=0
for t in "${targets[@]}"; do
  if [ "$engine" = libfuzzer ]; then run_libfuzzer "$t" || failed=1; else run_afl "$t" || failed=1; fi
done
echo "run.sh: results in $results"
exit $failed
