// Package jwtv verifies JSON Web Tokens with libjwtv, the C ABI of jwtv, a
// strict JWT verifier written in Rust, linked statically through cgo.
//
// Make one Verifier per configuration and share it between goroutines:
//
//	v, err := jwtv.NewVerifier(jwtv.Config{
//		JWKSURL:    "https://login.example.com/.well-known/jwks.json",
//		Algorithms: []string{"RS256", "ES256"},
//		Issuers:    []string{"https://login.example.com/"},
//		Audiences:  []string{"api"},
//	})
//	if err != nil { … }
//	defer v.Close()
//
//	token, err := v.Verify(raw)
//	switch {
//	case errors.Is(err, jwtv.ErrExpired): …
//	case err != nil: …
//	}
//	fmt.Println(token.Subject(), token.Audiences())
//
// Verifier.Middleware protects a net/http handler with bearer tokens.
//
// Building needs libjwtv.a (cargo build --release -p jwtv-ffi); see the
// package's README for where it is looked for.
package jwtv
