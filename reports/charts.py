"""charts.py - the PNG charts of the report (matplotlib, Agg). One function per chart;
each takes the summary / icount / history data and a path, and returns the path or None
when there is nothing to draw. Colours and markers come from benchdata, so an allocator
looks the same in every chart."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

import benchdata as bd  # noqa: E402

plt.rcParams.update({"figure.dpi": 100, "font.size": 10, "axes.titlesize": 11,
                     "axes.grid": True, "grid.alpha": 0.3, "legend.fontsize": 9})


def _num(v, _pos=None):
    if v >= 1000:
        return "%gk" % (v / 1000)
    return "%g" % v


def _log_y(ax):
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(_num))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _line(ax, impl, xs, ys):
    pts = [(x, y) for x, y in zip(xs, ys) if y]
    if not pts:
        return
    ax.plot([p[0] for p in pts], [p[1] for p in pts], color=bd.COLORS[impl],
            marker=bd.MARKERS[impl], linestyle="--" if impl == "bsa_unsized" else "-",
            linewidth=2.2 if impl in bd.BSA else 1.4, markersize=5, label=bd.LABELS[impl])


def _size_axis(ax):
    ax.set_xscale("log", base=2)
    ax.set_xticks(bd.SIZES)
    ax.set_xticklabels([str(s) for s in bd.SIZES])
    ax.set_xlabel("object size (bytes)")


def _legend(fig, axes):
    handles, labels = [], []
    for ax in axes:
        for h, l in zip(*ax.get_legend_handles_labels()):
            if l not in labels:
                handles.append(h)
                labels.append(l)
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False)


def _save(fig, path, bottom=0.2):
    fig.tight_layout(rect=(0, bottom * 0.5, 1, 1))
    fig.savefig(path)
    plt.close(fig)
    return path


def _panels(summary, path, title, panels, xs, axis, ylabel, rate=False, scale=1.0):
    """One panel per (family, subtitle); a line per allocator."""
    table = bd.index_rate(summary["results"]) if rate else bd.index(summary["results"])
    if not any(k[1] == f for f, _ in panels for k in table):
        return None
    width = max(5.2 * len(panels), 10.0)  # room for the title and legend of one panel
    fig, axes = plt.subplots(1, len(panels), figsize=(width, 4.6 + 0.4 * (len(panels) == 1)),
                             squeeze=False)
    axes = axes[0]
    for ax, (family, subtitle) in zip(axes, panels):
        for impl in bd.IMPLS:
            ys = [table.get((impl, family, x, 1)) for x in xs]
            _line(ax, impl, xs, [y * scale if y else None for y in ys])
        ax.set_title(subtitle)
        axis(ax)
        _log_y(ax)
        ax.set_ylabel(ylabel)
    fig.suptitle(title, fontweight="bold")
    _legend(fig, axes)
    return _save(fig, path)


def objects(summary, path):
    return _panels(summary, path,
                   "Objects: ns per alloc + free (median; log scale, lower is better)",
                   [("pair", "pair: alloc then free"),
                    ("batch", "batch: 256 allocs, then 256 frees"),
                    ("recycle", "recycle: 256 live, free one + alloc one")],
                   bd.SIZES, _size_axis, "ns per pair")


def pages(summary, path):
    def order_axis(ax):
        ax.set_xticks(bd.ORDERS)
        ax.set_xticklabels(["%d\n%dK" % (o, 4 << o) for o in bd.ORDERS])
        ax.set_xlabel("order (block size)")
    return _panels(summary, path,
                   "Pages: ns per alloc + free of 2^order pages (median; log scale, lower is "
                   "better)\nbsa sized = bsa_alloc_pages/bsa_free_pages, unsized = bsa_alloc/"
                   "bsa_free; peers = aligned_alloc/free",
                   [("pages", "pair, page-aligned"), ("pages_batch", "batch of 256"),
                    ("pages_aligned", "pair, aligned to 4x the block")],
                   bd.ORDERS, order_axis, "ns per pair")


def xcpu(summary, path):
    return _panels(summary, path,
                   "Cross-CPU: one thread allocates, another frees (every free remote)\n"
                   "million objects per second (median; log scale, higher is better)",
                   [("xcpu", "producer -> consumer")], bd.SIZES, _size_axis,
                   "million objects / s", rate=True, scale=1e-6)


def ratios(summary, path):
    """bsa_sized time divided by each peer's, per class: above 1, bsa is slower."""
    table = bd.index(summary["results"])
    fams = [("pair", "pair"), ("batch", "batch of 256"), ("recycle", "recycle")]
    if not any(("bsa_sized", f, s, 1) in table for f, _ in fams for s in bd.SIZES):
        return None
    fig, axes = plt.subplots(1, 3, figsize=(15.6, 4.4))
    for ax, (family, subtitle) in zip(axes, fams):
        for peer in bd.PEERS:
            ys = []
            for s in bd.SIZES:
                b, p = table.get(("bsa_sized", family, s, 1)), table.get((peer, family, s, 1))
                ys.append(b / p if b and p else None)
            pts = [(x, y) for x, y in zip(bd.SIZES, ys) if y]
            if pts:
                ax.plot(*zip(*pts), color=bd.COLORS[peer], marker=bd.MARKERS[peer],
                        label="bsa (sized) / " + peer)
        ax.axhline(1.0, color="black", linewidth=1)
        ax.set_title(subtitle)
        _size_axis(ax)
        _log_y(ax)
        ax.set_ylabel("time ratio bsa / peer (x)")
    fig.suptitle("bsa (sized free) against each peer: time ratio per class "
                 "(1 = as fast; above 1 = bsa slower; log scale)", fontweight="bold")
    _legend(fig, axes)
    return _save(fig, path)


def scaling(summary, path):
    rate = bd.index_rate(summary["results"])
    threads = sorted({k[3] for k in rate if k[1] == "scale_pair"})
    if not threads:
        return None
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
    for ax, (family, param, subtitle) in zip(axes, [
            ("scale_pair", 64, "alloc + free pairs of 64 bytes"),
            ("scale_mixed", 1024, "mixed workload")]):
        for impl in bd.IMPLS:
            ys = [rate.get((impl, family, param, t)) for t in threads]
            _line(ax, impl, threads, [y / 1e6 if y else None for y in ys])
        ax.set_xscale("log", base=2)
        ax.set_xticks(threads)
        ax.set_xticklabels([str(t) for t in threads])
        ax.set_xlabel("threads (machine has %s CPUs)" % summary["context"].get("num_cpus", "?"))
        _log_y(ax)
        ax.set_ylabel("million ops / s, all threads")
        ax.set_title(subtitle)
    fig.suptitle("Thread scaling: total throughput (median; log scale, higher is better)",
                 fontweight="bold")
    _legend(fig, axes)
    return _save(fig, path)


def workloads(summary, path):
    table = bd.index(summary["results"])
    panels = [("mixed", 1024, "mixed workload: ns per op (free + alloc)"),
              ("realloc", 65536, "realloc chain 16 B -> 64 KiB: ns per realloc")]
    if not any((i, f, p, 1) in table for f, p, _ in panels for i in bd.IMPLS):
        return None
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for ax, (family, param, subtitle) in zip(axes, panels):
        impls = [i for i in bd.IMPLS if (i, family, param, 1) in table]
        vals = [table[(i, family, param, 1)] for i in impls]
        ax.barh(range(len(impls)), vals, color=[bd.COLORS[i] for i in impls])
        ax.set_yticks(range(len(impls)))
        ax.set_yticklabels([bd.LABELS[i] for i in impls])
        ax.invert_yaxis()
        for y, v in enumerate(vals):
            ax.text(v, y, " %.1f" % v, va="center", fontsize=9)
        ax.set_xlabel("ns (lower is better)")
        ax.set_xlim(0, max(vals) * 1.18)
        ax.set_title(subtitle)
    fig.suptitle("Workloads (median)", fontweight="bold")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _headroom(ax):
    """Legend above the bars, in space added on top."""
    ax.set_ylim(0, ax.get_ylim()[1] * 1.3)
    ax.legend(loc="upper left", ncol=3, fontsize=8)


def icount(figures, baseline, path):
    if not figures:
        return None
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6))
    width = 0.4
    xs = range(len(bd.SIZES))
    ax = axes[0]
    for off, (kind, impl) in zip((-width / 2, width / 2),
                                 (("pair_sized", "bsa_sized"), ("pair_unsized", "bsa_unsized"))):
        vals = [figures.get("%s/%d" % (kind, s), 0) for s in bd.SIZES]
        ax.bar([x + off for x in xs], vals, width, color=bd.COLORS[impl], label=bd.LABELS[impl])
        base = [baseline.get("%s/%d" % (kind, s)) for s in bd.SIZES]
        pts = [(x + off, b) for x, b in zip(xs, base) if b]
        if pts:
            ax.plot(*zip(*pts), "k_", markersize=14, mew=2,
                    label="baseline" if kind == "pair_sized" else None)
    ax.set_xticks(list(xs))
    ax.set_xticklabels([str(s) for s in bd.SIZES])
    ax.set_xlabel("object size (bytes)")
    ax.set_ylabel("instructions per pair")
    ax.set_title("object alloc + free")
    _headroom(ax)
    ax = axes[1]
    vals = [figures.get("pages/%d" % o, 0) for o in bd.ORDERS]
    ax.bar(bd.ORDERS, vals, 0.6, color=bd.COLORS["bsa_sized"], label="bsa_alloc_pages + free")
    base = [(o, baseline.get("pages/%d" % o)) for o in bd.ORDERS if baseline.get("pages/%d" % o)]
    if base:
        ax.plot(*zip(*base), "k_", markersize=18, mew=2, label="baseline")
    ax.set_xticks(bd.ORDERS)
    ax.set_xlabel("order")
    ax.set_ylabel("instructions per pair")
    ax.set_title("page alloc + free")
    _headroom(ax)
    ax = axes[2]
    rf = [figures.get("remote_free/%d" % s, 0) for s in bd.SIZES]
    dr = [figures.get("drain/%d" % s, 0) for s in bd.SIZES]
    ax.bar(list(xs), rf, 0.6, color=bd.COLORS["bsa_sized"], label="remote free")
    ax.bar(list(xs), dr, 0.6, bottom=rf, color=bd.COLORS["bsa_unsized"], label="owner's drain")
    base = [(x, baseline.get("remote_free_plus_drain/%d" % s))
            for x, s in zip(xs, bd.SIZES) if baseline.get("remote_free_plus_drain/%d" % s)]
    if base:
        ax.plot(*zip(*base), "k_", markersize=18, mew=2, label="baseline (sum)")
    ax.set_xticks(list(xs))
    ax.set_xticklabels([str(s) for s in bd.SIZES])
    ax.set_xlabel("object size (bytes)")
    ax.set_ylabel("instructions per object")
    ax.set_title("remote free + drain")
    _headroom(ax)
    fig.suptitle("bsa instruction counts (callgrind, exact; lower is better)",
                 fontweight="bold")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def trend(history, path):
    """Key figures across commits (the last entry of each commit, in file order)."""
    if not history:
        return None
    labels = ["%s\n%s" % (h["commit"], h.get("date", "")[:10]) for h in history]
    xs = list(range(len(history)))
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.6))
    ax = axes[0]
    for impl in bd.IMPLS:
        ys = [h.get("figures", {}).get("pair_geomean_ns/" + impl) for h in history]
        _line(ax, impl, xs, ys)
    _log_y(ax)
    ax.set_ylabel("ns per pair (geomean of 9 classes)")
    ax.set_title("object pair time (log scale)")
    ax = axes[1]
    for key, label, color in (("icount/pair_sized/64", "pair 64 B (sized)", "#c0392b"),
                              ("icount/pair_unsized/64", "pair 64 B (unsized)", "#f39c12"),
                              ("icount/pages/0", "page pair, order 0", "#2e86c1"),
                              ("icount/remote_free_plus_drain/64",
                               "remote free + drain, 64 B", "#27ae60")):
        ys = [h.get("figures", {}).get(key) for h in history]
        pts = [(x, y) for x, y in zip(xs, ys) if y]
        if pts:
            ax.plot(*zip(*pts), marker="o", color=color, label=label)
    ax.set_ylabel("instructions per op")
    ax.set_ylim(bottom=0)
    ax.set_title("bsa instruction counts")
    ax.legend(fontsize=8)
    for ax in axes:
        ax.set_xticks(xs)
        rot = 0 if len(xs) <= 6 else 30
        ax.set_xticklabels(labels, rotation=rot, ha="center" if rot == 0 else "right", fontsize=8)
        ax.set_xlabel("commit (oldest left)")
        if len(xs) == 1:
            ax.set_xlim(-1, 1)
    axes[0].legend(fontsize=8)
    fig.suptitle("Trend across commits (reports/history.jsonl)", fontweight="bold")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
