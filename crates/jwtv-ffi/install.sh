#!/usr/bin/env bash
# Builds libjwtv and installs it with its header and a pkg-config file:
#
#   bash crates/jwtv-ffi/install.sh /usr/local          # or any PREFIX
#   cc app.c $(pkg-config --cflags --libs jwtv-static)   # static libjwtv.a
#   cc app.c $(pkg-config --cflags --libs jwtv)          # shared libjwtv.so
#
# The shared library is libjwtv.so.VERSION, with the symlinks
# libjwtv.so.SONAME-VERSION and libjwtv.so; after installing into a system
# prefix run ldconfig, otherwise link with -Wl,-rpath,PREFIX/lib.
# (set PKG_CONFIG_PATH=PREFIX/lib/pkgconfig for a non-standard PREFIX).
set -euo pipefail
prefix="${1:?usage: install.sh PREFIX}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
# The `dist` profile: release without debug information.
# shellcheck source=scripts/backend.sh
. "$root/scripts/backend.sh"
cargo build --profile dist -p jwtv-ffi "${jwtv_features[@]}"
target="${CARGO_TARGET_DIR:-$root/target}/dist"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
# The SONAME build.rs gives: libjwtv.so.MAJOR, or libjwtv.so.0.MINOR before 1.0.
major="${version%%.*}"
minor="${version#*.}"
minor="${minor%%.*}"
abi="$major"
[ "$major" != 0 ] || abi="0.$minor"

install -d "$prefix/include" "$prefix/lib/pkgconfig"
install -m 644 include/jwtv.h "$prefix/include/jwtv.h"
install -m 644 "$target/libjwtv.a" "$prefix/lib/libjwtv.a"
# The standard library's objects inside the archive carry their own debug information.
strip --strip-debug "$prefix/lib/libjwtv.a"
install -m 755 "$target/libjwtv.so" "$prefix/lib/libjwtv.so.$version"
ln -sf "libjwtv.so.$version" "$prefix/lib/libjwtv.so.$abi"
ln -sf "libjwtv.so.$abi" "$prefix/lib/libjwtv.so"
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
echo "installed libjwtv $version into $prefix (SONAME libjwtv.so.$abi; run ldconfig for a system prefix)"
