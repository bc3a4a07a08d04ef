#!/usr/bin/python3
"""summarize.py - merges bench/run.sh's repetitions, writes medians and ratios, prints tables.

    /usr/bin/python3 reports/summarize.py [--dir results/bench]

Writes <dir>/<binary>.json (repetitions merged, for compare.py) and <dir>/summary.json.
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchdata as bd  # noqa: E402


def print_summary(summary):
    header = lambda first: [first] + bd.IMPLS + bd.RATIO_COLUMNS
    for family, title in (("pair", "ns per alloc+free pair, by object size (bytes)"),
                          ("batch", "ns per pair, batch of 256"),
                          ("recycle", "ns per free+alloc, 256 live objects")):
        bd.print_table(title, bd.family_rows(summary, family, bd.SIZES), header("size"))
    for family, title in (("pages", "ns per page alloc+free pair, by order"),
                          ("pages_batch", "ns per page pair, batch of 256"),
                          ("pages_aligned", "ns per page pair, alignment 4x the block")):
        bd.print_table(title, bd.family_rows(summary, family, bd.ORDERS), header("order"))
    bd.print_table("cross-CPU producer -> consumer, million objects per second (higher is better;"
                " ratios are of ns per object)",
                bd.family_rows(summary, "xcpu", bd.SIZES, rate=True), header("size"))
    threads = sorted({r["threads"] for r in summary["results"] if r["family"] == "scale_pair"})
    for family in ("scale_pair", "scale_mixed", "scale_pages_batch"):
        rows = []
        for t in threads:
            for r in bd.family_rows(summary, family, [64, 1024, 0], t, rate=True):
                rows.append(["%d thr" % t] + r[1:])
        bd.print_table(family + ": million ops per second, all threads", rows, header("threads"))
    rows = bd.family_rows(summary, "mixed", [1024]) + bd.family_rows(summary, "realloc", [65536])
    bd.print_table("mixed (ns per op) and realloc chain (ns per realloc)", rows, header("param"))


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default="results/bench")
    args = ap.parse_args()
    merged = bd.merge_raw(args.dir)
    if not merged:
        print("summarize: no benchmark JSON in %s/raw" % args.dir, file=sys.stderr)
        return 1
    summary = bd.summarize(args.dir)
    path = os.path.join(args.dir, "summary.json")
    with open(path, "w") as f:
        json.dump(summary, f, indent=1)
    print_summary(summary)
    print("\nsummarize: %d benchmarks from %d processes -> %s"
          % (len(summary["results"]), len(merged), path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
