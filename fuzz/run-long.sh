#!/usr/bin/env bash
# Long fuzzing runs with corpus minimization, for hours at a time.
#
#   bash fuzz/run-long.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Default: 4 hours per target, every target, two at a time (PARALLEL=2), each
# one libFuzzer job. The working corpus of each target is fuzz/work/<target>
# (git-ignored); it is minimized with `cargo fuzz cmin` before and after the
# run, the committed seeds in fuzz/corpus/<target> are read but never changed.
# Logs: fuzz/work/logs/<target>.log; a summary line per target (executions,
# edges `cov:`, features `ft:`, duration) is appended to fuzz/work/summary.txt.
# Findings land in fuzz/artifacts/<target>/. Set NICE=19 to yield the CPU.
set -euo pipefail
cd "$(dirname "$0")"
unset CARGO_TARGET_DIR

seconds="${1:-14400}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(verify structured jwks ffi)
parallel="${PARALLEL:-2}"
nice_level="${NICE:-0}"

cargo +nightly fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked
nice -n "$nice_level" cargo +nightly fuzz build

dict_of() {
    case "$1" in
        verify) echo dict/jose.dict ;;
        *) echo dict/json.dict ;;
    esac
}

mkdir -p work/logs
cmin() { # minimize a working corpus in place (keeps it when empty)
    if [ -n "$(ls -A "work/$1" 2>/dev/null)" ]; then
        nice -n "$nice_level" cargo +nightly fuzz cmin "$1" "work/$1" >>"work/logs/$1.cmin.log" 2>&1
    fi
}

run_one() { # one libFuzzer process (one core) for the target's whole time
    local target="$1" log="work/logs/$1.log" start now status=0 segment=0 execs=0 n
    mkdir -p "work/$target"
    cmin "$target"
    : >"$log"
    start=$(date +%s)
    now=$start
    # A finding ends a libFuzzer run: its input is kept in artifacts/ and the
    # run resumes from the same corpus for the time left.
    while [ $((now - start)) -lt "$seconds" ]; do
        segment=$((segment + 1))
        echo "== segment $segment" >>"$log"
        nice -n "$nice_level" cargo +nightly fuzz run "$target" "work/$target" "corpus/$target" -- \
            -max_total_time=$((seconds - (now - start))) -timeout=60 -rss_limit_mb=2048 \
            -dict="$(dict_of "$target")" -print_final_stats=1 >>"$log" 2>&1 || status=$?
        n=$(grep -E '^stat::number_of_executed_units' "$log" | tail -n 1 | awk '{print $2}')
        execs=$((execs + ${n:-0}))
        now=$(date +%s)
    done
    cmin "$target"
    local last
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
    printf '%s\tstatus=%s\tsegments=%s\texecs=%s\tseconds=%s\tcorpus=%s\tlast: %s\n' "$target" "$status" \
        "$segment" "$execs" "$((now - start))" "$(ls "work/$target" | wc -l)" "$last" | tee -a work/summary.txt
    return "$status"
}

pids=()
failed=0
for target in "${targets[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do
        wait -n || failed=1
    done
    run_one "$target" &
    pids+=($!)
done
for pid in "${pids[@]}"; do
    wait "$pid" || failed=1
done
[ "$failed" = 0 ] || { echo "a target found something: see fuzz/artifacts/" >&2; exit 1; }
