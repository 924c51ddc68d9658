#!/usr/bin/env bash
# Runs corio's core benchmarks side by side with Python asyncio, uvloop and Go, in one go.
#
#   bench/run.sh            all three benchmarks (a, b, c)
#   bench/run.sh a c        only (a) and (c)
#
# Environment:
#   BENCH_N=1000000         N for every benchmark (tasks for a and b, hand-offs for c)
#   BENCH_REPEAT=3          runs of each implementation; the median of each figure is reported
#   BENCH_IMPLS="corio corio-compact asyncio uvloop go"   which implementations to run
#                           (corio-compact: bench (b) with CORIO_TASK_COMPACT tasks)
#   BENCH_CPU=<cpu>         the CPU every run is pinned to with taskset (default: the last one)
#   BENCH_TIMEOUT=600       seconds before one run is killed (reported as failed)
#   BENCH_BUILD_DIR=build   the CMake build directory of the corio benches (see below)
#
# Writes bench/out/core_raw.txt (one line per run), core.tsv (the medians, ratios and every run),
# core.md (the tables, for the README) and core.png (ratios to corio). See bench/README.md for
# what each benchmark does. Each benchmark program prints one line "RESULT bench=.. impl=..
# key=value ..."; this script adds /usr/bin/time's view of the whole process as a cross-check.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=bench/lib.sh
. bench/lib.sh

BENCHES=("$@")
[ ${#BENCHES[@]} -eq 0 ] && BENCHES=(a b c)
for b in "${BENCHES[@]}"; do
    case "$b" in a | b | c) ;; *)
        echo "usage: bench/run.sh [a] [b] [c]" >&2
        exit 2
        ;;
    esac
done

N="${BENCH_N:-1000000}"
REPEAT="${BENCH_REPEAT:-3}"
IMPLS="${BENCH_IMPLS:-corio corio-compact asyncio uvloop go}"
CPU="${BENCH_CPU:-$(($(nproc) - 1))}"
TIMEOUT="${BENCH_TIMEOUT:-600}"
BUILD_DIR="${BENCH_BUILD_DIR:-build}"
PY=/usr/bin/python3 # Debian's: python3-uvloop is installed for it, not for a pyenv python3
OUT="$ROOT/bench/out"
RAW="$OUT/core_raw.txt"
mkdir -p "$OUT"

has_impl() { [[ " $IMPLS " == *" $1 "* ]]; }

# ---- tools ----

command -v /usr/bin/time >/dev/null || apt_install time || true
if ! "$PY" -c 'import uvloop' 2>/dev/null && has_impl uvloop; then
    apt_install python3-uvloop || true
fi
if ! command -v go >/dev/null && has_impl go; then apt_install golang-go || true; fi
if ! "$PY" -c 'import matplotlib' 2>/dev/null; then # for the plot
    apt_install python3-matplotlib || true
fi

# ---- build ----

CORIO_OK=0
if has_impl corio; then
    BUILD_DIR="$(release_build_dir "$BUILD_DIR")"
    targets=()
    for b in "${BENCHES[@]}"; do targets+=(--target "bench_core_$b"); done
    # cmake --build reconfigures by itself when CMakeLists.txt or the globbed sources changed.
    if cmake --build "$BUILD_DIR" -j"$(nproc)" "${targets[@]}" >&2; then
        CORIO_OK=1
    else
        log "bench: WARNING: building the corio benches failed; corio is left out of this run"
    fi
fi

GO_BIN="$OUT/corio-bench-go"
GO_OK=0
if has_impl go && command -v go >/dev/null; then
    if go_build bench/go "$GO_BIN" "$OUT"; then
        GO_OK=1
    else
        log "bench: WARNING: go build failed; Go is left out of this run"
    fi
fi

# ---- run ----

# Nothing in the environment may change what the library does.
unset CORIO_STACK_SIZE CORIO_DEBUG

cmd_for() { # bench impl -> the command line, or nothing if the implementation is unavailable
    case "$2" in
    corio) [ $CORIO_OK -eq 1 ] && echo "$BUILD_DIR/bench/core_$1 $N" ;;
    corio-compact) [ $CORIO_OK -eq 1 ] && [ "$1" = b ] && echo "$BUILD_DIR/bench/core_b --compact $N" ;;
    asyncio) echo "$PY bench/py/core.py --bench $1 $N" ;;
    uvloop) "$PY" -c 'import uvloop' 2>/dev/null &&
        echo "$PY bench/py/core.py --bench $1 --uvloop $N" ;;
    go) [ $GO_OK -eq 1 ] && echo "env GOMAXPROCS=1 $GO_BIN -bench $1 $N" ;;
    esac
    return 0
}

# /usr/bin/time's view of each whole process, as a cross-check of what the programs report.
TIMECMD=()
if [ -x /usr/bin/time ]; then
    TIMECMD=(/usr/bin/time -o "$OUT/.time.$$"
        -f 'proc_wall_s=%e proc_user_s=%U proc_sys_s=%S proc_maxrss_kb=%M')
fi

HOSTINFO="$(host_info)"
{
    echo "# corio core benchmarks, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "# host: $HOSTINFO; every run pinned to CPU $CPU"
    echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# corio: $(corio_commit), build dir $BUILD_DIR"
    echo "# $(versions_info "$PY")"
    envs=""
    [ -n "${BENCH_N:-}" ] && envs+="BENCH_N=$N "
    [ -n "${BENCH_REPEAT:-}" ] && envs+="BENCH_REPEAT=$REPEAT "
    [ -n "${BENCH_IMPLS:-}" ] && envs+="BENCH_IMPLS=\"$IMPLS\" "
    echo "# command: ${envs}bench/run.sh ${*:-}"
} >"$RAW"

for b in "${BENCHES[@]}"; do
    for impl in $IMPLS; do
        cmd="$(cmd_for "$b" "$impl")"
        if [ -z "$cmd" ]; then
            echo "RUN bench=$b impl=$impl n=$N rep=0 status=unavailable" >>"$RAW"
            continue
        fi
        for rep in $(seq 1 "$REPEAT"); do
            log "bench: ($b) $impl run $rep/$REPEAT: $cmd"
            tf="$OUT/.time.$$" of="$OUT/.out.$$"
            set +e
            # shellcheck disable=SC2086  # cmd is a word list on purpose
            "${TIMECMD[@]}" timeout "$TIMEOUT" taskset -c "$CPU" $cmd >"$of"
            rc=$?
            set -e
            line="$(grep -m1 '^RESULT ' "$of" || true)"
            tinfo="$(tail -n1 "$tf" 2>/dev/null || true)"
            rm -f "$tf" "$of"
            if [ $rc -ne 0 ] || [ -z "$line" ]; then
                log "bench: ($b) $impl run $rep FAILED (exit $rc)"
                echo "RUN bench=$b impl=$impl n=$N rep=$rep status=failed exit=$rc" >>"$RAW"
                continue
            fi
            log "  ${line#RESULT }  $tinfo"
            echo "RUN rep=$rep status=ok ${line#RESULT } $tinfo" >>"$RAW"
        done
    done
done

echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RAW"

# ---- report ----

"$PY" bench/report.py "$RAW" "$OUT"
