#!/bin/sh
# Cross-builds corio's context layer and the given Criterion tests for aarch64 and runs them under
# qemu-user. Exits non-zero if anything fails.
#
#   scripts/check-aarch64.sh                     # the fiber and stack tests
#   scripts/check-aarch64.sh tests/test_foo.c... # any test sources (each linked with src/ctx, or
#                                                # with all of src/ when CORIO_AARCH64_ALL_SRC=1)
#
# Installs what is missing (as root, via apt-get) and says so:
#   - gcc-aarch64-linux-gnu, qemu-user, qemu-user-binfmt
#   - libc6-dev:arm64 (multi-arch, installs beside the host's libc)
# Criterion's arm64 packages cannot be installed beside the amd64 ones (libcriterion-dev and
# libnanomsg5 are not co-installable: installing them removes the host's Criterion), so the arm64
# libcriterion3 and libnanomsg5 .debs are downloaded and unpacked into a private sysroot instead.
# Criterion runs each test in a re-executed child, so the kernel must run aarch64 binaries itself:
# the qemu-aarch64 binfmt_misc entry is registered if it is missing.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${CORIO_AARCH64_OUT:-$ROOT/build-aarch64}
SYSROOT=$OUT/sysroot
CC=${CC_AARCH64:-aarch64-linux-gnu-gcc}
LIBDIR=$SYSROOT/usr/lib/aarch64-linux-gnu

say() { printf 'check-aarch64: %s\n' "$*" >&2; }
need_root() {
    if [ "$(id -u)" != 0 ]; then say "need root to $1"; exit 1; fi
}

apt_updated=
apt_install() {
    need_root "install $*"
    say "installing $*"
    if [ -z "$apt_updated" ]; then apt-get update -qq; apt_updated=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

command -v "$CC" >/dev/null 2>&1 || apt_install gcc-aarch64-linux-gnu
command -v qemu-aarch64 >/dev/null 2>&1 || apt_install qemu-user
[ -f /usr/lib/binfmt.d/qemu-aarch64.conf ] || apt_install qemu-user-binfmt
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    need_root "add the arm64 architecture"
    say "dpkg --add-architecture arm64"
    dpkg --add-architecture arm64
    apt_updated=
fi
[ -e /lib/ld-linux-aarch64.so.1 ] || apt_install libc6:arm64 libc6-dev:arm64

# Criterion for arm64, unpacked privately.
if [ ! -e "$LIBDIR/libcriterion.so.3" ]; then
    mkdir -p "$OUT/debs" "$SYSROOT"
    say "downloading libcriterion3:arm64 and its non-co-installable dependencies into $SYSROOT"
    [ -n "$apt_updated" ] || { apt-get update -qq; apt_updated=1; }
    (cd "$OUT/debs" && apt-get download -qq libcriterion3:arm64 libnanomsg5:arm64 \
        libgit2-1.5:arm64 libhttp-parser2.9:arm64 libmbedtls14:arm64 libmbedx509-1:arm64 \
        libmbedcrypto7:arm64 libssh2-1:arm64 libffi8:arm64 libpcre2-8-0:arm64 zlib1g:arm64 \
        libgssapi-krb5-2:arm64 libkrb5-3:arm64 libk5crypto3:arm64 libkrb5support0:arm64 \
        libcom-err2:arm64 libkeyutils1:arm64 libssl3:arm64)
    for d in "$OUT"/debs/*.deb; do dpkg-deb -x "$d" "$SYSROOT"; done
fi

# Let the kernel start aarch64 binaries through qemu (Criterion re-executes itself per test).
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    need_root "register the qemu-aarch64 binfmt handler"
    if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
        say "mounting binfmt_misc"
        mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
    fi
    say "registering qemu-aarch64 with binfmt_misc"
    cat /usr/lib/binfmt.d/qemu-aarch64.conf >/proc/sys/fs/binfmt_misc/register
fi

if [ $# -eq 0 ]; then
    set -- "$ROOT"/tests/test_fiber_*.c "$ROOT"/tests/test_stack_*.c
fi

if [ "${CORIO_AARCH64_ALL_SRC:-0}" = 1 ]; then
    LIB_SRC=$(ls "$ROOT"/src/*/*.c "$ROOT"/src/*/*.S)
else
    LIB_SRC=$(ls "$ROOT"/src/ctx/*.c "$ROOT"/src/ctx/*.S)
fi

mkdir -p "$OUT/bin"
fail=0
for t in "$@"; do
    name=$(basename "$t" .c)
    exe=$OUT/bin/$name
    say "build $name"
    # shellcheck disable=SC2086
    if ! "$CC" -std=gnu11 -O2 -g -Wall -Wextra -I"$ROOT/include" -I"$ROOT/src" \
        $LIB_SRC "$t" -o "$exe" -L"$LIBDIR" -Wl,-rpath-link,"$LIBDIR" -l:libcriterion.so.3 \
        -lpthread; then
        fail=1
        continue
    fi
    say "run $name (qemu-aarch64)"
    if ! env QEMU_LD_PREFIX=/ LD_LIBRARY_PATH="$LIBDIR" timeout 600 "$exe"; then
        say "FAIL $name"
        fail=1
    fi
done
[ $fail = 0 ] && say "all passed" || say "some failed"
exit $fail
