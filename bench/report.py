"""Turns the runs bench/run.sh recorded into tables, a TSV, a markdown snippet and a plot.

    /usr/bin/python3 bench/report.py bench/out/core_raw.txt bench/out

Reads lines "RUN rep=.. status=ok bench=.. impl=.. n=.. key=value ..." (and "# ..." notes), takes
the median of each figure over an implementation's runs, and writes core.tsv, core.md and
core.png into the output directory. Ratios are "other / corio": how many times more time or
memory the other implementation needed than corio (above 1: corio is ahead).
"""
import statistics
import sys
from pathlib import Path

IMPLS = ["corio", "corio-compact", "asyncio", "uvloop", "go"]
IMPL_LABEL = {"corio": "corio", "corio-compact": "corio, compact tasks",
              "asyncio": "Python asyncio", "uvloop": "uvloop", "go": "Go (GOMAXPROCS=1)"}

# bench -> title, [(metric key, column title, format, scale, in the plot)]. The cpu_ figures are
# process CPU time over the same timed region: a cross-check when other processes share the CPU.
BENCHES = {
    "a": ("(a) create N tasks that return at once, then gather them",
          [("ns_per_op", "ns/task", "{:.1f}", 1.0, True),
           ("cpu_ns_per_op", "CPU ns/task", "{:.1f}", 1.0, False),
           ("peak_rss_kb", "peak RSS MiB", "{:.1f}", 1 / 1024, True)]),
    "b": ("(b) N tasks sleeping 1 s at the same time (create, sleep, gather)",
          [("wall_s", "wall s", "{:.3f}", 1.0, True),
           ("cpu_s", "CPU s", "{:.3f}", 1.0, False),
           ("rss_per_task_b", "RSS/task B", "{:.0f}", 1.0, True),
           ("peak_rss_kb", "peak RSS MiB", "{:.1f}", 1 / 1024, False)]),
    "c": ("(c) two tasks hand a value back and forth N times through a future",
          [("ns_per_op", "ns/hand-off", "{:.1f}", 1.0, True),
           ("cpu_ns_per_op", "CPU ns/hand-off", "{:.1f}", 1.0, False)]),
}


def parse(path):
    notes, runs = [], []
    for line in Path(path).read_text().splitlines():
        if line.startswith("#"):
            notes.append(line[1:].strip())
        elif line.startswith("RUN "):
            runs.append(dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv))
    return notes, runs


def targets(bench, med):
    """(description, met?, corio's figure) for each of the issue's targets on corio."""
    c = med.get(("corio", bench), {})
    go = med.get(("go", bench), {})
    out = []

    def cpu(key, unit):
        return f", CPU {c[key]:.{3 if unit == ' s' else 1}f}{unit}" if key in c else ""
    if bench == "a":
        out.append(("<= 150 ns per task", c.get("ns_per_op"), 150.0,
                    lambda v: f"{v:.1f} ns" + cpu("cpu_ns_per_op", " ns")))
        if go.get("peak_rss_kb"):
            lim = 1.5 * go["peak_rss_kb"]
            out.append((f"peak RSS <= 1.5x Go's ({lim / 1024:.0f} MiB)",
                        c.get("peak_rss_kb"), lim, lambda v: f"{v / 1024:.1f} MiB"))
    elif bench == "b":
        cc = med.get(("corio-compact", bench), {})
        for label, m in (("", c), (" (compact tasks)", cc)):
            if not m:
                continue
            out.append((f"wall <= 1.5 s{label}", m.get("wall_s"), 1.5,
                        lambda v, m=m: f"{v:.3f} s" + (f", CPU {m['cpu_s']:.3f} s"
                                                       if "cpu_s" in m else "")))
            out.append((f"<= 4.5 KiB RSS per sleeping task{label}", m.get("rss_per_task_b"),
                        4.5 * 1024, lambda v: f"{v / 1024:.2f} KiB"))
    else:
        out.append(("<= 40 ns per hand-off", c.get("ns_per_op"), 40.0,
                    lambda v: f"{v:.1f} ns" + cpu("cpu_ns_per_op", " ns")))
    return [(d, None if v is None else v <= lim, "not measured" if v is None else fmt(v))
            for d, v, lim, fmt in out]


def main():
    raw, outdir = sys.argv[1], Path(sys.argv[2])
    notes, runs = parse(raw)
    benches = [b for b in BENCHES if any(r.get("bench") == b for r in runs)]

    med, allvals, status, ns = {}, {}, {}, {}
    for r in runs:
        key = (r["impl"], r["bench"])
        ns[r["bench"]] = int(r["n"])
        status.setdefault(key, []).append(r["status"])
        if r["status"] != "ok":
            continue
        for k, v in r.items():
            try:
                x = float(v)
            except ValueError:
                continue
            allvals.setdefault(key, {}).setdefault(k, []).append(x)
    for key, d in allvals.items():
        med[key] = {k: statistics.median(v) for k, v in d.items()}

    tsv = ["bench\timpl\tn\tmetric\tmedian\tratio_to_corio\truns"]
    md, text = [], []
    md += ["Measured with `" + next((n.split(": ", 1)[1] for n in notes
                                     if n.startswith("command:")), "bench/run.sh") + "`.", ""]
    md += ["- " + n for n in notes if not n.startswith("command:")] + [""]
    plot_groups = []  # (label, {impl: ratio})

    for b in benches:
        title, metrics = BENCHES[b]
        n = ns[b]
        title = title.replace("N ", f"{n:,} ", 1)
        head = ["implementation"]
        for _, col, _, _, _ in metrics:
            head += [col, "/ corio"]
        rows = []
        for impl in IMPLS:
            key = (impl, b)
            if key not in status or set(status[key]) == {"unavailable"}:
                continue  # not run for this benchmark (corio-compact only runs (b))
            m = med.get(key)
            row = [IMPL_LABEL[impl]]
            for mk, col, fmt, scale, in_plot in metrics:
                if not m or mk not in m:
                    st = status[key][0]
                    row += ["failed" if st == "failed" else "n/a", ""]
                    continue
                v = m[mk]
                cv = med.get(("corio", b), {}).get(mk)
                ratio = v / cv if cv else None
                row += [fmt.format(v * scale), "" if ratio is None else f"{ratio:.2f}x"]
                tsv.append(f"{b}\t{impl}\t{n}\t{mk}\t{v:g}\t"
                           f"{'' if ratio is None else f'{ratio:.4g}'}\t"
                           + ",".join(f"{x:g}" for x in allvals[key][mk]))
                if impl != "corio" and ratio is not None and in_plot:
                    plot_groups.append((f"({b}) {col}", impl, ratio))
            rows.append(row)
        widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
        text.append(title)
        text.append("  ".join(h.ljust(w) if i == 0 else h.rjust(w)
                              for i, (h, w) in enumerate(zip(head, widths))))
        for r in rows:
            text.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                  for i, (c, w) in enumerate(zip(r, widths))))
        md.append(f"**{title}**")
        md.append("")
        md.append("| " + " | ".join(head) + " |")
        md.append("|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|")
        for r in rows:
            md.append("| " + " | ".join(c if c else " " for c in r) + " |")
        md.append("")
        for desc, ok, shown in targets(b, med):
            verdict = {True: "met", False: "MISSED", None: "not measured"}[ok]
            shown = "" if ok is None else f" ({shown})"
            text.append(f"  corio target {desc}: {verdict}{shown}")
            md.append(f"- corio target {desc}: **{verdict}**{shown}")
        text.append("")
        md.append("")

    md.append("Ratios are *other / corio*: how many times the time or memory corio needed "
              "(above 1x corio is ahead). Each figure is the median of the runs; every run is "
              "pinned to one CPU. CPU columns: process CPU time over the same timed region "
              "(it leaves out time spent waiting while another process had the CPU).")

    (outdir / "core.tsv").write_text("\n".join(tsv) + "\n")
    (outdir / "core.md").write_text("\n".join(md) + "\n")
    print("\n".join(text))
    print(f"wrote {outdir / 'core.tsv'}, {outdir / 'core.md'}", end="")
    if plot(plot_groups, outdir / "core.png", notes):
        print(f", {outdir / 'core.png'}")
    else:
        print(" (no plot: no ratios to corio, or matplotlib missing)")


def plot(groups, path, notes):
    if not groups:
        return False
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        return False
    labels = list(dict.fromkeys(g for g, _, _ in groups))
    others = [i for i in IMPLS[1:] if any(im == i for _, im, _ in groups)]
    val = {(g, im): r for g, im, r in groups}
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(labels)), 4.5))
    width = 0.8 / len(others)
    for j, im in enumerate(others):
        xs = [i + (j - (len(others) - 1) / 2) * width for i in range(len(labels))]
        ys = [val.get((g, im), 0) for g in labels]
        ax.bar(xs, ys, width, label=IMPL_LABEL[im])
        for x, y in zip(xs, ys):
            if y:
                ax.annotate(f"{y:.2g}x", (x, y), ha="center", va="bottom", fontsize=7)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylabel("other / corio (log; above 1: corio is ahead)")
    ax.set_title("corio core benchmarks: cost relative to corio", fontsize=10)
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda y, _: f"{y:g}x"))
    lo = min(r for _, _, r in groups)
    hi = max(r for _, _, r in groups)
    ax.set_ylim(min(lo, 1.0) / 1.6, max(hi, 1.0) * 1.8)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=len(others),
              frameon=False)
    host = next((n for n in notes if n.startswith("host:")), "")
    fig.text(0.01, 0.01, host, fontsize=6)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=120)
    return True


if __name__ == "__main__":
    main()
