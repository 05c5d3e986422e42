#!/usr/bin/env bash
# Builds the module (installing nginx and nginx-dev when missing) and runs its
# tests against a real nginx on 127.0.0.1.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
module="$(bash bindings/nginx/build.sh)"
echo "module: $module"
NGINX_MODULE="$module" python3 -m unittest -v bindings/nginx/tests/test_module.py
