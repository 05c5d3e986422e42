#!/usr/bin/env bash
# Runs every fuzz target for a short, bounded time (default 30 s each) from
# the committed seeds and fails on any crash, panic, broken invariant, leak or
# timeout. Installs cargo-fuzz (and the nightly toolchain) when missing.
#
#   bash fuzz/ci.sh              # every target, 30 s each
#   FUZZ_SECONDS=60 bash fuzz/ci.sh verify jwks
#
# New inputs go to a temporary directory: the seeds stay as committed.
set -euo pipefail
cd "$(dirname "$0")"
unset CARGO_TARGET_DIR # cargo-fuzz builds into fuzz/target (git-ignored)

seconds="${FUZZ_SECONDS:-30}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(verify structured jwks ffi)

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

dict_of() { # the dictionary of a target
    case "$1" in
        verify) echo dict/jose.dict ;;
        *) echo dict/json.dict ;;
    esac
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "building the fuzz targets (address sanitizer)"
cargo +nightly fuzz build

for target in "${targets[@]}"; do
    echo "fuzzing $target for ${seconds}s"
    mkdir -p "$work/$target"
    if ! cargo +nightly fuzz run "$target" "$work/$target" "corpus/$target" -- \
        -max_total_time="$seconds" -timeout=60 -rss_limit_mb=2048 -dict="$(dict_of "$target")" \
        -print_final_stats=1 >"$work/$target.log" 2>&1; then
        tail -n 60 "$work/$target.log" >&2
        echo "fuzz target $target failed; the input is in fuzz/artifacts/$target/" >&2
        exit 1
    fi
    grep -E '^(#[0-9]+[[:space:]]+DONE|Done [0-9]+ runs)' "$work/$target.log" || tail -n 3 "$work/$target.log"
done
echo "fuzz: every target ran ${seconds}s without a finding"
