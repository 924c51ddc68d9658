#!/usr/bin/env bash
# Every public header compiles alone, as C11 and as C++, with -Wall -Wextra -pedantic -Werror,
# and uses no compiler builtins (docs/conventions.md, row "headers"). ctest: check_headers.
#
#   tests/check_headers.sh CC CXX
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cc="${1:-cc}"
cxx="${2:-c++}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failed=0

if ! command -v "$cxx" >/dev/null 2>&1; then
    echo "check_headers: no C++ compiler '$cxx' (Debian: g++; scripts/deps.sh check installs it)" >&2
    exit 1
fi

cd "$root/include"
headers=(corio.h corio/*.h)
for h in "${headers[@]}"; do
    printf '#include <%s>\nint corio_header_alone_check;\n' "$h" >"$tmp/one.c"
    for std in c11 c17; do
        if ! "$cc" -std="$std" -Wall -Wextra -pedantic -Werror -I"$root/include" -fsyntax-only \
            -x c "$tmp/one.c" 2>"$tmp/err"; then
            echo "FAIL $h as $std:" && cat "$tmp/err"
            failed=1
        fi
    done
    for std in c++11 c++17; do
        if ! "$cxx" -std="$std" -Wall -Wextra -pedantic -Werror -I"$root/include" -fsyntax-only \
            -x c++ "$tmp/one.c" 2>"$tmp/err"; then
            echo "FAIL $h as $std:" && cat "$tmp/err"
            failed=1
        fi
    done
    # Builtins and attributes tie a header to gcc and clang; a comment may name them.
    if sed -e 's|/\*.*\*/||g' "$h" | grep -nE '__builtin|__attribute__|__typeof__|__extension__' \
        >"$tmp/builtins"; then
        echo "FAIL $h uses a compiler builtin:" && cat "$tmp/builtins"
        failed=1
    fi
done

# C++ linkage: every function of corio.h is declared extern "C" (a C++ program must link
# against the C library).
cat >"$tmp/link.cc" <<'CXX'
#include <corio.h>
int main() { return corio_strerror(0)[0] == 's' ? 0 : 1; }
CXX
if ! "$cxx" -std=c++11 -I"$root/include" -c "$tmp/link.cc" -o "$tmp/link.o" 2>"$tmp/err"; then
    echo "FAIL C++ program:" && cat "$tmp/err"
    failed=1
elif nm "$tmp/link.o" | grep -q '_Z.*corio_strerror'; then
    echo "FAIL corio_strerror has C++ linkage in a C++ program (missing extern \"C\")"
    failed=1
fi

[ $failed -eq 0 ] && echo "check_headers: ${#headers[@]} headers alone as c11, c17, c++11, c++17: ok"
exit $failed
