package jwtv_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

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

// helloOrAnonymous greets the token's subject, or "anonymous" without one.
var helloOrAnonymous = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if tok, ok := jwtv.TokenFromContext(r.Context()); ok {
		fmt.Fprintf(w, "hello %s", tok.Subject())
		return
	}
	fmt.Fprint(w, "anonymous")
})

// serve runs handler on a GET with the given Authorization header ("": none).
func serve(handler http.Handler, authorization string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", "/hello", nil)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	return rec
}

// An ErrorHandler answers refused tokens (here 403 with the code) and
// missing ones (ErrNoToken); the rest is unchanged.
func TestMiddlewareErrorHandler(t *testing.T) {
	v := newVerifier(t, exampleConfig())
	var got []error
	forbid := func(w http.ResponseWriter, r *http.Request, err error) {
		got = append(got, err)
		var e *jwtv.Error
		switch {
		case errors.Is(err, jwtv.ErrNoToken):
			http.Error(w, "log in", http.StatusUnauthorized)
		case errors.As(err, &e):
			http.Error(w, "forbidden: "+e.Code.String(), http.StatusForbidden)
		default:
			http.Error(w, "unexpected error", http.StatusTeapot)
		}
	}
	handler := v.MiddlewareWithOptions(helloOrAnonymous, jwtv.MiddlewareOptions{ErrorHandler: forbid})
	for _, tc := range []struct {
		name, authorization string
		status              int
		body                string
		err                 error
	}{
		{"valid", "Bearer " + exampleToken(t, "valid-es256"), 200, "hello user-1234", nil},
		{"expired", "Bearer " + exampleToken(t, "expired-es256"), 403, "forbidden: expired\n", jwtv.ErrExpired},
		{"bad audience", "Bearer " + exampleToken(t, "wrong-aud-es256"), 403, "forbidden: bad_audience\n", jwtv.ErrBadAudience},
		{"empty token", "Bearer", 403, "forbidden: malformed\n", jwtv.ErrMalformed},
		{"missing", "", 401, "log in\n", jwtv.ErrNoToken},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got = nil
			rec := serve(handler, tc.authorization)
			if rec.Code != tc.status || rec.Body.String() != tc.body {
				t.Errorf("%d %q, want %d %q", rec.Code, rec.Body, tc.status, tc.body)
			}
			if h := rec.Header().Get("WWW-Authenticate"); h != "" {
				t.Errorf("the middleware added WWW-Authenticate %q", h)
			}
			switch {
			case tc.err == nil && len(got) != 0:
				t.Errorf("ErrorHandler called with %v", got)
			case tc.err != nil && (len(got) != 1 || !errors.Is(got[0], tc.err)):
				t.Errorf("ErrorHandler got %v, want %v", got, tc.err)
			}
		})
	}
	// A missing token is exactly ErrNoToken, not a rejection code.
	got = nil
	serve(handler, "")
	var e *jwtv.Error
	if len(got) != 1 || got[0] != jwtv.ErrNoToken || errors.As(got[0], &e) ||
		got[0].Error() != "jwtv: no token in the request" {
		t.Errorf("missing token: %#v", got)
	}
	// A rejection is the *Error of the verification, detail included.
	got = nil
	serve(handler, "Bearer "+exampleToken(t, "wrong-aud-es256"))
	_, verdict := v.Verify(exampleToken(t, "wrong-aud-es256"))
	if len(got) != 1 || !errors.As(got[0], &e) || e.Code != jwtv.CodeBadAudience || !reflect.DeepEqual(got[0], verdict) {
		t.Errorf("rejection: %#v, Verify's %#v", got, verdict)
	}
	// Not a verdict on the token: the middleware's own 503 and 500.
	got = nil
	unavailable := newVerifier(t, remotePolicyFile(t, silentKeyServer(t), 0))
	rec := serve(unavailable.MiddlewareWithOptions(helloOrAnonymous, jwtv.MiddlewareOptions{ErrorHandler: forbid}),
		"Bearer "+exampleToken(t, "valid-es256"))
	if rec.Code != 503 || rec.Header().Get("Retry-After") != jwtv.RetryAfterSeconds || len(got) != 0 {
		t.Errorf("unavailable: %d %v %v", rec.Code, rec.Header(), got)
	}
	v.Close()
	if rec := serve(handler, "Bearer "+exampleToken(t, "valid-es256")); rec.Code != 500 || len(got) != 0 {
		t.Errorf("closed verifier: %d %v", rec.Code, got)
	}
}

// Optional: no token passes, unauthenticated; a bad token is still refused.
func TestMiddlewareOptional(t *testing.T) {
	v := newVerifier(t, exampleConfig())
	optional := v.MiddlewareWithOptions(helloOrAnonymous, jwtv.MiddlewareOptions{Optional: true})
	for _, tc := range []struct {
		name, authorization string
		status              int
		challenge, body     string
	}{
		{"no token", "", 200, "", "anonymous"},
		{"another scheme", "Basic dXNlcjpwYXNz", 200, "", "anonymous"},
		{"valid", "Bearer " + exampleToken(t, "valid-eddsa"), 200, "", "hello user-1234"},
		{"expired", "Bearer " + exampleToken(t, "expired-es256"), 401,
			`Bearer realm="api", error="invalid_token", error_description="expired"`, "Unauthorized\n"},
		{"bad signature", "Bearer " + exampleToken(t, "wrong-key-es256"), 401,
			`Bearer realm="api", error="invalid_token", error_description="bad_signature"`, "Unauthorized\n"},
		{"empty token", "Bearer", 401,
			`Bearer realm="api", error="invalid_token", error_description="malformed"`, "Unauthorized\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(optional, tc.authorization)
			if rec.Code != tc.status || rec.Body.String() != tc.body {
				t.Errorf("%d %q, want %d %q", rec.Code, rec.Body, tc.status, tc.body)
			}
			if h := rec.Header().Get("WWW-Authenticate"); h != tc.challenge {
				t.Errorf("WWW-Authenticate %q, want %q", h, tc.challenge)
			}
		})
	}
	// With an ErrorHandler: a missing token still passes, a bad one goes to it.
	var got []error
	both := v.MiddlewareWithOptions(helloOrAnonymous, jwtv.MiddlewareOptions{
		Optional: true,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			got = append(got, err)
			http.Error(w, "forbidden", http.StatusForbidden)
		},
	})
	if rec := serve(both, ""); rec.Code != 200 || rec.Body.String() != "anonymous" || len(got) != 0 {
		t.Errorf("no token: %d %q %v", rec.Code, rec.Body, got)
	}
	if rec := serve(both, "Bearer "+exampleToken(t, "expired-es256")); rec.Code != 403 || len(got) != 1 ||
		!errors.Is(got[0], jwtv.ErrExpired) {
		t.Errorf("expired: %d %v", rec.Code, got)
	}
	// A token that cannot be judged is never waved through as no token.
	unavailable := newVerifier(t, remotePolicyFile(t, silentKeyServer(t), 0))
	rec := serve(unavailable.MiddlewareWithOptions(helloOrAnonymous, jwtv.MiddlewareOptions{Optional: true}),
		"Bearer "+exampleToken(t, "valid-es256"))
	if rec.Code != 503 || strings.Contains(rec.Body.String(), "anonymous") {
		t.Errorf("unavailable: %d %q", rec.Code, rec.Body)
	}
}

// The middleware waits for the key set with the request's context: a
// client that goes away ends the wait (503, the handler not called).
func TestMiddlewareRequestContext(t *testing.T) {
	v := newVerifier(t, remoteConfig(silentKeyServer(t)))
	called := false
	handler := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called = true }))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := httptest.NewRequest("GET", "/hello", nil).WithContext(ctx)
	req.Header.Set("Authorization", "Bearer "+exampleToken(t, "valid-es256"))
	rec := httptest.NewRecorder()
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	handler.ServeHTTP(rec, req)
	if took := time.Since(start); took > 2200*time.Millisecond {
		t.Errorf("the request took %v after its client left at 200 ms", took)
	}
	if rec.Code != 503 || rec.Header().Get("Retry-After") != jwtv.RetryAfterSeconds ||
		rec.Header().Get("WWW-Authenticate") != "" || called {
		t.Errorf("%d %v, handler called: %v", rec.Code, rec.Header(), called)
	}
	// A request whose deadline passes while the keys load: the same.
	ctx, cancel = context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	rec = httptest.NewRecorder()
	start = time.Now()
	handler.ServeHTTP(rec, req.WithContext(ctx))
	if took := time.Since(start); rec.Code != 503 || took > 2200*time.Millisecond || called {
		t.Errorf("deadline: %d after %v, handler called: %v", rec.Code, took, called)
	}
}

func TestMiddlewareCountsRequestsWithoutAToken(t *testing.T) {
	v := newVerifier(t, exampleConfig())
	handler := v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for _, authorization := range []string{"", "", "Basic dXNlcjpwYXNz", "Bearer " + exampleToken(t, "valid-es256")} {
		r := httptest.NewRequest("GET", "/", nil)
		if authorization != "" {
			r.Header.Set("Authorization", authorization)
		}
		handler.ServeHTTP(httptest.NewRecorder(), r)
	}
	if text := v.MetricsPrometheus(); !strings.Contains(text, "jwtv_requests_without_token_total 3\n") {
		t.Fatalf("three requests carried no bearer token:\n%s", text)
	}
}
