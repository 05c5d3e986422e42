package jwtv_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	jwtv "github.com/jwtv/jwtv/bindings/go"
)

func TestMiddleware(t *testing.T) {
	v := newVerifier(t, exampleConfig())
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := jwtv.TokenFromContext(r.Context())
		if !ok {
			http.Error(w, "no token in the context", http.StatusTeapot)
			return
		}
		fmt.Fprintf(w, "hello %s", tok.Subject())
	})
	valid := exampleToken(t, "valid-es256")
	cases := []struct {
		name          string
		handler       http.Handler
		authorization []string
		status        int
		challenge     string
		body          string
	}{
		{"valid", v.Middleware(hello), []string{"Bearer " + valid}, 200, "", "hello user-1234"},
		{"scheme in lower case", v.Middleware(hello), []string{"bearer " + valid}, 200, "", "hello user-1234"},
		{"missing", v.Middleware(hello), nil, 401, `Bearer realm="api"`, ""},
		{"other scheme", v.Middleware(hello), []string{"Basic dXNlcjpwYXNz"}, 401, `Bearer realm="api"`, ""},
		{"Bearerx", v.Middleware(hello), []string{"Bearerx " + valid}, 401, `Bearer realm="api"`, ""},
		{"expired", v.Middleware(hello), []string{"Bearer " + exampleToken(t, "expired-es256")}, 401,
			`Bearer realm="api", error="invalid_token", error_description="expired"`, ""},
		{"bad signature", v.Middleware(hello), []string{"Bearer " + exampleToken(t, "wrong-key-es256")}, 401,
			`Bearer realm="api", error="invalid_token", error_description="bad_signature"`, ""},
		{"empty token", v.Middleware(hello), []string{"Bearer"}, 401,
			`Bearer realm="api", error="invalid_token", error_description="malformed"`, ""},
		{"realm", v.MiddlewareWithRealm(`my "realm"`, hello), nil, 401, `Bearer realm="my \"realm\""`, ""},
		{"realm and rejection", v.MiddlewareWithOptions(hello, jwtv.MiddlewareOptions{Realm: "reports"}),
			[]string{"Bearer " + exampleToken(t, "wrong-aud-es256")}, 401,
			`Bearer realm="reports", error="invalid_token", error_description="bad_audience"`, ""},
		// A cookie source does not read the header.
		{"cookie source, header only", v.MiddlewareWithOptions(hello, jwtv.MiddlewareOptions{Source: jwtv.CookieToken("auth")}),
			[]string{"Bearer " + valid}, 401, `Bearer realm="api"`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/hello", nil)
			for _, a := range tc.authorization {
				req.Header.Add("Authorization", a)
			}
			rec := httptest.NewRecorder()
			tc.handler.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tc.status, rec.Body)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("WWW-Authenticate %q, want %q", got, tc.challenge)
			}
			if tc.body != "" && rec.Body.String() != tc.body {
				t.Errorf("body %q, want %q", rec.Body, tc.body)
			}
		})
	}
}

// Tokens from a cookie, a query parameter, or the first source that has one.
func TestMiddlewareTokenSources(t *testing.T) {
	v := newVerifier(t, exampleConfig())
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := jwtv.TokenFromContext(r.Context())
		fmt.Fprintf(w, "hello %s", tok.Subject())
	})
	valid, expired := exampleToken(t, "valid-es256"), exampleToken(t, "expired-es256")
	cookie := v.MiddlewareWithOptions(hello, jwtv.MiddlewareOptions{Source: jwtv.CookieToken("auth")})
	query := v.MiddlewareWithOptions(hello, jwtv.MiddlewareOptions{Source: jwtv.QueryToken("access_token")})
	either := v.MiddlewareWithOptions(hello, jwtv.MiddlewareOptions{
		Source: jwtv.FirstToken(jwtv.BearerToken, jwtv.CookieToken("auth")),
	})
	for _, tc := range []struct {
		name    string
		handler http.Handler
		edit    func(r *http.Request)
		status  int
		code    string
	}{
		{"cookie", cookie, func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "auth", Value: valid}) }, 200, ""},
		{"expired cookie", cookie, func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "auth", Value: expired}) }, 401, "expired"},
		{"empty cookie", cookie, func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "auth", Value: ""}) }, 401, "malformed"},
		{"no cookie", cookie, func(r *http.Request) {}, 401, ""},
		{"query", query, func(r *http.Request) { r.URL.RawQuery = "access_token=" + valid }, 200, ""},
		{"no query", query, func(r *http.Request) { r.URL.RawQuery = "other=" + valid }, 401, ""},
		{"header first", either, func(r *http.Request) {
			r.Header.Set("Authorization", "Bearer "+valid)
			r.AddCookie(&http.Cookie{Name: "auth", Value: expired})
		}, 200, ""},
		{"then the cookie", either, func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "auth", Value: expired}) }, 401, "expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/hello", nil)
			tc.edit(req)
			rec := httptest.NewRecorder()
			tc.handler.ServeHTTP(rec, req)
			want := `Bearer realm="api"`
			if tc.code != "" {
				want += `, error="invalid_token", error_description="` + tc.code + `"`
			}
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tc.status, rec.Body)
			}
			if got := rec.Header().Get("WWW-Authenticate"); tc.status == 401 && got != want {
				t.Errorf("WWW-Authenticate %q, want %q", got, want)
			}
			if tc.status == 200 && rec.Body.String() != "hello user-1234" {
				t.Errorf("body %q", rec.Body)
			}
		})
	}
}

// Through a real server, and a closed verifier answers 500.
func TestMiddlewareServer(t *testing.T) {
	v, err := jwtv.NewVerifier(exampleConfig())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := jwtv.TokenFromContext(r.Context())
		fmt.Fprint(w, tok.Audiences())
	})))
	defer srv.Close()
	get := func(token string) *http.Response {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := get(exampleToken(t, "valid-rs256")); resp.StatusCode != 200 {
		t.Errorf("valid: %d", resp.StatusCode)
	}
	if resp := get(exampleToken(t, "alg-none")); resp.StatusCode != 401 ||
		resp.Header.Get("WWW-Authenticate") != `Bearer realm="api", error="invalid_token", error_description="malformed"` {
		t.Errorf("alg none: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	v.Close()
	if resp := get(exampleToken(t, "valid-rs256")); resp.StatusCode != 500 {
		t.Errorf("closed verifier: %d", resp.StatusCode)
	}
}

func TestContextWithToken(t *testing.T) {
	if _, ok := jwtv.TokenFromContext(context.Background()); ok {
		t.Error("token in an empty context")
	}
	v := newVerifier(t, exampleConfig())
	tok, err := v.Verify(exampleToken(t, "valid-es256"))
	if err != nil {
		t.Fatal(err)
	}
	got, ok := jwtv.TokenFromContext(jwtv.ContextWithToken(context.Background(), tok))
	if !ok || got != tok {
		t.Error("ContextWithToken lost the token")
	}
}
