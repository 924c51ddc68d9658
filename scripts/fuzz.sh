#!/usr/bin/env bash
# Runs every libFuzzer target built in BUILD_DIR/fuzz/ for SECONDS each (make fuzz), on a copy of
# its committed corpus fuzz/corpus/<target>/ (so that the repository's corpus stays small), and
# prints its figures: executions, coverage (cov: edges, ft: features, from libFuzzer's final
# status line) and crashes. A crash, leak, sanitizer report or model mismatch fails the target
# and prints the reproducer's path and the command that replays it.
#
#   scripts/fuzz.sh BUILD_DIR SECONDS
set -euo pipefail

build=${1:?usage: $0 BUILD_DIR SECONDS}
seconds=${2:?usage: $0 BUILD_DIR SECONDS}
failed=0
shopt -s nullglob
targets=("$build"/fuzz/fuzz_*)
if [ ${#targets[@]} -eq 0 ]; then
    echo "corio: no fuzz targets in $build/fuzz" >&2
    exit 1
fi
for bin in "${targets[@]}"; do
    name=$(basename "$bin")
    work="$build/fuzz-run/$name"
    rm -rf "$work"
    mkdir -p "$work/corpus"
    if [ -d "fuzz/corpus/$name" ]; then
        cp fuzz/corpus/"$name"/* "$work/corpus/"
    fi
    log="$work/log"
    echo "corio: fuzzing $name for ${seconds} s (log: $log)"
    status=0
    # -timeout: an input running 10 s is a hang (each takes milliseconds).
    "$bin" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$work/" "$work/corpus" >"$log" 2>&1 || status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    last=$(grep -E '^#[0-9]+.*cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)
    cov=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    units=$(sed -n 's/.* corp: \([0-9]*\/[0-9A-Za-z]*\).*/\1/p' <<<"$last")
    artifacts=("$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*)
    if [ $status -eq 0 ] && [ ${#artifacts[@]} -eq 0 ]; then
        printf '%s: %s s, executions %s, cov %s, ft %s, corpus %s, crashes: 0\n' \
            "$name" "$seconds" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${units:-?}"
    else
        failed=1
        grep -E 'ERROR|SUMMARY|mismatch' "$log" | head -5 >&2 || true
        printf '%s: FAILED (status %d) after executions %s, cov %s, ft %s, crashes: %d\n' \
            "$name" "$status" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${#artifacts[@]}" >&2
        for a in "${artifacts[@]}"; do
            echo "  reproducer: $a (replay: $bin $a)" >&2
        done
    fi
done
exit $failed
