"""Turns the runs bench/proc/run.sh recorded into a table, a CSV, a markdown snippet and a plot.

    /usr/bin/python3 bench/proc/report.py bench/out/proc_raw.txt bench/out

Reads lines "RUN round=.. mode=true|cat impl=.. n=.. inflight=.. status=ok seconds=.. rate=.."
(and "# ..." notes), takes the median rate (children per second) of each system and mode over
the rounds, and writes proc.csv, proc.md and proc.png into the output directory. Ratios are
"system / corio" on rates: above 1, the system ran more children per second than corio.
"""
import shlex
import statistics
import sys
from pathlib import Path

BASE = "corio"
IMPLS = ["corio", "asyncio", "uvloop", "go", "libuv"]
IMPL_LABEL = {"corio": "corio", "asyncio": "Python asyncio", "uvloop": "uvloop",
              "go": "Go (GOMAXPROCS=1)", "libuv": "libuv (C)"}
MODES = {"true": "(A) spawn /bin/true + wait", "cat": "(B) cat: 64 KiB in, echo out, wait"}


def parse(path):
    notes, runs = [], []
    for line in Path(path).read_text().splitlines():
        if line.startswith("#"):
            notes.append(line[1:].strip())
        elif line.startswith("RUN "):
            runs.append(dict(kv.split("=", 1) for kv in shlex.split(line)[1:] if "=" in kv))
    return notes, runs


def main():
    raw, outdir = sys.argv[1], Path(sys.argv[2])
    notes, runs = parse(raw)
    modes = [m for m in MODES if any(r.get("mode") == m for r in runs)]
    impls = IMPLS + sorted({r["impl"] for r in runs} - set(IMPLS))

    rates, secs, failed, why, ns, inflight = {}, {}, {}, {}, {}, {}
    for r in runs:
        key = (r["impl"], r["mode"])
        if r["status"] == "unavailable":
            why[key] = r.get("why", "unavailable")
        elif r["status"] == "ok":
            rates.setdefault(key, []).append(float(r["rate"]))
            secs.setdefault(key, []).append(float(r["seconds"]))
            ns[r["mode"]], inflight[r["mode"]] = r["n"], r["inflight"]
        else:
            failed[key] = failed.get(key, 0) + 1
            ns.setdefault(r["mode"], r.get("n", "?"))
            inflight.setdefault(r["mode"], r.get("inflight", "?"))
    med = {k: statistics.median(v) for k, v in rates.items()}

    def shown(impl, mode):
        key = (impl, mode)
        if key in med:
            s = f"{med[key]:,.0f}"
            return s + (f" ({failed[key]} failed)" if failed.get(key) else "")
        if failed.get(key):
            return "failed"
        if impl == BASE and key in why:
            return "not built"
        return "n/a"

    def ratio(impl, mode):
        v, b = med.get((impl, mode)), med.get((BASE, mode))
        return v / b if v and b else None

    head = ["system"]
    for m in modes:
        head += [f"{m}: children/s", "/ corio"]
    table = []
    for impl in impls:
        if not any((impl, m) in med or (impl, m) in failed or (impl, m) in why for m in modes):
            continue
        row = [IMPL_LABEL.get(impl, impl)]
        for m in modes:
            q = ratio(impl, m)
            row += [shown(impl, m), "" if q is None else f"{q:.2f}x"]
        table.append(row)

    text = ["median children per second over the rounds (n / the program's own wall time); "
            "/ corio: the system's rate over corio's (above 1: faster than corio)"]
    widths = [max(len(r[i]) for r in table + [head]) for i in range(len(head))]
    for r in [head] + table:
        text.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                              for i, (c, w) in enumerate(zip(r, widths))))
    for m in modes:
        text.append(f"{m}: {MODES[m]}, n={ns.get(m)}, {inflight.get(m)} in flight")
    for (impl, m), w in sorted(why.items()):
        if impl == BASE:
            text.append(f"corio: not run: {w}")
            break

    command = next((n.split(": ", 1)[1] for n in notes if n.startswith("command:")),
                   "bench/proc/run.sh")
    md = [f"Measured with `{command}`.", ""]
    md += ["- " + n for n in notes if not n.startswith("command:")] + [""]
    md += ["| " + " | ".join(head) + " |",
           "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
    md += ["| " + " | ".join(c if c else " " for c in r) + " |" for r in table] + [""]
    md += [f"- {m}: {MODES[m]}; n = {ns.get(m)}, {inflight.get(m)} children in flight"
           for m in modes]
    md += ["", "Each figure is the median over the rounds of n / seconds, the seconds measured "
           "by each program around its whole run. `/ corio` is the system's rate divided by "
           "corio's: above 1x the system ran more children per second than corio."]
    base_why = next((w for (i, _), w in why.items() if i == BASE), None)
    if base_why:
        md += ["", f"corio was not run: {base_why.rstrip('.')}."]

    csv = ["mode,system,n,inflight,runs_ok,runs_failed,median_seconds,median_rate_per_s,"
           "ratio_to_corio,rates"]
    for m in modes:
        for impl in impls:
            key = (impl, m)
            if key not in med and key not in failed:
                continue
            q = ratio(impl, m)
            csv.append(",".join([
                m, impl, str(ns.get(m, "")), str(inflight.get(m, "")),
                str(len(rates.get(key, []))), str(failed.get(key, 0)),
                f"{statistics.median(secs[key]):.6f}" if key in secs else "",
                f"{med[key]:.1f}" if key in med else "",
                "" if q is None else f"{q:.4f}",
                '"' + " ".join(f"{x:g}" for x in rates.get(key, [])) + '"']))

    (outdir / "proc.csv").write_text("\n".join(csv) + "\n")
    (outdir / "proc.md").write_text("\n".join(md) + "\n")
    print("\n".join(text))
    print(f"wrote {outdir / 'proc.csv'}, {outdir / 'proc.md'}", end="")
    if plot(med, modes, impls, ns, inflight, outdir / "proc.png", notes):
        print(f", {outdir / 'proc.png'}")
    else:
        print(" (no plot: nothing measured, or matplotlib missing)")


def plot(med, modes, impls, ns, inflight, path, notes):
    if not med:
        return False
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    # One panel per mode: the two modes' rates differ in scale. Every system keeps its place,
    # a missing one marked as such, so that plots of different runs line up.
    fig, axes = plt.subplots(1, len(modes), figsize=(5.5 * len(modes), 4.5), squeeze=False)
    for ax, m in zip(axes[0], modes):
        names = [i for i in impls if i in IMPLS or (i, m) in med]
        ys = [med.get((i, m), 0) for i in names]
        bars = ax.bar(range(len(names)), ys, color=[f"C{k}" for k in range(len(names))])
        base = med.get((BASE, m))
        for b, i, y in zip(bars, names, ys):
            label = f"{y:,.0f}" if y else "not run"
            if y and base and i != BASE:
                label += f"\n{y / base:.2f}x"
            ax.annotate(label, (b.get_x() + b.get_width() / 2, y), ha="center", va="bottom",
                        fontsize=7)
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels([IMPL_LABEL.get(i, i) for i in names], fontsize=7, rotation=15)
        ax.set_ylabel("children per second (median)", fontsize=8)
        ax.set_ylim(0, max(ys) * 1.2 if max(ys) else 1)
        ax.set_title(f"{MODES[m]}\nn={ns.get(m)}, {inflight.get(m)} in flight", fontsize=9)
    fig.suptitle("corio subprocess benchmark (x: rate / corio's)", fontsize=10)
    host = next((n for n in notes if n.startswith("host:")), "")
    fig.text(0.01, 0.01, host, fontsize=6)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=120)
    return True


if __name__ == "__main__":
    main()
