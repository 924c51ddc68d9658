#!/usr/bin/env bash
# Prints the functions the public headers declare, one per line, sorted: every non-static
# function declared in include/ (static inline helpers are not exported and not listed).
#
#   scripts/api-functions.sh [INCLUDE_DIR] [CC]
#
# gcc's -aux-info writes the prototype of every function a translation unit declares, with the
# file it came from, so the list is the compiler's reading of the headers, not a regex's.
set -euo pipefail

inc="${1:-$(dirname "${BASH_SOURCE[0]}")/../include}"
cc="${2:-gcc}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo '#include <corio.h>' >"$tmp/all.c"
"$cc" -std=gnu11 -I"$inc" -fsyntax-only -aux-info "$tmp/aux.txt" "$tmp/all.c"
# Lines look like: /* /path/include/corio/loop.h:60:NC */ extern int corio_loop_new (...);
grep -E '^/\* [^ ]*/corio(\.h|/[a-z_]+\.h):' "$tmp/aux.txt" |
    grep -v '\*/ static ' |
    sed -E 's/.*[ *](corio_[a-z0-9_]+) \(.*/\1/' |
    sort -u
