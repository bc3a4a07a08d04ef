#!/usr/bin/python3
"""history.py - appends this run's key figures to the history file (one JSON object per
line: commit, dates, mode, figures). A later run of the same commit on the same host
replaces its line, so the file keeps one entry per commit and host.

    /usr/bin/python3 reports/history.py [--summary results/bench/summary.json]
        [--icount results/bench/icount.json] [--history reports/history.jsonl]
"""
import argparse
import datetime
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchdata as bd  # noqa: E402


def figures(summary, icount):
    fig = {}
    if summary:
        ns, rate = bd.index(summary["results"]), bd.index_rate(summary["results"])
        for impl in bd.IMPLS:
            g = bd.geomean([ns.get((impl, "pair", s, 1)) for s in bd.SIZES])
            if g:
                fig["pair_geomean_ns/" + impl] = round(g, 3)
            for key, val in (("pair_ns/%s/64", ns.get((impl, "pair", 64, 1))),
                             ("pages_ns/%s/0", ns.get((impl, "pages", 0, 1))),
                             ("xcpu_mops/%s/64", (rate.get((impl, "xcpu", 64, 1)) or 0) / 1e6),
                             ("mixed_ns/%s", ns.get((impl, "mixed", 1024, 1)))):
                if val:
                    fig[key % impl] = round(val, 3)
            one, two = rate.get((impl, "scale_pair", 64, 1)), rate.get((impl, "scale_pair", 64, 2))
            if one and two:
                fig["scale_pair_2t_over_1t/" + impl] = round(two / one, 3)
        for r in ("bsa_sized", "bsa_unsized"):
            g = bd.geomean([x.get(r + "_over_best_peer") for x in summary["ratios"]
                            if x["family"] == "pair" and x["threads"] == 1])
            if g:
                fig["pair_geomean_ratio_to_best_peer/" + r] = round(g, 3)
    derived = bd.icount_figures(icount)
    for key in ("pair_sized/64", "pair_unsized/64", "pages/0", "pages/4",
                "remote_free_plus_drain/64"):
        if key in derived:
            fig["icount/" + key] = round(derived[key], 2)
    g = bd.geomean([derived.get("pair_sized/%d" % s) for s in bd.SIZES])
    if g:
        fig["icount/pair_sized_geomean"] = round(g, 2)
    return fig


def git(*args):
    try:
        return subprocess.run(["git"] + list(args), capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--summary", default="results/bench/summary.json")
    ap.add_argument("--icount", default="results/bench/icount.json")
    ap.add_argument("--history", default="reports/history.jsonl")
    args = ap.parse_args()
    summary, icount = bd.load_json(args.summary), bd.load_json(args.icount)
    if not summary and not icount:
        print("history: neither %s nor %s: nothing to record" % (args.summary, args.icount))
        return 1
    ctx = (summary or {}).get("context", {})
    commit = ctx.get("commit") or (icount or {}).get("context", {}).get("commit") or "unknown"
    entry = {
        "commit": commit,
        "commit_date": git("log", "-1", "--format=%cI"),
        "subject": git("log", "-1", "--format=%s")[:80],
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "host": ctx.get("host_name") or (icount or {}).get("context", {}).get("host", ""),
        "mode": ctx.get("mode", ""),
        "reps": ctx.get("reps", ""),
        "figures": figures(summary, icount),
    }
    lines = []
    if os.path.exists(args.history):
        with open(args.history) as f:
            for line in f:
                try:
                    old = json.loads(line)
                except ValueError:
                    continue
                if (old.get("commit"), old.get("host")) != (entry["commit"], entry["host"]):
                    lines.append(line.rstrip("\n"))
    lines.append(json.dumps(entry, sort_keys=True))
    with open(args.history, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("history: %s recorded in %s (%d entries)" % (commit, args.history, len(lines)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
