#!/usr/bin/env bash
# fuzz/mutants/check.sh: proof that the fuzzers find bugs. Each fuzz/mutants/*.patch
# plants one plausible bug in core/src; every one must be caught within the time limit.
#
#   fuzz/mutants/check.sh [-t SECONDS] [-j JOBS] [--only NAME[,NAME...]] [--max N]
#                         [--rotate N] [--keep]
#
#   -t        fuzzing time per target and mutant (default 60)
#   -j        mutants built and fuzzed at once (default 2: one per core here)
#   --only    these mutants (file names without .patch)
#   --max N   the first N mutants (name order) after --only
#   --rotate N  N mutants chosen by the day of the year: day d takes N consecutive ones
#             from (d * N) mod count, wrapping, so CI sees every mutant every few days
#   --keep    keep the scratch directory (build/mutants/) for a look
#
# For each mutant: copy core/ and fuzz/ to a scratch dir, apply the patch, build the
# three libFuzzer targets once with ci/oss-fuzz/build.sh (clang-14, ASan + UBSan,
# edge coverage as fuzz/CMakeLists.txt), then fuzz from the seed corpus: the target
# named on the patch's "Target:" line first, the others after, each up to -t seconds,
# stopping at the first crash (a model disagreement, a failed check, or a sanitizer
# report). An unpatched build first replays the seed corpora, so a crash cannot come
# from the harness itself.
#
# Prints one line per mutant (caught by which target, after how many seconds and execs,
# and why) and writes results/fuzz/mutants.json. Exit status 1 if a mutant survived
# (no target crashed) or could not be applied or built.
set -euo pipefail

usage() { sed -n '2,25s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

secs=60 jobs=2 only="" max=0 rotate=0 keep=0
while [ $# -gt 0 ]; do
  case $1 in
    -t) secs=$2; shift 2 ;;
    -j) jobs=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --max) max=$2; shift 2 ;;
    --rotate) rotate=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "check.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
targets=(fuzz_buddy fuzz_slab fuzz_allocator)
norand=(setarch "$(uname -m)" -R) # ASan's shadow wants a fixed layout on this kernel

# ---- which mutants -------------------------------------------------------------------
all=()
for p in "$root"/fuzz/mutants/*.patch; do all+=("$(basename "$p" .patch)"); done
chosen=()
if [ -n "$only" ]; then
  IFS=, read -r -a want <<< "$only"
  for w in "${want[@]}"; do
    [ -f "$root/fuzz/mutants/$w.patch" ] || { echo "check.sh: no mutant $w" >&2; exit 2; }
    chosen+=("$w")
  done
elif [ "$rotate" -gt 0 ]; then
  day=$((10#$(date +%j)))
  n=${#all[@]}
  for ((i = 0; i < rotate && i < n; i++)); do chosen+=("${all[$(((day * rotate + i) % n))]}"); done
else
  chosen=("${all[@]}")
fi
[ "$max" -gt 0 ] && chosen=("${chosen[@]:0:$max}")
[ ${#chosen[@]} -gt 0 ] || { echo "check.sh: no mutant chosen" >&2; exit 2; }

work=$root/build/mutants
rm -rf "$work"
mkdir -p "$work"
[ $keep -eq 1 ] || trap 'rm -rf "$work"' EXIT

flags="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all"
flags="$flags -fsanitize=fuzzer-no-link -fno-sanitize-coverage=trace-cmp"

# build DIR: copies core/ and fuzz/ into DIR/src/bsa (the caller patches them), builds.
copy_tree() {
  mkdir -p "$1/src/bsa" "$1/out"
  cp -r "$root/core" "$root/fuzz" "$1/src/bsa/"
  cp "$root/ci/oss-fuzz/build.sh" "$1/src/build.sh"
}
build() {
  (cd "$1/src/bsa" &&
     env CC=clang-14 CXX=clang++-14 CFLAGS="$flags" CXXFLAGS="$flags" \
       LIB_FUZZING_ENGINE=-fsanitize=fuzzer SRC="$1/src" OUT="$1/out" \
       bash -eu "$1/src/build.sh") > "$1/build.log" 2>&1
}

# ---- the unpatched build must pass its own seeds --------------------------------------
start=$SECONDS
copy_tree "$work/baseline"
build "$work/baseline" || { tail -n 20 "$work/baseline/build.log"; echo "check.sh: unpatched build failed" >&2; exit 2; }
for t in "${targets[@]}"; do
  "${norand[@]}" "$work/baseline/out/$t" -runs=0 "$root/fuzz/corpus/$t" "$root/fuzz/regressions/$t" \
    > "$work/baseline/$t.log" 2>&1 ||
    { tail -n 5 "$work/baseline/$t.log"; echo "check.sh: unpatched $t fails its seeds" >&2; exit 2; }
done
echo "check.sh: unpatched build passes its seeds ($((SECONDS - start)) s); ${#chosen[@]} mutant(s), ${secs} s per target, $jobs at once"

# ---- one mutant ------------------------------------------------------------------------
json_str() { /usr/bin/python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"; }

run_mutant() {
  local name=$1 d=$work/$1 patch=$root/fuzz/mutants/$1.patch
  local intended order=() status=survived by="" elapsed=0 execs=0 reason="" tried=()
  intended=$(sed -n 's/^Target: *//p' "$patch" | head -n 1)
  copy_tree "$d"
  if ! (cd "$d/src/bsa" && patch -p1 -s --no-backup-if-mismatch < "$patch") > "$d/patch.log" 2>&1; then
    status=error reason="patch does not apply: $(head -n 1 "$d/patch.log")"
  elif ! build "$d"; then
    status=error reason="build failed: $(grep -m 1 'error' "$d/build.log" || true)"
  else
    order=("$intended")
    for t in "${targets[@]}"; do [ "$t" = "$intended" ] || order+=("$t"); done
    for t in "${order[@]}"; do
      tried+=("\"$t\"")
      mkdir -p "$d/corpus-$t"
      local t0 t1
      t0=$(date +%s%N)
      timeout $((secs + 60)) "${norand[@]}" "$d/out/$t" -max_total_time="$secs" \
        -max_len=1024 -timeout=10 -rss_limit_mb=2048 -dict="$root/fuzz/dict/$t.dict" \
        -print_final_stats=1 -artifact_prefix="$d/crash-$t-" "$d/corpus-$t" \
        "$root/fuzz/corpus/$t" "$root/fuzz/regressions/$t" > "$d/$t.log" 2>&1 || true
      t1=$(date +%s%N)
      if compgen -G "$d/crash-$t-*" > /dev/null; then
        status=caught by=$t
        elapsed=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$d/$t.log" | tail -n 1)
        reason=$(grep -m 1 -E "^$t: op|runtime error|ERROR: (AddressSanitizer|libFuzzer)" \
                   "$d/$t.log" | cut -c1-200 || true)
        break
      fi
    done
  fi
  cat > "$d/result.json" <<EOF
    {"name": "$name", "intended": "$intended", "status": "$status",
     "caught_by": $([ -n "$by" ] && echo "\"$by\"" || echo null), "seconds": $elapsed,
     "execs": ${execs:-0}, "tried": [$(IFS=,; echo "${tried[*]}")],
     "reason": $(json_str "$reason")}
EOF
  case $status in
    caught) printf 'check.sh: %-28s caught by %-15s in %5s s (%s execs)%s: %s\n' "$name" "$by" \
              "$elapsed" "${execs:-?}" "$([ "$by" = "$intended" ] || echo ", not by $intended")" "$reason" ;;
    survived) printf 'check.sh: %-28s SURVIVED %s s in each of %s\n' "$name" "$secs" "${order[*]}" ;;
    *) printf 'check.sh: %-28s ERROR: %s\n' "$name" "$reason" ;;
  esac
}

# ---- all of them, $jobs at once ----------------------------------------------------------
start=$SECONDS
running=0
for name in "${chosen[@]}"; do
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  run_mutant "$name" &
  running=$((running + 1))
done
wait || true
total=$((SECONDS - start))

mkdir -p "$root/results/fuzz"
/usr/bin/python3 - "$work" "$root/results/fuzz/mutants.json" "$secs" "$total" "${chosen[@]}" <<'EOF'
import json, os, sys
work, out, secs, total, names = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5:]
mutants = []
for name in names:
    path = os.path.join(work, name, "result.json")
    mutants.append(json.load(open(path)) if os.path.exists(path)
                   else {"name": name, "status": "error", "reason": "no result"})
data = {"seconds_per_target": secs, "wall_seconds": total, "mutants": mutants}
for key in ("caught", "survived", "error"):
    data[key] = sum(m["status"] == key for m in mutants)
json.dump(data, open(out, "w"), indent=2)
print(f"check.sh: {data['caught']} caught, {data['survived']} survived, {data['error']} errors "
      f"in {total} s: {out}")
sys.exit(0 if data["survived"] == 0 and data["error"] == 0 else 1)
EOF
