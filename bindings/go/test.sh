#!/usr/bin/env bash
# Builds libjwtv (release) and checks the Go binding: gofmt, go vet, go test,
# go test -race, the benchmarks run once (so they keep compiling), and that the
# test binary links libjwtv statically. Installs Go (Debian's golang-go) and a
# C compiler when missing. Run from anywhere: bash bindings/go/test.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

have() { command -v "$1" >/dev/null 2>&1; }
apt_install() {
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"
}

have cc || apt_install gcc libc6-dev
have go || apt_install golang-go
go version

echo "-- libjwtv (cargo build --release -p jwtv-ffi, backend ${JWTV_BACKEND:-ring})"
# shellcheck source=scripts/backend.sh
. "$root/scripts/backend.sh"
cargo build --release -p jwtv-ffi "${jwtv_features[@]}"
target="${CARGO_TARGET_DIR:-$root/target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
# cgo.go looks in target/release; this also covers another CARGO_TARGET_DIR.
export CGO_LDFLAGS="-L$target/release ${CGO_LDFLAGS:--g -O2}"
export CGO_ENABLED=1
# Go needs a cache folder; CI may run without HOME.
if [ -z "${HOME:-}" ] && [ -z "${GOCACHE:-}" ]; then
    export GOCACHE="${TMPDIR:-/tmp}/jwtv-go-cache" GOPATH="${TMPDIR:-/tmp}/jwtv-go-path"
fi

cd "$here"
echo "-- gofmt"
unformatted="$(gofmt -l .)"
if [ -n "$unformatted" ]; then
    echo "not gofmt-formatted: $unformatted" >&2
    exit 1
fi

echo "-- go vet"
go vet ./...

echo "-- go test"
go test -count=1 ./...

echo "-- without cgo, the build says why"
if nocgo="$(CGO_ENABLED=0 go build ./... 2>&1)"; then
    echo "CGO_ENABLED=0 go build succeeded" >&2
    exit 1
fi
if ! grep -q "this package needs cgo: build with CGO_ENABLED=1" <<<"$nocgo"; then
    echo "CGO_ENABLED=0 go build does not say why it fails:" >&2
    echo "$nocgo" >&2
    exit 1
fi

echo "-- linked against an installed libjwtv through pkg-config (-tags jwtv_pkgconfig)"
# Go's build cache does not key cgo packages on pkg-config's answer, nor
# notice a new archive: a cache of its own, made for this run.
prefix="$(mktemp -d)"
bash "$root/crates/jwtv-ffi/install.sh" "$prefix" >/dev/null
PKG_CONFIG_PATH="$prefix/lib/pkgconfig" CGO_LDFLAGS="" GOCACHE="$prefix/go-cache" go test -count=1 \
    -tags jwtv_pkgconfig -run 'TestExamples|TestRejectionCodes|TestCodesAndSentinels' .
rm -rf "$prefix"

echo "-- libjwtv is linked statically"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
go test -c -o "$out/jwtv.test" .
if ldd "$out/jwtv.test" | grep -q libjwtv; then
    echo "the test binary loads libjwtv.so:" >&2
    ldd "$out/jwtv.test" >&2
    exit 1
fi

case "$(go env GOOS)/$(go env GOARCH)" in
linux/amd64 | linux/arm64 | linux/ppc64le | linux/s390x)
    echo "-- go test -race"
    go test -race -count=1 ./...
    ;;
*) echo "-- go test -race: not supported on $(go env GOOS)/$(go env GOARCH), skipped" ;;
esac

echo "-- the README's Go example builds and answers"
readme="$(mktemp -d)"
awk '/^```go$/ { inside = 1; next } /^```$/ { if (inside) exit } inside' "$root/README.md" >"$readme/main.go"
port=$((20000 + RANDOM % 20000))
sed -i "s/127.0.0.1:8080/127.0.0.1:$port/" "$readme/main.go"
printf 'module readme\n\ngo 1.19\n\nrequire github.com/jwtv/jwtv/bindings/go v0.0.0\n\nreplace github.com/jwtv/jwtv/bindings/go => %s\n' "$here" >"$readme/go.mod"
(cd "$readme" && go build -o "$readme/example" .)
(cd "$root" && exec "$readme/example") &
example=$!
answer=""
for _ in $(seq 100); do
    if { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; then
        printf 'GET / HTTP/1.0\r\nAuthorization: Bearer %s\r\n\r\n' "$(tr -d '\n' <"$root/examples/tokens/valid-es256.jwt")" >&3
        answer="$(cat <&3)"
        exec 3<&-
        break
    fi
    sleep 0.1
done
kill "$example" 2>/dev/null || true
wait "$example" 2>/dev/null || true
rm -rf "$readme"
if ! grep -q "^hello user-" <<<"$answer"; then
    echo "the README's Go example answered: $answer" >&2
    exit 1
fi

echo "-- benchmarks, once each (go test -bench . -benchtime=1x)"
go test -count=1 -run '^$' -bench . -benchtime=1x ./... >/dev/null

echo "Go binding checks passed"
