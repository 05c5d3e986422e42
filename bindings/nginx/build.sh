#!/usr/bin/env bash
# Builds ngx_http_auth_jwtv_module.so out of tree against Debian's nginx-dev
# (the configure script, headers and the exact configure flags of Debian's
# nginx), so that Debian's nginx can load it with load_module.
#
#   bash bindings/nginx/build.sh            # prints the path of the module
#
# Installs nginx and nginx-dev with apt-get when they are missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"

if ! command -v nginx >/dev/null 2>&1 || [ ! -d /usr/share/nginx/src ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends nginx nginx-dev >&2
fi

# shellcheck source=scripts/backend.sh
. "$root/scripts/backend.sh"
cargo build --release -p jwtv-ffi "${jwtv_features[@]}" >&2
target="${CARGO_TARGET_DIR:-$root/target}"
build="$target/nginx-module"
lib="$target/release/libjwtv.a"
module="$build/src/objs/ngx_http_auth_jwtv_module.so"

# Rebuild only when an input changed.
stamp="$(cat bindings/nginx/ngx_http_auth_jwtv_module.c bindings/nginx/config include/jwtv.h | sha256sum | cut -c1-16)-$(stat -c %Y "$lib")"
if [ -f "$module" ] && [ "$(cat "$build/stamp" 2>/dev/null)" = "$stamp" ]; then
    echo "$module"
    exit 0
fi

rm -rf "$build"
mkdir -p "$build"
cp -r /usr/share/nginx/src "$build/src"
# shellcheck disable=SC1091 # defines NGX_CONF_FLAGS
. /usr/share/nginx/src/conf_flags
(
    cd "$build/src"
    JWTV_LIB="$lib" ./configure "${NGX_CONF_FLAGS[@]}" --add-dynamic-module="$root/bindings/nginx" \
        --with-cc-opt="-Wall -Wextra -Werror -Wno-unused-parameter" >"$build/configure.log" 2>&1 ||
        { cat "$build/configure.log" >&2; exit 1; }
    make -j2 -f objs/Makefile modules >"$build/make.log" 2>&1 || { cat "$build/make.log" >&2; exit 1; }
)
echo "$stamp" >"$build/stamp"
echo "$module"
