//go:build cgo && jwtv_pkgconfig

package jwtv

// With the jwtv_pkgconfig build tag, the header and the static library come
// from an installed libjwtv (crates/jwtv-ffi/install.sh PREFIX) through
// pkg-config's jwtv-static.pc:
//
//	PKG_CONFIG_PATH=PREFIX/lib/pkgconfig go build -tags jwtv_pkgconfig ./...

/*
#cgo pkg-config: jwtv-static
#include "jwtv.h"
*/
import "C"
