#!/usr/bin/env bash
# Builds libjwtv and installs it with its header and a pkg-config file:
#
#   bash crates/jwtv-ffi/install.sh /usr/local          # or any PREFIX
#   cc app.c $(pkg-config --cflags --libs jwtv-static)   # static libjwtv.a
#   cc app.c $(pkg-config --cflags --libs jwtv)          # shared libjwtv.so
#
# (set PKG_CONFIG_PATH=PREFIX/lib/pkgconfig for a non-standard PREFIX).
set -euo pipefail
prefix="${1:?usage: install.sh PREFIX}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
cargo build --release -p jwtv-ffi
target="${CARGO_TARGET_DIR:-$root/target}/release"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"

install -d "$prefix/include" "$prefix/lib/pkgconfig"
install -m 644 include/jwtv.h "$prefix/include/jwtv.h"
install -m 644 "$target/libjwtv.a" "$prefix/lib/libjwtv.a"
install -m 755 "$target/libjwtv.so" "$prefix/lib/libjwtv.so"
cat > "$prefix/lib/pkgconfig/jwtv.pc" <<PC
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: jwtv
Description: A strict JWT verifier (C ABI of jwtv)
Version: $version
Cflags: -I\${includedir}
Libs: -L\${libdir} -ljwtv
Libs.private: -lpthread -ldl -lm
PC
cat > "$prefix/lib/pkgconfig/jwtv-static.pc" <<PC
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: jwtv-static
Description: A strict JWT verifier (C ABI of jwtv), static library
Version: $version
Cflags: -I\${includedir}
Libs: \${libdir}/libjwtv.a -lpthread -ldl -lm
PC
echo "installed libjwtv $version into $prefix"
