#!/usr/bin/env bash
# Runs corio's network benchmarks side by side with the minimal epoll server (the floor), libuv,
# Go, Python asyncio and uvloop, in one go. Every server runs pinned to one CPU, the load to the
# other. See bench/net/README.md.
#
#   bench/net/run.sh             (a) echo ping-pong and (b) HTTP hello
#   bench/net/run.sh echo        only (a)
#   bench/net/run.sh http        only (b)
#
# Environment:
#   NET_REPEAT=3         runs of each implementation and row; the median of each figure is reported
#   NET_SECS=3           seconds measured per run (echo: after NET_WARMUP=0.5 s of warm-up)
#   NET_ROWS="1x64 100x64 1000x64 1x4096 100x4096 1000x4096"   echo rows: connections x bytes
#   NET_IMPLS="epoll uring corio-epoll corio-uring libuv go uvloop asyncio"   (epoll is the floor;
#                        uring, echo only, is a minimal multishot io_uring server: the ceiling of
#                        the completion model, bench/net/uring_echo.c; uring-ring and
#                        uring-oneshot, not run unless named, are the same with every echo sent
#                        through the ring, and with a one-shot recv per message as corio does)
#   NET_SERVER_CPU=0     the CPU the servers are pinned to; NET_LOAD_CPU=1 the load's
#   BENCH_BUILD_DIR=build   the CMake build directory (as bench/run.sh: Release, else build-bench/)
#
# (a) bench/net/load.c: N connections each playing ping-pong with M-byte messages (send, read the
# echo back, check it); round trips per second over NET_SECS, and the server's CPU time (user +
# sys, /proc/PID/stat) per round trip over the same window. (b) wrk -t1 -c100 -d${NET_SECS}s;
# requests per second and the server's CPU time per request over the whole wrk run.
#
# Writes bench/out/net_raw.txt (one line per run), net.tsv (medians, ratios to the floor, every
# run), net.md (the tables, for the README) and net.png (ratios to the floor).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=bench/lib.sh
. bench/lib.sh

TESTS=("$@")
[ ${#TESTS[@]} -eq 0 ] && TESTS=(echo http)
for t in "${TESTS[@]}"; do
    case "$t" in echo | http) ;; *)
        echo "usage: bench/net/run.sh [echo] [http]" >&2
        exit 2
        ;;
    esac
done
has_test() { [[ " ${TESTS[*]} " == *" $1 "* ]]; }

REPEAT="${NET_REPEAT:-3}"
SECS="${NET_SECS:-3}"
WARMUP="${NET_WARMUP:-0.5}"
ROWS="${NET_ROWS:-1x64 100x64 1000x64 1x4096 100x4096 1000x4096}"
IMPLS="${NET_IMPLS:-epoll uring corio-epoll corio-uring libuv go uvloop asyncio}"
SRV_CPU="${NET_SERVER_CPU:-0}"
LOAD_CPU="${NET_LOAD_CPU:-1}"
BUILD_DIR="${BENCH_BUILD_DIR:-build}"
PY=/usr/bin/python3 # Debian's: python3-uvloop is installed for it, not for a pyenv python3
OUT="$ROOT/bench/out"
RAW="$OUT/net_raw.txt"
TMP="$OUT/.net.$$"
mkdir -p "$OUT" "$TMP"

has_impl() { [[ " $IMPLS " == *" $1 "* ]]; }

# 1000 connections: the server and the load client each need that many descriptors and more.
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 2100 ]; then
    log "bench: WARNING: ulimit -n is $(ulimit -n); the 1000-connection rows may fail"
fi

# ---- tools ----

command -v /usr/bin/time >/dev/null || apt_install time || true
if has_test http && ! command -v wrk >/dev/null; then apt_install wrk || true; fi
if ! "$PY" -c 'import uvloop' 2>/dev/null && has_impl uvloop; then
    apt_install python3-uvloop || true
fi
if ! command -v go >/dev/null && has_impl go; then apt_install golang-go || true; fi
if ! pkg-config --exists libuv 2>/dev/null && has_impl libuv; then apt_install libuv1-dev || true; fi
if ! "$PY" -c 'import matplotlib' 2>/dev/null; then # for the plot
    apt_install python3-matplotlib || true
fi

# ---- build ----

BUILD_DIR="$(release_build_dir "$BUILD_DIR")"
NET="$BUILD_DIR/bench/net"
built=() # the C programs that built
# Configured again first: a target CMake does not know yet is "no rule to make target" before
# cmake --build gets to reconfigure by itself. Then one target at a time, so that one that does
# not build (libuv's without libuv, corio's if the library is broken) leaves the others in.
cmake -S . -B "$BUILD_DIR" >"$TMP/build.log" 2>&1 || { cat "$TMP/build.log" >&2; exit 1; }
for prog in load epoll_echo epoll_http uring_echo uv_echo uv_http corio_echo corio_http; do
    if cmake --build "$BUILD_DIR" -j"$(nproc)" --target "bench_net_$prog" >"$TMP/build.log" 2>&1; then
        built+=("$prog")
    else
        log "bench: $prog did not build (its rows are left out): $(grep -m1 -E 'error|No rule' "$TMP/build.log" || true)"
    fi
done
[[ " ${built[*]} " == *" load "* ]] || { cat "$TMP/build.log" >&2; exit 1; }

GO_BIN="$OUT/corio-net-go"
GO_OK=0
if has_impl go && command -v go >/dev/null; then
    if go_build bench/net/go "$GO_BIN" "$OUT"; then
        GO_OK=1
    else
        log "bench: WARNING: go build failed; Go is left out of this run"
    fi
fi

# ---- run ----

# Nothing in the environment may change what the library does (but CORIO_BACKEND, set below).
unset CORIO_STACK_SIZE CORIO_DEBUG CORIO_BACKEND
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in bench/net/py/

server_cmd() { # test impl -> the server's command line, or nothing if unavailable
    local prog="${2%%-*}_$1" # corio-epoll + echo -> corio_echo
    case "$2" in
    epoll | corio-epoll | corio-uring)
        [[ " ${built[*]} " == *" $prog "* ]] || return 0
        case "$2" in
        corio-epoll) echo "env CORIO_BACKEND=epoll $NET/$prog" ;;
        corio-uring) echo "env CORIO_BACKEND=io_uring $NET/$prog" ;;
        *) echo "$NET/$prog" ;;
        esac
        ;;
    uring) [[ " ${built[*]} " == *" uring_$1 "* ]] && echo "$NET/uring_$1" ;;
    uring-ring) [[ " ${built[*]} " == *" uring_$1 "* ]] && echo "env URING_ECHO_RING_SEND=1 $NET/uring_$1" ;;
    uring-oneshot) [[ " ${built[*]} " == *" uring_$1 "* ]] && echo "env URING_ECHO_ONESHOT=1 $NET/uring_$1" ;;
    libuv) [[ " ${built[*]} " == *" uv_$1 "* ]] && echo "$NET/uv_$1" ;;
    go)
        [ $GO_OK -eq 1 ] || return 0
        if [ "$1" = http ]; then echo "env GOMAXPROCS=1 $GO_BIN -http"; else echo "env GOMAXPROCS=1 $GO_BIN"; fi
        ;;
    asyncio) echo "$PY bench/net/py/$1.py" ;;
    uvloop) "$PY" -c 'import uvloop' 2>/dev/null && echo "$PY bench/net/py/$1.py --uvloop" ;;
    esac
    return 0
}

SRV_PID=""
SRV_PORT=""
# Starts `cmd` pinned to the server CPU and waits for its "port <n>" line.
start_server() {
    # Emptied here: the background job truncates it only when it gets to run, and until then the
    # loop below would read the previous server's port.
    : >"$TMP/port"
    # shellcheck disable=SC2086  # cmd is a word list on purpose
    taskset -c "$SRV_CPU" $1 >"$TMP/port" 2>"$TMP/server.err" &
    SRV_PID=$!
    SRV_PORT=""
    for _ in $(seq 1 100); do
        SRV_PORT="$(awk '/^port /{print $2; exit}' "$TMP/port")"
        [ -n "$SRV_PORT" ] && return 0
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.1
    done
    log "bench: the server did not start: $1: $(head -c 300 "$TMP/server.err")"
    stop_server
    return 1
}

# A corio server must run on the backend its row names (corio falls back to epoll by itself
# where io_uring is refused, and CORIO_BACKEND asks for one that is not built fails).
check_backend() { # impl
    local want got=""
    case "$1" in corio-epoll) want=epoll ;; corio-uring) want=io_uring ;; *) return 0 ;; esac
    for _ in $(seq 1 50); do
        got="$(awk '/^backend /{print $2; exit}' "$TMP/port")"
        [ -n "$got" ] && break
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.1
    done
    [ "$got" = "$want" ] && return 0
    log "bench: $1: the server runs on '${got:-nothing}', not $want: $(head -c 300 "$TMP/server.err")"
    return 1
}

stop_server() {
    [ -n "$SRV_PID" ] || return 0
    kill "$SRV_PID" 2>/dev/null || true
    wait "$SRV_PID" 2>/dev/null || true
    SRV_PID=""
}
trap 'stop_server; rm -rf "$TMP"' EXIT

TICK="$(getconf CLK_TCK)"
server_cpu() { # utime + stime of the server in seconds (all threads), from /proc/PID/stat
    local s
    s="$(cat "/proc/$SRV_PID/stat" 2>/dev/null)" || return 0 # the server is gone: nothing
    s="${s##*) }" # after the command name, which may hold spaces
    # shellcheck disable=SC2086
    set -- $s
    echo "${12} ${13} $TICK" | awk '{printf "%.2f", ($1 + $2) / $3}'
}

record() { echo "RUN $*" >>"$RAW"; }

# (a): every echo row against the running server.
run_echo() { # impl rep
    local row conns size line
    for row in $ROWS; do
        conns="${row%x*}" size="${row#*x}"
        line="$(timeout $((SECS + 60)) taskset -c "$LOAD_CPU" "$NET/load" -p "$SRV_PORT" \
            -c "$conns" -s "$size" -d "$SECS" -w "$WARMUP" -P "$SRV_PID" 2>"$TMP/load.err" |
            grep -m1 '^RESULT ' || true)"
        if [ -z "$line" ]; then
            log "bench: echo $1 ${row} run $2 FAILED: $(head -c 300 "$TMP/load.err")" \
                "$(head -c 300 "$TMP/server.err")"
            record "test=echo impl=$1 row=$row rep=$2 status=failed"
            continue
        fi
        log "  echo $1 $row: ${line#RESULT }"
        record "test=echo impl=$1 row=$row rep=$2 status=ok ${line#RESULT }"
    done
}

# (b): wrk against the running server; the server's CPU time over the whole wrk run.
run_http() { # impl rep
    local c0 c1 out rps reqs errs non2xx wcpu status=ok
    c0="$(server_cpu)"
    out="$(/usr/bin/time -f 'WRKCPU %U %S %e' timeout $((SECS + 60)) taskset -c "$LOAD_CPU" \
        wrk -t1 -c100 -d"${SECS}s" "http://127.0.0.1:$SRV_PORT/" 2>&1 || true)"
    c1="$(server_cpu)"
    rps="$(awk '/^Requests\/sec:/{print $2}' <<<"$out")"
    reqs="$(awk '/requests in/{print $1}' <<<"$out")"
    errs="$(awk '/Socket errors:/{s = 0; for (i = 3; i <= NF; i++) s += $i; print s}' <<<"$out")"
    non2xx="$(awk '/Non-2xx/{print $NF}' <<<"$out")"
    wcpu="$(awk '/^WRKCPU/{if ($4 > 0) printf "%.3f", ($2 + $3) / $4}' <<<"$out")"
    if [ -z "$rps" ] || [ -z "$reqs" ] || [ -z "$c1" ] || [ "${non2xx:-0}" != 0 ]; then
        log "bench: http $1 run $2 FAILED: $(tail -n 3 <<<"$out" | tr '\n' ' ')" \
            "$(head -c 300 "$TMP/server.err")"
        record "test=http impl=$1 row=wrk-c100 rep=$2 status=failed"
        return
    fi
    local line
    line="conns=100 rts=$reqs rt_per_s=$rps load_cpu_frac=${wcpu:-0} socket_errors=${errs:-0}"
    line+=" $(awk -v a="$c0" -v b="$c1" -v n="$reqs" \
        'BEGIN {printf "srv_cpu_s=%.2f srv_cpu_us_per_rt=%.3f", b - a, (b - a) * 1e6 / n}')"
    log "  http $1: $line"
    record "test=http impl=$1 row=wrk-c100 rep=$2 status=$status $line"
}

{
    echo "# corio network benchmarks, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "# host: $(host_info); servers pinned to CPU $SRV_CPU, load to CPU $LOAD_CPU"
    echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# corio: $(corio_commit), build dir $BUILD_DIR"
    echo "# $(versions_info "$PY"), libuv: $(pkg-config --modversion libuv 2>/dev/null || echo none), $(wrk -v 2>&1 | head -n1 | awk '{print "wrk: " $2}')"
    envs=""
    for v in NET_REPEAT NET_SECS NET_WARMUP NET_ROWS NET_IMPLS; do
        [ -n "${!v:-}" ] && envs+="$v=\"${!v}\" "
    done
    echo "# command: ${envs}bench/net/run.sh ${*:-}"
    echo "# settings: secs=$SECS warmup=$WARMUP repeat=$REPEAT"
} >"$RAW"

# The implementations take turns within each repetition, so that a busy spell of the machine
# spreads over all of them instead of falling on one.
t_start=$SECONDS
for rep in $(seq 1 "$REPEAT"); do
    for impl in $IMPLS; do
        for t in "${TESTS[@]}"; do
            cmd="$(server_cmd "$t" "$impl")"
            if [ -z "$cmd" ]; then
                [ "$rep" = 1 ] && record "test=$t impl=$impl row=- rep=0 status=unavailable"
                continue
            fi
            log "bench: $t $impl run $rep/$REPEAT: $cmd"
            if ! start_server "$cmd" || ! check_backend "$impl"; then
                stop_server
                for row in $(if [ "$t" = echo ]; then echo "$ROWS"; else echo wrk-c100; fi); do
                    record "test=$t impl=$impl row=$row rep=$rep status=failed"
                done
                continue
            fi
            "run_$t" "$impl" "$rep"
            stop_server
        done
    done
done
log "bench: the runs took $((SECONDS - t_start)) s"

echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RAW"

# ---- report ----

"$PY" bench/net/report.py "$RAW" "$OUT"
