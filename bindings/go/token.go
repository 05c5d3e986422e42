package jwtv

/*
#include "jwtv.h"
*/
import "C"

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"sync"
	"time"
	"unsafe"
)

// Token is a verified token. Everything was copied out of libjwtv when it
// was verified, so it needs no Close and may outlive its Verifier. Its
// methods are safe for concurrent use.
type Token struct {
	alg    string
	claims []byte // the decoded claims JSON
	header []byte // the decoded header JSON

	// Decoded on first use, with json.Number for numbers.
	claimsOnce, headerOnce     sync.Once
	parsedClaims, parsedHeader map[string]any
}

func newToken(t *C.jwtv_token) (*Token, error) {
	var p *C.uint8_t
	var n C.size_t
	if status := C.jwtv_token_claims_json(t, &p, &n); status != C.JWTV_OK {
		return nil, errorOf(status, "claims")
	}
	claims := C.GoBytes(unsafe.Pointer(p), C.int(n))
	if status := C.jwtv_token_header_json(t, &p, &n); status != C.JWTV_OK {
		return nil, errorOf(status, "header")
	}
	header := C.GoBytes(unsafe.Pointer(p), C.int(n))
	return &Token{alg: algorithmName(C.jwtv_token_alg(t)), claims: claims, header: header}, nil
}

// algorithmNames interns the names jwtv_token_alg returns.
var algorithmNames sync.Map // *C.char (static) → string

func algorithmName(p *C.char) string {
	if p == nil {
		return ""
	}
	if name, ok := algorithmNames.Load(uintptr(unsafe.Pointer(p))); ok {
		return name.(string)
	}
	name := C.GoString(p)
	algorithmNames.Store(uintptr(unsafe.Pointer(p)), name)
	return name
}

func decodeObject(data []byte) map[string]any {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var m map[string]any
	if d.Decode(&m) != nil || m == nil {
		return map[string]any{} // libjwtv verified it is a JSON object
	}
	return m
}

func (t *Token) claimsMap() map[string]any {
	t.claimsOnce.Do(func() { t.parsedClaims = decodeObject(t.claims) })
	return t.parsedClaims
}

func (t *Token) headerMap() map[string]any {
	t.headerOnce.Do(func() { t.parsedHeader = decodeObject(t.header) })
	return t.parsedHeader
}

// Claims returns the claims as a new map, decoded by encoding/json (numbers
// are float64; use ClaimInt for exact integers, or Decode).
func (t *Token) Claims() map[string]any {
	var m map[string]any
	if json.Unmarshal(t.claims, &m) != nil || m == nil {
		return map[string]any{}
	}
	return m
}

// Header returns the protected header as a new map, as Claims.
func (t *Token) Header() map[string]any {
	var m map[string]any
	if json.Unmarshal(t.header, &m) != nil || m == nil {
		return map[string]any{}
	}
	return m
}

// Decode unmarshals the claims into v (a pointer to a struct or a map),
// with encoding/json.
func (t *Token) Decode(v any) error {
	return json.Unmarshal(t.claims, v)
}

// ClaimsJSON returns a copy of the decoded claims JSON.
func (t *Token) ClaimsJSON() []byte { return append([]byte(nil), t.claims...) }

// HeaderJSON returns a copy of the decoded header JSON.
func (t *Token) HeaderJSON() []byte { return append([]byte(nil), t.header...) }

// Algorithm is the algorithm that verified the token ("ES256", …).
func (t *Token) Algorithm() string { return t.alg }

// KeyID is the header "kid", or "".
func (t *Token) KeyID() string {
	s, _ := t.headerMap()["kid"].(string)
	return s
}

// Type is the header "typ", or "".
func (t *Token) Type() string {
	s, _ := t.headerMap()["typ"].(string)
	return s
}

// ClaimString returns the string claim name; false when it is absent or not
// a string. The string is whole, escapes decoded: a "\u0000" in the token
// is a NUL byte in it (Go strings may hold NUL, C strings may not, which is
// why libjwtv's C accessors refuse such values with CodeEmbeddedNUL). Check
// for NUL and other control bytes before passing a claim to C, a header or
// a log line.
func (t *Token) ClaimString(name string) (string, bool) {
	s, ok := t.claimsMap()[name].(string)
	return s, ok
}

// ClaimInt returns the integer claim name; false when it is absent, not a
// number, or out of the int64 range. A number with a fraction gives its
// whole part (as libjwtv reads dates: 1700000000.5 is 1700000000).
func (t *Token) ClaimInt(name string) (int64, bool) {
	n, ok := t.claimsMap()[name].(json.Number)
	if !ok {
		return 0, false
	}
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i, true
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsNaN(f) || f >= math.MaxInt64 || f < math.MinInt64 {
		return 0, false
	}
	return int64(f), true
}

// Subject is the "sub" claim, or "".
func (t *Token) Subject() string {
	s, _ := t.ClaimString("sub")
	return s
}

// Issuer is the "iss" claim, or "".
func (t *Token) Issuer() string {
	s, _ := t.ClaimString("iss")
	return s
}

// ID is the "jti" claim, or "".
func (t *Token) ID() string {
	s, _ := t.ClaimString("jti")
	return s
}

// Audiences is the "aud" claim as a list: one element for a string, nil when
// absent.
func (t *Token) Audiences() []string {
	switch aud := t.claimsMap()["aud"].(type) {
	case string:
		return []string{aud}
	case []any:
		out := make([]string, 0, len(aud))
		for _, a := range aud {
			if s, ok := a.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func (t *Token) time(name string) time.Time {
	secs, ok := t.ClaimInt(name)
	if !ok {
		return time.Time{}
	}
	return time.Unix(secs, 0)
}

// ExpiresAt is the "exp" claim; the zero time when absent.
func (t *Token) ExpiresAt() time.Time { return t.time("exp") }

// NotBefore is the "nbf" claim; the zero time when absent.
func (t *Token) NotBefore() time.Time { return t.time("nbf") }

// IssuedAt is the "iat" claim; the zero time when absent.
func (t *Token) IssuedAt() time.Time { return t.time("iat") }
