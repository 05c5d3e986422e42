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
	// ErrorHandler, when set, answers a request whose token is missing or
	// refused, instead of the default 401 with its RFC 6750 challenge: a
	// service can answer 403 for a policy decision, or its own error
	// format. err is ErrNoToken when the request carries no token
	// (errors.Is(err, ErrNoToken)), and the *Error of the verification when
	// the token was refused (read its Code, a rejection code, with
	// errors.As, or compare with errors.Is(err, ErrExpired) and the other
	// sentinels). The handler writes the whole answer; next is not called.
	// A token that could not be judged (503) and a closed verifier (500)
	// are still answered by the middleware.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
	// Optional lets a request without a token through to next,
	// unauthenticated: TokenFromContext then reports no token, and next
	// decides what an anonymous caller may do. A request that carries a
	// token is verified as usual and, if the token is refused, answered
	// with 401 (or by ErrorHandler) like any other: a bad token never
	// passes as no token.
	Optional bool
}

// ErrNoToken is the error MiddlewareOptions.ErrorHandler receives when the
// request carries no token (nothing where the TokenSource looks).
var ErrNoToken = errors.New("jwtv: no token in the request")

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
// where the description is the rejection code's name
// (MiddlewareOptions.ErrorHandler answers instead; MiddlewareOptions.Optional
// lets requests without a token through). When the token could not be
// judged (ErrUnavailable: the key set has not loaded yet, or a revocation
// list that fails closed is not in sync) it answers 503 Service Unavailable
// with "Retry-After: 5", never 401: the client did nothing wrong. It
// verifies with VerifyContext and the request's context, so a wait for the
// key set ends when the client goes away (or the request's deadline
// passes), with the same 503. If the verifier is closed or misused it
// answers 500.
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
			v.RecordNoToken()
			switch {
			case opts.Optional:
				next.ServeHTTP(w, r)
			case opts.ErrorHandler != nil:
				opts.ErrorHandler(w, r, ErrNoToken)
			default:
				w.Header().Set("WWW-Authenticate", challenge)
				http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
			}
			return
		}
		token, err := v.VerifyContext(r.Context(), raw)
		if err != nil {
			var e *Error
			isError := errors.As(err, &e)
			switch {
			case isError && e.Code == CodeUnavailable,
				errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
				w.Header().Set("Retry-After", RetryAfterSeconds)
				http.Error(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
			case isError && e.Code.IsRejection() && opts.ErrorHandler != nil:
				opts.ErrorHandler(w, r, err)
			case isError && e.Code.IsRejection():
				w.Header().Set("WWW-Authenticate",
					challenge+`, error="invalid_token", error_description=`+quote(e.Code.String()))
				http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
			default:
				http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			}
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
