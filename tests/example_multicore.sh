#!/bin/bash
# examples/multicore_echo (ctest example_multicore_echo): two loops on one SO_REUSEPORT port serve
# echo_client three times while a fourth connection stays open; SIGTERM then stops both loops,
# which cancel the open connection and close cleanly (exit status 0, every connection counted).
# SO_REUSEPORT needs a fixed port: a random one, tried again elsewhere if it is taken.
# Usage: example_multicore.sh DIR_WITH_THE_EXAMPLES
set -eu
out=$(mktemp)
pid=
trap '[ -z "$pid" ] || kill -9 $pid 2>/dev/null || true; rm -f "$out"' EXIT

start() {
    "$1/multicore_echo" "$2" 2 >"$out" 2>&1 &
    pid=$!
    for _ in $(seq 200); do
        grep -q "loops on port" "$out" && return 0
        kill -0 $pid 2>/dev/null || { wait $pid || true; pid=; return 1; }
        sleep 0.05
    done
    echo "multicore_echo did not start" >&2
    exit 1
}

for attempt in 1 2 3 4 5; do
    port=$((20000 + (RANDOM % 20000)))
    start "$1" $port && break
    [ $attempt -lt 5 ] || { cat "$out" >&2; exit 1; }
done
exec 3<>"/dev/tcp/127.0.0.1/$port" # held open across the shutdown
for i in 1 2 3; do
    "$1/echo_client" 127.0.0.1 $port "hello $i" | grep "^Received"
done
kill -TERM $pid
status=0
wait $pid || status=$?
pid=
exec 3<&-
grep -v "loops on port" "$out"
echo "exit status $status"
