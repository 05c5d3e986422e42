#!/usr/bin/env bash
# Load benchmark of the module with wrk against 127.0.0.1 (not part of the
# test command): requests per second and the worker's CPU time per request for
#   plain          nginx serving a small file, no authentication;
#   plain+header   the same with the HS256 token's Authorization header, ignored;
#   hs256          behind auth_jwt with an HS256 token;
#   hs256-cached   the same with the verified-token cache (auth_jwt_cache);
#   es256          with an ES256 token;
#   es256-cached   the same with the verified-token cache;
# one nginx worker, wrk -t1 -c32. The cases take turns in ROUNDS rounds of
# DURATION seconds each (the machine's drift hits every case alike); the table
# gives medians over the rounds, and each case's ratio to `plain` taken within
# each round (then the median). Also checks: zero non-2xx answers, a clean
# error log, worker RSS before and after.
#
#   bash bindings/nginx/bench.sh [DURATION] [ROUNDS]
#   AGAINST=/path/to/other/ngx_http_auth_jwtv_module.so bash bindings/nginx/bench.sh 10 5
#
# With AGAINST, a second nginx runs that module beside this tree's, and every
# case alternates between the two within each round (an A/B comparison of two
# builds under the same load).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
duration="${1:-10}"
rounds="${2:-3}"
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
module="$(bash bindings/nginx/build.sh)"
dir="$(mktemp -d)"
chmod 755 "$dir"
cleanup() {
    for pid in "$dir"/*/nginx.pid; do kill "$(cat "$pid" 2>/dev/null)" 2>/dev/null || true; done
    rm -rf "$dir"
}
trap cleanup EXIT
mkdir -p "$dir/www"
printf 'ok\n' >"$dir/www/index.txt"

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

start_nginx() { # name module port
    local prefix="$dir/$1"
    mkdir -p "$prefix/logs"
    cat >"$prefix/nginx.conf" <<CONF
load_module $2;
worker_processes 1;
error_log $prefix/logs/error.log warn;
pid $prefix/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $prefix/body; proxy_temp_path $prefix/proxy; fastcgi_temp_path $prefix/fastcgi;
    uwsgi_temp_path $prefix/uwsgi; scgi_temp_path $prefix/scgi;
    server {
        listen 127.0.0.1:$3;
        root $dir/www;
        auth_jwt_issuer https://issuer.example;
        auth_jwt_audience api;
        location /plain/ { alias $dir/www/; }
        location /hs256/ { alias $dir/www/; auth_jwt "bench"; auth_jwt_key_file $dir/hs256.json; auth_jwt_alg HS256; }
        location /hs256-cached/ { alias $dir/www/; auth_jwt "bench"; auth_jwt_key_file $dir/hs256.json;
                                  auth_jwt_alg HS256; auth_jwt_cache 10000; }
        location /es256/ { alias $dir/www/; auth_jwt "bench"; auth_jwt_key_file $root/examples/jwks.json; auth_jwt_alg ES256; }
        location /es256-cached/ { alias $dir/www/; auth_jwt "bench"; auth_jwt_key_file $root/examples/jwks.json;
                                  auth_jwt_alg ES256; auth_jwt_cache 10000; }
    }
}
CONF
    nginx -p "$prefix" -c "$prefix/nginx.conf"
}

builds=("this:$module:18090")
if [ -n "${AGAINST:-}" ]; then
    builds+=("against:$AGAINST:18091")
fi
for build in "${builds[@]}"; do
    IFS=: read -r name path port <<<"$build"
    start_nginx "$name" "$path" "$port"
done
sleep 0.5
worker_of() { pgrep -P "$(cat "$dir/$1/nginx.pid")" | head -1; }
worker_rss() { ps -o rss= -p "$(worker_of "$1")" | tr -d ' '; }
# utime + stime of the worker, in clock ticks.
worker_ticks() { awk '{ print $14 + $15 }' "/proc/$(worker_of "$1")/stat"; }

hs="$(cat "$dir/hs256.jwt")"
es="$(tr -d '\n' <examples/tokens/valid-es256.jwt)"
cases=("plain /plain/ -" "plain+header /plain/ $hs" "hs256 /hs256/ $hs" "hs256-cached /hs256-cached/ $hs" "es256 /es256/ $es" "es256-cached /es256-cached/ $es")

declare -A rss_before
for build in "${builds[@]}"; do
    name="${build%%:*}"
    rss_before[$name]="$(worker_rss "$name")"
done

results="$dir/results.txt"
for round in $(seq "$rounds"); do
    for case in "${cases[@]}"; do
        read -r label path token <<<"$case"
        for build in "${builds[@]}"; do
            IFS=: read -r name _ port <<<"$build"
            before="$(worker_ticks "$name")"
            header=()
            [ "$token" = "-" ] || header=(-H "Authorization: Bearer $token")
            out="$(wrk -t1 -c32 -d"${duration}s" "${header[@]}" "http://127.0.0.1:$port${path}index.txt")"
            after="$(worker_ticks "$name")"
            requests="$(awk '/requests in/ {print $1}' <<<"$out")"
            rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
            non2xx="$(awk '/Non-2xx/ {print $5}' <<<"$out")"
            echo "$round $name $label $rps $requests $((after - before)) ${non2xx:-0}" >>"$results"
        done
    done
done

python3 - "$results" "$(getconf CLK_TCK)" <<'PY'
import statistics, sys
from collections import defaultdict
rows = [line.split() for line in open(sys.argv[1])]
tick = 1e6 / int(sys.argv[2])  # microseconds per clock tick
rps, cpu, ratio, bad = defaultdict(list), defaultdict(list), defaultdict(list), defaultdict(int)
plain = {(r[0], r[1]): float(r[3]) for r in rows if r[2] == "plain"}
for rnd, build, case, r, requests, ticks, non2xx in rows:
    key = (build, case)
    rps[key].append(float(r))
    cpu[key].append(int(ticks) * tick / max(int(requests), 1))
    ratio[key].append(float(r) / plain[(rnd, build)])
    bad[key] += int(non2xx)
builds = list(dict.fromkeys(r[1] for r in rows))
print("| case | build | requests/s (median) | ratio to plain (median of same-round ratios) | worker CPU µs/request | non-2xx |")
print("|---|---|--:|--:|--:|--:|")
for case in dict.fromkeys(r[2] for r in rows):
    for build in builds:
        key = (build, case)
        print(f"| {case} | {build} | {statistics.median(rps[key]):.0f} | {statistics.median(ratio[key]):.2f} "
              f"| {statistics.median(cpu[key]):.1f} | {bad[key]} |")
if len(builds) == 2:
    print()
    print("| case | this ÷ against (median of same-round ratios, requests/s) |")
    print("|---|--:|")
    same = defaultdict(list)
    by = {(r[0], r[1], r[2]): float(r[3]) for r in rows}
    for rnd, build, case, *_ in rows:
        if build == builds[0]:
            same[case].append(by[(rnd, builds[0], case)] / by[(rnd, builds[1], case)])
    for case, values in same.items():
        print(f"| {case} | {statistics.median(values):.3f} |")
PY
echo
for build in "${builds[@]}"; do
    name="${build%%:*}"
    echo "worker RSS ($name): ${rss_before[$name]} KiB before, $(worker_rss "$name") KiB after"
done
echo "rounds: $rounds of ${duration}s per case and build; wrk -t1 -c32; 1 worker per nginx"
for build in "${builds[@]}"; do
    name="${build%%:*}"
    if grep -E '\[(alert|crit|emerg)\]|signal' "$dir/$name/logs/error.log"; then
        echo "error log not clean ($name)" >&2
        exit 1
    fi
done
echo "error logs clean"
if awk '{ if ($7 != 0) bad = 1 } END { exit !bad }' "$results"; then
    echo "non-2xx answers for valid tokens" >&2
    exit 1
fi
