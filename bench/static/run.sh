#!/usr/bin/env bash
# examples/static_server (each backend) against nginx serving the same files: requests per second
# from wrk over keep-alive connections, a 1 KiB and a 1 MiB file. The servers share CPU 0 (nginx
# with one worker, sendfile and tcp_nopush on, no access log; corio's loop and its executor
# threads), wrk runs on CPU 1. The servers take turns within each round; the median over the
# rounds is reported, with corio's ratio to nginx.
#
#   bench/static/run.sh
#
# Environment: STATIC_ROUNDS=5, STATIC_SECONDS=5 (per wrk run), STATIC_CONNS=50,
# BENCH_BUILD_DIR=build (as bench/run.sh: one that is not a plain Release build is left alone and
# build-bench/ is used). Writes bench/out/static_raw.txt and prints the table.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=bench/lib.sh
. bench/lib.sh

REPS="${STATIC_ROUNDS:-5}"
SECS="${STATIC_SECONDS:-5}"
CONNS="${STATIC_CONNS:-50}"
OUT="$ROOT/bench/out"
WWW="$OUT/static-www"
NGX="$OUT/static-nginx"
RAW="$OUT/static_raw.txt"
[ "$(nproc)" -ge 2 ] || { log "bench: needs 2 CPUs (servers on one, wrk on the other)"; exit 1; }

command -v nginx >/dev/null || apt_install nginx
command -v wrk >/dev/null || apt_install wrk

BUILD_DIR="$(release_build_dir "${BENCH_BUILD_DIR:-build}")"
cmake -S . -B "$BUILD_DIR" >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target static_server >&2
SERVER="$BUILD_DIR/examples/static_server"

mkdir -p "$WWW" "$NGX/logs"
head -c 1024 /dev/urandom >"$WWW/1k.bin"
head -c $((1 << 20)) /dev/urandom >"$WWW/1m.bin"
cat >"$NGX/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process off;
error_log $NGX/logs/error.log;
pid $NGX/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000000;
    server {
        listen 127.0.0.1:18181;
        root $WWW;
    }
}
EOF

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; }
trap cleanup EXIT
unset CORIO_DEBUG CORIO_STACK_SIZE
taskset -c 0 nginx -c "$NGX/nginx.conf" -p "$NGX" &
pids+=($!)
CORIO_BACKEND=epoll taskset -c 0 "$SERVER" "$WWW" 18182 >/dev/null &
pids+=($!)
CORIO_BACKEND=io_uring taskset -c 0 "$SERVER" "$WWW" 18183 >/dev/null &
pids+=($!)
sleep 1

declare -A PORT=([nginx]=18181 [corio-epoll]=18182 [corio-io_uring]=18183)
SYSTEMS=(nginx corio-epoll corio-io_uring)
{
    echo "# corio static_server against nginx, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "# host: $(host_info); servers on CPU 0, wrk -t1 -c$CONNS -d${SECS}s on CPU 1"
    echo "# corio: $(corio_commit); $(nginx -v 2>&1)"
    echo "# command: bench/static/run.sh (STATIC_ROUNDS=$REPS)"
} >"$RAW"
for round in $(seq 1 "$REPS"); do
    for file in 1k.bin 1m.bin; do
        for sys in "${SYSTEMS[@]}"; do
            rps="$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${SECS}s" "http://127.0.0.1:${PORT[$sys]}/$file" |
                awk '/Requests\/sec/ {print $2}')"
            log "  round $round/$REPS: $sys $file ${rps:-failed} requests/s"
            echo "RUN round=$round file=$file system=$sys rps=${rps:-0}" >>"$RAW"
        done
    done
done

/usr/bin/python3 - "$RAW" <<'EOF'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    if line.startswith("RUN "):
        kv = dict(x.split("=", 1) for x in line.split()[1:])
        runs.setdefault((kv["system"], kv["file"]), []).append(float(kv["rps"]))
for f in ("1k.bin", "1m.bin"):
    base = statistics.median(runs[("nginx", f)])
    for s in ("nginx", "corio-epoll", "corio-io_uring"):
        m = statistics.median(runs[(s, f)])
        print(f"{f}  {s:15} {m:10,.0f} requests/s  {m / base:.2f}x nginx")
EOF
