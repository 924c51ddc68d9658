#!/usr/bin/env bash
# Runs the TLS benchmark: corio, the OpenSSL + epoll floor, Go's crypto/tls, asyncio and uvloop
# as TLS 1.3 echo servers, each pinned to one CPU, under one load client pinned to the other.
# See bench/tls/README.md.
#
#   bench/tls/run.sh
#
# Environment:
#   TLS_ROUNDS=3          rounds; in each, every server runs every row once, in turns; the
#                         median over the rounds is reported
#   TLS_N_FULL=3000       connections in the full-handshake rows; TLS_N_RESUME=3000 in the
#                         resumed row; TLS_N_ECHO=8000 messages of 64 KiB in the echo row
#   TLS_THREADS=16        client threads for the handshake rows; TLS_ECHO_CONNS=4 connections
#   TLS_IMPLS="corio floor go asyncio uvloop"
#   TLS_SERVER_CPU=0, TLS_CLIENT_CPU=1
#   BENCH_BUILD_DIR=build (as bench/run.sh: a directory that is not a plain Release build is
#                         left alone and build-bench/ is used)
#
# Rows: full handshakes with an ECDSA P-256 and with an RSA-2048 certificate, resumed handshakes
# (ECDSA), 64 KiB echo (ECDSA). For each the client prints the wall time and the CPU time the
# server spent meanwhile (from its /proc/PID/stat). The figure is operations per server CPU
# second: what one core of server does, whatever the client's own speed.
#
# Writes bench/out/tls_raw.txt (one line per run) and tls.md (the table, for the README).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
PY=/usr/bin/python3
# shellcheck source=bench/lib.sh
. bench/lib.sh

ROUNDS="${TLS_ROUNDS:-3}"
N_FULL="${TLS_N_FULL:-3000}"
N_RESUME="${TLS_N_RESUME:-3000}"
N_ECHO="${TLS_N_ECHO:-8000}"
THREADS="${TLS_THREADS:-16}"
ECHO_CONNS="${TLS_ECHO_CONNS:-4}"
IMPLS="${TLS_IMPLS:-corio floor go asyncio uvloop}"
SCPU="${TLS_SERVER_CPU:-0}"
CCPU="${TLS_CLIENT_CPU:-1}"
BUILD_DIR="${BENCH_BUILD_DIR:-build}"
OUT="$ROOT/bench/out"
RAW="$OUT/tls_raw.txt"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"; [ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null || true' EXIT
mkdir -p "$OUT"

has_impl() { [[ " $IMPLS " == *" $1 "* ]]; }

# ---- tools and builds ----

if has_impl uvloop && ! "$PY" -c 'import uvloop' 2>/dev/null; then apt_install python3-uvloop || true; fi
if has_impl go && ! command -v go >/dev/null; then apt_install golang-go || true; fi

BUILD_DIR="$(release_build_dir "$BUILD_DIR")"
cmake -S . -B "$BUILD_DIR" >"$TMP/build.log" 2>&1
cmake --build "$BUILD_DIR" -j"$(nproc)" --target tls_corio >>"$TMP/build.log" 2>&1 ||
    { cat "$TMP/build.log" >&2; exit 1; }
CORIO_BIN="$BUILD_DIR/bench/tls/tls_corio"
cc -O2 -Wall -Wextra -o "$OUT/tls_load" bench/tls/tls_load.c -lssl -lcrypto -lpthread
cc -O2 -Wall -Wextra -o "$OUT/tls_floor" bench/tls/tls_floor.c -lssl -lcrypto
GO_OK=0
if has_impl go && command -v go >/dev/null && go_build bench/tls/go "$OUT/tls_go" "$OUT"; then
    GO_OK=1
fi

server_cmd() { # impl -> the server's command without its arguments
    case "$1" in
    corio) echo "$CORIO_BIN" ;;
    floor) echo "$OUT/tls_floor" ;;
    go) [ $GO_OK -eq 1 ] && echo "env GOMAXPROCS=1 $OUT/tls_go" ;;
    asyncio) echo "$PY bench/tls/tls_asyncio.py" ;;
    uvloop) "$PY" -c 'import uvloop' 2>/dev/null && echo "$PY bench/tls/tls_asyncio.py --uvloop" ;;
    esac
    return 0
}

# ---- certificates, made here: no key is committed ----

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/ecdsa.key" \
    -out "$TMP/ecdsa.pem" -subj /CN=localhost -days 2 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/rsa.key" -out "$TMP/rsa.pem" \
    -subj /CN=localhost -days 2 2>/dev/null

# ---- run ----

unset CORIO_STACK_SIZE CORIO_DEBUG CORIO_BACKEND
export PYTHONDONTWRITEBYTECODE=1
{
    echo "# corio TLS benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "# host: $(host_info); servers on CPU $SCPU, the client on CPU $CCPU"
    echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# corio: $(corio_commit), $CORIO_BIN; $(openssl version)"
    echo "# $(versions_info "$PY")"
    echo "# settings: rounds=$ROUNDS n_full=$N_FULL n_resume=$N_RESUME n_echo=$N_ECHO threads=$THREADS echo_conns=$ECHO_CONNS impls=\"$IMPLS\""
} >"$RAW"

# Starts impl's server with cert (ecdsa or rsa) on a free port: SERVER_PID, PORT.
start_server() {
    local cmd port
    cmd="$(server_cmd "$1")"
    port="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    # shellcheck disable=SC2086  # cmd is a word list on purpose
    taskset -c "$SCPU" $cmd "$TMP/$2.pem" "$TMP/$2.key" "$port" >"$TMP/server.out" 2>&1 &
    SERVER_PID=$!
    PORT=$port
    for _ in $(seq 1 100); do
        grep -q '^ready' "$TMP/server.out" 2>/dev/null && return 0
        sleep 0.05
    done
    log "bench: $1 did not start: $(head -c 300 "$TMP/server.out")"
    return 1
}

stop_server() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

# One row on the running server: records "round impl row n wall cpu".
load() { # round impl row mode n threads
    local line
    if line="$(taskset -c "$CCPU" "$OUT/tls_load" "$4" "$PORT" "$5" "$6" "$SERVER_PID" 2>"$TMP/load.err")"; then
        echo "RUN round=$1 impl=$2 row=$3 $(awk '{print "n=" $2 " wall=" $3 " cpu=" $4}' <<<"$line")" >>"$RAW"
    else
        echo "RUN round=$1 impl=$2 row=$3 status=failed why=\"$(head -c 200 "$TMP/load.err" | tr '\n"' "  ")\"" >>"$RAW"
        log "bench: $2 $3 failed: $(cat "$TMP/load.err")"
    fi
}

for round in $(seq 1 "$ROUNDS"); do
    for impl in $IMPLS; do
        [ -n "$(server_cmd "$impl")" ] || continue
        log "bench: round $round/$ROUNDS, $impl"
        if start_server "$impl" ecdsa; then
            load "$round" "$impl" full-ecdsa full "$N_FULL" "$THREADS"
            load "$round" "$impl" resume-ecdsa resume "$N_RESUME" "$THREADS"
            load "$round" "$impl" echo-64k echo "$N_ECHO" "$ECHO_CONNS"
        fi
        stop_server
        if start_server "$impl" rsa; then
            load "$round" "$impl" full-rsa full "$N_FULL" "$THREADS"
        fi
        stop_server
    done
done

"$PY" bench/tls/report.py "$RAW" "$OUT/tls.md"
cat "$OUT/tls.md"
