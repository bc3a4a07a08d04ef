#!/usr/bin/env bash
# bench/ab.sh works end to end: it builds a revision (HEAD) and compares it with the
# benchmark binary that ./perf.sh --smoke built, in 2 alternating runs of two
# benchmarks, and the summary refuses a side that lost a run. Wall time is never checked:
# only that every sample is there and the files are written.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out="$root/results/ab-smoke"
bin="$root/build/bench/bench/bsa_bench_bsa"
[ -x "$bin" ] || { echo "check_ab: $bin not built (./perf.sh --smoke first)" >&2; exit 1; }

echo "--- check_ab: HEAD against $bin, 2 runs"
"$root/bench/ab.sh" --runs 2 --min-time 0.002 --filter 'bsa_sized/pair/(8|64)$' \
  --out "$out" HEAD "$bin"

echo "--- check_ab: every benchmark has 2 samples a side in ab.json, and ab.md exists"
/usr/bin/python3 - "$out" <<'EOF'
import json, os, sys
d = json.load(open(os.path.join(sys.argv[1], "ab.json")))
names = sorted(r["name"] for r in d["rows"])
assert names == ["bsa_sized/pair/64", "bsa_sized/pair/8"], names
for r in d["rows"]:
    assert len(r["old_ns"]) == 2 and len(r["new_ns"]) == 2, r
    assert r["min_ratio"] > 0 and r["median_ratio"] > 0, r
assert not d["problems"], d["problems"]
assert os.path.getsize(os.path.join(sys.argv[1], "ab.md")) > 0
print("check_ab: ab.json ok (%d benchmarks)" % len(names))
EOF

echo "--- check_ab: a lost run is refused, by name (not by any failure, such as a crash)"
rm "$out/raw/new.run2.json"
status=0
/usr/bin/python3 "$root/reports/ab_summary.py" --dir "$out" --runs 2 >/dev/null \
  2>"$out/refusal.txt" || status=$?
if [ $status -ne 1 ] || ! grep -q "bsa_sized/pair/8: 1 new runs, expected 2" "$out/refusal.txt"; then
  cat "$out/refusal.txt" >&2
  echo "check_ab: ab_summary did not refuse the side with a run missing (exit $status)" >&2
  exit 1
fi
echo "check_ab: ok"
