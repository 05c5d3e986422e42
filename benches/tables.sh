#!/usr/bin/env bash
# Every table of benches/README.md's "Both backends, interleaved" section in
# one run: per backend (ring, then aws-lc) the interleaved runner (times and
# same-round ratios, then two threads against one) and the heap allocations
# per verification; then instructions per HS256 verification under callgrind
# (when valgrind is installed). Prints Markdown; about 15 minutes on two cores.
#
#   bash benches/tables.sh > tables.md
set -euo pipefail
cd "$(dirname "$0")/.."
for backend in ring aws-lc; do
    features=()
    [ "$backend" = ring ] || features=(--features aws-lc)
    echo "## $backend"
    echo
    cargo bench -q -p jwtv-benches "${features[@]}" --bench interleaved 2>/dev/null
    echo
    echo "Heap allocations per verification:"
    echo
    cargo bench -q -p jwtv-benches "${features[@]}" --bench allocs 2>/dev/null | grep '^|'
    echo
done
if command -v valgrind >/dev/null; then
    echo "## instructions"
    echo
    bash benches/instructions.sh hs256 2>/dev/null
fi
