//go:build !cgo

package jwtv

// This package binds libjwtv (Rust) through cgo, so it cannot build with
// CGO_ENABLED=0. The line below turns the compiler's error into the reason:
// build with CGO_ENABLED=1 and a C compiler (see README.md).
var _ int = "jwtv: this package needs cgo: build with CGO_ENABLED=1 and a C compiler (see bindings/go/README.md)"
