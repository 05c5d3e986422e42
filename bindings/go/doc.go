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
// VerifyContext is Verify for callers that may go away: while a JWKS URL
// has not answered yet, it stops waiting when its context ends
// (errors.Is(err, context.Canceled) or context.DeadlineExceeded):
//
//	token, err := v.VerifyContext(r.Context(), raw)
//
// Verifier.Middleware protects a net/http handler with bearer tokens, using
// the request's context; MiddlewareWithOptions takes an ErrorHandler (to
// answer refusals itself, e.g. with 403; a missing token is ErrNoToken) and
// Optional (requests without a token pass through unauthenticated; a bad
// token is still refused).
//
// Building needs libjwtv.a (cargo build --release -p jwtv-ffi); see the
// package's README for where it is looked for.
package jwtv
