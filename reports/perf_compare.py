#!/usr/bin/python3
"""perf_compare.py - wall-time regressions against the stored baseline, with a U-test.

    /usr/bin/python3 reports/perf_compare.py [--baseline reports/baseline/bench]
        [--current results/bench] [--binaries bsa] [--alpha 0.05] [--threshold 0.10]
        [--out FILE.json]

For each binary's merged JSON (all repetitions), Google Benchmark's compare.py
(/usr/share/benchmark/gbench) prints its per-benchmark comparison with a Mann-Whitney
U-test over the repetitions. A benchmark is a regression when the test is significant
(p < alpha; on CPU time, or on wall time for threaded benchmarks, as in the report) AND
its median time grew by more than the threshold. Exit 1
if there is any regression, 0 otherwise, 2 if inputs are missing. Repetitions: the
U-test needs 2 per side and wants 9; with 5 per side the smallest p is 0.008.

A tool for people: wall time on a shared CI machine is never a pass/fail test.
"""
import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, "/usr/share/benchmark")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchdata as bd  # noqa: E402


def times(data):
    out = {}
    for b in data["benchmarks"]:
        if b.get("run_type", "iteration") == "iteration":
            out.setdefault(b["name"], []).append(bd.ns_per_op(b))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline", default="reports/baseline/bench")
    ap.add_argument("--current", default="results/bench")
    ap.add_argument("--binaries", default="bsa",
                    help="comma-separated: bsa,glibc,jemalloc,mimalloc,tcmalloc")
    ap.add_argument("--alpha", type=float, default=0.05)
    ap.add_argument("--threshold", type=float, default=0.10)
    ap.add_argument("--out", help="write the verdict as JSON here (for the report)")
    args = ap.parse_args()
    try:
        from gbench import report
    except ImportError as e:
        print("perf_compare: compare.py's gbench (libbenchmark-dev, python3-scipy): %s" % e,
              file=sys.stderr)
        return 2

    rows, missing = [], []
    for binary in args.binaries.split(","):
        b = bd.load_json(os.path.join(args.baseline, binary + ".json"))
        c = bd.load_json(os.path.join(args.current, binary + ".json"))
        if not b or not c:
            missing.append(binary)
            continue
        diff = report.get_difference_report(b, c, utest=True)
        print("== %s: baseline %s vs current %s" % (binary, b["context"].get("commit", "?"),
                                                   c["context"].get("commit", "?")))
        for line in report.print_difference_report(diff, utest=True, utest_alpha=args.alpha,
                                                   use_color=False):
            print(line)
        bt, ct = times(b), times(c)
        for d in diff:
            name = d["name"]
            if name not in bt or name not in ct:
                continue
            mb, mc = statistics.median(bt[name]), statistics.median(ct[name])
            utest = d.get("utest") or {}
            p = utest.get("time_pvalue" if bd.uses_real_time(name) else "cpu_pvalue")
            change = mc / mb - 1.0
            significant = p is not None and p < args.alpha
            status = ("REGRESSION" if significant and change > args.threshold else
                      "improved" if significant and change < -args.threshold else "same")
            rows.append({"name": name, "baseline_ns": mb, "current_ns": mc, "change": change,
                         "pvalue": p, "reps": [len(bt[name]), len(ct[name])],
                         "status": status})
    if missing:
        print("perf_compare: no merged JSON for %s in %s or %s"
              % (", ".join(missing), args.baseline, args.current), file=sys.stderr)
    if not rows:
        return 2
    regressions = [r for r in rows if r["status"] == "REGRESSION"]
    improved = [r for r in rows if r["status"] == "improved"]
    untestable = sum(1 for r in rows if r["pvalue"] is None)
    print("\nperf_compare: %d benchmarks, %d regressions, %d improvements "
          "(U-test p < %g and median change beyond %.0f%%)%s"
          % (len(rows), len(regressions), len(improved), args.alpha, 100 * args.threshold,
             "; %d without enough repetitions for a U-test" % untestable if untestable else ""))
    for r in sorted(regressions, key=lambda r: -r["change"]):
        print("  REGRESSION %-40s %9.2f -> %9.2f ns/op  %+6.1f%%  p=%.4f"
              % (r["name"], r["baseline_ns"], r["current_ns"], 100 * r["change"], r["pvalue"]))
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"alpha": args.alpha, "threshold": args.threshold,
                       "baseline": args.baseline, "regressions": len(regressions),
                       "improvements": len(improved), "rows": rows}, f, indent=1)
    return 1 if regressions else 0


if __name__ == "__main__":
    sys.exit(main())
