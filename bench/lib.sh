# shellcheck shell=bash
# Shell helpers shared by bench/run.sh and bench/net/run.sh (sourced, not run).

log() { printf '%s\n' "$*" >&2; }

apt_install() {
    log "bench: installing Debian packages: $*"
    if [ "$(id -u)" -ne 0 ]; then
        log "bench: not root, cannot install $* (apt-get install $*)"
        return 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2 ||
        { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2; }
}

# A build directory that does not exist yet, or one configured Release without instrumentation.
plain_release() {
    local c="$1/CMakeCache.txt"
    [ -f "$c" ] || return 0
    grep -Eq '^CMAKE_BUILD_TYPE:[A-Z]+=Release$' "$c" &&
        ! grep -Eq -e '^CORIO_SANITIZE:[A-Z]+=.+$' -e '^CORIO_POOL:[A-Z]+=OFF$' \
            -e '^CORIO_CONTEXT:[A-Z]+=ucontext$' -e '^CORIO_COVERAGE:[A-Z]+=ON$' "$c"
}

# Prints the build directory to use instead of $1, configured as a plain Release build: the
# benches must run optimised and uninstrumented, so a directory configured otherwise (Debug,
# sanitizers, pools off, ucontext) is left alone and build-bench/ is used instead.
release_build_dir() {
    local dir="$1"
    if ! plain_release "$dir"; then
        log "bench: $dir/ is not a plain Release build; using build-bench/ instead"
        dir=build-bench
    fi
    if [ ! -f "$dir/CMakeCache.txt" ]; then
        log "bench: configuring $dir/ (Release)"
        cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release >&2
    fi
    echo "$dir"
}

# Builds Go's program in directory $1 into $2; Go's caches go under $3, as HOME may not be
# writable (CI). No dependencies.
go_build() {
    (cd "$1" && GOCACHE="$3/go-cache" GOPATH="$3/go-path" GOFLAGS=-mod=mod go build -o "$2" .) >&2
}

host_info() {
    echo "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $(nproc) CPUs, Linux $(uname -r)"
}

# The corio commit, marked when src/ or include/ differ from it.
corio_commit() {
    local commit
    commit="$(git rev-parse --short HEAD 2>/dev/null || echo '?')"
    git diff --quiet HEAD -- src include 2>/dev/null || commit="$commit+uncommitted changes"
    echo "$commit"
}

# "python: .., uvloop: .., go: .." for the Python interpreter $1.
versions_info() {
    local pyver uvver gover
    pyver="$("$1" -c 'import sys; print(sys.version.split()[0])')"
    uvver="$("$1" -c 'import uvloop; print(uvloop.__version__)' 2>/dev/null || echo none)"
    gover="$(go version 2>/dev/null | awk '{print $3}' || echo none)"
    echo "python: $pyver, uvloop: $uvver, go: $gover"
}
