#!/usr/bin/env bash
# Installs the Debian packages a make target needs, and only those that are missing.
#
#   scripts/deps.sh TARGET...     (demo, check, valgrind, coverage, fuzz, bench, aarch64)
#
# As root, missing packages are installed with apt-get (non-interactive) and named first. Otherwise
# the script names them and fails. On a system without dpkg it checks nothing and trusts the user.
set -euo pipefail

# Debian package names per target. liburing-dev joins "build" with the io_uring backend;
# libssl-dev (OpenSSL 3) is TLS's. The tests' TLS peers: openssl (s_server, s_client) and
# python3 (its ssl module).
build_pkgs="gcc libc6-dev make cmake libssl-dev"
peer_pkgs="openssl python3"
declare -A pkgs=(
    [demo]="$build_pkgs"
    [install]="$build_pkgs pkg-config liburing-dev"
    [check]="$build_pkgs g++ pkg-config libcriterion-dev liburing-dev $peer_pkgs"
    [valgrind]="$build_pkgs pkg-config libcriterion-dev liburing-dev valgrind $peer_pkgs"
    [coverage]="$build_pkgs pkg-config libcriterion-dev liburing-dev gcovr $peer_pkgs"
    [fuzz]="$build_pkgs pkg-config liburing-dev clang libclang-rt-dev" # libFuzzer and the sanitizer runtimes
    [bench]="$build_pkgs pkg-config liburing-dev libuv1-dev" # the bench scripts install python3-uvloop, golang-go, wrk... themselves
    [aarch64]="$build_pkgs g++ pkg-config gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user $peer_pkgs"
)

if [ $# -eq 0 ]; then
    echo "usage: $0 TARGET... (one of: ${!pkgs[*]})" >&2
    exit 2
fi

wanted=()
for target in "$@"; do
    if [ -z "${pkgs[$target]+x}" ]; then
        echo "corio: deps.sh: unknown target '$target' (known: ${!pkgs[*]})" >&2
        exit 2
    fi
    # shellcheck disable=SC2206 # word splitting of the package list is intended
    wanted+=(${pkgs[$target]})
done

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "corio: not a Debian system; make sure these are installed: ${wanted[*]}" >&2
    exit 0
fi

# Installed for this machine's architecture (or architecture-independent)? dpkg -s alone would
# also accept removed packages whose config files remain, and a foreign-architecture copy
# (libcriterion-dev:arm64 does not build amd64 tests).
native="$(dpkg --print-architecture)"
installed() {
    # One line per installed architecture. Not piped into grep -q: with pipefail, dpkg-query
    # dying of SIGPIPE after an early match would count as "missing".
    local states
    states="$(dpkg-query -W -f='${Status} ${Architecture}\n' "$1" 2>/dev/null || true)"
    grep -qxE "install ok installed ($native|all)" <<<"$states"
}

missing=()
for p in "${wanted[@]}"; do
    if ! installed "$p"; then
        case " ${missing[*]-} " in *" $p "*) ;; *) missing+=("$p") ;; esac
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "corio: missing Debian packages: ${missing[*]}" >&2
    echo "corio: install them with: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi

echo "corio: installing missing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
