#!/usr/bin/env bash
# Builds libjwtv and runs the C tests: under AddressSanitizer and
# UndefinedBehaviorSanitizer, under valgrind memcheck (zero errors, zero
# leaks), and linked against the shared library. Also checks that every
# exported symbol carries the jwtv_ prefix.
set -euo pipefail
root="$(cd "$(dirname "$0")/../../../.." && pwd)"
cd "$root"

# shellcheck source=scripts/backend.sh
. "$root/scripts/backend.sh"
cargo build --release -p jwtv-ffi "${jwtv_features[@]}"
target="${CARGO_TARGET_DIR:-$root/target}/release"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

fail() { echo "$*" >&2; exit 1; }
# The SONAME build.rs gives: libjwtv.so.MAJOR, or libjwtv.so.0.MINOR before 1.0.
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
soname="libjwtv.so.$(awk -F. '{ print ($1 == 0) ? "0." $2 : $1 }' <<<"$version")"

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

echo "-- shared library (found through its SONAME)"
mkdir "$out/shared"
ln -s "$target/libjwtv.so" "$out/shared/$soname"
ln -s "$soname" "$out/shared/libjwtv.so"
gcc "${cflags[@]}" "$src" -L"$out/shared" -Wl,-rpath,"$out/shared" -ljwtv "${libs[@]}" -o "$out/test_shared"
"$out/test_shared" examples

echo "-- exported symbols carry the jwtv_ prefix"
unprefixed="$(nm -D --defined-only "$target/libjwtv.so" | awk '$2 == "T" && $3 !~ /^jwtv_/ { print $3 }')"
if [ -n "$unprefixed" ]; then
    echo "exported without the jwtv_ prefix:" >&2
    echo "$unprefixed" >&2
    exit 1
fi
echo "-- install with pkg-config files, then build the examples and the README's one, static and shared"
bash crates/jwtv-ffi/install.sh "$out/prefix" >/dev/null
export PKG_CONFIG_PATH="$out/prefix/lib/pkgconfig"
lib="$out/prefix/lib"
[ "$(pkg-config --modversion jwtv)" = "$version" ] || fail "jwtv.pc: version $(pkg-config --modversion jwtv), not $version"
readelf -d "$lib/libjwtv.so.$version" | grep -q "(SONAME).*\[$soname\]" || fail "libjwtv.so.$version: SONAME is not $soname"
[ "$(readlink "$lib/$soname")" = "libjwtv.so.$version" ] || fail "$soname does not link to libjwtv.so.$version"
[ "$(readlink "$lib/libjwtv.so")" = "$soname" ] || fail "libjwtv.so does not link to $soname"
for file in "$lib/libjwtv.so.$version" "$lib/libjwtv.a"; do
    if readelf -S "$file" 2>/dev/null | grep -q '\.debug_info'; then
        fail "$file carries debug information"
    fi
done
echo "installed: libjwtv.a $(du -k "$lib/libjwtv.a" | cut -f1) KiB, libjwtv.so.$version $(du -k "$lib/libjwtv.so.$version" | cut -f1) KiB, SONAME $soname"
# The README's C example is its first ```c block, compiled as written.
awk '/^```c$/ { inside = 1; next } inside && /^```$/ { exit } inside' README.md > "$out/readme.c"
if [ ! -s "$out/readme.c" ]; then
    echo "README.md has no \`\`\`c block" >&2
    exit 1
fi
for program in crates/jwtv-ffi/examples/*.c "$out/readme.c"; do
    name="$(basename "$program" .c)"
    # shellcheck disable=SC2046 # pkg-config prints several words
    gcc "${cflags[@]}" "$program" $(pkg-config --cflags --libs jwtv-static) -o "$out/${name}_static"
    # shellcheck disable=SC2046
    gcc "${cflags[@]}" "$program" $(pkg-config --cflags --libs jwtv) -Wl,-rpath,"$out/prefix/lib" \
        -o "$out/${name}_shared"
    readelf -d "$out/${name}_shared" | grep -q "(NEEDED).*\[$soname\]" || fail "${name}_shared does not need $soname"
done

token="$(tr -d '\n' < examples/tokens/valid-es256.jwt)"
expired="$(tr -d '\n' < examples/tokens/expired-es256.jwt)"
# expect CODE OUTPUT-PREFIX COMMAND…: the command exits with CODE and its
# output (stdout and stderr) begins with OUTPUT-PREFIX.
expect() {
    local want="$1" prefix="$2" got=0 output
    shift 2
    output="$("$@" 2>&1)" || got=$?
    if [ "$got" != "$want" ] || [ "${output:0:${#prefix}}" != "$prefix" ]; then
        echo "$(basename "$1"): exit $got, want $want; output: $output (want it to begin with: $prefix)" >&2
        exit 1
    fi
}
for way in static shared; do
    for name in verify readme; do
        expect 0 "valid: sub=" "$out/${name}_$way" examples/policy.json "$token"
        expect 1 "rejected: expired" "$out/${name}_$way" examples/policy.json "$expired"
        expect 2 "" "$out/${name}_$way" examples/no-such-policy.json "$token"
    done
    build="$out/build_policy_$way"
    expect 0 "valid: sub=" "$build" examples/jwks.json https://issuer.example api "$token"
    expect 1 "rejected: expired" "$build" examples/jwks.json https://issuer.example api "$expired"
    expect 1 "rejected: bad_issuer" "$build" examples/jwks.json https://other.example api "$token"
    expect 2 "policy: keys.jwks_file: " "$build" examples/no-such-jwks.json https://issuer.example api "$token"
done

echo "C ABI checks passed"
