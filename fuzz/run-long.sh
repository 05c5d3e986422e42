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

run_one() {
    local target="$1" log="work/logs/$1.log" start end
    mkdir -p "work/$target"
    cmin "$target"
    start=$(date +%s)
    local status=0
    nice -n "$nice_level" cargo +nightly fuzz run "$target" "work/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -dict="$(dict_of "$target")" \
        -print_final_stats=1 >"$log" 2>&1 || status=$?
    end=$(date +%s)
    cmin "$target"
    local last execs
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
    execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
    printf '%s\tstatus=%s\texecs=%s\tseconds=%s\tcorpus=%s\tlast: %s\n' "$target" "$status" "${execs:-?}" \
        "$((end - start))" "$(ls "work/$target" | wc -l)" "$last" | tee -a work/summary.txt
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
