#!/usr/bin/env bash
# Installs the build into a scratch prefix and builds programs against it the ways the README's
# "Install and link" section describes: pkg-config with an rpath, a static link, and CMake's
# find_package. Each program runs a task normally, then a task with a 1 MiB frame, which must end
# in the named overflow report: the flags corio passes on (-fstack-clash-protection) reach the
# user's code. pkg-config --cflags must work where liburing's own .pc file is not visible.
# ctest: install_check.
#
#   tests/install_check.sh BUILD_DIR CC
set -euo pipefail

build="$(cd "$1" && pwd)"
cc="${2:-cc}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
failed=0
fail() { echo "FAIL: $*"; failed=1; }

cmake --install "$build" --prefix "$prefix" >"$tmp/install.log"
pcdir="$(dirname "$(find "$prefix" -name corio.pc | head -n 1)")"
libdir="$(dirname "$pcdir")"

cat >"$tmp/prog.c" <<'C'
#include <corio.h>
#include <stdint.h>
#include <stdio.h>

__attribute__((noinline)) static long big_frame(void)
{
    volatile char buf[1 << 20];
    buf[0] = 1;
    buf[sizeof buf - 1] = 2;
    return buf[0] + buf[sizeof buf - 1];
}

static void *main_task(void *arg)
{
    if (arg)
        return (void *)(intptr_t)big_frame();
    int rc = corio_sleep(0.001);
    return (void *)(intptr_t)(rc == 0 ? 42 : rc);
}

int main(int argc, char **argv)
{
    (void)argv;
    void *result = NULL;
    int rc = corio_run(main_task, argc > 1 ? (void *)1 : NULL, &result, NULL);
    printf("corio %d.%d: rc %d result %ld\n", CORIO_VERSION_MAJOR, CORIO_VERSION_MINOR, rc,
           (long)(intptr_t)result);
    return rc < 0;
}
C

# Runs PROGRAM twice: a plain run prints result 42; a run with the big frame must abort with the
# report naming corio_run's main task.
check_program() { # check_program LABEL PROGRAM
    local out status=0
    out="$("$2" 2>&1)" || status=$?
    [[ $status -eq 0 && "$out" == *"rc 0 result 42"* ]] || fail "$1: plain run: status $status: $out"
    status=0
    out="$("$2" big 2>&1)" || status=$?
    [[ $status -eq 134 && "$out" == *"corio: stack overflow in task 'main'"* ]] ||
        fail "$1: 1 MiB frame: status $status (want 134, SIGABRT): $out"
}

# pkg-config, looking only at the scratch prefix: liburing.pc is out of sight, as on a system
# without liburing-dev.
export PKG_CONFIG_LIBDIR="$pcdir"
cflags="$(pkg-config --cflags corio)" || fail "pkg-config --cflags corio"
[[ "$cflags" == *-fstack-clash-protection* ]] || fail "pkg-config --cflags lacks -fstack-clash-protection: $cflags"
libs="$(pkg-config --libs corio)"
# shellcheck disable=SC2086 # word splitting of the flags is intended
"$cc" -O2 $cflags "$tmp/prog.c" -o "$tmp/prog_shared" $libs -Wl,-rpath,"$libdir" ||
    fail "build with pkg-config"
[ -x "$tmp/prog_shared" ] && check_program "pkg-config, shared" "$tmp/prog_shared"

# Static: libcorio.a named explicitly, then what pkg-config --static adds (liburing, pthread).
static_libs="$(pkg-config --static --libs-only-l --libs-only-other corio | sed 's/-lcorio//')"
# shellcheck disable=SC2086
"$cc" -O2 $cflags "$tmp/prog.c" -o "$tmp/prog_static" "$libdir/libcorio.a" $static_libs ||
    fail "static build"
if [ -x "$tmp/prog_static" ]; then
    ldd "$tmp/prog_static" | grep -q libcorio && fail "the static program loads libcorio.so"
    check_program "static" "$tmp/prog_static"
fi
unset PKG_CONFIG_LIBDIR

# CMake's find_package: the flag comes from the corio::corio target's interface.
mkdir -p "$tmp/cmake_user"
cp "$tmp/prog.c" "$tmp/cmake_user/prog.c"
cat >"$tmp/cmake_user/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.16)
project(corio_user C)
find_package(corio 0.2 REQUIRED)
add_executable(prog prog.c)
target_link_libraries(prog corio::corio)
CMAKE
if cmake -S "$tmp/cmake_user" -B "$tmp/cmake_user/build" -DCMAKE_C_COMPILER="$cc" \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >"$tmp/cmake.log" 2>&1 &&
    cmake --build "$tmp/cmake_user/build" >>"$tmp/cmake.log" 2>&1; then
    check_program "find_package" "$tmp/cmake_user/build/prog"
else
    fail "find_package build:" && cat "$tmp/cmake.log"
fi

[ $failed -eq 0 ] && echo "install_check: pkg-config (shared, static) and find_package programs: ok"
exit $failed
