package jwtv_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	jwtv "github.com/jwtv/jwtv/bindings/go"
)

func readToken(name string) string {
	data, err := os.ReadFile("../../examples/tokens/" + name + ".jwt")
	if err != nil {
		panic(err)
	}
	return strings.TrimSpace(string(data))
}

func ExampleNewVerifier() {
	v, err := jwtv.NewVerifier(jwtv.Config{
		JWKSFile:       "../../examples/jwks.json",
		Algorithms:     []string{"ES256", "EdDSA", "RS256"},
		Issuers:        []string{"https://issuer.example"},
		Audiences:      []string{"api"},
		RequiredClaims: []string{"sub"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer v.Close()

	token, err := v.Verify(readToken("valid-es256"))
	if err != nil {
		fmt.Println(err)
		return
	}
	scope, _ := token.ClaimString("scope")
	fmt.Println(token.Subject(), token.Audiences(), token.ExpiresAt().UTC().Year(), scope)

	_, err = v.Verify(readToken("expired-es256"))
	fmt.Println(errors.Is(err, jwtv.ErrExpired), err)
	var e *jwtv.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code, uint32(e.Code))
	}
	// Output:
	// user-1234 [api reports] 2100 read write
	// true jwtv: the token has expired
	// expired 7
}

func ExampleVerifier_Middleware() {
	v, err := jwtv.NewVerifier(jwtv.Config{PolicyFile: "../../examples/policy.json"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer v.Close()
	handler := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, _ := jwtv.TokenFromContext(r.Context())
		fmt.Fprintf(w, "hello %s", token.Subject())
	}))

	for _, name := range []string{"valid-eddsa", "wrong-aud-es256", ""} {
		req := httptest.NewRequest("GET", "/", nil)
		if name != "" {
			req.Header.Set("Authorization", "Bearer "+readToken(name))
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Println(rec.Code, rec.Header().Get("WWW-Authenticate"), strings.TrimSpace(rec.Body.String()))
	}
	// Output:
	// 200  hello user-1234
	// 401 Bearer realm="api", error="invalid_token", error_description="bad_audience" Unauthorized
	// 401 Bearer realm="api" Unauthorized
}

func ExampleVerifier_VerifyContext() {
	v, err := jwtv.NewVerifier(jwtv.Config{PolicyFile: "../../examples/policy.json"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer v.Close()

	// Waits for a key set that is still loading (a JWKS URL) no longer than
	// the context allows; here the keys are in a file, served at once.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	token, err := v.VerifyContext(ctx, readToken("valid-es256"))
	fmt.Println(token.Subject(), err)

	_, err = v.VerifyContext(ctx, readToken("expired-es256"))
	fmt.Println(errors.Is(err, jwtv.ErrExpired), err)

	// A context that has ended: nothing is verified.
	cancel()
	_, err = v.VerifyContext(ctx, readToken("valid-es256"))
	fmt.Println(errors.Is(err, context.Canceled), err)
	// Output:
	// user-1234 <nil>
	// true jwtv: the token has expired
	// true jwtv: token not verified: context canceled
}

func ExampleVerifier_MiddlewareWithOptions() {
	v, err := jwtv.NewVerifier(jwtv.Config{PolicyFile: "../../examples/policy.json"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer v.Close()
	handler := v.MiddlewareWithOptions(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token, ok := jwtv.TokenFromContext(r.Context()); ok {
			fmt.Fprintf(w, "hello %s", token.Subject())
			return
		}
		fmt.Fprint(w, "hello stranger") // Optional: no token, no identity
	}), jwtv.MiddlewareOptions{
		Optional: true,
		// Refused tokens get a 403 naming the code instead of a 401 challenge.
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			var e *jwtv.Error
			if errors.As(err, &e) {
				http.Error(w, "forbidden: "+e.Code.String(), http.StatusForbidden)
				return
			}
			http.Error(w, "log in", http.StatusUnauthorized) // jwtv.ErrNoToken, when not Optional
		},
	})

	for _, name := range []string{"valid-eddsa", "expired-es256", ""} {
		req := httptest.NewRequest("GET", "/", nil)
		if name != "" {
			req.Header.Set("Authorization", "Bearer "+readToken(name))
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	// Output:
	// 200 hello user-1234
	// 403 forbidden: expired
	// 200 hello stranger
}
