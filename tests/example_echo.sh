#!/bin/sh
# examples/echo_client against examples/echo_server, each its own process (ctest example_echo).
# The server picks a free port (argument 0) and prints it; the client connects to it.
# Usage: example_echo.sh DIR_WITH_THE_EXAMPLES
set -eu
out=$(mktemp)
"$1/echo_server" 0 >"$out" &
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -f "$out"' EXIT
i=0
until grep -q "^Serving on" "$out"; do
    i=$((i + 1))
    [ $i -lt 200 ] || { echo "echo_server did not start" >&2; exit 1; }
    sleep 0.05
done
port=$(sed -n 's/^Serving on .*:\([0-9]*\)$/\1/p' "$out")
"$1/echo_client" 127.0.0.1 "$port" "Hello World!"
