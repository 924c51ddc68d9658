"""Turns the runs bench/fs/run.sh recorded into a table (printed, and bench/out/fs.md).

    /usr/bin/python3 bench/fs/report.py bench/out/fs_raw.txt bench/out

Reads lines "RUN round=.. mode=files|seq|rand impl=.. n=.. inflight=.. status=ok seconds=.." (and
"# ..." notes). Each system's figure is its median rate over the rounds; the ratio columns are
corio's rate (each backend) over that system's: above 1x, corio was faster.
"""
import shlex
import statistics
import sys
from pathlib import Path

CORIO = ["corio-epoll", "corio-io_uring"]
IMPLS = CORIO + ["libuv", "tokio", "aiofiles"]
LABEL = {"corio-epoll": "corio, epoll", "corio-io_uring": "corio, io_uring",
         "libuv": "libuv (uv_fs_*)", "tokio": "Tokio (tokio::fs, current_thread)",
         "aiofiles": "Python aiofiles"}
MODES = {"files": ("(a) read whole 4 KiB files: open, read, close", "files/s"),
         "seq": ("(b) one file from start to end, 1 MiB reads", "MiB/s"),
         "rand": ("(c) 4 KiB preads at random offsets", "reads/s")}


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
    rates, failed, why, setting = {}, {}, {}, {}
    for r in runs:
        key = (r["impl"], r["mode"])
        if r["status"] == "unavailable":
            why[r["impl"]] = r.get("why", "unavailable")
        elif r["status"] == "ok":
            rates.setdefault(key, []).append(float(r["n"]) / float(r["seconds"]))
            setting[r["mode"]] = (r["n"], r["inflight"])
        else:
            failed[key] = failed.get(key, 0) + 1
    med = {k: statistics.median(v) for k, v in rates.items()}
    modes = [m for m in MODES if any(k[1] == m for k in list(med) + list(failed))]

    text, md = [], []
    command = next((n.split(": ", 1)[1] for n in notes if n.startswith("command:")),
                   "bench/fs/run.sh")
    md += [f"Measured with `{command}`.", ""]
    md += ["- " + n for n in notes if not n.startswith("command:")] + [""]
    for m in modes:
        title, unit = MODES[m]
        n, inflight = setting.get(m, ("?", "?"))
        head = ["system", unit] + [f"{LABEL[c].split(', ')[1]} / it" for c in CORIO]
        rows = []
        for impl in IMPLS:
            key = (impl, m)
            if key in med:
                cell = f"{med[key]:,.0f}" + (f" ({failed[key]} failed)" if key in failed else "")
            elif key in failed:
                cell = "failed"
            elif impl in why:
                cell = "not run"
            else:
                continue
            ratios = [f"{med[(c, m)] / med[key]:.2f}x" if (c, m) in med and key in med else ""
                      for c in CORIO]
            rows.append([LABEL[impl], cell] + ratios)
        heading = f"{title}; n = {n}" + (f", {inflight} in flight" if m != "seq" else "")
        text.append(heading)
        widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
        for r in [head] + rows:
            text.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                  for i, (c, w) in enumerate(zip(r, widths))))
        text.append("")
        md += [f"**{heading}**", "", "| " + " | ".join(head) + " |",
               "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
        md += ["| " + " | ".join(c if c else " " for c in r) + " |" for r in rows] + [""]
    for impl, w in sorted(why.items()):
        text.append(f"{impl}: not run: {w}")
        md.append(f"- {impl} was not run: {w}")
    md += ["", "Each figure is the median over the rounds of n / seconds, the seconds measured by "
           "each program around its work. `/ it`: corio's rate on that backend over the row's "
           "(above 1x corio was faster)."]
    (outdir / "fs.md").write_text("\n".join(md) + "\n")
    print("\n".join(text))
    print(f"wrote {outdir / 'fs.md'}")


if __name__ == "__main__":
    main()
