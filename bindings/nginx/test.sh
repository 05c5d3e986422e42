#!/usr/bin/env bash
# Builds the module (installing nginx, nginx-dev, redis-server, openssl and prometheus when missing) and runs its
# tests against a real nginx on 127.0.0.1. Arguments go to unittest (e.g. `-k Es512`);
# JWTV_BACKEND=aws-lc builds the module on aws-lc.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
module="$(bash bindings/nginx/build.sh)"
# Revocation tests start a throwaway Redis; the HTTPS key server's test CA is made with openssl;
# the monitoring test runs Debian's Prometheus against nginx.
missing=""
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
command -v prometheus >/dev/null 2>&1 || missing="$missing prometheus" # the monitoring test scrapes nginx
if [ -n "$missing" ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    # shellcheck disable=SC2086 # a list of package names
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >&2
fi
echo "module: $module"
NGINX_MODULE="$module" python3 -m unittest -v "$@" bindings/nginx/tests/test_module.py
