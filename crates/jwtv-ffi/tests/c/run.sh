#!/usr/bin/env bash
# Builds libjwtv and runs the C tests: under AddressSanitizer and
# UndefinedBehaviorSanitizer, under valgrind memcheck (zero errors, zero
# leaks), and linked against the shared library. Also checks that every
# exported symbol carries the jwtv_ prefix.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../../.." && pwd)"
cd "$root"

cargo build --release -p jwtv-ffi
target="${CARGO_TARGET_DIR:-$root/target}/release"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

cflags=(-std=c11 -Wall -Wextra -Werror -pedantic -g -I include)
libs=(-lpthread -ldl -lm)
src=crates/jwtv-ffi/tests/c/test_jwtv.c

echo "-- ASan + UBSan (static library)"
gcc "${cflags[@]}" -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all \
    "$src" "$target/libjwtv.a" "${libs[@]}" -o "$out/test_sanitized"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 "$out/test_sanitized" examples

echo "-- valgrind memcheck (static library)"
gcc "${cflags[@]}" -O1 "$src" "$target/libjwtv.a" "${libs[@]}" -o "$out/test_plain"
valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible \
    --errors-for-leak-kinds=definite,indirect,possible "$out/test_plain" examples

echo "-- shared library"
gcc "${cflags[@]}" "$src" -L"$target" -Wl,-rpath,"$target" -ljwtv "${libs[@]}" -o "$out/test_shared"
"$out/test_shared" examples

echo "-- exported symbols carry the jwtv_ prefix"
unprefixed="$(nm -D --defined-only "$target/libjwtv.so" | awk '$2 == "T" && $3 !~ /^jwtv_/ { print $3 }')"
if [ -n "$unprefixed" ]; then
    echo "exported without the jwtv_ prefix:" >&2
    echo "$unprefixed" >&2
    exit 1
fi
echo "-- install with pkg-config files, then build the README's example both ways"
bash crates/jwtv-ffi/install.sh "$out/prefix" >/dev/null
export PKG_CONFIG_PATH="$out/prefix/lib/pkgconfig"
token="$(tr -d '\n' < examples/tokens/valid-es256.jwt)"
# shellcheck disable=SC2046 # pkg-config prints several words
gcc "${cflags[@]}" crates/jwtv-ffi/examples/verify.c $(pkg-config --cflags --libs jwtv-static) -o "$out/verify_static"
"$out/verify_static" examples/policy.json "$token"
# shellcheck disable=SC2046
gcc "${cflags[@]}" crates/jwtv-ffi/examples/verify.c $(pkg-config --cflags --libs jwtv) \
    -Wl,-rpath,"$out/prefix/lib" -o "$out/verify_shared"
"$out/verify_shared" examples/policy.json "$token"
expired="$(tr -d '\n' < examples/tokens/expired-es256.jwt)"
if "$out/verify_static" examples/policy.json "$expired"; then
    echo "the expired example token was accepted" >&2
    exit 1
fi

echo "C ABI checks passed"
