#!/usr/bin/env python3
"""Turns bench/out/tls_raw.txt into the README's table: per row and server, the median over the
rounds of operations per server CPU second (and of operations per wall second), with corio's
ratio to each."""
import re
import statistics
import sys

ROWS = [("full-ecdsa", "full handshakes/s, ECDSA P-256"),
        ("full-rsa", "full handshakes/s, RSA-2048"),
        ("resume-ecdsa", "resumed handshakes/s"),
        ("echo-64k", "64 KiB echo, MiB/s")]
IMPLS = ["corio", "floor", "go", "asyncio", "uvloop"]
NAMES = {"corio": "corio", "floor": "OpenSSL + epoll (floor)", "go": "Go crypto/tls",
         "asyncio": "asyncio ssl", "uvloop": "uvloop"}


def main(raw, out):
    header, runs, failed = [], {}, []
    for line in open(raw):
        if line.startswith("#"):
            header.append(line[2:].rstrip())
            continue
        f = dict(re.findall(r'(\w+)=("[^"]*"|\S+)', line))
        key = (f["impl"], f["row"])
        if "status" in f:
            failed.append(f"{f['impl']} {f['row']} round {f['round']}: {f['why']}")
            continue
        n, wall, cpu = int(f["n"]), float(f["wall"]), float(f["cpu"])
        scale = 64 / 1024 if f["row"] == "echo-64k" else 1  # messages -> MiB
        runs.setdefault(key, []).append((n * scale / cpu, n * scale / wall))
    lines = ["Operations per second of server CPU (the server pinned to one CPU, the load "
             "client on the other); in brackets, per second of wall time. Median of "
             f"{max((len(v) for v in runs.values()), default=0)} rounds; corio / it: corio's "
             "figure over the other's.", ""]
    for h in header:
        lines.append(f"    {h}")
    lines.append("")
    impls = [i for i in IMPLS if any(k[0] == i for k in runs)]
    lines.append("| row | " + " | ".join(NAMES[i] for i in impls) + " |")
    lines.append("|---|" + "---:|" * len(impls))
    for row, title in ROWS:
        cells = []
        base = runs.get(("corio", row))
        bmed = statistics.median(r[0] for r in base) if base else None
        for i in impls:
            r = runs.get((i, row))
            if not r:
                cells.append("-")
                continue
            cpu = statistics.median(x[0] for x in r)
            wall = statistics.median(x[1] for x in r)
            ratio = "" if i == "corio" or not bmed else f", corio / it {bmed / cpu:.2f}"
            cells.append(f"{cpu:,.0f} ({wall:,.0f}){ratio}")
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    if failed:
        lines += ["", "Failed runs:"] + [f"- {x}" for x in failed]
    text = "\n".join(lines) + "\n"
    open(out, "w").write(text)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
