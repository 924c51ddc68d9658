#!/usr/bin/env bash
# Runs corio's sync benchmarks (queue pipeline, lock hand-off) side by side with Python asyncio,
# uvloop and Go in one go, and reports items per second, medians and ratios.
#
#   bench/sync_run.sh            both benchmarks
#   bench/sync_run.sh queue      only the queue pipeline (or: lock)
#
# Environment (as bench/run.sh):
#   BENCH_N=1000000         items (queue) and acquisitions (lock)
#   BENCH_REPEAT=3          runs of each implementation; the median is reported
#   BENCH_IMPLS="corio asyncio uvloop go go-2p"   which implementations to run (go-2p: Go with
#                           GOMAXPROCS=2 on two CPUs; everything else is pinned to one CPU)
#   BENCH_CPU=<cpu>         the CPU single-CPU runs are pinned to (default: the last one)
#   BENCH_TIMEOUT=600       seconds before one run is killed (reported as failed)
#   BENCH_BUILD_DIR=build-bench   a Release build directory for the corio programs
#
# Writes bench/out/sync_raw.txt (one line per run) and bench/out/sync.md (the table, for the
# README). See bench/README.md, section "Sync benchmarks", for what each one does.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

BENCHES=("$@")
[ ${#BENCHES[@]} -eq 0 ] && BENCHES=(queue lock)
for b in "${BENCHES[@]}"; do
    case "$b" in queue | lock) ;; *)
        echo "usage: bench/sync_run.sh [queue] [lock]" >&2
        exit 2
        ;;
    esac
done

N="${BENCH_N:-1000000}"
REPEAT="${BENCH_REPEAT:-3}"
IMPLS="${BENCH_IMPLS:-corio asyncio uvloop go go-2p}"
CPU="${BENCH_CPU:-$(($(nproc) - 1))}"
TIMEOUT="${BENCH_TIMEOUT:-600}"
BUILD_DIR="${BENCH_BUILD_DIR:-build-bench}"
PY=/usr/bin/python3 # Debian's: python3-uvloop is installed for it
OUT="$ROOT/bench/out"
RAW="$OUT/sync_raw.txt"
mkdir -p "$OUT"

log() { printf '%s\n' "$*" >&2; }
has_impl() { [[ " $IMPLS " == *" $1 "* ]]; }

# ---- build ----

CORIO_OK=0
if has_impl corio; then
    if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
        cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DCORIO_BUILD_TESTS=OFF >&2
    fi
    if ! grep -Eq '^CMAKE_BUILD_TYPE:[A-Z]+=Release$' "$BUILD_DIR/CMakeCache.txt" ||
        grep -Eq '^CORIO_SANITIZE:[A-Z]+=.+$' "$BUILD_DIR/CMakeCache.txt"; then
        log "sync bench: $BUILD_DIR/ is not a plain Release build; set BENCH_BUILD_DIR"
        exit 1
    fi
    targets=()
    for b in "${BENCHES[@]}"; do targets+=(--target "bench_sync_$b"); done
    if cmake --build "$BUILD_DIR" -j"$(nproc)" "${targets[@]}" >&2; then
        CORIO_OK=1
    else
        log "sync bench: WARNING: building the corio benches failed; corio is left out"
    fi
fi

GO_BIN="$OUT/corio-sync-bench-go"
GO_OK=0
if { has_impl go || has_impl go-2p; } && command -v go >/dev/null; then
    if (cd bench/go && GOCACHE="$OUT/go-cache" GOPATH="$OUT/go-path" GOFLAGS=-mod=mod \
        go build -o "$GO_BIN" ./syncbench) >&2; then
        GO_OK=1
    else
        log "sync bench: WARNING: go build failed; Go is left out"
    fi
fi

# ---- run ----

unset CORIO_STACK_SIZE CORIO_DEBUG
CPU2="$(($(nproc) > 1 ? CPU - 1 : CPU)),$CPU"

cmd_for() { # bench impl -> the command line, or nothing if unavailable
    case "$2" in
    corio) [ $CORIO_OK -eq 1 ] && echo "taskset -c $CPU $BUILD_DIR/bench/sync_$1 $N" ;;
    asyncio) echo "taskset -c $CPU $PY bench/py/sync.py --bench $1 $N" ;;
    uvloop) "$PY" -c 'import uvloop' 2>/dev/null &&
        echo "taskset -c $CPU $PY bench/py/sync.py --bench $1 --uvloop $N" ;;
    go) [ $GO_OK -eq 1 ] && echo "env GOMAXPROCS=1 taskset -c $CPU $GO_BIN -bench $1 $N" ;;
    go-2p) [ $GO_OK -eq 1 ] && echo "env GOMAXPROCS=2 taskset -c $CPU2 $GO_BIN -bench $1 $N" ;;
    esac
    return 0
}

{
    echo "# corio sync benchmarks, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "# host: $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) CPUs, Linux $(uname -r)"
    echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    commit="$(git rev-parse --short HEAD 2>/dev/null || echo '?')"
    git diff --quiet HEAD -- src include 2>/dev/null || commit="$commit+uncommitted changes"
    echo "# corio: $commit; python: $("$PY" -c 'import sys; print(sys.version.split()[0])'), uvloop: $("$PY" -c 'import uvloop; print(uvloop.__version__)' 2>/dev/null || echo none), go: $(go version 2>/dev/null | awk '{print $3}' || echo none)"
    echo "# command: BENCH_N=$N BENCH_REPEAT=$REPEAT bench/sync_run.sh ${*:-}"
} >"$RAW"

for b in "${BENCHES[@]}"; do
    for impl in $IMPLS; do
        cmd="$(cmd_for "$b" "$impl")"
        if [ -z "$cmd" ]; then
            echo "RUN bench=$b impl=$impl status=unavailable" >>"$RAW"
            continue
        fi
        for rep in $(seq 1 "$REPEAT"); do
            log "sync bench: ($b) $impl run $rep/$REPEAT: $cmd"
            set +e
            # shellcheck disable=SC2086  # cmd is a word list on purpose
            line="$(timeout "$TIMEOUT" $cmd | grep -m1 '^RESULT ')"
            rc=$?
            set -e
            if [ $rc -ne 0 ] || [ -z "$line" ]; then
                log "sync bench: ($b) $impl run $rep FAILED"
                echo "RUN bench=$b impl=$impl rep=$rep status=failed" >>"$RAW"
                continue
            fi
            log "  ${line#RESULT }"
            # impl= from the label (go-2p runs the same binary as go)
            echo "RUN rep=$rep status=ok ${line#RESULT } label=$impl" >>"$RAW"
        done
    done
done
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RAW"

# ---- report ----

"$PY" - "$RAW" "$OUT/sync.md" <<'PYEOF'
import statistics, sys
raw, md = sys.argv[1], sys.argv[2]
runs, header = {}, []
for line in open(raw):
    if line.startswith("#"):
        header.append(line[2:].rstrip())
        continue
    kv = dict(w.split("=", 1) for w in line.split()[1:] if "=" in w)
    if kv.get("status") != "ok":
        continue
    runs.setdefault((kv["bench"], kv["label"]), []).append(kv)
names = {"queue": "queue pipeline (items/s)", "lock": "lock hand-off (acquisitions/s)"}
labels = {"corio": "corio", "asyncio": "asyncio", "uvloop": "uvloop",
          "go": "Go, GOMAXPROCS=1", "go-2p": "Go, GOMAXPROCS=2 (2 CPUs)"}
out = ["Median of each implementation's runs (every run of corio, asyncio, uvloop and Go "
       "GOMAXPROCS=1 pinned to one CPU). Ratio: corio's rate / that implementation's.", ""]
for bench in ("queue", "lock"):
    rows = [(lab, runs[(bench, lab)]) for lab in labels if (bench, lab) in runs]
    if not rows:
        continue
    med = {lab: statistics.median(float(r["items_per_s"]) for r in rs) for lab, rs in rows}
    cpu = {lab: statistics.median(float(r["cpu_ns_per_op"]) for r in rs) for lab, rs in rows}
    out += [f"**{names[bench]}**", "",
            "| implementation | per second | ns each (wall) | ns each (CPU) | corio / it | runs |",
            "|---|---:|---:|---:|---:|---|"]
    c = med.get("corio")
    for lab, rs in rows:
        ratio = f"{c / med[lab]:.1f}x" if c else "-"
        every = ", ".join(f"{float(r['items_per_s']) / 1e6:.2f}M" for r in rs)
        out.append(f"| {labels[lab]} | {med[lab] / 1e6:.2f}M | {1e9 / med[lab]:.1f} | "
                   f"{cpu[lab]:.1f} | {ratio} | {every} |")
    if c:
        checks = []
        if "go" in med:
            checks.append(f"at least Go's rate (GOMAXPROCS=1): {'met' if c >= med['go'] else 'MISSED'} "
                          f"({c / med['go']:.1f}x)")
        if "asyncio" in med:
            checks.append(f"at least 30x asyncio: {'met' if c >= 30 * med['asyncio'] else 'MISSED'} "
                          f"({c / med['asyncio']:.0f}x)")
        out += ["", "Targets: " + "; ".join(checks) + "."]
    out.append("")
out += ["```"] + header + ["```"]
open(md, "w").write("\n".join(out) + "\n")
print("\n".join(out))
PYEOF
