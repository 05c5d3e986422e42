#!/usr/bin/env bash
# Builds the no_std consumer (jwtv without default features) as a static
# library, links it into a small C program and runs it: fails unless the
# program prints "no_std consumer: ok" and exits 0.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target="$here/target"

cargo build --release --manifest-path "$here/Cargo.toml" --target-dir "$target"
lib="$target/release/libjwtv_no_std_consumer.a"

# No heap: nothing in the library asks for Rust's allocator or malloc.
if nm --undefined-only "$lib" 2>/dev/null | grep -Eq ' U (__rust_alloc|__rust_alloc_zeroed|__rust_realloc|malloc|calloc|realloc)$'; then
    echo "no_std consumer: the static library references an allocator" >&2
    exit 1
fi

cc -Wall -Wextra -Werror -o "$target/no-std-consumer" "$here/main.c" "$lib" -Wl,--gc-sections
output="$("$target/no-std-consumer")"
echo "$output"
[ "$output" = "no_std consumer: ok" ]
