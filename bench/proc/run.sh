#!/usr/bin/env bash
# Runs the subprocess benchmark on corio, Python asyncio, uvloop, Go and libuv, in one go. See
# bench/proc/README.md.
#
#   bench/proc/run.sh            (A) true and (B) cat
#   bench/proc/run.sh true       only (A): spawn /bin/true and wait, PROC_N_TRUE times
#   bench/proc/run.sh cat        only (B): 64 KiB through cat and back, PROC_N_CAT times
#
# Environment:
#   PROC_ROUNDS=5        rounds (ROUNDS is read too); in each round every system runs each mode
#                        once, in turns, and the median over the rounds is reported
#   PROC_N_TRUE=5000     children in (A); PROC_N_CAT=2000 children in (B)
#   PROC_INFLIGHT=50     children in flight at a time
#   PROC_IMPLS="corio asyncio uvloop go libuv"   which systems, in this order within a round
#   PROC_CPUS=           CPUs to pin every run to with taskset (e.g. "0" or "0,1"); default none:
#                        the children inherit the parent's affinity, and pinning both to one CPU
#                        would make them compete with the loop for it
#   PROC_TIMEOUT=900     seconds before one run is killed (it is then recorded as failed)
#   BENCH_BUILD_DIR=build   the CMake build directory of corio's program (as bench/run.sh: a
#                        directory that is not a plain Release build is left alone and
#                        build-bench/ is used)
#
# Every program takes "MODE N INFLIGHT" and prints one line "<system> <mode> <n> <seconds>", the
# wall time of the whole run measured inside the program (runtime start-up left out); it exits
# non-zero on any failure. Rate = n / seconds.
#
# Writes bench/out/proc_raw.txt (one line per run), proc.csv (medians, ratios to corio, every
# run), proc.md (the table, for the README) and proc.png (rate per system per mode).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=bench/lib.sh
. bench/lib.sh

MODES=("$@")
[ ${#MODES[@]} -eq 0 ] && MODES=(true cat)
for m in "${MODES[@]}"; do
    case "$m" in true | cat) ;; *)
        echo "usage: bench/proc/run.sh [true] [cat]" >&2
        exit 2
        ;;
    esac
done

REPS="${PROC_ROUNDS:-${ROUNDS:-5}}"
N_TRUE="${PROC_N_TRUE:-5000}"
N_CAT="${PROC_N_CAT:-2000}"
INFLIGHT="${PROC_INFLIGHT:-50}"
IMPLS="${PROC_IMPLS:-corio asyncio uvloop go libuv}"
CPUS="${PROC_CPUS:-}"
TIMEOUT="${PROC_TIMEOUT:-900}"
BUILD_DIR="${BENCH_BUILD_DIR:-build}"
PY=/usr/bin/python3 # Debian's: python3-uvloop is installed for it, not for a pyenv python3
OUT="$ROOT/bench/out"
RAW="$OUT/proc_raw.txt"
TMP="$OUT/.proc.$$"
mkdir -p "$OUT" "$TMP"
trap 'rm -rf "$TMP"' EXIT

has_impl() { [[ " $IMPLS " == *" $1 "* ]]; }

# ---- tools ----

if ! "$PY" -c 'import uvloop' 2>/dev/null && has_impl uvloop; then
    apt_install python3-uvloop || true
fi
if ! command -v go >/dev/null && has_impl go; then apt_install golang-go || true; fi
if has_impl libuv && ! pkg-config --exists libuv 2>/dev/null; then
    apt_install libuv1-dev pkg-config || true
fi
if ! "$PY" -c 'import matplotlib' 2>/dev/null; then # for the plot
    apt_install python3-matplotlib || true
fi

# ---- build ----

# corio's program is written apart (bench/proc/spawn_corio.c, CMake target spawn_corio). Until
# it exists, corio is left out without touching CMake, and its place in the table says so.
CORIO_BIN=""
CORIO_WHY="not in PROC_IMPLS"
if has_impl corio; then
    if [ ! -f bench/proc/spawn_corio.c ]; then
        CORIO_WHY="bench/proc/spawn_corio.c does not exist yet"
    else
        BUILD_DIR="$(release_build_dir "$BUILD_DIR")"
        # Configured again first: a target CMake does not know yet is "no rule to make target"
        # before cmake --build gets to reconfigure by itself (as bench/net/run.sh does).
        if ! cmake -S . -B "$BUILD_DIR" >"$TMP/build.log" 2>&1; then
            CORIO_WHY="cmake -S . -B $BUILD_DIR failed: $(grep -m1 -i error "$TMP/build.log" || true)"
        elif ! cmake --build "$BUILD_DIR" -j"$(nproc)" --target spawn_corio >"$TMP/build.log" 2>&1; then
            CORIO_WHY="target spawn_corio did not build: $(grep -m1 -E 'error|No rule' "$TMP/build.log" || true)"
        else
            # Where corio_add_program(spawn_corio bench/proc/spawn_corio.c bench/proc) puts it;
            # else wherever the target's CMake code put it.
            CORIO_BIN="$BUILD_DIR/bench/proc/spawn_corio"
            [ -x "$CORIO_BIN" ] ||
                CORIO_BIN="$(find "$BUILD_DIR" -name spawn_corio -type f -perm -u+x | head -n1)"
            [ -n "$CORIO_BIN" ] || CORIO_WHY="target spawn_corio built, but no spawn_corio binary found under $BUILD_DIR"
        fi
    fi
    [ -n "$CORIO_BIN" ] || log "bench: corio is left out of this run: $CORIO_WHY"
fi

# libuv's program does not use corio: built here with cc, not through CMake.
UV_BIN="$OUT/corio-proc-uv"
UV_OK=0
if has_impl libuv; then
    # shellcheck disable=SC2046  # pkg-config's flags are word lists
    if cc -O2 -Wall -Wextra -o "$UV_BIN" bench/proc/spawn_uv.c \
        $(pkg-config --cflags --libs libuv) >"$TMP/build.log" 2>&1; then
        UV_OK=1
    else
        log "bench: WARNING: bench/proc/spawn_uv.c did not build; libuv is left out: $(head -c 300 "$TMP/build.log")"
    fi
fi

GO_BIN="$OUT/corio-proc-go"
GO_OK=0
if has_impl go && command -v go >/dev/null; then
    if go_build bench/proc/go "$GO_BIN" "$OUT"; then
        GO_OK=1
    else
        log "bench: WARNING: go build failed; Go is left out of this run"
    fi
fi

# ---- run ----

# Nothing in the environment may change what the library does.
unset CORIO_STACK_SIZE CORIO_DEBUG CORIO_BACKEND
export PYTHONDONTWRITEBYTECODE=1

cmd_for() { # impl -> the command line without its arguments, or nothing if unavailable
    case "$1" in
    corio) [ -n "$CORIO_BIN" ] && echo "$CORIO_BIN" ;;
    asyncio) echo "$PY bench/proc/spawn_asyncio.py" ;;
    uvloop) "$PY" -c 'import uvloop' 2>/dev/null && echo "$PY bench/proc/spawn_asyncio.py --uvloop" ;;
    # One P, as in bench/run.sh and bench/net/run.sh: corio runs one loop on one thread.
    go) [ $GO_OK -eq 1 ] && echo "env GOMAXPROCS=1 $GO_BIN" ;;
    libuv) [ $UV_OK -eq 1 ] && echo "$UV_BIN" ;;
    esac
    return 0
}

why_unavailable() {
    case "$1" in
    corio) echo "$CORIO_WHY" ;;
    uvloop) echo "python3-uvloop missing" ;;
    go) echo "go missing or go build failed" ;;
    libuv) echo "spawn_uv.c did not build" ;;
    *) echo "unavailable" ;;
    esac
}

PIN=()
[ -n "$CPUS" ] && PIN=(taskset -c "$CPUS")

record() { echo "RUN $*" >>"$RAW"; }

{
    echo "# corio subprocess benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "# host: $(host_info); $(if [ -n "$CPUS" ]; then echo "every run pinned to CPUs $CPUS"; else echo "not pinned"; fi)"
    echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# corio: $(corio_commit), $(if [ -n "$CORIO_BIN" ]; then echo "$CORIO_BIN"; else echo "left out ($CORIO_WHY)"; fi)"
    echo "# $(versions_info "$PY"), libuv: $(pkg-config --modversion libuv 2>/dev/null || echo none)"
    envs=""
    for v in PROC_ROUNDS ROUNDS PROC_N_TRUE PROC_N_CAT PROC_INFLIGHT PROC_IMPLS PROC_CPUS; do
        [ -n "${!v:-}" ] && envs+="$v=\"${!v}\" "
    done
    echo "# command: ${envs}bench/proc/run.sh ${*:-}"
    echo "# settings: rounds=$REPS n_true=$N_TRUE n_cat=$N_CAT inflight=$INFLIGHT impls=\"$IMPLS\""
} >"$RAW"

for impl in $IMPLS; do
    if [ -z "$(cmd_for "$impl")" ]; then
        for mode in "${MODES[@]}"; do
            why="$(why_unavailable "$impl")"
            record "round=0 mode=$mode impl=$impl status=unavailable why=\"${why//\"/\'}\""
        done
    fi
done

# The systems take turns within each round, so that a busy spell of the machine spreads over all
# of them instead of falling on one.
t_start=$SECONDS
for round in $(seq 1 "$REPS"); do
    for mode in "${MODES[@]}"; do
        n=$N_TRUE
        [ "$mode" = cat ] && n=$N_CAT
        for impl in $IMPLS; do
            cmd="$(cmd_for "$impl")"
            [ -n "$cmd" ] || continue
            log "bench: round $round/$REPS, $mode, $impl: $cmd $mode $n $INFLIGHT"
            set +e
            # shellcheck disable=SC2086  # cmd is a word list on purpose
            "${PIN[@]}" timeout "$TIMEOUT" $cmd "$mode" "$n" "$INFLIGHT" >"$TMP/out" 2>"$TMP/err"
            rc=$?
            set -e
            # The contract: exactly one line "<system> <mode> <n> <seconds>", the system being
            # the name this script knows it by.
            line="$(cat "$TMP/out")"
            secs=""
            if [ $rc -eq 0 ] && [ "$(wc -l <"$TMP/out")" -eq 1 ] &&
                [[ "$line" =~ ^$impl\ $mode\ $n\ ([0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?)$ ]]; then
                secs="${BASH_REMATCH[1]}"
            fi
            if [ -z "$secs" ] || ! awk -v s="$secs" 'BEGIN { exit !(s > 0) }'; then
                log "bench: round $round $mode $impl FAILED (exit $rc): stdout '$(head -c 200 "$TMP/out")'," \
                    "stderr '$(head -c 300 "$TMP/err")'"
                record "round=$round mode=$mode impl=$impl n=$n inflight=$INFLIGHT status=failed exit=$rc"
                continue
            fi
            rate="$(awk -v n="$n" -v s="$secs" 'BEGIN { printf "%.1f", n / s }')"
            log "  $line  ($rate/s)"
            record "round=$round mode=$mode impl=$impl n=$n inflight=$INFLIGHT status=ok seconds=$secs rate=$rate"
        done
    done
done
log "bench: the runs took $((SECONDS - t_start)) s"

echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RAW"

# ---- report ----

"$PY" bench/proc/report.py "$RAW" "$OUT"
