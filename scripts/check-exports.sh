#!/usr/bin/env bash
# Checks that libcorio.so exports exactly the functions the public headers declare, each in the
# version node of cmake/corio.map, and that the map lists exactly those functions.
#
#   scripts/check-exports.sh LIBCORIO_SO [CC]      (ctest runs it as check_exports)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lib="$1"
cc="${2:-gcc}"
map="$root/cmake/corio.map"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

bash "$root/scripts/api-functions.sh" "$root/include" "$cc" >"$tmp/headers"
node="$(sed -nE 's/^(CORIO_[0-9.]+) *\{.*/\1/p' "$map" | tail -n 1)"
if [ -z "$node" ]; then
    echo "check-exports: no version node found in $map" >&2
    exit 1
fi
# The map's names: identifiers followed by ';' inside the node, wildcards refused.
grep -oE '^[[:space:]]*corio_[a-z0-9_*?]+;' "$map" | tr -d ' \t;' | sort >"$tmp/map"
# Exported functions with their versions: "corio_x@@CORIO_0.2".
nm -D --defined-only "$lib" | awk '$2 == "T" || $2 == "W" || $2 == "i" { print $3 }' |
    grep -E '^corio' | sort >"$tmp/exported_v"
sed -E 's/@.*//' "$tmp/exported_v" | sort -u >"$tmp/exported"

status=0
report() { # report TITLE FILE
    if [ -s "$2" ]; then
        echo "check-exports: $1:" >&2
        sed 's/^/  /' "$2" >&2
        status=1
    fi
}
grep -E '[*?]' "$tmp/map" >"$tmp/wild" || true
report "wildcards in $map (list each function by name)" "$tmp/wild"
comm -23 "$tmp/headers" "$tmp/exported" >"$tmp/d1"
report "declared in the headers but not exported by $lib" "$tmp/d1"
comm -13 "$tmp/headers" "$tmp/exported" >"$tmp/d2"
report "exported by $lib but declared in no header" "$tmp/d2"
comm -23 "$tmp/headers" "$tmp/map" >"$tmp/d3"
report "declared in the headers but missing from $map" "$tmp/d3"
comm -13 "$tmp/headers" "$tmp/map" >"$tmp/d4"
report "listed in $map but declared in no header" "$tmp/d4"
grep -v "@@$node\$" "$tmp/exported_v" >"$tmp/d5" || true
report "exported outside the version node $node" "$tmp/d5"

if [ $status -eq 0 ]; then
    echo "check-exports: $(wc -l <"$tmp/headers") functions, all exported in $node and nothing else"
fi
exit $status
