#!/usr/bin/env bash
# Runs every test executable of a build directory under Valgrind memcheck.
#
#   scripts/valgrind.sh BUILD_DIR [TEST_NAME...]
#
# Criterion runs each test in a child process and ignores the child's exit status once the test has
# reported, so --error-exitcode alone would let errors and leaks through. Every process therefore
# logs to its own file, and a run fails when any log's ERROR SUMMARY is not zero (definite and
# indirect leaks count as errors) or the test executable itself fails.
set -euo pipefail

build="${1:?usage: $0 BUILD_DIR [TEST_NAME...]}"
shift
logs="$build/valgrind"
rm -rf "$logs"
mkdir -p "$logs"

if [ $# -gt 0 ]; then
    tests=()
    for name in "$@"; do tests+=("$build/tests/$name"); done
else
    mapfile -t tests < <(find "$build/tests" -maxdepth 1 -type f -name 'test_*' -perm -u+x | sort)
fi
if [ ${#tests[@]} -eq 0 ]; then
    echo "corio: no test executables in $build/tests" >&2
    exit 1
fi

failed=()
for exe in "${tests[@]}"; do
    name="$(basename "$exe")"
    echo "== valgrind $name"
    status=0
    # One test at a time, as under ctest (see CRITERION_JOBS in CMakeLists.txt).
    CRITERION_JOBS=1 valgrind --tool=memcheck --trace-children=yes --error-exitcode=99 \
        --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
        --track-origins=yes --num-callers=30 \
        --log-file="$logs/$name.%p.log" "$exe" || status=$?
    bad="$(grep -L 'ERROR SUMMARY: 0 errors' "$logs/$name".*.log || true)"
    if [ $status -ne 0 ] || [ -n "$bad" ]; then
        failed+=("$name")
        echo "corio: valgrind: $name failed (exit status $status)" >&2
        for log in $bad; do
            echo "---- $log" >&2
            cat "$log" >&2
        done
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "corio: valgrind found problems in: ${failed[*]} (logs in $logs/)" >&2
    exit 1
fi
echo "corio: valgrind: ${#tests[@]} test executables clean"
