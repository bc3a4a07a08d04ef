"""benchdata.py - one place that knows the benchmark data: names, files, medians, colours.

Benchmark names are <allocator>/<family>/<param>[/threads:N][/real_time] (bench/src/shim.cc).
Every benchmark carries the counter ops_per_iter, so ns per op = time / ops_per_iter, where
time is the CPU time of single-threaded benchmarks and the wall time of threaded ones.
bench/run.sh leaves one Google Benchmark JSON per process and repetition in <dir>/raw/;
merge_raw() folds them into <dir>/<binary>.json (all repetitions as iteration entries, the
form compare.py reads), and summarize() turns those into medians and ratios.
"""
import glob
import json
import os
import re
import statistics

IMPLS = ["bsa_sized", "bsa_unsized", "glibc", "jemalloc", "mimalloc", "tcmalloc"]
BSA = ["bsa_sized", "bsa_unsized"]
PEERS = ["glibc", "jemalloc", "mimalloc", "tcmalloc"]
BINARIES = ["bsa", "glibc", "jemalloc", "mimalloc", "tcmalloc"]

# The same colour and marker for the same allocator in every chart.
COLORS = {
    "bsa_sized": "#c0392b",    # red
    "bsa_unsized": "#f39c12",  # orange
    "glibc": "#555555",        # grey
    "jemalloc": "#2e86c1",     # blue
    "mimalloc": "#27ae60",     # green
    "tcmalloc": "#8e44ad",     # purple
}
MARKERS = {"bsa_sized": "o", "bsa_unsized": "s", "glibc": "v", "jemalloc": "^",
           "mimalloc": "D", "tcmalloc": "P"}
LABELS = {"bsa_sized": "bsa (sized free)", "bsa_unsized": "bsa (unsized free)",
          "glibc": "glibc", "jemalloc": "jemalloc", "mimalloc": "mimalloc",
          "tcmalloc": "tcmalloc"}

SIZES = [8, 16, 32, 64, 128, 256, 512, 1024, 2048]
ORDERS = list(range(7))

_TO_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
_NAME = re.compile(r"^(?P<impl>[^/]+)/(?P<family>[^/]+)/(?P<param>[^/]+)(?P<rest>(/.*)?)$")


def parse_name(name):
    """(impl, family, param, threads) of a benchmark name, or None."""
    m = _NAME.match(name)
    if not m:
        return None
    threads = 1
    for part in m.group("rest").split("/"):
        if part.startswith("threads:"):
            threads = int(part.split(":")[1])
    param = m.group("param")
    return m.group("impl"), m.group("family"), int(param) if param.isdigit() else param, threads


def uses_real_time(name):
    """Threaded families (cross-CPU, scaling) are timed by the wall clock; the others by
    the thread's CPU time, which on a shared or virtual machine leaves out the time the
    thread was not running (other load, hypervisor steal)."""
    return name.endswith("/real_time")


def ns_per_op(bench):
    ops = bench.get("ops_per_iter", 1.0) or 1.0
    t = bench["real_time"] if uses_real_time(bench["name"]) else bench["cpu_time"]
    return t * _TO_NS[bench.get("time_unit", "ns")] / ops


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def merge_raw(directory):
    """Merges <dir>/raw/<binary>.rep<N>.json into <dir>/<binary>.json; returns the paths."""
    merged = []
    for binary in BINARIES:
        reps = sorted(glob.glob(os.path.join(directory, "raw", binary + ".rep*.json")),
                      key=lambda p: int(re.search(r"\.rep(\d+)\.json$", p).group(1)))
        runs = [d for d in (load_json(p) for p in reps) if d and d.get("benchmarks")]
        if not runs:
            continue
        context = dict(runs[0]["context"])
        context["repetition"] = "merged"
        context["load_avg_per_rep"] = [r["context"].get("load_avg") for r in runs]
        benchmarks = []
        for i, run in enumerate(runs):
            for b in run["benchmarks"]:
                if b.get("run_type", "iteration") != "iteration":
                    continue
                b = dict(b)
                b["repetitions"] = len(runs)
                b["repetition_index"] = i
                benchmarks.append(b)
        path = os.path.join(directory, binary + ".json")
        with open(path, "w") as f:
            json.dump({"context": context, "benchmarks": benchmarks}, f, separators=(",", ":"))
        merged.append(path)
    return merged


def load_benchmarks(directory):
    """{binary: merged JSON} for every <dir>/<binary>.json present."""
    out = {}
    for binary in BINARIES:
        data = load_json(os.path.join(directory, binary + ".json"))
        if data and data.get("benchmarks"):
            out[binary] = data
    return out


def summarize(directory):
    """Medians per benchmark and ratios against bsa, as a JSON-ready dict."""
    files = load_benchmarks(directory)
    samples = {}
    for data in files.values():
        for b in data["benchmarks"]:
            key = parse_name(b["name"])
            if key is None or b.get("error_occurred"):
                continue
            s = samples.setdefault(key, {"ns": [], "ips": []})
            s["ns"].append(ns_per_op(b))
            s["ips"].append(b.get("items_per_second", 0.0))
    results = []
    for (impl, family, param, threads), s in sorted(samples.items(), key=_order):
        results.append({
            "impl": impl, "family": family, "param": param, "threads": threads,
            "ns_per_op": statistics.median(s["ns"]),
            "ns_per_op_min": min(s["ns"]),
            "ns_per_op_reps": [round(v, 3) for v in s["ns"]],
            "ops_per_sec": statistics.median(s["ips"]),
        })
    ratios = []
    table, table_min = index(results), index(results, "ns_per_op_min")
    for family, param, threads in sorted({(r["family"], r["param"], r["threads"])
                                          for r in results}, key=lambda k: _order((None,) + k)):
        entry = {"family": family, "param": param, "threads": threads}
        # Of the medians, and of the minima: each allocator's fastest repetition, its fast
        # phase on a machine whose processes run in a fast or a slow one (README).
        cells = {suffix: {i: t.get((i, family, param, threads)) for i in IMPLS}
                 for suffix, t in (("", table), ("_min", table_min))}
        for suffix, cell in cells.items():
            peers = {p: cell[p] for p in PEERS if cell[p] is not None}
            if not peers:
                continue
            best = min(peers, key=peers.get)
            entry.update({"best_peer" + suffix: best, "best_peer_ns" + suffix: peers[best]})
            for b in BSA:
                if cell[b] is not None:
                    entry[b + "_over_best_peer" + suffix] = cell[b] / peers[best]
        row = cells[""]
        if row["bsa_sized"]:
            entry["vs_bsa_sized"] = {i: row[i] / row["bsa_sized"] for i in IMPLS if row[i]}
        ratios.append(entry)
    context = {}
    for binary, data in files.items():
        c = data["context"]
        if not context:
            context = {k: c.get(k) for k in ("date", "host_name", "num_cpus", "mhz_per_cpu",
                                              "cpu_scaling_enabled", "caches", "commit",
                                              "mode", "reps")}
        context["malloc_origin_" + binary] = c.get("malloc_origin")
        for k in ("bsa_heap", "mixed_mean_request_bytes", "realloc_steps_per_chain"):
            if k in c:
                context[k] = c[k]
    return {"context": context, "results": results, "ratios": ratios}


def index(results, field="ns_per_op"):
    """{(impl, family, param, threads): median ns per op}, or another field of a result."""
    return {(r["impl"], r["family"], r["param"], r["threads"]): r[field] for r in results}


def index_rate(results):
    """{(impl, family, param, threads): median ops per second}."""
    return {(r["impl"], r["family"], r["param"], r["threads"]): r["ops_per_sec"]
            for r in results}


FAMILY_ORDER = ["pair", "batch", "recycle", "pages", "pages_batch", "pages_aligned", "xcpu",
                "scale_pair", "scale_mixed", "scale_pages_batch", "mixed", "realloc"]


def _order(item):
    key = item[0] if isinstance(item[0], tuple) else item
    impl, family, param, threads = key
    return (FAMILY_ORDER.index(family) if family in FAMILY_ORDER else 99,
            param if isinstance(param, int) else 0, threads,
            IMPLS.index(impl) if impl in IMPLS else -1)


def geomean(values):
    values = [v for v in values if v and v > 0]
    if not values:
        return None
    prod = 1.0
    for v in values:
        prod *= v
    return prod ** (1.0 / len(values))


def icount_figures(icount):
    """Derived instruction counts from bench/icount.sh's JSON: net pair costs (the empty
    loop taken off), page pairs, remote free, drain share, remote pair."""
    ipo = (icount or {}).get("instructions_per_op", {})
    loop = ipo.get("calib/loop", 0.0)
    out = {}
    for size in SIZES:
        for kind in ("pair_sized", "pair_unsized"):
            v = ipo.get("%s/%d" % (kind, size))
            if v is not None:
                out["%s/%d" % (kind, size)] = v - loop
        rf = ipo.get("remote_free/%d" % size)
        ar = ipo.get("alloc_after_remote/%d" % size)
        al = ipo.get("alloc_after_local/%d" % size)
        if None not in (rf, ar, al):
            out["remote_free/%d" % size] = rf
            out["drain/%d" % size] = ar - al
            out["remote_free_plus_drain/%d" % size] = rf + ar - al
            out["remote_pair/%d" % size] = rf + ar
    for order in ORDERS:
        v = ipo.get("pages/%d" % order)
        if v is not None:
            out["pages/%d" % order] = v - loop
    return out


def fmt(v, digits=1):
    if v is None:
        return "-"
    if v >= 1000:
        return "%.0f" % v
    return "%.*f" % (digits, v)


def print_table(title, rows, header):
    """Prints rows under a title, each column right-aligned to its widest cell."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    print("\n" + title)
    for line in [header] + rows:
        print("  " + "  ".join(str(x).rjust(w) for x, w in zip(line, widths)))


# The columns after the allocators' in family_rows.
RATIO_COLUMNS = ["best peer", "sized/best", "unsized/best", "sized/best, minima",
                 "unsized/best, minima"]


# One row per parameter: each allocator's median (M/s when rate), best peer, bsa ratios
# of the medians and of the minima.
def family_rows(summary, family, params, threads=1, rate=False):
    table = index_rate(summary["results"]) if rate else index(summary["results"])
    ratios = {(r["family"], r["param"], r["threads"]): r for r in summary["ratios"]}
    rows = []
    for p in params:
        vals = [table.get((i, family, p, threads)) for i in IMPLS]
        if all(v is None for v in vals):
            continue
        if rate:
            vals = [v / 1e6 if v else None for v in vals]
        r = ratios.get((family, p, threads), {})
        rows.append([p] + [fmt(v) for v in vals] +
                    [r.get("best_peer", "-")] +
                    [fmt(r.get(b + "_over_best_peer" + suffix), 2)
                     for suffix in ("", "_min") for b in BSA])
    return rows
