//go:build cgo

package jwtv

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

type tokenKey struct{}

// TokenFromContext returns the token the middleware verified for this
// request.
func TokenFromContext(ctx context.Context) (*Token, bool) {
	t, ok := ctx.Value(tokenKey{}).(*Token)
	return t, ok && t != nil
}

// ContextWithToken returns a copy of ctx carrying t, as the middleware does
// (useful to test handlers without a token).
func ContextWithToken(ctx context.Context, t *Token) context.Context {
	return context.WithValue(ctx, tokenKey{}, t)
}

// DefaultRealm is the realm of Middleware's WWW-Authenticate challenges.
const DefaultRealm = "api"

// RetryAfterSeconds is the Retry-After value of the middleware's 503 answer
// when a token could not be judged (ErrUnavailable).
const RetryAfterSeconds = "5"

// MiddlewareOptions configures MiddlewareWithOptions.
type MiddlewareOptions struct {
	// Realm is the realm of the WWW-Authenticate challenge; "": DefaultRealm.
	Realm string
	// Source finds the token of a request; nil: BearerToken.
	Source TokenSource
}

// A TokenSource finds the token of a request: false when the request
// carries none (the middleware then answers a challenge without an error).
type TokenSource func(r *http.Request) (string, bool)

// BearerToken reads "Authorization: Bearer <token>" (RFC 6750 §2.1; the
// scheme is case-insensitive): the middleware's default source.
func BearerToken(r *http.Request) (string, bool) {
	return bearerToken(r)
}

// CookieToken reads the token from the cookie called name (browser sessions).
func CookieToken(name string) TokenSource {
	return func(r *http.Request) (string, bool) {
		c, err := r.Cookie(name)
		if err != nil {
			return "", false
		}
		return c.Value, true
	}
}

// QueryToken reads the token from the URL query parameter called name (RFC
// 6750 §2.3: for clients that cannot send headers; URLs end up in logs, so
// prefer the header).
func QueryToken(name string) TokenSource {
	return func(r *http.Request) (string, bool) {
		values, ok := r.URL.Query()[name]
		if !ok || len(values) == 0 {
			return "", false
		}
		return values[0], true
	}
}

// FirstToken tries each source in order and takes the first token found.
func FirstToken(sources ...TokenSource) TokenSource {
	return func(r *http.Request) (string, bool) {
		for _, source := range sources {
			if token, ok := source(r); ok {
				return token, true
			}
		}
		return "", false
	}
}

// Middleware verifies the bearer token of each request (the Authorization
// header, RFC 6750; MiddlewareOptions.Source reads it from elsewhere) and
// calls next with the verified *Token in the request
// context (TokenFromContext). Otherwise it answers 401 Unauthorized with a
// challenge:
//
//	WWW-Authenticate: Bearer realm="api"                     (no token)
//	WWW-Authenticate: Bearer realm="api", error="invalid_token", error_description="expired"
//
// where the description is the rejection code's name. When the token could
// not be judged (ErrUnavailable: the key set has not loaded yet, or a
// revocation list that fails closed is not in sync) it answers 503 Service
// Unavailable with "Retry-After: 5", never 401: the client did nothing
// wrong. If the verifier is closed or misused it answers 500.
func (v *Verifier) Middleware(next http.Handler) http.Handler {
	return v.MiddlewareWithOptions(next, MiddlewareOptions{})
}

// MiddlewareWithRealm is Middleware with another realm.
func (v *Verifier) MiddlewareWithRealm(realm string, next http.Handler) http.Handler {
	return v.MiddlewareWithOptions(next, MiddlewareOptions{Realm: realm})
}

// MiddlewareWithOptions is Middleware configured by opts.
func (v *Verifier) MiddlewareWithOptions(next http.Handler, opts MiddlewareOptions) http.Handler {
	realm := opts.Realm
	if realm == "" {
		realm = DefaultRealm
	}
	challenge := "Bearer realm=" + quote(realm)
	source := opts.Source
	if source == nil {
		source = BearerToken
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, ok := source(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", challenge)
			http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
			return
		}
		token, err := v.Verify(raw)
		if err != nil {
			var e *Error
			if errors.As(err, &e) && e.Code == CodeUnavailable {
				w.Header().Set("Retry-After", RetryAfterSeconds)
				http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
				return
			}
			if errors.As(err, &e) && e.Code.IsRejection() {
				w.Header().Set("WWW-Authenticate",
					challenge+`, error="invalid_token", error_description=`+quote(e.Code.String()))
				http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
				return
			}
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			return
		}
		next.ServeHTTP(w, r.WithContext(ContextWithToken(r.Context(), token)))
	})
}

// bearerToken is the token of an "Authorization: Bearer <token>" header
// (the scheme is case-insensitive); false when there is no such header.
func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	const scheme = "bearer"
	if len(h) < len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return "", false
	}
	rest := h[len(scheme):]
	if rest == "" {
		return "", true // "Bearer" alone: an empty, malformed token
	}
	if rest[0] != ' ' {
		return "", false // another scheme, e.g. "Bearerx"
	}
	return strings.TrimSpace(rest), true
}

// quote makes s an HTTP quoted-string (RFC 9110), dropping control
// characters.
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 && c != '\t' || c == 0x7f:
			// dropped
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
