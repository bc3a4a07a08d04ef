#!/usr/bin/python3
"""icount_gate.py - the instruction-count gate: fails when any measured operation costs
more than the stored baseline plus a tolerance (default 2%). Callgrind counts are exact,
so this is deterministic on a given toolchain; CI runs it.

    /usr/bin/python3 reports/icount_gate.py [--baseline reports/baseline/icount.json]
        [--current results/bench/icount.json] [--tolerance 0.02] [--out FILE.json]

Exit 0: every operation within tolerance (improvements are listed: refresh the baseline
with ./perf.sh --update-baseline to lock them in). Exit 1: a regression, or an operation
of the baseline that was not measured. Exit 2: a file is missing.
"""
import argparse
import json
import sys


def load(path, what):
    try:
        with open(path) as f:
            return json.load(f)["instructions_per_op"]
    except (OSError, ValueError, KeyError) as e:
        print("icount_gate: cannot read %s %s: %s" % (what, path, e), file=sys.stderr)
        sys.exit(2)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline", default="reports/baseline/icount.json")
    ap.add_argument("--current", default="results/bench/icount.json")
    ap.add_argument("--tolerance", type=float, default=0.02)
    ap.add_argument("--out", help="write the verdict as JSON here (for the report)")
    args = ap.parse_args()
    base, cur = load(args.baseline, "baseline"), load(args.current, "current")

    rows, failed, improved = [], [], []
    for op in sorted(base, key=lambda k: (k.split("/")[0], int(k.split("/")[-1])
                                          if k.split("/")[-1].isdigit() else 0)):
        if op.startswith("calib/"):
            continue
        b, c = base[op], cur.get(op)
        if c is None:
            status, change = "MISSING", None
        else:
            change = (c - b) / b if b else 0.0
            status = ("FAIL" if change > args.tolerance else
                      "better" if change < -args.tolerance else "ok")
        rows.append({"op": op, "baseline": b, "current": c, "change": change, "status": status})
        if status in ("FAIL", "MISSING"):
            failed.append(op)
        elif status == "better":
            improved.append(op)
    new = sorted(op for op in cur if op not in base and not op.startswith("calib/"))

    print("icount gate: instructions per op against %s (fail past +%.1f%%)"
          % (args.baseline, args.tolerance * 100))
    print("  %-28s %10s %10s %8s  %s" % ("op", "baseline", "current", "change", "status"))
    for r in rows:
        if r["status"] != "ok" or len(rows) <= 60:
            print("  %-28s %10.2f %10s %8s  %s" % (
                r["op"], r["baseline"], "-" if r["current"] is None else "%.2f" % r["current"],
                "-" if r["change"] is None else "%+.1f%%" % (100 * r["change"]), r["status"]))
    if new:
        print("  not in the baseline (not gated): " + ", ".join(new))
    verdict = "FAIL" if failed else "ok"
    print("icount gate: %s: %d ops, %d over +%.1f%% or missing, %d better than baseline%s"
          % (verdict, len(rows), len(failed), args.tolerance * 100, len(improved),
             " (refresh: ./perf.sh --update-baseline)" if improved and not failed else ""))
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"verdict": verdict, "tolerance": args.tolerance, "baseline": args.baseline,
                       "failed": failed, "improved": improved, "new": new, "rows": rows}, f,
                      indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
