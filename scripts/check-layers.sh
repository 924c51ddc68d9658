#!/usr/bin/env bash
# Checks that no folder of src/ references a symbol defined in a folder above it, or in another
# folder of the same rank (docs/layers.md). It reads the object files of a build with nm: each
# defined global symbol belongs to the folder of the object that defines it, and every undefined
# symbol of an object is looked up there. Symbols defined nowhere in src/ (libc, liburing, the
# sanitizer runtimes) are not the check's business. It also checks the sources for the one thing
# nm cannot see: that each layer's part of the loop (runtime/loop_parts.h) is touched by that
# layer's folder only.
#
#   scripts/check-layers.sh BUILD_DIR [NM]      (ctest runs it as check_layers)
set -euo pipefail

build="${1:?usage: check-layers.sh BUILD_DIR [NM]}"
nm="${2:-nm}"
objdir="$build/CMakeFiles/corio_objects.dir/src"

# The layers, lowest first. A folder may use the symbols of folders of a lower rank only; folders
# of one rank are siblings and use none of each other's. thread is below stream because
# stream/resolve.c uses thread/'s getaddrinfo. A new folder must be given a rank here.
ranks='
base    0   allocator, pools, lists, errors, misuse checks
ctx     1   fibers, stacks
poll    2   the poller: fds, masks, completion records
loop    3   the loop core: ready queue, timers, inbox, handles
task    4   futures, tasks, sleep, gather
combine 5   shield, wait, timeouts, TaskGroup
sync    5   Lock, Event, Queue, ...
io      5   I/O requests over the poller
thread  5   executor, threadsafe calls, getaddrinfo
tls     6   TLS sessions on a socket (OpenSSL)
signal  6   signal handlers and watchers
fs      6   files: the io_uring operations or the executor, copies for compact tasks
stream  7   streams and servers
proc    8   child processes
runtime 9   loop creation and close, corio_run
'

shopt -s nullglob
objects=("$objdir"/*/*.o)
if [ "${#objects[@]}" -eq 0 ]; then
    echo "check-layers: no object files under $objdir (build the library first)" >&2
    exit 1
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "$ranks" >"$tmp/ranks"
# "OBJECT: NAME TYPE [VALUE SIZE]" for every global symbol; U (and weak w, v) are references, any
# other type a definition. nm's warning about an object with no symbols (the other
# architecture's switch) is dropped, not its errors.
"$nm" -P -g -A "${objects[@]}" >"$tmp/nm" 2>"$tmp/nm.err" || {
    cat "$tmp/nm.err" >&2
    exit 1
}
grep -v ': no symbols$' "$tmp/nm.err" >&2 || true

status=0
awk -v objdir="$objdir/" -v nobj="${#objects[@]}" '
    FNR == 1 { file++ }
    file == 1 { if (NF >= 2) rank[$1] = $2; next }
    {
        # The object, its folder, the symbol and its type (the object path ends with ": ").
        i = index($0, ": ")
        obj = substr($0, 1, i - 1)
        split(substr($0, i + 2), f, " ")
        folder = substr(obj, length(objdir) + 1)
        sub("/.*", "", folder)
        if (!(folder in rank)) {
            unranked[folder] = 1
            next
        }
        if (f[2] == "U" || f[2] == "w" || f[2] == "v") {
            if (file == 3)
                refs[++nrefs] = f[1] " " folder " " obj
        } else if (file == 2 && !(f[1] in at)) {
            at[f[1]] = folder
        }
    }
    END {
        for (u in unranked) {
            printf "check-layers: src/%s has no rank in scripts/check-layers.sh\n", u > "/dev/stderr"
            bad++
        }
        for (i = 1; i <= nrefs; i++) {
            split(refs[i], r, " ")
            sym = r[1]; from = r[2]; obj = r[3]
            if (!(sym in at))
                continue
            used++
            to = at[sym]
            if (from == to || rank[to] < rank[from])
                continue
            why = rank[to] > rank[from] ? "a folder above it" : "a folder of the same rank"
            printf "check-layers: src/%s (src/%s, rank %d) uses %s of src/%s (rank %d): %s\n",
                   substr(obj, length(objdir) + 1), from, rank[from], sym, to, rank[to],
                   why > "/dev/stderr"
            bad++
        }
        if (bad) {
            printf "check-layers: %d violation(s) of the layer order (docs/layers.md)\n",
                   bad > "/dev/stderr"
            exit 1
        }
        nf = 0
        for (k in rank) nf++
        printf "%d objects in %d ranked folders, %d references to symbols of src/, none upward " \
               "or sideways", nobj, nf, used
    }' "$tmp/ranks" "$tmp/nm" "$tmp/nm" >"$tmp/summary" || status=1

# The parts of the loop, by their member in struct corio_loop, and the folder that owns each.
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/../src" && pwd)"
grep -rnoE --include='*.c' --include='*.h' -- '->(core|task|io|thread|sig|proc)\.' "$src" |
    awk -v src="$src/" '
        BEGIN { owner["core"] = "loop"; owner["task"] = "task"; owner["io"] = "io"
                owner["thread"] = "thread"; owner["sig"] = "signal"; owner["proc"] = "proc" }
        {
            split($0, f, ":")
            file = substr(f[1], length(src) + 1)
            folder = file
            sub("/.*", "", folder)
            part = f[3]
            gsub(/[->.]/, "", part)
            if (folder == owner[part])
                next
            printf "check-layers: src/%s:%s touches the loop'"'"'s %s part, which is src/%s'"'"'s\n",
                   file, f[2], part, owner[part] > "/dev/stderr"
            bad++
        }
        END { exit bad ? 1 : 0 }' || status=1
[ "$status" -eq 0 ] || exit 1
echo "check-layers: ok: $(cat "$tmp/summary"); each part of the loop touched by its own layer only"
