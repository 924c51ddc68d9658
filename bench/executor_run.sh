#!/usr/bin/env bash
# The executor benchmark side by side: corio's run_in_executor, libuv's uv_queue_work, Python
# asyncio's and uvloop's run_in_executor, each offloading N trivial blocking calls in batches.
#
#   bench/executor_run.sh
#
# Environment:
#   BENCH_N=100000 BENCH_BATCH=1000   calls in all, and per batch
#   BENCH_THREADS=                    worker threads for every implementation (default: each
#                                     one's own default: corio min(32, CPUs+4), libuv 4, Python
#                                     min(32, CPUs+4))
#   BENCH_REPEAT=5                    runs of each; the median calls/s is reported
#   BENCH_CPUS=0-<nproc-1>            the CPUs every run is pinned to with taskset
#   BENCH_BUILD_DIR=build-bench       CMake build directory (configured Release if missing)
#
# Prints the table and writes it to bench/out/executor.md (the raw RESULT lines go to
# bench/out/executor_raw.txt). The machine is shared: medians of several runs, and ratios taken
# within the one run, are what to quote. A run of 100,000 trivial calls lasts a few milliseconds
# for corio and libuv, so their runs scatter (a worker preempted while it holds the queue's lock
# costs a large share of such a run); CPU time per call, all threads counted, scatters less.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
N="${BENCH_N:-100000}"
BATCH="${BENCH_BATCH:-1000}"
THREADS="${BENCH_THREADS:-}"
REPEAT="${BENCH_REPEAT:-5}"
CPUS="${BENCH_CPUS:-0-$(($(nproc) - 1))}"
BUILD_DIR="${BENCH_BUILD_DIR:-build-bench}"
PY=/usr/bin/python3 # Debian's: python3-uvloop is installed for it
OUT="$ROOT/bench/out"
RAW="$OUT/executor_raw.txt"
mkdir -p "$OUT"
: >"$RAW"

if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
    cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DCORIO_BUILD_TESTS=OFF >&2
fi
cmake --build "$BUILD_DIR" -j "$(nproc)" --target bench_executor >&2
HAVE_UV=1
cmake --build "$BUILD_DIR" -j "$(nproc)" --target bench_executor_uv >&2 2>/dev/null || {
    echo "executor_run: libuv not found (Debian: libuv1-dev), its column is left out" >&2
    HAVE_UV=0
}
HAVE_UVLOOP=1
"$PY" -c 'import uvloop' 2>/dev/null || {
    echo "executor_run: uvloop not found (Debian: python3-uvloop), its column is left out" >&2
    HAVE_UVLOOP=0
}

run() { # impl command...: one RESULT line into $RAW
    local impl="$1"
    shift
    local line
    line="$(taskset -c "$CPUS" "$@" | grep '^RESULT')" || {
        echo "executor_run: $impl failed" >&2
        return 1
    }
    echo "$line" | tee -a "$RAW" >&2
}

IMPLS=(corio)
[ "$HAVE_UV" = 1 ] && IMPLS+=(libuv)
IMPLS+=(asyncio)
[ "$HAVE_UVLOOP" = 1 ] && IMPLS+=(uvloop)
PYTHREADS=()
[ -n "$THREADS" ] && PYTHREADS=(--threads "$THREADS")

# Interleaved, so that a noisy minute hurts every implementation alike.
for ((r = 1; r <= REPEAT; r++)); do
    for impl in "${IMPLS[@]}"; do
        case "$impl" in
        corio) run corio "$BUILD_DIR/bench/executor" "$N" "$BATCH" ${THREADS:+"$THREADS"} ;;
        libuv) run libuv "$BUILD_DIR/bench/executor_uv" "$N" "$BATCH" ${THREADS:+"$THREADS"} ;;
        asyncio) run asyncio "$PY" bench/py/executor.py "${PYTHREADS[@]}" "$N" "$BATCH" ;;
        uvloop) run uvloop "$PY" bench/py/executor.py --uvloop "${PYTHREADS[@]}" "$N" "$BATCH" ;;
        esac
    done
done

"$PY" - "$RAW" "$OUT/executor.md" "$N" "$BATCH" "$REPEAT" "$CPUS" "$(git rev-parse --short HEAD)" <<'PYEOF'
import re, statistics, sys
raw, md, n, batch, repeat, cpus, rev = sys.argv[1:]
runs, cpu, threads = {}, {}, {}
for line in open(raw):
    kv = dict(re.findall(r"(\w+)=(\S+)", line))
    runs.setdefault(kv["impl"], []).append(float(kv["calls_per_s"]))
    cpu.setdefault(kv["impl"], []).append(float(kv["cpu_ns_per_call"]))
    threads[kv["impl"]] = kv["threads"]
med = {k: statistics.median(v) for k, v in runs.items()}
base = med["corio"]
lines = [
    f"Executor benchmark: {n} trivial blocking calls offloaded and awaited in batches of {batch}; "
    f"median of {repeat} runs, pinned to CPUs {cpus}, at {rev} (`bench/executor_run.sh`).",
    "",
    "| implementation | threads | calls/s (median) | corio / it | CPU ns per call (median) "
    "| every run (calls/s) |",
    "|---|---:|---:|---:|---:|---|",
]
for k in ["corio", "libuv", "asyncio", "uvloop"]:
    if k in med:
        every = ", ".join(f"{v:,.0f}" for v in runs[k])
        c = statistics.median(cpu[k])
        lines.append(f"| {k} | {threads[k]} | {med[k]:,.0f} | {base / med[k]:.2f} | {c:,.0f} "
                     f"| {every} |")
text = "\n".join(lines) + "\n"
open(md, "w").write(text)
print(text)
PYEOF
