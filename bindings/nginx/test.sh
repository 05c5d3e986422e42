#!/usr/bin/env bash
# Builds the module (installing nginx, nginx-dev and redis-server when missing) and runs its
# tests against a real nginx on 127.0.0.1.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
module="$(bash bindings/nginx/build.sh)"
if ! command -v redis-server >/dev/null 2>&1; then # revocation tests start a throwaway Redis
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends redis-server >&2
fi
echo "module: $module"
NGINX_MODULE="$module" python3 -m unittest -v bindings/nginx/tests/test_module.py
