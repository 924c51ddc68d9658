#!/usr/bin/env bash
# Runs the file benchmark on corio (each backend), libuv, Tokio and Python's aiofiles, in one go.
# See bench/fs/README.md.
#
#   bench/fs/run.sh                 all three modes
#   bench/fs/run.sh files rand      only those
#
# Modes: files (read FS_FILES files of 4 KiB, each opened, read and closed, FS_FILES_INFLIGHT at
# a time), seq (read one FS_BIG_MIB MiB file from start to end in 1 MiB reads), rand (FS_RAND_N
# reads of 4 KiB at random offsets in that file, FS_RAND_INFLIGHT at a time). The page cache is
# warm: every file is read once before the first round.
#
# Environment:
#   FS_ROUNDS=5             rounds; in each, every system runs each mode once, in turns, and the
#                           median over the rounds is reported
#   FS_DIR=/var/tmp/corio-fsbench   where the files are made (once; a disk file system, not tmpfs)
#   FS_FILES=10000  FS_FILES_INFLIGHT=64  FS_BIG_MIB=1024  FS_RAND_N=100000  FS_RAND_INFLIGHT=1000
#   FS_IMPLS="corio-epoll corio-io_uring libuv tokio aiofiles"
#   FS_TIMEOUT=600          seconds before one run is killed (then recorded as failed)
#   BENCH_BUILD_DIR=build   corio's CMake build directory (as bench/run.sh: one that is not a
#                           plain Release build is left alone and build-bench/ is used)
#
# Every program takes "MODE N INFLIGHT PATH" and prints one line "<system> <mode> <n> <seconds>",
# the wall time of the work measured inside the program (start-up left out); it exits non-zero on
# any failure, a short read included.
#
# Writes bench/out/fs_raw.txt (one line per run) and fs.md (the table, for the README).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
# shellcheck source=bench/lib.sh
. bench/lib.sh

MODES=("$@")
[ ${#MODES[@]} -eq 0 ] && MODES=(files seq rand)
for m in "${MODES[@]}"; do
    case "$m" in files | seq | rand) ;; *)
        echo "usage: bench/fs/run.sh [files] [seq] [rand]" >&2
        exit 2
        ;;
    esac
done

REPS="${FS_ROUNDS:-5}"
DIR="${FS_DIR:-/var/tmp/corio-fsbench}"
FILES="${FS_FILES:-10000}"
FILES_INFLIGHT="${FS_FILES_INFLIGHT:-64}"
BIG_MIB="${FS_BIG_MIB:-1024}"
RAND_N="${FS_RAND_N:-100000}"
RAND_INFLIGHT="${FS_RAND_INFLIGHT:-1000}"
IMPLS="${FS_IMPLS:-corio-epoll corio-io_uring libuv tokio aiofiles}"
TIMEOUT="${FS_TIMEOUT:-600}"
BUILD_DIR="${BENCH_BUILD_DIR:-build}"
PY=/usr/bin/python3 # Debian's: python3-aiofiles is installed for it
OUT="$ROOT/bench/out"
RAW="$OUT/fs_raw.txt"
TMP="$OUT/.fs.$$"
mkdir -p "$OUT" "$TMP"
trap 'rm -rf "$TMP"' EXIT

has_impl() { [[ " $IMPLS " == *" $1 "* ]]; }

# ---- tools and programs ----

if has_impl libuv && ! pkg-config --exists libuv 2>/dev/null; then apt_install libuv1-dev pkg-config || true; fi
if has_impl aiofiles && ! "$PY" -c 'import aiofiles' 2>/dev/null; then apt_install python3-aiofiles || true; fi
if has_impl tokio && ! { command -v cargo >/dev/null && [ -d /usr/share/cargo/registry ] &&
    ls /usr/share/cargo/registry | grep -q '^tokio-[0-9]'; }; then
    apt_install cargo librust-tokio-dev || true
fi

declare -A CMD WHY
if has_impl corio-epoll || has_impl corio-io_uring; then
    BUILD_DIR="$(release_build_dir "$BUILD_DIR")"
    # Configured again first: a target CMake does not know yet is "no rule to make target".
    if cmake -S . -B "$BUILD_DIR" >"$TMP/build.log" 2>&1 &&
        cmake --build "$BUILD_DIR" -j"$(nproc)" --target fs_corio >"$TMP/build.log" 2>&1; then
        CMD[corio-epoll]="env CORIO_BACKEND=epoll $BUILD_DIR/bench/fs/fs_corio"
        CMD[corio-io_uring]="env CORIO_BACKEND=io_uring $BUILD_DIR/bench/fs/fs_corio"
    else
        WHY[corio-epoll]="fs_corio did not build: $(grep -m1 -E 'error|No rule' "$TMP/build.log" || true)"
        WHY[corio-io_uring]="${WHY[corio-epoll]}"
    fi
fi
if has_impl libuv; then
    # shellcheck disable=SC2046  # pkg-config's flags are word lists
    if cc -O2 -Wall -Wextra -o "$OUT/corio-fs-uv" bench/fs/fs_uv.c \
        $(pkg-config --cflags --libs libuv) >"$TMP/build.log" 2>&1; then
        CMD[libuv]="$OUT/corio-fs-uv"
    else
        WHY[libuv]="fs_uv.c did not build: $(head -c 300 "$TMP/build.log")"
    fi
fi
if has_impl tokio; then
    if bin="$(bash bench/fs/tokio_build.sh "$OUT" 2>"$TMP/build.log" | tail -n1)" && [ -x "$bin" ]; then
        CMD[tokio]="$bin"
    else
        WHY[tokio]="the Tokio program did not build: $(grep -m1 -E 'error' "$TMP/build.log" || true)"
    fi
fi
if has_impl aiofiles; then
    if "$PY" -c 'import aiofiles' 2>/dev/null; then
        CMD[aiofiles]="$PY bench/fs/fs_aiofiles.py"
    else
        WHY[aiofiles]="python3-aiofiles missing"
    fi
fi

# ---- the files ----

make_data() {
    mkdir -p "$DIR/files"
    if [ ! -f "$DIR/files/f$(printf %05d $((FILES - 1)))" ]; then
        log "bench: making $FILES files of 4 KiB in $DIR/files"
        "$PY" - "$DIR/files" "$FILES" <<'EOF'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
data = os.urandom(4096)
for i in range(n):
    with open(f"{d}/f{i:05d}", "wb") as f:
        f.write(data)
EOF
    fi
    if [ "$(stat -c %s "$DIR/big" 2>/dev/null || echo 0)" -ne $((BIG_MIB << 20)) ]; then
        log "bench: making a $BIG_MIB MiB file, $DIR/big"
        head -c $((BIG_MIB << 20)) /dev/urandom >"$DIR/big"
    fi
    # Warm: every page in the cache before the first round.
    cat "$DIR/big" >/dev/null
    find "$DIR/files" -type f -exec cat {} + >/dev/null
}
make_data

# ---- run ----

unset CORIO_STACK_SIZE CORIO_DEBUG CORIO_BACKEND
export PYTHONDONTWRITEBYTECODE=1

args_for() { # mode -> "N INFLIGHT PATH"
    case "$1" in
    files) echo "$FILES $FILES_INFLIGHT $DIR/files" ;;
    seq) echo "$BIG_MIB 1 $DIR/big" ;;
    rand) echo "$RAND_N $RAND_INFLIGHT $DIR/big" ;;
    esac
}

record() { echo "RUN $*" >>"$RAW"; }

{
    echo "# corio file benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "# host: $(host_info); not pinned (the thread pools of corio's epoll backend, libuv and Tokio use both CPUs)"
    echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# corio: $(corio_commit); libuv: $(pkg-config --modversion libuv 2>/dev/null || echo none); tokio: $(ls /usr/share/cargo/registry 2>/dev/null | grep -m1 '^tokio-[0-9]' || echo none); aiofiles: $("$PY" -c 'import aiofiles, importlib.metadata as m; print(m.version("aiofiles"))' 2>/dev/null || echo none)"
    echo "# files in $DIR ($(df -T "$DIR" | awk 'NR==2 {print $2}')), page cache warm"
    envs=""
    for v in FS_ROUNDS FS_FILES FS_FILES_INFLIGHT FS_BIG_MIB FS_RAND_N FS_RAND_INFLIGHT FS_IMPLS; do
        [ -n "${!v:-}" ] && envs+="$v=\"${!v}\" "
    done
    echo "# command: ${envs}bench/fs/run.sh ${*:-}"
} >"$RAW"

for impl in $IMPLS; do
    if [ -z "${CMD[$impl]:-}" ]; then
        why="${WHY[$impl]:-unknown system}"
        log "bench: $impl is left out: $why"
        for mode in "${MODES[@]}"; do
            record "round=0 mode=$mode impl=$impl status=unavailable why=\"${why//\"/\'}\""
        done
    fi
done

# The systems take turns within each round, so that a busy spell of the machine spreads over all
# of them instead of falling on one.
t_start=$SECONDS
for round in $(seq 1 "$REPS"); do
    for mode in "${MODES[@]}"; do
        read -r n inflight path <<<"$(args_for "$mode")"
        for impl in $IMPLS; do
            cmd="${CMD[$impl]:-}"
            [ -n "$cmd" ] || continue
            set +e
            # shellcheck disable=SC2086  # cmd is a word list on purpose
            timeout "$TIMEOUT" $cmd "$mode" "$n" "$inflight" "$path" >"$TMP/out" 2>"$TMP/err"
            rc=$?
            set -e
            line="$(cat "$TMP/out")"
            secs=""
            if [ $rc -eq 0 ] && [ "$(wc -l <"$TMP/out")" -eq 1 ] &&
                [[ "$line" =~ ^$impl\ $mode\ $n\ ([0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?)$ ]]; then
                secs="${BASH_REMATCH[1]}"
            fi
            if [ -z "$secs" ] || ! awk -v s="$secs" 'BEGIN { exit !(s > 0) }'; then
                log "bench: round $round $mode $impl FAILED (exit $rc): stdout '$(head -c 200 "$TMP/out")'," \
                    "stderr '$(head -c 300 "$TMP/err")'"
                record "round=$round mode=$mode impl=$impl n=$n inflight=$inflight status=failed exit=$rc"
                continue
            fi
            log "  round $round/$REPS: $line"
            record "round=$round mode=$mode impl=$impl n=$n inflight=$inflight status=ok seconds=$secs"
        done
    done
done
log "bench: the runs took $((SECONDS - t_start)) s"
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$RAW"

"$PY" bench/fs/report.py "$RAW" "$OUT"
