#!/usr/bin/env bash
# Runs every check of the project. Installs what is missing first, so it works
# as root on a bare Debian machine with a Rust toolchain (rustup).
#
#   bash scripts/test.sh                 # everything (what CI runs)
#   bash scripts/test.sh lint rust       # only these stages, in this order
#
# Stages: format lint features rust release docs nostd c nginx go awslc monitoring fuzz benches main
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }
apt_install() {
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"
}

step "tools"
have cargo || { echo "cargo is required (https://rustup.rs)" >&2; exit 1; }
have cc || apt_install gcc libc6-dev
have python3 || apt_install python3
have valgrind || apt_install valgrind
have pkg-config || apt_install pkgconf
have redis-server || apt_install redis-server  # revocation lists: tests start their own throwaway servers
have openssl || apt_install openssl  # the NGINX tests make a test CA for an HTTPS key server
if have rustup; then
    rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
    rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
fi

stage_format() {
    step "format"
    cargo fmt --all --check
}

stage_lint() {
    step "lint"
    cargo clippy --workspace --all-targets -- -D warnings
}

stage_features() {
    step "lint every feature combination a user can pick"
    # The core: no_std without a heap, no_std with alloc (std is the default).
    cargo clippy -p jwtv --no-default-features -- -D warnings
    cargo clippy -p jwtv --no-default-features --features alloc -- -D warnings
    cargo clippy -p jwtv --no-default-features --features std --all-targets -- -D warnings
    # The gateway without Redis (redis is the default), and with its audit events (tracing, log).
    cargo clippy -p jwtv-gateway --no-default-features --all-targets -- -D warnings
    cargo clippy -p jwtv-gateway --no-default-features --features tracing --all-targets -- -D warnings
    cargo clippy -p jwtv-gateway --no-default-features --features log --all-targets -- -D warnings
    cargo clippy -p jwtv-gateway --all-features --all-targets -- -D warnings
    # The tower layer without the axum extractor, and without Redis.
    cargo clippy -p jwtv-tower --no-default-features --all-targets -- -D warnings
    cargo clippy -p jwtv-tower --no-default-features --features axum --all-targets -- -D warnings
    # Every crate on the aws-lc backend.
    cargo clippy --workspace --all-targets --features jwtv-cli/aws-lc,jwtv-ffi/aws-lc,jwtv-tower/aws-lc -- -D warnings
}

stage_rust() {
    step "tests (unit, integration, vectors, property tests, doc tests)"
    cargo test --workspace
    # Audit events through tracing (a feature).
    cargo test -p jwtv-gateway --features tracing --test audit --test changes
}

stage_release() {
    step "key sets and gateway tests in release too: file polling, caches and timeouts at full speed"
    cargo test --release -p jwtv-jwks -p jwtv-gateway
}

stage_docs() {
    step "docs build without warnings"
    RUSTDOCFLAGS="-D warnings" cargo doc -p jwtv -p jwtv-jwks -p jwtv-gateway -p jwtv-tower --no-deps
}

stage_nostd() {
    step "no_std: the core without default features, and a no_std consumer"
    cargo build -p jwtv --no-default-features
    cargo build -p jwtv --no-default-features --features alloc
    bash crates/jwtv/tests/no-std-consumer/run.sh
}

stage_c() {
    step "C ABI: header current, tests under ASan/UBSan and valgrind, install with pkg-config"
    bash crates/jwtv-ffi/tests/c/run.sh
}

stage_nginx() {
    step "NGINX module: build against Debian's nginx-dev, tests with a real nginx"
    bash bindings/nginx/test.sh
}

stage_go() {
    step "Go binding: go vet, go test (and -race) over libjwtv.a"
    bash bindings/go/test.sh
}

stage_awslc() {
    step "the aws-lc backend: the core's whole vector suite and the differential test, key sets, then ES512 in the CLI, C, Go and NGINX"
    cargo test -p jwtv --features aws-lc
    cargo test -p jwtv-jwks --features aws-lc --lib --test keyset --test wycheproof_jwk
    cargo test -p jwtv-cli --features aws-lc --test cli es512
    # The NGINX module on aws-lc (build.sh builds libjwtv in target/aws-lc).
    JWTV_BACKEND=aws-lc bash bindings/nginx/test.sh -k Es512
    local lib=target/aws-lc/release
    echo "-- C tests on aws-lc under ASan and UBSan"
    gcc -std=c11 -Wall -Wextra -Werror -pedantic -g -O1 -I include -fsanitize=address,undefined \
        -fno-omit-frame-pointer -fno-sanitize-recover=all crates/jwtv-ffi/tests/c/test_jwtv.c "$lib/libjwtv.a" \
        -lpthread -ldl -lm -o "$lib/test_jwtv_sanitized"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 "$lib/test_jwtv_sanitized" examples
    echo "-- Go tests on aws-lc (they check which library they linked)"
    (cd bindings/go && JWTV_BACKEND=aws-lc CGO_ENABLED=1 CGO_LDFLAGS="-L$PWD/../../$lib" GOCACHE="${GOCACHE:-${TMPDIR:-/tmp}/jwtv-go-cache-aws-lc}" GOPATH="${GOPATH:-${TMPDIR:-/tmp}/jwtv-go-path}" \
        go test -count=1 ./...)
}

stage_fuzz() {
    step "fuzzing: every cargo-fuzz target for 30 s from the committed seeds (nightly)"
    bash fuzz/ci.sh
}

stage_benches() {
    step "benches build"
    cargo bench --workspace --no-run
}

stage_monitoring() {
    step "Prometheus rules: promtool check and unit tests of every alert (Debian's prometheus)"
    bash deploy/prometheus/check.sh
}

stage_main() {
    step "main job on the bundled examples"
    cargo run --release -p jwtv-cli -- verify examples/tokens/valid-es256.jwt --policy examples/policy.json
}

all=(format lint features rust release docs nostd c nginx go awslc monitoring fuzz benches main)
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=("${all[@]}")
for stage in "${stages[@]}"; do
    if ! declare -F "stage_$stage" >/dev/null; then
        echo "unknown stage '$stage' (stages: ${all[*]})" >&2
        exit 2
    fi
done
for stage in "${stages[@]}"; do
    "stage_$stage"
done

if [ $# -eq 0 ]; then
    printf '\nall checks passed\n'
else
    printf '\nchecks passed: %s\n' "${stages[*]}"
fi
