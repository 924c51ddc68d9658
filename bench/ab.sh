#!/usr/bin/env bash
# Two builds of corio, side by side: "is the change any slower?" Runs bench (a) to (c), the sync
# benchmarks and the echo rows of bench/net for build A (before) and build B (after), taking turns
# within each repetition so that a busy spell of the machine falls on both. Each in-loop benchmark
# runs pinned to one CPU; each echo server to NET_SERVER_CPU, its load to NET_LOAD_CPU. The
# minimal epoll server of build B runs the echo rows too: the floor the ratios are read against.
#
#   bench/ab.sh BUILD_A BUILD_B        both Release builds with -DCORIO_BUILD_BENCH=ON (default)
#
# Environment: AB_REPEAT=5 (the median of each figure is reported), BENCH_N=1000000 (BENCH_N_B=
# 200000 for bench b, whose million stacks take minutes each), AB_ROWS="1x64 100x64 1000x64
# 1x4096 100x4096" (echo rows, connections x bytes), AB_SECS=3, AB_TESTS="core sync net".
#
# Prints one line per figure: its median for A and for B, and B / A. Lower is better for times,
# higher for rates. Raw lines go to bench/out/ab_raw.txt.
set -euo pipefail

A="${1:?usage: bench/ab.sh BUILD_A BUILD_B}"
B="${2:?usage: bench/ab.sh BUILD_A BUILD_B}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPEAT="${AB_REPEAT:-5}"
N="${BENCH_N:-1000000}"
NB="${BENCH_N_B:-200000}"
ROWS="${AB_ROWS:-1x64 100x64 1000x64 1x4096 100x4096}"
SECS="${AB_SECS:-3}"
TESTS="${AB_TESTS:-core sync net}"
SRV_CPU="${NET_SERVER_CPU:-0}"
LOAD_CPU="${NET_LOAD_CPU:-1}"
OUT="$ROOT/bench/out"
RAW="$OUT/ab_raw.txt"
mkdir -p "$OUT"
for d in "$A" "$B"; do
    [ -x "$d/bench/core_a" ] && [ -x "$d/bench/net/corio_echo" ] ||
        { echo "bench/ab.sh: $d has no benchmarks (build it with -DCORIO_BUILD_BENCH=ON)" >&2; exit 2; }
done
# 1000 connections: the server and the load client each need that many descriptors and more.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

{
    echo "# bench/ab.sh $A $B, $(date -u +%Y-%m-%dT%H:%M:%SZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# repeat=$REPEAT n=$N n_b=$NB rows=\"$ROWS\" secs=$SECS"
} >"$RAW"

# "side name value" lines, one per figure of one run.
figure() { echo "$1 $2 $3" >>"$RAW"; }

core_run() { # side dir label prog args...
    local side="$1" dir="$2" label="$3" line
    shift 3
    line="$(taskset -c "$LOAD_CPU" "$dir/bench/$@" 2>/dev/null | grep -m1 '^RESULT ' || true)"
    [ -n "$line" ] || { echo "bench/ab.sh: $dir/bench/$* failed" >&2; return 1; }
    local k
    for k in cpu_ns_per_op cpu_s rss_per_task_b; do
        [[ "$line" =~ (^| )$k=([0-9.]+) ]] && figure "$side" "$label.$k" "${BASH_REMATCH[2]}"
    done
    return 0
}

SRV_PID=""
stop_server() {
    [ -n "$SRV_PID" ] || return 0
    kill "$SRV_PID" 2>/dev/null || true
    wait "$SRV_PID" 2>/dev/null || true
    SRV_PID=""
}
trap stop_server EXIT

net_run() { # side label backend server
    local side="$1" label="$2" backend="$3" server="$4" portf port="" row line
    portf="$(mktemp)"
    CORIO_BACKEND="$backend" taskset -c "$SRV_CPU" "$server" >"$portf" 2>/dev/null &
    SRV_PID=$!
    for _ in $(seq 1 100); do
        port="$(awk '/^port /{print $2; exit}' "$portf")"
        [ -n "$port" ] && break
        sleep 0.1
    done
    rm -f "$portf"
    [ -n "$port" ] || { echo "bench/ab.sh: $server did not start" >&2; stop_server; return 1; }
    for row in $ROWS; do
        line="$(timeout $((SECS + 60)) taskset -c "$LOAD_CPU" "$B/bench/net/load" -p "$port" \
            -c "${row%x*}" -s "${row#*x}" -d "$SECS" -w 0.5 -P "$SRV_PID" 2>/dev/null |
            grep -m1 '^RESULT ' || true)"
        [ -n "$line" ] || { echo "bench/ab.sh: echo $label $row failed" >&2; continue; }
        [[ "$line" =~ rt_per_s=([0-9.]+) ]] && figure "$side" "echo.$label.$row.rt_per_s" "${BASH_REMATCH[1]}"
        [[ "$line" =~ srv_cpu_us_per_rt=([0-9.]+) ]] &&
            figure "$side" "echo.$label.$row.srv_cpu_us_per_rt" "${BASH_REMATCH[1]}"
    done
    stop_server
}

for rep in $(seq 1 "$REPEAT"); do
    echo "bench/ab.sh: repetition $rep of $REPEAT" >&2
    for side in A B; do
        dir="$A"
        [ "$side" = B ] && dir="$B"
        if [[ " $TESTS " == *" core "* ]]; then
            core_run "$side" "$dir" a core_a "$N"
            core_run "$side" "$dir" b core_b "$NB"
            core_run "$side" "$dir" b-compact core_b --compact "$NB"
            core_run "$side" "$dir" c core_c "$N"
        fi
        if [[ " $TESTS " == *" sync "* ]]; then
            core_run "$side" "$dir" queue sync_queue "$N"
            core_run "$side" "$dir" lock sync_lock "$N"
        fi
        if [[ " $TESTS " == *" net "* ]]; then
            [ "$side" = A ] && net_run F floor - "$B/bench/net/epoll_echo"
            net_run "$side" epoll epoll "$dir/bench/net/corio_echo"
            net_run "$side" io_uring io_uring "$dir/bench/net/corio_echo"
        fi
    done
done

# Medians per figure and side, then B / A (and each side / the floor for the echo rows).
awk '
    /^#/ { next }
    { v[$2, $1] = v[$2, $1] " " $3; if (!($2 in seen)) { seen[$2] = 1; order[++n] = $2 } }
    function median(s,   a, k, i, j, t) {
        k = split(s, a, " ")
        for (i = 2; i <= k; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
            t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
        }
        return k ? (k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2) : ""
    }
    END {
        printf "%-42s %14s %14s %8s\n", "figure (median)", "A", "B", "B/A"
        for (i = 1; i <= n; i++) {
            f = order[i]
            if (f ~ /^echo\.floor\./) continue
            a = median(v[f, "A"]); b = median(v[f, "B"])
            printf "%-42s %14s %14s %8s\n", f, a, b, (a > 0 && b != "") ? sprintf("%.3f", b / a) : "-"
        }
        for (i = 1; i <= n; i++)
            if (order[i] ~ /^echo\.floor\./)
                printf "%-42s %14s\n", order[i], median(v[order[i], "F"])
    }' "$RAW"
