#!/usr/bin/env bash
# Instructions per verification under callgrind, per contender of the
# interleaved runner: stable on a shared machine where wall time is not.
#
#   bash benches/instructions.sh [alg ...]          # default: hs256
#
# Compare contenders within one algorithm only where the fixture is fixed
# (HS256, RS256, PS256): EC and Ed25519 fixture keys are made afresh in
# every process, and their counts move a little with the key.
#   JWTV_BACKEND=aws-lc bash benches/instructions.sh es256
#   TOP=15 bash benches/instructions.sh hs256       # and where the instructions go
#
# Each contender runs ITERATIONS (1000) verifications inside one function,
# the only one counted (--toggle-collect). With TOP, the inclusive counts of
# the busiest functions inside the core's and the server's loops follow.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
root=$PWD
source scripts/backend.sh
iterations=${ITERATIONS:-1000}
algs=("$@")
[ ${#algs[@]} -gt 0 ] || algs=(hs256)
bin=$(cargo bench -p jwtv-benches --bench instructions "${jwtv_features[@]}" --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "instructions" and m.get("executable"):
        print(m["executable"])')
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
count() { # contender alg -> instructions per verification
    valgrind --tool=callgrind --toggle-collect='*instructions*measured*' --callgrind-out-file="$out/$1.$2" \
        "$bin" "$1" "$2" "$iterations" >/dev/null 2>&1
    python3 -c 'import sys
total = 0
for line in open(sys.argv[1]):
    if line.startswith("summary:") or line.startswith("totals:"):
        total = int(line.split()[1])
print(f"{total / int(sys.argv[2]):.0f}")' "$out/$1.$2" "$iterations"
}
echo "instructions per verification (callgrind, $iterations verifications each, ${JWTV_BACKEND:-ring})"
echo
echo "| alg | floor | jwtv | server | owned | hit | jsonwebtoken | jwtv / floor | server − jwtv |"
echo "|---|--:|--:|--:|--:|--:|--:|--:|--:|"
for alg in "${algs[@]}"; do
    declare -A n=()
    for c in floor jwtv server owned hit jsonwebtoken; do n[$c]=$(count "$c" "$alg"); done
    python3 -c 'import sys
a, f, j, s, o, h, w = sys.argv[1], *map(int, sys.argv[2:])
print(f"| {a} | {f:,} | {j:,} | {s:,} | {o:,} | {h:,} | {w:,} | {j / f:.2f}× | {s - j:+,} |")' \
        "$alg" "${n[floor]}" "${n[jwtv]}" "${n[server]}" "${n[owned]}" "${n[hit]}" "${n[jsonwebtoken]}"
    if [ -n "${TOP:-}" ]; then
        for c in floor jwtv server; do
            echo
            echo "$c/$alg: the busiest functions of jwtv and the crypto library, inclusive, per verification"
            callgrind_annotate --inclusive=yes --auto=no "$out/$c.$alg" 2>/dev/null | awk -v n="$iterations" -v top="$TOP" '
                $1 ~ /^[0-9,]+$/ && $2 ~ /^\(/ {
                    count = $1; gsub(",", "", count); name = $0
                    sub(/^[^(]*\([^)]*\) +/, "", name); sub(/ \[[^]]*\]$/, "", name); sub(/^[^ ]*\.(rs|S|c):/, "", name)
                    if (name !~ /^(<)?(jwtv|ring|aws_lc)/ || name in named || shown >= top) next
                    named[name] = 1
                    printf "%9.0f  %s\n", count / n, substr(name, 1, 110); shown++
                }'
        done
    fi
done
