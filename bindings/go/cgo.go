//go:build cgo && !jwtv_pkgconfig

package jwtv

// All of the package's cgo flags live here (and, with the jwtv_pkgconfig
// build tag, in cgo_pkgconfig.go).
//
// libjwtv.a is linked statically: "-l:libjwtv.a" names the archive itself, so
// the linker never picks libjwtv.so from the same folder. It is searched in
// the folders of -L, first those of the CGO_LDFLAGS environment variable,
// then the repository's default cargo output (target/release). To link a
// library built elsewhere (CARGO_TARGET_DIR, an install prefix):
//
//	CGO_LDFLAGS="-L/path/to/folder/with/libjwtv.a" go build ./...

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: -L${SRCDIR}/../../target/release -l:libjwtv.a -lpthread -ldl -lm
#include "jwtv.h"
*/
import "C"
