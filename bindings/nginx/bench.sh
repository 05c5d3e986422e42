#!/usr/bin/env bash
# Load benchmark of the module with wrk against 127.0.0.1 (not part of the
# test command): requests per second for
#   (a) nginx serving a small file with no authentication (and, for reference,
#       the same with the HS256 token's Authorization header sent and ignored),
#   (b) the same behind auth_jwt with an HS256 token,
#   (c) the same with an ES256 token, without and with the verified-token cache,
# each for DURATION seconds (default 30), one nginx worker, as ratios to (a).
# Also checks: zero non-2xx answers, a clean error log, worker RSS before/after.
#
#   bash bindings/nginx/bench.sh [DURATION]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
duration="${1:-30}"
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
module="$(bash bindings/nginx/build.sh)"
dir="$(mktemp -d)"
chmod 755 "$dir"
trap 'kill "$(cat "$dir/nginx.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$dir"' EXIT
mkdir -p "$dir/logs" "$dir/www"
printf 'ok\n' >"$dir/www/index.txt"
port=18090

secret="nginx-bench-secret-do-not-use-0123456789"
python3 - "$dir" "$secret" <<'PY'
import base64, hashlib, hmac, json, sys, time
d, secret = sys.argv[1], sys.argv[2].encode()
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
open(f"{d}/hs256.json", "w").write(json.dumps({"keys": [{"kty": "oct", "alg": "HS256", "kid": "bench", "k": b64(secret)}]}))
claims = {"iss": "https://issuer.example", "aud": ["api"], "sub": "user-1234", "iat": int(time.time()), "exp": 4102444800}
head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "bench"}).encode())
body = b64(json.dumps(claims).encode())
sig = b64(hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest())
open(f"{d}/hs256.jwt", "w").write(f"{head}.{body}.{sig}")
PY

cat >"$dir/nginx.conf" <<CONF
load_module $module;
worker_processes 1;
error_log $dir/logs/error.log warn;
pid $dir/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $dir/body; proxy_temp_path $dir/proxy; fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi; scgi_temp_path $dir/scgi;
    server {
        listen 127.0.0.1:$port;
        root $dir/www;
        auth_jwt_issuer https://issuer.example;
        auth_jwt_audience api;
        location /plain/ { alias $dir/www/; }
        location /hs256/ { alias $dir/www/; auth_jwt "bench"; auth_jwt_key_file $dir/hs256.json; auth_jwt_alg HS256; }
        location /es256/ { alias $dir/www/; auth_jwt "bench"; auth_jwt_key_file $root/examples/jwks.json; auth_jwt_alg ES256; }
        location /es256-cached/ { alias $dir/www/; auth_jwt "bench"; auth_jwt_key_file $root/examples/jwks.json;
                                  auth_jwt_alg ES256; auth_jwt_cache 10000; }
    }
}
CONF
nginx -p "$dir" -c "$dir/nginx.conf"
sleep 0.5
worker_rss() { ps -o rss= -p "$(pgrep -P "$(cat "$dir/nginx.pid")" | head -1)" | tr -d ' '; }

hs="$(cat "$dir/hs256.jwt")"
es="$(tr -d '\n' <examples/tokens/valid-es256.jwt)"
run() { # name path token
    local out
    out="$(wrk -t1 -c32 -d"${duration}s" ${3:+-H "Authorization: Bearer $3"} "http://127.0.0.1:$port$2index.txt")"
    local rps non2xx
    rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
    non2xx="$(awk '/Non-2xx/ {print $5}' <<<"$out")"
    printf '%s %s %s\n' "$1" "$rps" "${non2xx:-0}"
}

rss_before="$(worker_rss)"
results="$( run plain /plain/ ""; run plain+header /plain/ "$hs"; run hs256 /hs256/ "$hs"; run es256 /es256/ "$es"; run es256-cached /es256-cached/ "$es" )"
rss_after="$(worker_rss)"

echo "| case | requests/s | ratio to (a) | non-2xx |"
echo "|---|---|---|---|"
base="$(awk '$1 == "plain" {print $2}' <<<"$results")"
while read -r name rps non2xx; do
    printf '| %s | %.0f | %.2f | %s |\n' "$name" "$rps" "$(echo "$rps / $base" | bc -l)" "$non2xx"
done <<<"$results"
echo
echo "worker RSS: ${rss_before} KiB before, ${rss_after} KiB after; duration ${duration}s per case, wrk -t1 -c32, 1 worker"
if grep -E '\[(alert|crit|emerg)\]|signal' "$dir/logs/error.log"; then
    echo "error log not clean" >&2
    exit 1
fi
echo "error log clean"
if awk '{ if ($3 != 0) bad = 1 } END { exit !bad }' <<<"$results"; then
    echo "non-2xx answers for valid tokens" >&2
    exit 1
fi
