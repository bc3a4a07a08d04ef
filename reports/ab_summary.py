#!/usr/bin/python3
"""ab_summary.py - the comparison of an A/B run of bench/ab.sh, benchmark by benchmark.

    /usr/bin/python3 reports/ab_summary.py --dir results/ab [--runs N]

Reads <dir>/raw/{old,new}.run<N>.json (one Google Benchmark JSON per process) and
writes <dir>/ab.json and <dir>/ab.md: for each benchmark, each side's ns per op per run
(benchdata.ns_per_op: CPU time, wall time for threaded benchmarks), median and minimum,
new/old of both, and a two-sided Mann-Whitney U-test p over the runs (None without
scipy or with fewer than 2 runs a side). The minimum is the figure to read on this
machine: a process runs in a fast or a slow phase as a whole, and the minimum is each
side's fast phase once there are enough runs.
Exit 1 when a side lacks a benchmark the other has, or has fewer than --runs samples of
one (a run that failed or was cut short); 2 when there is nothing to read.
"""
import argparse
import glob
import json
import os
import re
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchdata as bd  # noqa: E402

SIDES = ("old", "new")


def load_side(directory, side):
    """{benchmark name: [ns per op, one per run]} of one side, names in first-seen order."""
    paths = sorted(glob.glob(os.path.join(directory, "raw", side + ".run*.json")),
                   key=lambda p: int(re.search(r"\.run(\d+)\.json$", p).group(1)))
    samples = {}
    for path in paths:
        data = bd.load_json(path) or {}
        for b in data.get("benchmarks", []):
            if b.get("run_type", "iteration") != "iteration" or b.get("error_occurred"):
                continue
            samples.setdefault(b["name"], []).append(bd.ns_per_op(b))
    return samples


def utest(a, b):
    if min(len(a), len(b)) < 2:
        return None
    try:
        from scipy.stats import mannwhitneyu
    except ImportError:
        return None
    return float(mannwhitneyu(a, b, alternative="two-sided").pvalue)


def compare(old, new):
    rows = []
    for name in old:
        if name not in new:
            continue
        o, n = old[name], new[name]
        mo, mn = statistics.median(o), statistics.median(n)
        rows.append({"name": name, "old_ns": o, "new_ns": n,
                     "old_median": mo, "new_median": mn,
                     "old_min": min(o), "new_min": min(n),
                     "median_ratio": mn / mo if mo > 0 else None,
                     "min_ratio": min(n) / min(o) if min(o) > 0 else None,
                     "pvalue": utest(o, n)})
    return rows


def cells(r):
    """A row's cells, as ab.md and the printed table show them."""
    return [r["name"]] + [bd.fmt(r[k], 2) for k in ("old_median", "new_median")] + \
        [bd.fmt(r["median_ratio"], 3)] + [bd.fmt(r[k], 2) for k in ("old_min", "new_min")] + \
        [bd.fmt(r["min_ratio"], 3), bd.fmt(r["pvalue"], 3)]


HEADER = ["benchmark (ns/op)", "old median", "new median", "new/old", "old min", "new min",
          "new/old (min)", "U-test p"]


def markdown(rows, sides, runs):
    lines = ["# A/B: new against old, ns per op", "",
             "old: %s  " % sides.get("old", "?"), "new: %s" % sides.get("new", "?"), "",
             "%d alternating runs a side (one process each). new/old below 1: new is "
             "faster. The minimum is each side's fast phase." % runs, "",
             "| " + " | ".join(HEADER) + " |", "|---" + "|---:" * (len(HEADER) - 1) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(cells(r)) + " |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default="results/ab")
    ap.add_argument("--runs", type=int, default=0,
                    help="samples each side must have of every benchmark (0: no check)")
    args = ap.parse_args()
    old, new = (load_side(args.dir, s) for s in SIDES)
    if not old or not new:
        print("ab_summary: no runs of both sides in %s/raw" % args.dir, file=sys.stderr)
        return 2
    problems = ["%s: only the %s side has it" % (name, side)
                for side, mine, other in (("old", old, new), ("new", new, old))
                for name in mine if name not in other]
    if args.runs:
        problems += ["%s: %d %s runs, expected %d" % (name, len(s[name]), side, args.runs)
                     for side, s in zip(SIDES, (old, new)) for name in s
                     if len(s[name]) != args.runs]
    sides = {}
    sides_txt = os.path.join(args.dir, "raw", "sides.txt")
    if os.path.exists(sides_txt):
        with open(sides_txt) as f:
            for line in f:
                side, _, what = line.strip().partition(" ")
                sides[side] = what
    rows = compare(old, new)
    runs = max(len(v) for v in old.values())
    with open(os.path.join(args.dir, "ab.json"), "w") as f:
        json.dump({"sides": sides, "runs": runs, "rows": rows, "problems": problems}, f,
                  indent=1)
    with open(os.path.join(args.dir, "ab.md"), "w") as f:
        f.write(markdown(rows, sides, runs))
    bd.print_table("A/B, %d runs a side: new against old" % runs,
                   [cells(r) for r in rows], HEADER)
    print("ab_summary: %d benchmarks, %d runs a side: %s/ab.json, %s/ab.md"
          % (len(rows), runs, args.dir, args.dir))
    for p in problems:
        print("ab_summary: %s" % p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
