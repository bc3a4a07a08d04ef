#!/usr/bin/python3
"""render.py - renders the workbench report: PNG charts plus one self-contained HTML file
(images embedded) and the same report in Markdown (images alongside).

    /usr/bin/python3 reports/render.py [--results results] [--out results/report]
        [--baseline reports/baseline] [--history reports/history.jsonl]

Reads, each only if present: results/bench/summary.json (bench/run.sh), icount.json
(bench/icount.sh), icount_gate.json and compare.json (the two baseline checks),
results/fuzz/*.json, results/coverage/*.json, results/stress/*.json, and the history
file. A missing part becomes a one-line note, never an error.
"""
import argparse
import base64
import datetime
import glob
import html
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchdata as bd  # noqa: E402
import charts  # noqa: E402


class Report:
    """Collects blocks once and writes them as Markdown and as HTML."""

    def __init__(self):
        self.blocks = []

    def heading(self, text, level=2):
        self.blocks.append(("h", level, text))

    def para(self, text):
        self.blocks.append(("p", text))

    def table(self, header, rows):
        if rows:
            self.blocks.append(("t", header, rows))

    def image(self, path, alt):
        if path:
            self.blocks.append(("i", path, alt))

    def markdown(self):
        out = []
        for b in self.blocks:
            if b[0] == "h":
                out.append("#" * b[1] + " " + b[2])
            elif b[0] == "p":
                out.append(b[1])
            elif b[0] == "t":
                out.append("| " + " | ".join(map(str, b[1])) + " |")
                out.append("|" + "|".join("---" for _ in b[1]) + "|")
                out.extend("| " + " | ".join(str(c).replace("|", "/") for c in r) + " |"
                           for r in b[2])
            elif b[0] == "i":
                out.append("![%s](%s)" % (b[2], os.path.basename(b[1])))
            out.append("")
        return "\n".join(out)

    def html(self, title):
        out = ["<!DOCTYPE html><html><head><meta charset='utf-8'><title>%s</title>"
               % html.escape(title),
               "<style>body{font-family:sans-serif;max-width:1400px;margin:auto;padding:1em}"
               "table{border-collapse:collapse;margin:.5em 0 1em}td,th{border:1px solid #ccc;"
               "padding:2px 8px;text-align:right;font-size:13px}th{background:#eee}"
               "td:first-child,th:first-child{text-align:left}img{max-width:100%}"
               "code{background:#f4f4f4}</style></head><body>"]
        for b in self.blocks:
            if b[0] == "h":
                out.append("<h%d>%s</h%d>" % (b[1], html.escape(b[2]), b[1]))
            elif b[0] == "p":
                out.append("<p>%s</p>" % html.escape(b[1]).replace("\n", "<br>"))
            elif b[0] == "t":
                out.append("<table><tr>%s</tr>" % "".join(
                    "<th>%s</th>" % html.escape(str(h)) for h in b[1]))
                out.extend("<tr>%s</tr>" % "".join("<td>%s</td>" % html.escape(str(c))
                                                    for c in r) for r in b[2])
                out.append("</table>")
            elif b[0] == "i":
                with open(b[1], "rb") as f:
                    data = base64.b64encode(f.read()).decode()
                out.append("<p><img alt='%s' src='data:image/png;base64,%s'></p>"
                           % (html.escape(b[2]), data))
        out.append("</body></html>")
        return "\n".join(out)


def num(v, digits=1):
    if v is None:
        return "-"
    if isinstance(v, float):
        return "%.0f" % v if abs(v) >= 1000 else "%.*f" % (digits, v)
    return str(v)


# ---- benchmarks ---------------------------------------------------------------------------
def family_table(rep, summary, family, params, first, rate=False, threads=1):
    rep.table([first] + bd.IMPLS + bd.RATIO_COLUMNS,
              bd.family_rows(summary, family, params, threads=threads, rate=rate))


def bench_sections(rep, summary, out, icount_base):
    ctx = summary["context"]
    rep.heading("Benchmarks")
    rep.para("Medians of %s repetition(s) (%s mode); every allocator ran in its own process, "
             "interleaved repetition by repetition (bench/run.sh). Ratios divide bsa's time "
             "by the best peer's: above 1 means bsa is slower; the minima columns divide bsa's "
             "fastest repetition by the fastest of any peer (a process runs in a fast or a "
             "slow phase on this machine, and the minimum is the fast one). Peers: malloc/free, "
             "aligned_alloc for pages. %s." % (ctx.get("reps", "?"), ctx.get("mode", "?"),
                                              ctx.get("bsa_heap", "bsa heap")))
    if ctx.get("mode") == "smoke":
        rep.para("**Smoke run: each benchmark ran for about 2 ms, once. These figures only "
                 "show that the pipeline works; they are not measurements. Run ./perf.sh "
                 "for numbers.**")
    rep.heading("Objects: alloc + free per size class", 3)
    rep.para("ns per pair (lower is better).")
    family_table(rep, summary, "pair", bd.SIZES, "size (B)")
    rep.image(charts.objects(summary, os.path.join(out, "objects.png")), "objects")
    rep.image(charts.ratios(summary, os.path.join(out, "objects_ratio.png")), "ratios")
    rep.para("Batch of 256 allocs then 256 frees, ns per pair:")
    family_table(rep, summary, "batch", bd.SIZES, "size (B)")
    rep.para("Recycle (256 live objects, free a random one and allocate one), ns per pair:")
    family_table(rep, summary, "recycle", bd.SIZES, "size (B)")

    rep.heading("Pages per order", 3)
    rep.para("ns per alloc + free of 2^order 4 KiB pages. bsa sized: bsa_alloc_pages / "
             "bsa_free_pages; bsa unsized: bsa_alloc (page-aligned large object) / bsa_free.")
    family_table(rep, summary, "pages", bd.ORDERS, "order")
    rep.image(charts.pages(summary, os.path.join(out, "pages.png")), "pages")
    rep.para("Batch of 256 blocks, ns per pair:")
    family_table(rep, summary, "pages_batch", bd.ORDERS, "order")
    rep.para("Alignment four times the block size, ns per pair:")
    family_table(rep, summary, "pages_aligned", bd.ORDERS, "order")

    rep.heading("Cross-CPU producer -> consumer", 3)
    rep.para("Million objects per second (higher is better); the ratio columns are of time "
             "per object (above 1: bsa slower). For bsa every free is a remote free.")
    family_table(rep, summary, "xcpu", bd.SIZES, "size (B)", rate=True)
    rep.image(charts.xcpu(summary, os.path.join(out, "xcpu.png")), "cross-CPU")

    rep.heading("Thread scaling", 3)
    threads = sorted({r["threads"] for r in summary["results"] if r["family"] == "scale_pair"})
    rate = bd.index_rate(summary["results"])
    for family, param, what in (("scale_pair", 64, "64-byte pairs"),
                                ("scale_mixed", 1024, "mixed workload"),
                                ("scale_pages_batch", 0, "single-page pairs, batches of 256")):
        rows = []
        for t in threads:
            rows.append(["%d" % t] + [num(rate[(i, family, param, t)] / 1e6)
                                      if (i, family, param, t) in rate else "-"
                                      for i in bd.IMPLS])
        one = [rate.get((i, family, param, 1)) for i in bd.IMPLS]
        two = [rate.get((i, family, param, 2)) for i in bd.IMPLS]
        rows.append(["2 thr / 1 thr"] + [num(b / a, 2) if a and b else "-"
                                         for a, b in zip(one, two)])
        rep.para("%s: million ops per second, all threads together:" % what)
        rep.table(["threads"] + bd.IMPLS, rows)
    rep.image(charts.scaling(summary, os.path.join(out, "scaling.png")), "scaling")

    rep.heading("Mixed workload and realloc chains", 3)
    rep.para("Mixed: 1024 slots, sizes 8 B..32 KiB (95%% up to 2 KiB, mean %s B), random "
             "lifetimes, fixed seed; ns per op. Realloc: 16 B grown by x1.5 to 64 KiB (%s "
             "reallocs); ns per realloc."
             % (num(float(ctx.get("mixed_mean_request_bytes") or 0), 0),
                ctx.get("realloc_steps_per_chain", "?")))
    family_table(rep, summary, "mixed", [1024], "slots")
    family_table(rep, summary, "realloc", [65536], "max bytes")
    rep.image(charts.workloads(summary, os.path.join(out, "workloads.png")), "workloads")


def icount_section(rep, icount, base_icount, gate, out):
    rep.heading("Instruction counts (callgrind)")
    if not icount:
        rep.para("No results/bench/icount.json: run bench/icount.sh.")
        return
    fig, base = bd.icount_figures(icount), bd.icount_figures(base_icount)
    rep.para("Exact instructions per operation of bsa (bench/icount.sh, %s), the empty "
             "loop (%s instructions) taken off the pair figures. Drain = the owner's extra "
             "cost per object to take back remote frees. Baseline in brackets."
             % (icount.get("context", {}).get("valgrind", "valgrind"),
                num(icount.get("instructions_per_op", {}).get("calib/loop"), 1)))

    def cell(key):
        v = fig.get(key)
        b = base.get(key)
        if v is None:
            return "-"
        return "%s (%s)" % (num(v), num(b)) if b is not None else num(v)
    rep.table(["size (B)", "pair sized", "pair unsized", "remote free", "drain",
               "remote free + drain"],
              [[s] + [cell("%s/%d" % (k, s)) for k in ("pair_sized", "pair_unsized",
                                                        "remote_free", "drain",
                                                        "remote_free_plus_drain")]
               for s in bd.SIZES])
    rep.table(["order", "page pair (bsa_alloc_pages + bsa_free_pages)"],
              [[o, cell("pages/%d" % o)] for o in bd.ORDERS])
    if gate:
        rep.para("Gate against %s (fail past +%.0f%%): %s; %d over or missing, %d better."
                 % (gate.get("baseline"), 100 * gate.get("tolerance", 0.02), gate["verdict"],
                    len(gate.get("failed", [])), len(gate.get("improved", []))))
        bad = [r for r in gate.get("rows", []) if r["status"] != "ok"]
        rep.table(["op", "baseline", "current", "change", "status"],
                  [[r["op"], num(r["baseline"]), num(r["current"]),
                    "-" if r["change"] is None else "%+.1f%%" % (100 * r["change"]),
                    r["status"]] for r in bad[:40]])
    rep.image(charts.icount(fig, base, os.path.join(out, "icount.png")), "icount")


def compare_section(rep, compare):
    rep.heading("Wall-time regressions against the baseline")
    if not compare:
        rep.para("Not run (reports/perf_compare.py; needs repetitions on both sides).")
        return
    rep.para("reports/perf_compare.py: compare.py's U-test over repetitions, alpha %g; "
             "flagged when significant and the median moved by more than %.0f%%. "
             "%d regressions, %d improvements. Informational: never a CI pass/fail."
             % (compare["alpha"], 100 * compare["threshold"], compare["regressions"],
                compare["improvements"]))
    rows = [r for r in compare["rows"] if r["status"] != "same"]
    rows.sort(key=lambda r: -r["change"])
    rep.table(["benchmark", "baseline ns/op", "current ns/op", "change", "p", "status"],
              [[r["name"], num(r["baseline_ns"], 2), num(r["current_ns"], 2),
                "%+.1f%%" % (100 * r["change"]), "%.4f" % r["pvalue"], r["status"]]
               for r in rows[:60]])


def history_section(rep, history_path, out):
    rep.heading("History")
    entries = []
    if os.path.exists(history_path):
        with open(history_path) as f:
            for line in f:
                try:
                    entries.append(json.loads(line))
                except ValueError:
                    pass
    if not entries:
        rep.para("No history yet (%s)." % history_path)
        return
    rep.image(charts.trend(entries[-30:], os.path.join(out, "trend.png")), "trend")
    keys = ["pair_geomean_ns/bsa_sized", "pair_geomean_ns/bsa_unsized",
            "pair_geomean_ratio_to_best_peer/bsa_sized", "xcpu_mops/bsa_sized/64",
            "icount/pair_sized/64", "icount/pages/0"]
    rep.table(["commit", "date", "mode"] + keys,
              [[e.get("commit"), e.get("date", "")[:10], e.get("mode", "")] +
               [num(e.get("figures", {}).get(k), 2) for k in keys] for e in entries[-15:]])


# ---- fuzz, coverage, stress: whatever JSON their tools write ------------------------------
def scalar(v):
    return v is None or isinstance(v, (str, int, float, bool))


def generic(rep, data, depth=0):
    """Scalars as a key/value table; lists of objects and objects of objects as tables."""
    if isinstance(data, list):
        data = {"items": data}
    if not isinstance(data, dict):
        rep.para(str(data)[:500])
        return
    kv = [[k, num(v, 2) if isinstance(v, float) else str(v)[:120]]
          for k, v in data.items() if scalar(v)]
    rep.table(["field", "value"], kv)
    for k, v in data.items():
        rows = None
        if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            rows = [(None, x) for x in v]
        elif isinstance(v, dict) and v and all(isinstance(x, dict) for x in v.values()):
            rows = list(v.items())
        if rows is not None:
            cols = []
            for _, x in rows:
                cols += [c for c, y in x.items() if scalar(y) and c not in cols]
            cols = cols[:12]
            first = [] if rows[0][0] is None else [k]
            rep.para("%s:" % k)
            rep.table(first + cols, [([name] if name is not None else []) +
                                     [num(x.get(c), 2) if isinstance(x.get(c), float)
                                      else str(x.get(c, ""))[:60] for c in cols]
                                     for name, x in rows[:50]])
        elif isinstance(v, dict) and depth < 1:
            rep.para("%s:" % k)
            generic(rep, v, depth + 1)


def coverage(rep, data):
    """llvm-cov export -summary-only: totals and per-file percentages; else generic."""
    try:
        d = data["data"][0]
        totals = d["totals"]
    except (KeyError, IndexError, TypeError):
        return generic(rep, data)
    kinds = [k for k in ("lines", "branches", "functions", "regions") if k in totals]
    rep.table(["scope"] + kinds, [["total"] + ["%.1f%% (%s/%s)" % (
        totals[k].get("percent", 0), totals[k].get("covered"), totals[k].get("count"))
        for k in kinds]])
    rep.table(["file"] + kinds, [[os.path.basename(f["filename"])] +
                                 ["%.1f%%" % f["summary"][k].get("percent", 0) for k in kinds]
                                 for f in d.get("files", [])[:60]])


def workbench_section(rep, results, part, title, render):
    rep.heading(title)
    files = sorted(glob.glob(os.path.join(results, part, "*.json")), key=os.path.getmtime,
                   reverse=True)
    if not files:
        rep.para("No %s/%s/*.json yet." % (os.path.basename(results), part))
        return
    for path in files[:20]:
        data = bd.load_json(path)
        when = datetime.datetime.fromtimestamp(os.path.getmtime(path)).strftime("%Y-%m-%d %H:%M")
        rep.heading("%s (%s)" % (os.path.relpath(path, os.path.dirname(results)), when), 3)
        if data is None:
            rep.para("unreadable JSON")
        else:
            render(rep, data)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", default="results")
    ap.add_argument("--out", default="results/report")
    ap.add_argument("--baseline", default="reports/baseline")
    ap.add_argument("--history", default="reports/history.jsonl")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for old in glob.glob(os.path.join(args.out, "*.png")):
        os.remove(old)
    bench = os.path.join(args.results, "bench")
    summary = bd.load_json(os.path.join(bench, "summary.json"))
    icount = bd.load_json(os.path.join(bench, "icount.json"))
    base_icount = bd.load_json(os.path.join(args.baseline, "icount.json"))

    rep = Report()
    title = "bsa workbench report"
    rep.heading(title, 1)
    ctx = (summary or {}).get("context", {})
    rep.para("Generated %s. Commit %s. Host %s: %s CPUs at %s MHz."
             % (datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
                ctx.get("commit") or (icount or {}).get("context", {}).get("commit", "?"),
                ctx.get("host_name", "?"), ctx.get("num_cpus", "?"),
                ctx.get("mhz_per_cpu", "?")))
    if summary:
        origins = ["%s: %s" % (k[len("malloc_origin_"):], v) for k, v in ctx.items()
                   if k.startswith("malloc_origin_")]
        rep.para("malloc in each process - " + "; ".join(origins))
        bench_sections(rep, summary, args.out, base_icount)
    else:
        rep.heading("Benchmarks")
        rep.para("No results/bench/summary.json: run bench/run.sh.")
    icount_section(rep, icount, base_icount,
                   bd.load_json(os.path.join(bench, "icount_gate.json")), args.out)
    compare_section(rep, bd.load_json(os.path.join(bench, "compare.json")))
    history_section(rep, args.history, args.out)
    workbench_section(rep, args.results, "fuzz", "Fuzzing", generic)
    workbench_section(rep, args.results, "coverage", "Coverage", coverage)
    workbench_section(rep, args.results, "stress", "Stress", generic)

    md, page = os.path.join(args.out, "report.md"), os.path.join(args.out, "report.html")
    with open(md, "w") as f:
        f.write(rep.markdown())
    with open(page, "w") as f:
        f.write(rep.html(title))
    print("render: %s (self-contained) and %s" % (page, md))
    return 0


if __name__ == "__main__":
    sys.exit(main())
