"""Turns the runs bench/net/run.sh recorded into tables, a TSV, a markdown snippet and a plot.

    /usr/bin/python3 bench/net/report.py bench/out/net_raw.txt bench/out

Reads lines "RUN test=echo|http impl=.. row=.. rep=.. status=ok key=value ..." (and "# ..."
notes), takes the median of each figure over an implementation's runs of a row, and writes
net.tsv, net.md and net.png into the output directory. Ratios are to the minimal epoll server
(the floor): round trips per second "impl / floor" (above 1: faster than the floor), server CPU
time per round trip "impl / floor" (below 1: less CPU than the floor).
"""
import statistics
import sys
from pathlib import Path

FLOOR = "epoll"
IMPLS = ["epoll", "uring", "uring-ring", "uring-oneshot", "corio-epoll", "corio-uring", "libuv", "go", "uvloop", "asyncio"]
IMPL_LABEL = {"epoll": "epoll floor (C)", "uring": "io_uring ceiling (C, multishot)",
              "uring-ring": "io_uring ceiling, sends by the ring",
              "uring-oneshot": "io_uring, one-shot recv per message",
              "corio-epoll": "corio, epoll",
              "corio-uring": "corio, io_uring", "libuv": "libuv", "go": "Go (GOMAXPROCS=1)",
              "uvloop": "uvloop", "asyncio": "Python asyncio"}
CORIO = ["corio-epoll", "corio-uring"]
RIVALS = ["libuv", "uvloop", "go"]
METRICS = ["rt_per_s", "srv_cpu_us_per_rt", "load_cpu_frac"]


def row_label(test, row):
    if test == "http":
        return "HTTP, wrk -c100"
    conns, size = row.split("x")
    size = int(size)
    return f"{conns} x {size // 1024} KiB" if size >= 1024 else f"{conns} x {size} B"


def parse(path):
    notes, runs = [], []
    for line in Path(path).read_text().splitlines():
        if line.startswith("#"):
            notes.append(line[1:].strip())
        elif line.startswith("RUN "):
            runs.append(dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv))
    return notes, runs


def gather(runs):
    """{(test, row): {impl: {metric: [values]}}} over the runs that went well, and the rows in
    the order they were run; also {(test, row, impl): failed runs}."""
    vals, failed, rows = {}, {}, []
    for r in runs:
        if r.get("status") == "unavailable":
            continue
        key = (r["test"], r.get("row", "-"))
        if key[1] == "-":
            continue  # a run that never got to a row
        if key not in rows:
            rows.append(key)
        if r["status"] != "ok":
            failed[key + (r["impl"],)] = failed.get(key + (r["impl"],), 0) + 1
            continue
        d = vals.setdefault(key, {}).setdefault(r["impl"], {})
        for m in METRICS:
            if m in r:
                d.setdefault(m, []).append(float(r[m]))
    rows.sort(key=row_order)
    return vals, failed, rows


def row_order(key):
    """Echo rows by message size, then connections; HTTP last."""
    test, row = key
    if test != "echo":
        return (1, 0, 0)
    conns, size = row.split("x")
    return (0, int(size), int(conns))


def targets(med):
    """(description, verdict on round trips/s, verdict on server CPU per round trip)."""
    def get(row, impl, m):
        return med.get(("echo", row), {}).get(impl, {}).get(m)

    def verdict(ok, shown):
        return ("not measured", "") if ok is None else ("met" if ok else "MISSED", shown)

    out = []
    floor_rt, floor_cpu = get("100x64", FLOOR, "rt_per_s"), get("100x64", FLOOR, "srv_cpu_us_per_rt")
    for impl, want, desc in (("corio-epoll", 0.95, "within 5% of the floor"),
                             ("corio-uring", 1.3, "at least 1.3x the floor")):
        rt, cpu = get("100x64", impl, "rt_per_s"), get("100x64", impl, "srv_cpu_us_per_rt")
        r1 = rt / floor_rt if rt and floor_rt else None
        r2 = floor_cpu / cpu if cpu and floor_cpu else None  # floor's CPU over corio's
        out.append((f"{IMPL_LABEL[impl]}, 100 x 64 B, {desc}",
                    verdict(None if r1 is None else r1 >= want, f"{r1:.2f}x" if r1 else ""),
                    verdict(None if r2 is None else r2 >= want, f"{r2:.2f}x" if r2 else "")))
    for impl in CORIO:
        beats_rt, beats_cpu, lost_rt, lost_cpu = 0, 0, [], []
        for (test, row), d in med.items():
            if test != "echo" or impl not in d:
                continue
            for rival in RIVALS:
                if rival not in d:
                    continue
                if d[impl]["rt_per_s"] > d[rival]["rt_per_s"]:
                    beats_rt += 1
                else:
                    lost_rt.append(f"{rival} {row}")
                if d[impl]["srv_cpu_us_per_rt"] < d[rival]["srv_cpu_us_per_rt"]:
                    beats_cpu += 1
                else:
                    lost_cpu.append(f"{rival} {row}")
        none = beats_rt + len(lost_rt) == 0
        out.append((f"{IMPL_LABEL[impl]} ahead of libuv, uvloop and Go on every echo row",
                    verdict(None if none else not lost_rt,
                            "behind: " + ", ".join(lost_rt) if lost_rt else ""),
                    verdict(None if none else not lost_cpu,
                            "behind: " + ", ".join(lost_cpu) if lost_cpu else "")))
    return out


def main():
    raw, outdir = sys.argv[1], Path(sys.argv[2])
    notes, runs = parse(raw)
    vals, failed, rows = gather(runs)
    med = {k: {i: {m: statistics.median(v) for m, v in d.items()} for i, d in imps.items()}
           for k, imps in vals.items()}
    impls = [i for i in IMPLS if any(i in d for d in vals.values()) or
             any(k[2] == i for k in failed)]

    tsv = ["test\trow\timpl\tmetric\tmedian\tratio_to_floor\truns"]
    text, md = [], []
    command = next((n.split(": ", 1)[1] for n in notes if n.startswith("command:")),
                   "bench/net/run.sh")
    md += [f"Measured with `{command}`.", ""]
    md += ["- " + n for n in notes if not n.startswith("command:")] + [""]

    def cell(key, impl, m, fmt):
        v = med.get(key, {}).get(impl, {}).get(m)
        if v is None:
            return ("failed" if failed.get(key + (impl,)) else "n/a"), None
        f = med.get(key, {}).get(FLOOR, {}).get(m)
        return fmt.format(v), (v / f if f else None)

    # The two summary matrices: implementation x row.
    for m, title, fmt in (("rt_per_s", "round trips (requests) per second, median; "
                           "in brackets: / floor, above 1 is faster", "{:,.0f}"),
                          ("srv_cpu_us_per_rt", "server CPU time per round trip (request), "
                           "us, median; in brackets: / floor, below 1 is less CPU", "{:.2f}")):
        head = ["implementation"] + [row_label(*k) for k in rows]
        table = []
        for impl in impls:
            line = [IMPL_LABEL[impl]]
            for key in rows:
                shown, ratio = cell(key, impl, m, fmt)
                line.append(shown + ("" if ratio is None else f" ({ratio:.2f}x)"))
            table.append(line)
        md += [f"**{title[0].upper() + title[1:]}**", "",
               "| " + " | ".join(head) + " |",
               "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
        md += ["| " + " | ".join(r) + " |" for r in table] + [""]
        widths = [max(len(r[i]) for r in table + [head]) for i in range(len(head))]
        text.append(title)
        for r in [head] + table:
            text.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                  for i, (c, w) in enumerate(zip(r, widths))))
        text.append("")

    # The load's own CPU: when it nears 100%, round trips per second are capped by the client.
    md += ["**Load client's CPU use (its core), median**", "",
           "| implementation | " + " | ".join(row_label(*k) for k in rows) + " |",
           "|" + "|".join(["---"] + ["---:"] * len(rows)) + "|"]
    for impl in impls:
        md.append(f"| {IMPL_LABEL[impl]} | " + " | ".join(
            cell(k, impl, "load_cpu_frac", "{:.0%}")[0] for k in rows) + " |")
    md.append("")

    for desc, (v1, s1), (v2, s2) in targets(med):
        line = (f"corio target {desc}: round trips/s **{v1}**" + (f" ({s1})" if s1 else "") +
                f"; server CPU per round trip **{v2}**" + (f" ({s2})" if s2 else ""))
        md.append("- " + line)
        text.append(line.replace("**", ""))
    md += ["", "Each figure is the median of the runs. The servers run on one CPU, the load "
           "(bench/net/load.c, or wrk for HTTP) on the other. Server CPU time is user + sys of "
           "the server process over the measured window (/proc/PID/stat), divided by the round "
           "trips: it does not depend on how fast the load client is. The machine is shared, so "
           "figures are noisy; compare ratios within one run."]

    for key in rows:
        for impl in impls:
            for m in METRICS:
                v = med.get(key, {}).get(impl, {}).get(m)
                if v is None:
                    continue
                f = med.get(key, {}).get(FLOOR, {}).get(m)
                tsv.append("\t".join([key[0], key[1], impl, m, f"{v:g}",
                                      f"{v / f:.4g}" if f else "",
                                      ",".join(f"{x:g}" for x in vals[key][impl][m])]))

    (outdir / "net.tsv").write_text("\n".join(tsv) + "\n")
    (outdir / "net.md").write_text("\n".join(md) + "\n")
    print("\n".join(text))
    print(f"wrote {outdir / 'net.tsv'}, {outdir / 'net.md'}", end="")
    if plot(med, rows, impls, outdir / "net.png", notes):
        print(f", {outdir / 'net.png'}")
    else:
        print(" (no plot: no floor to compare with, or matplotlib missing)")


def plot(med, rows, impls, path, notes):
    rows = [k for k in rows if FLOOR in med.get(k, {})]
    others = [i for i in impls if i != FLOOR and any(i in med[k] for k in rows)]
    if not rows or not others:
        return False
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, axes = plt.subplots(2, 1, figsize=(max(7, 1.5 * len(rows)), 7.5), sharex=True)
    width = 0.8 / len(others)
    for ax, m, ylabel in ((axes[0], "rt_per_s", "round trips/s / floor\n(above 1: faster)"),
                          (axes[1], "srv_cpu_us_per_rt",
                           "server CPU per round trip / floor\n(below 1: less CPU)")):
        for j, impl in enumerate(others):
            xs = [i + (j - (len(others) - 1) / 2) * width for i in range(len(rows))]
            ys = []
            for k in rows:
                v, f = med[k].get(impl, {}).get(m), med[k][FLOOR].get(m)
                ys.append(v / f if v and f else 0)
            ax.bar(xs, ys, width, label=IMPL_LABEL[impl])
            for x, y in zip(xs, ys):
                if y:
                    ax.annotate(f"{y:.2f}", (x, y), ha="center", va="bottom", fontsize=6)
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_ylabel(ylabel, fontsize=8)
    axes[1].set_xticks(range(len(rows)))
    axes[1].set_xticklabels([row_label(*k) for k in rows], fontsize=8)
    axes[0].set_title("corio network benchmarks: each server relative to the minimal epoll "
                      "server (1.0)", fontsize=10)
    axes[1].legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1),
                   ncol=min(len(others), 6), frameon=False)
    host = next((n for n in notes if n.startswith("host:")), "")
    fig.text(0.01, 0.01, host, fontsize=6)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=120)
    return True


if __name__ == "__main__":
    main()
