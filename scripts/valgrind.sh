#!/usr/bin/env bash
# Runs every test executable of a build directory under Valgrind memcheck.
#
#   scripts/valgrind.sh BUILD_DIR [TEST_NAME...]
#
# Criterion runs each test in a child process and ignores the child's exit status once the test has
# reported, so --error-exitcode alone would let errors and leaks through. Every process therefore
# logs to its own file, and an executable fails when any of its logs has a non-zero ERROR SUMMARY
# (definite and indirect leaks count as errors) or the executable itself fails.
#
# VALGRIND_JOBS (default: the number of CPUs) executables run at once; VALGRIND_TIMEOUT (seconds,
# default 900) bounds each one. VALGRIND_ORIGINS=1 adds --track-origins=yes, which says where an
# uninitialised value came from: off by default, as it makes the whole run about a third slower
# (CI's longest step) and is needed only to explain an error already found. Tests that deliberately fault, or that are too slow under memcheck,
# skip themselves when RUNNING_ON_VALGRIND (<valgrind/valgrind.h>, CORIO_HAVE_VALGRIND_H).
set -euo pipefail

build="${1:?usage: $0 BUILD_DIR [TEST_NAME...]}"
shift
jobs_max="${VALGRIND_JOBS:-$(nproc 2>/dev/null || echo 2)}"
limit="${VALGRIND_TIMEOUT:-900}"
origins=no
[ "${VALGRIND_ORIGINS:-0}" != 0 ] && origins=yes
logs="$build/valgrind"
rm -rf "$logs"
mkdir -p "$logs"

# Names are ctest's: an I/O test registered once per backend is NAME_epoll / NAME_io_uring, the
# executable NAME run with CORIO_BACKEND set (see CMakeLists.txt).
if [ $# -gt 0 ]; then
    tests=()
    for name in "$@"; do tests+=("$build/tests/$name"); done
else
    # The tests ctest knows, not every test_* file: a test whose source is gone leaves its
    # executable behind in the build directory.
    # Left out under Valgrind, for CI's time:
    #  - a process test's _sigchld twin: with no pidfd_open in Valgrind, its epoll variant already
    #    takes the SIGCHLD path; and its io_uring variant, which only skips (tests/process_helpers.h)
    #    while paying Criterion's start-up under memcheck. The TLS tests have peer processes too
    #    and skip io_uring for the same reason (tests/tls_helpers.h).
    #  - every io_uring variant (NAME_io_uring): Valgrind does not see what the kernel writes
    #    into a ring's buffers (corio marks them defined itself), so memcheck adds little there
    #    to ASan's run of the same tests, which checks those paths for errors and leaks on both
    #    backends. Each test process costs about a second of memcheck's start-up, the io_uring
    #    variants a tenth of the run.
    #  - the reader's and writer's tests over the TLS relay (_tls): the TLS code under them is
    #    checked by the test_stream_tls_* files.
    mapfile -t tests < <(ctest --test-dir "$build" -N 2>/dev/null |
        sed -nE 's/^ *Test +#[0-9]+: ((test|standalone)_[A-Za-z0-9_]+)$/\1/p' |
        grep -vE '_(sigchld|tls|io_uring)$' | sort |
        while read -r name; do echo "$build/tests/$name"; done)
fi
if [ ${#tests[@]} -eq 0 ]; then
    echo "corio: no test executables in $build/tests" >&2
    exit 1
fi

# Runs one test; its output goes to $logs/NAME.out, its verdict to $logs/NAME.verdict.
run_one() {
    local exe="$1" name status=0 started=$SECONDS bad backend="" pidfd="${CORIO_PIDFD:-}"
    name="$(basename "$exe")"
    if [[ ! -x "$exe" && "$name" =~ ^(.*)_(epoll|io_uring)$ ]]; then
        exe="$(dirname "$exe")/${BASH_REMATCH[1]}"
        backend="${BASH_REMATCH[2]}"
    elif [[ ! -x "$exe" && "$name" =~ ^(.*)_tls$ ]]; then
        # The stream tests over the TLS relay (tests/stream_helpers.h), when named.
        exe="$(dirname "$exe")/${BASH_REMATCH[1]}"
        export CORIO_STREAM_TLS=1
    elif [[ ! -x "$exe" && "$name" =~ ^(.*)_sigchld$ ]]; then
        # The process tests' SIGCHLD variant (CMakeLists.txt): epoll, without pidfds.
        exe="$(dirname "$exe")/${BASH_REMATCH[1]}"
        backend=epoll
        pidfd=0
    fi
    # Each test process pays memcheck's start-up, about 1.5 s here, most of the step's time:
    # without inlined frames in reports and without chasing branches while translating it
    # costs 13% less (8 test executables: 45-46 s against 39-40 s); neither changes what is
    # checked.
    # Children are traced (tests run the examples) except the system's programs that the
    # process tests spawn: they are not corio's to check, and one killed by a signal leaves no
    # summary.
    local vg=("$(command -v valgrind)" --tool=memcheck
        --trace-children=yes --trace-children-skip='/bin/*,/usr/*'
        --error-exitcode=99 --leak-check=full
        --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect
        --track-origins="$origins" --num-callers=30
        --read-inline-info=no --vex-guest-chase=no
        --log-file="$logs/$name.%p.log")
    local run=("${vg[@]}" "$exe")
    if [[ "$name" == test_* ]]; then
        # Criterion's runner runs natively and starts each test under Valgrind
        # (cmake/valgrind_exec_shim.c).
        run=(env LD_PRELOAD="$build/tests/libcorio_valgrind_exec_shim.so"
            CORIO_VALGRIND_ARGS="$(printf '%s\n' "${vg[@]}")" "$exe")
    fi
    {
        # One test at a time inside the executable, as under ctest (see CRITERION_JOBS in
        # CMakeLists.txt).
        CRITERION_JOBS=1 CORIO_BACKEND="${backend:-${CORIO_BACKEND:-}}" CORIO_PIDFD="$pidfd" \
            timeout --kill-after=10 "$limit" "${run[@]}" || status=$?
        # A log with Valgrind's banner and nothing else is a child that exec'd a program
        # Valgrind skips (the children of posix_spawn): it left before it could go wrong.
        bad="$(for log in "$logs/$name".*.log; do
            grep -q 'ERROR SUMMARY: 0 errors' "$log" ||
                ! grep -qvE '^==[0-9]+== ?(Memcheck,|Copyright|Using Valgrind|Command:|Parent PID:|$)' \
                    "$log" || echo "$log"
        done)"
        # The skip above must never take the tests themselves, nor may the shim miss them: a
        # Criterion executable has at least one test process's log, with its summary.
        if [[ "$name" == test_* ]] &&
            [ "$(grep -l 'ERROR SUMMARY' "$logs/$name".*.log 2>/dev/null | wc -l)" -lt 1 ]; then
            echo "corio: valgrind: $name: its tests did not run under Valgrind"
            status=98
        fi
        if [ $status -eq 0 ] && [ -z "$bad" ]; then
            echo "ok $((SECONDS - started))" >"$logs/$name.verdict"
        else
            if [ $status -eq 124 ] || [ $status -eq 137 ]; then
                echo "corio: valgrind: $name did not finish within $limit s"
            else
                echo "corio: valgrind: $name failed (exit status $status)"
            fi
            for log in $bad; do
                echo "---- $log"
                cat "$log"
            done
            echo "FAILED $((SECONDS - started))" >"$logs/$name.verdict"
        fi
    } >"$logs/$name.out" 2>&1
}

for exe in "${tests[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n || true; done
    run_one "$exe" &
done
wait

failed=()
for exe in "${tests[@]}"; do
    name="$(basename "$exe")"
    read -r verdict secs <"$logs/$name.verdict"
    echo "== valgrind $name: $verdict ($secs s)"
    if [ "$verdict" != ok ]; then
        failed+=("$name")
        cat "$logs/$name.out" >&2
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "corio: valgrind found problems in: ${failed[*]} (logs in $logs/)" >&2
    [ "$origins" = yes ] ||
        echo "corio: for where an uninitialised value came from: VALGRIND_ORIGINS=1 $0 $build ${failed[*]}" >&2
    exit 1
fi
echo "corio: valgrind: ${#tests[@]} test executables clean"
