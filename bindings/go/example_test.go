package jwtv_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

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
