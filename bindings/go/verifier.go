package jwtv

/*
#include <stdlib.h>
#include "jwtv.h"
*/
import "C"

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"
)

// Config says how a Verifier gets its keys and which tokens it accepts. It
// is a policy document (docs/POLICY.md) in Go form: each field is the
// document field named in its comment, and MarshalJSON writes the document
// that NewVerifier hands to libjwtv.
//
// Give either PolicyFile alone (a policy file, which states everything) or
// exactly one key source — JWKS, JWKSFile, JWKSURL, or PEMKeys and/or
// HMACSecrets — together with Algorithms and the rules. Zero values mean the
// document's defaults. The few fields of the document that Config lacks
// (key files, JWKS limits, refresh timings, Redis settings) are set in a
// policy file; docs/parity.json says why for each.
type Config struct {
	// PolicyFile is the path of a policy file; relative paths in it are
	// relative to its folder. When set, every other field must be left
	// empty.
	PolicyFile string

	// Name names the policy in metrics (every sample gets the label
	// policy="<Name>"; name): 1 to 64 of A-Z, a-z, 0-9, "_", "-", ".".
	Name string

	// JWKS is a JWKS document held in memory (keys.jwks).
	JWKS []byte
	// JWKSFile is the path of a JWKS file, re-read when it changes
	// (keys.jwks_file). Relative paths are relative to the current
	// directory.
	JWKSFile string
	// JWKSURL is an http or https JWKS endpoint, refreshed in the background
	// (keys.jwks_url; the first verification waits up to 5 s for the first
	// fetch, VerifyContext no longer than its context allows).
	JWKSURL string
	// IssuerDiscovery is an OpenID Connect issuer URL
	// (keys.issuer_discovery): its configuration
	// (<issuer>/.well-known/openid-configuration) names the JWKS URL, then
	// refreshed as JWKSURL is. Its keys verify only tokens whose "iss" is
	// this issuer (ErrBadIssuer otherwise).
	IssuerDiscovery string
	// TLSCAFile is a PEM file of CA certificates an https JWKSURL must chain
	// to, in place of the system's trust store (tls.ca_file): a key server
	// behind a private CA. A file without a certificate is an ErrConfig.
	TLSCAFile string
	// PEMKeys are public keys in PEM form, each bound to an algorithm
	// (keys.pem).
	PEMKeys []PEMKey
	// HMACSecrets are shared secrets, each bound to HS256, HS384 or HS512
	// (keys.secrets).
	HMACSecrets []HMACSecret
	// KeySources are several JWKS sources served as one key set, each
	// refreshed on its own (keys.sources), in place of JWKS, JWKSFile or
	// JWKSURL. Sources naming different keys with one "kid" serve neither;
	// a source with an Issuer verifies only that issuer's tokens
	// (ErrBadIssuer otherwise).
	KeySources []KeySource

	// Algorithms are the accepted "alg" values ("ES256", "RS256", "EdDSA",
	// "HS256", …; algorithms). At least one is required; "none" is refused.
	Algorithms []string
	// Issuers are the accepted "iss" values (issuers); empty: iss is not
	// checked.
	Issuers []string
	// Audiences are the accepted "aud" values, one of which must be in the
	// token's (audiences); empty: a token that has an aud is refused, unless
	// IgnoreAudience.
	Audiences []string
	// IgnoreAudience accepts any "aud" (ignore_audience), for a verifier that
	// truly serves every audience. It cannot be combined with Audiences.
	IgnoreAudience bool
	// Type, when set, is the required header "typ" (typ; case-insensitive,
	// "application/" optional).
	Type string
	// Leeway is the clock-skew allowance for exp, nbf and iat, in whole
	// seconds (leeway_secs, truncated; at most 300 s). Zero means the
	// default, 30 s; NoLeeway means none.
	Leeway time.Duration
	// AllowMissingExp accepts tokens without "exp" (require_exp false).
	AllowMissingExp bool
	// MaxAge, when set, refuses tokens whose "iat" is older than this (plus
	// Leeway) with ErrTooOld, and tokens without "iat" (max_age_secs, in
	// whole seconds, truncated).
	MaxAge time.Duration
	// MaxLifetime, when set, refuses tokens whose lifetime, "exp" minus
	// "iat", is longer than this with ErrLifetimeTooLong, and tokens
	// without "iat" (max_lifetime_secs, in whole seconds, truncated): the
	// guard against an issuer that hands out tokens living for days.
	MaxLifetime time.Duration
	// RequiredClaims must be present in the token (required_claims).
	RequiredClaims []string
	// RequiredClaimValues maps claim names to the value each must hold
	// (required_claim_values): a string, an integer or a bool. A claim holds
	// it when equal, when it is an array with an element equal to it, or,
	// for "scope", when it is one of its space-separated words. A name that
	// starts with "/" is a JSON Pointer into the claims
	// ("/realm_access/roles"), in RequiredClaims too.
	RequiredClaimValues map[string]any
	// Shadow is a shadow policy (shadow): members of the policy document
	// that change token rules ("issuers", "audiences", "max_lifetime_secs",
	// "required_claims", ...), judged beside the enforced ones for every
	// token they accept and never enforced. What the shadow would reject is
	// counted in jwtv_shadow_verifications_total and logged: the safe way to
	// tighten rules in production. For example
	// map[string]any{"audiences": []string{"api"}, "max_lifetime_secs": 3600}.
	Shadow map[string]any
	// UnderstoodCrit are the header "crit" extensions this deployment
	// understands (understood_crit); a token naming any other is refused
	// with ErrUnsupportedCrit. "b64" is always refused.
	UnderstoodCrit []string
	// MaxTokenLen is the largest token accepted, in bytes (max_token_len);
	// 0: 16384.
	MaxTokenLen int
	// TokenCacheSize is the number of verified tokens remembered, so that a
	// token seen again skips the signature check (the claims are still
	// checked against the current time; token_cache_size); 0: no cache.
	TokenCacheSize int

	// Revocations, when set, is the source of a revocation list checked
	// after every other check (revocations.source): a file path (a JSON list
	// of revoked "jti", "sub" and "kid" values, re-read when it changes) or
	// a redis:// URL (synced in the background; NewVerifier waits up to 2 s
	// for the first sync). Revoked tokens are refused with ErrRevoked. A
	// missing or invalid file, or a malformed URL, is an ErrConfig.
	Revocations string
	// RevocationsFailClosed, when true, refuses every token with
	// ErrUnavailable while the revocation list has never synced or has not
	// synced for longer than RevocationsMaxStaleness: the safer choice
	// where a revoked token must never pass (revocations.fail_closed). When
	// false (the default) the last good copy keeps serving and the state is
	// only reported (Metrics().Revocations).
	RevocationsFailClosed bool
	// RevocationsMaxStaleness is how long after its last sync the list
	// still counts as in sync, in whole seconds
	// (revocations.max_staleness_secs, truncated; at least 1 s); 0: 60 s.
	RevocationsMaxStaleness time.Duration
}

// NoLeeway, as Config.Leeway, checks exp, nbf and iat with no clock-skew
// allowance at all.
const NoLeeway time.Duration = -1

// PEMKey is a public key in PEM form ("BEGIN PUBLIC KEY" or "BEGIN RSA
// PUBLIC KEY"); private keys are refused.
type PEMKey struct {
	PEM       []byte
	Algorithm string
	// KeyID is the key's "kid"; empty: none.
	KeyID string
}

// KeySource is one of Config.KeySources: exactly one of JWKS, JWKSFile,
// JWKSURL and IssuerDiscovery (whose keys are bound to that issuer).
type KeySource struct {
	JWKS            []byte
	JWKSFile        string
	JWKSURL         string
	IssuerDiscovery string
	// Issuer, when set, binds the source's keys to one issuer: a token they
	// verify must carry exactly this "iss".
	Issuer string
}

// HMACSecret is a shared secret at least as long as its hash's output (32,
// 48 or 64 bytes).
type HMACSecret struct {
	Secret    []byte
	Algorithm string
	// KeyID is the key's "kid"; empty: none.
	KeyID string
}

// policyDocument is the policy document's schema (docs/POLICY.md), as far
// as Config states it; omitted fields take the document's defaults.
type policyDocument struct {
	Name                string             `json:"name,omitempty"`
	Keys                keysDocument       `json:"keys"`
	Algorithms          []string           `json:"algorithms,omitempty"`
	Issuers             []string           `json:"issuers,omitempty"`
	Audiences           []string           `json:"audiences,omitempty"`
	IgnoreAudience      bool               `json:"ignore_audience,omitempty"`
	Type                string             `json:"typ,omitempty"`
	LeewaySecs          *int64             `json:"leeway_secs,omitempty"`
	RequireExp          *bool              `json:"require_exp,omitempty"`
	MaxAgeSecs          *int64             `json:"max_age_secs,omitempty"`
	MaxLifetimeSecs     *int64             `json:"max_lifetime_secs,omitempty"`
	RequiredClaims      []string           `json:"required_claims,omitempty"`
	RequiredClaimValues map[string]any     `json:"required_claim_values,omitempty"`
	UnderstoodCrit      []string           `json:"understood_crit,omitempty"`
	MaxTokenLen         int                `json:"max_token_len,omitempty"`
	TokenCacheSize      int                `json:"token_cache_size,omitempty"`
	TLS                 *tlsConfig         `json:"tls,omitempty"`
	Revocations         *revocationsConfig `json:"revocations,omitempty"`
	Shadow              map[string]any     `json:"shadow,omitempty"`
}

type tlsConfig struct {
	CAFile string `json:"ca_file,omitempty"`
}

type keysDocument struct {
	JWKSFile string          `json:"jwks_file,omitempty"`
	JWKSURL  string          `json:"jwks_url,omitempty"`
	JWKS     json.RawMessage `json:"jwks,omitempty"`
	Discover string          `json:"issuer_discovery,omitempty"`
	PEM      []keyEntry      `json:"pem,omitempty"`
	Secrets  []keyEntry      `json:"secrets,omitempty"`
	Sources  []sourceEntry   `json:"sources,omitempty"`
}

type sourceEntry struct {
	JWKSFile        string          `json:"jwks_file,omitempty"`
	JWKSURL         string          `json:"jwks_url,omitempty"`
	JWKS            json.RawMessage `json:"jwks,omitempty"`
	IssuerDiscovery string          `json:"issuer_discovery,omitempty"`
	Issuer          string          `json:"issuer,omitempty"`
}

// keyEntry is an entry of keys.pem (with PEM) or of keys.secrets (with K,
// the secret in base64url without padding).
type keyEntry struct {
	PEM string `json:"pem,omitempty"`
	K   string `json:"k,omitempty"`
	Alg string `json:"alg"`
	Kid string `json:"kid,omitempty"`
}

type revocationsConfig struct {
	Source           string `json:"source,omitempty"`
	FailClosed       bool   `json:"fail_closed,omitempty"`
	MaxStalenessSecs *int64 `json:"max_staleness_secs,omitempty"`
}

// MarshalJSON writes c as a policy document (docs/POLICY.md): what
// CryptoBackend names the crypto library libjwtv verifies with: "ring"
// (the default) or "aws-lc" (libjwtv built with JWTV_BACKEND=aws-lc, or
// cargo's --features aws-lc), which adds ES512.
func CryptoBackend() string {
	return C.GoString(C.jwtv_crypto_backend())
}

// NewVerifier hands to libjwtv, and what a policy file for the CLI or NGINX
// would hold. Values are written as given and checked by libjwtv; MarshalJSON
// refuses only what JSON cannot carry faithfully (a JWKS that is not JSON, a
// string that is not UTF-8) and a Config with a PolicyFile. The document
// holds HMACSecrets: treat it as a secret when it has any.
func (c Config) MarshalJSON() ([]byte, error) {
	if c.PolicyFile != "" {
		return nil, &Error{Code: CodeConfigError, Detail: "PolicyFile: the policy is in the file"}
	}
	doc := policyDocument{
		Name:                c.Name,
		Keys:                keysDocument{JWKSFile: c.JWKSFile, JWKSURL: c.JWKSURL, Discover: c.IssuerDiscovery},
		Algorithms:          c.Algorithms,
		Issuers:             c.Issuers,
		Audiences:           c.Audiences,
		IgnoreAudience:      c.IgnoreAudience,
		Type:                c.Type,
		RequiredClaims:      c.RequiredClaims,
		RequiredClaimValues: c.RequiredClaimValues,
		UnderstoodCrit:      c.UnderstoodCrit,
		MaxTokenLen:         c.MaxTokenLen,
		TokenCacheSize:      c.TokenCacheSize,
		LeewaySecs:          seconds(c.Leeway),
		MaxAgeSecs:          seconds(c.MaxAge),
		MaxLifetimeSecs:     seconds(c.MaxLifetime),
		Shadow:              c.Shadow,
	}
	if c.JWKS != nil {
		if !json.Valid(c.JWKS) {
			return nil, &Error{Code: CodeConfigError, Detail: "keys.jwks: not a JSON document"}
		}
		doc.Keys.JWKS = c.JWKS
	}
	for i, source := range c.KeySources {
		entry := sourceEntry{JWKSFile: source.JWKSFile, JWKSURL: source.JWKSURL,
			IssuerDiscovery: source.IssuerDiscovery, Issuer: source.Issuer}
		if source.JWKS != nil {
			if !json.Valid(source.JWKS) {
				return nil, &Error{Code: CodeConfigError, Detail: fmt.Sprintf("keys.sources[%d].jwks: not a JSON document", i)}
			}
			entry.JWKS = source.JWKS
		}
		doc.Keys.Sources = append(doc.Keys.Sources, entry)
	}
	for _, k := range c.PEMKeys {
		doc.Keys.PEM = append(doc.Keys.PEM, keyEntry{PEM: string(k.PEM), Alg: k.Algorithm, Kid: k.KeyID})
	}
	for _, s := range c.HMACSecrets {
		k := base64.RawURLEncoding.EncodeToString(s.Secret)
		doc.Keys.Secrets = append(doc.Keys.Secrets, keyEntry{K: k, Alg: s.Algorithm, Kid: s.KeyID})
	}
	if c.TLSCAFile != "" {
		doc.TLS = &tlsConfig{CAFile: c.TLSCAFile}
	}
	if c.Leeway == NoLeeway {
		doc.LeewaySecs = new(int64)
	}
	if c.AllowMissingExp {
		doc.RequireExp = new(bool)
	}
	if c.Revocations != "" || c.RevocationsFailClosed || c.RevocationsMaxStaleness != 0 {
		doc.Revocations = &revocationsConfig{c.Revocations, c.RevocationsFailClosed, seconds(c.RevocationsMaxStaleness)}
	}
	if path := notUTF8(reflect.ValueOf(doc), ""); path != "" {
		return nil, &Error{Code: CodeInvalidUTF8, Detail: path + ": not UTF-8"}
	}
	return json.Marshal(doc)
}

// seconds is d in whole seconds, truncated, or nil for 0 (the default); a
// negative d stays negative, so that libjwtv refuses it rather than read 0.
func seconds(d time.Duration) *int64 {
	if d == 0 {
		return nil
	}
	s := int64(d / time.Second)
	if d < 0 && d%time.Second != 0 {
		s--
	}
	return &s
}

// notUTF8 is the document path of a string in v that is not UTF-8 ("":
// none), which encoding/json would replace with U+FFFD instead of refusing.
func notUTF8(v reflect.Value, path string) (bad string) {
	switch v.Kind() {
	case reflect.String:
		if !utf8.ValidString(v.String()) {
			bad = path
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			bad = notUTF8(v.Elem(), path)
		}
	case reflect.Slice: // but a []byte, JSON passed on as it is
		for i := 0; i < v.Len() && bad == "" && v.Type().Elem().Kind() != reflect.Uint8; i++ {
			bad = notUTF8(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next() && bad == ""; {
			if bad = notUTF8(it.Key(), path); bad == "" {
				bad = notUTF8(it.Value(), path)
			}
		}
	case reflect.Struct:
		for i := 0; i < v.NumField() && bad == ""; i++ {
			name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
			bad = notUTF8(v.Field(i), strings.TrimPrefix(path+"."+name, "."))
		}
	}
	return bad
}

// Verifier verifies tokens. It is safe for concurrent use by many
// goroutines; make one per configuration and share it.
//
// Close releases it. A Verifier that becomes unreachable without Close is
// released by a finalizer, but its background work (a JWKS URL refresh)
// runs until then, so prefer Close.
type Verifier struct {
	// mu guards ptr: Verify and the other calls hold it for reading, Close
	// for writing, so the C verifier is never freed while in use.
	mu  sync.RWMutex
	ptr *C.jwtv_verifier
	// audit receives the events of rejected tokens (SetAudit); guarded by
	// mu as ptr is.
	audit func(AuditEvent)
	// firstFetch is how long Verify waits for the first fetch of a JWKS URL
	// (the policy's refresh.first_fetch_timeout_ms): VerifyContext waits no
	// longer.
	firstFetch time.Duration
}

// defaultFirstFetchTimeout is the default of the policy document's
// refresh.first_fetch_timeout_ms (docs/POLICY.md).
const defaultFirstFetchTimeout = 5 * time.Second

// firstFetchTimeout is refresh.first_fetch_timeout_ms of a policy document
// libjwtv accepted, or its default.
func firstFetchTimeout(doc []byte) time.Duration {
	var d struct {
		Refresh struct {
			FirstFetchTimeoutMS *uint64 `json:"first_fetch_timeout_ms"`
		} `json:"refresh"`
	}
	if json.Unmarshal(doc, &d) != nil || d.Refresh.FirstFetchTimeoutMS == nil {
		return defaultFirstFetchTimeout
	}
	ms := *d.Refresh.FirstFetchTimeoutMS
	if ms > uint64(math.MaxInt64/int64(time.Millisecond)) {
		return math.MaxInt64
	}
	return time.Duration(ms) * time.Millisecond
}

// NewVerifier makes a verifier from cfg, in one call to libjwtv
// (jwtv_verifier_from_policy_json) with cfg's policy document, or the
// content of cfg.PolicyFile. A policy libjwtv refuses is an *Error with
// CodeConfigError whose Detail names the document field and says why
// ("issuers: at most 32 entries (33 given)").
func NewVerifier(cfg Config) (*Verifier, error) {
	var base *C.char // NULL: relative paths are relative to the current directory
	doc, err := cfg.MarshalJSON()
	if cfg.PolicyFile != "" {
		rest := cfg
		rest.PolicyFile = ""
		if !reflect.ValueOf(rest).IsZero() {
			return nil, &Error{Code: CodeConfigError, Detail: "PolicyFile states the whole policy: leave the other fields empty"}
		}
		if doc, err = os.ReadFile(cfg.PolicyFile); err != nil {
			return nil, &Error{Code: CodeConfigError, Detail: err.Error()}
		}
		base = C.CString(filepath.Dir(cfg.PolicyFile)) // no NUL: os.ReadFile refuses those
		defer C.free(unsafe.Pointer(base))
	} else if err != nil {
		return nil, err
	}
	// The document is passed in place: it holds no Go pointers, and C does
	// not keep it past the call.
	var data *C.uint8_t
	if len(doc) > 0 {
		data = (*C.uint8_t)(unsafe.Pointer(&doc[0]))
	}
	var ptr *C.jwtv_verifier
	var msg [errCap]C.char
	status := C.jwtv_verifier_from_policy_json(data, C.size_t(len(doc)), base, &ptr, &msg[0], errCap)
	runtime.KeepAlive(doc)
	if status != C.JWTV_OK {
		return nil, &Error{Code: Code(status), Detail: C.GoString(&msg[0])}
	}
	v := &Verifier{ptr: ptr, firstFetch: firstFetchTimeout(doc)}
	runtime.SetFinalizer(v, (*Verifier).Close)
	return v, nil
}

const errCap = 512

// Close releases the verifier and stops its background work. It waits for
// verifications in progress; afterwards every method returns ErrClosed (or a
// zero value). Closing again does nothing.
func (v *Verifier) Close() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.ptr != nil {
		C.jwtv_verifier_free(v.ptr)
		v.ptr = nil
		runtime.SetFinalizer(v, nil)
	}
	return nil
}

// Verify verifies a compact JWT against the system clock. It returns the
// verified token, or an *Error whose Code says why it was refused (compare
// with errors.Is(err, jwtv.ErrExpired) and the other sentinels).
func (v *Verifier) Verify(token string) (*Token, error) {
	return v.verify(token, 0)
}

// VerifyAt verifies a compact JWT as of now, instead of the system clock
// (the zero time means the system clock). Times before 1970 are an
// ErrInvalidArgument.
func (v *Verifier) VerifyAt(token string, now time.Time) (*Token, error) {
	if now.IsZero() {
		return v.verify(token, 0)
	}
	secs := now.Unix()
	if secs <= 0 {
		return nil, &Error{Code: CodeInvalidArgument, Detail: "now is not after 1970"}
	}
	return v.verify(token, uint64(secs))
}

// VerifyContext is Verify, except that it stops waiting for a key set when
// ctx ends. Only a JWKS URL that has not answered yet makes Verify wait (up
// to the policy's refresh.first_fetch_timeout_ms, 5 s by default, for its
// first fetch); VerifyContext waits at most as long, in slices of at most
// 50 ms, and returns as soon as ctx is done, with an error wrapping
// ctx.Err(): errors.Is(err, context.Canceled) or
// errors.Is(err, context.DeadlineExceeded) holds. A ctx that is already done
// returns its error without verifying. Otherwise the verdict is Verify's: the
// verified token, or an *Error (ErrUnavailable, detail "keys", when the key
// set has still not loaded). Use it where the caller may go away, e.g. with
// an HTTP request's context, as the middleware does.
func (v *Verifier) VerifyContext(ctx context.Context, token string) (*Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, contextError(err)
	}
	giveUp := time.Now().Add(v.firstFetch)
	for v.firstFetch > 0 { // else Verify never waits
		wait := time.Until(giveUp)
		if wait > waitSlice {
			wait = waitSlice
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			wait = time.Until(deadline)
		}
		if wait < time.Millisecond {
			wait = time.Millisecond // a served set returns at once anyway
		}
		ready, fetched, err := v.waitReady(wait)
		if err != nil {
			return nil, err
		}
		if ready || fetched {
			// Verify would not wait: the set is served, or a fetch ended
			// without one (Verify waits only for the first).
			break
		}
		if err := ctx.Err(); err != nil {
			return nil, contextError(err)
		}
		if !time.Now().Before(giveUp) {
			// Verify's own wait would be over too. (Not counted in Metrics,
			// as libjwtv did not see the token.)
			return nil, &Error{Code: CodeUnavailable, Detail: "keys"}
		}
	}
	return v.verify(token, 0)
}

// waitSlice is the longest VerifyContext waits inside libjwtv before it
// looks at its context again.
const waitSlice = 50 * time.Millisecond

// contextError is the error of VerifyContext when ctx ended first, err
// being ctx.Err().
func contextError(err error) error {
	return fmt.Errorf("jwtv: token not verified: %w", err)
}

// waitReady waits up to d (rounded up to whole milliseconds) for the key
// set to be served, in one call to jwtv_verifier_wait_ready. It says whether
// it is and, when not, whether a fetch of the key set has ended (after which
// Verify no longer waits for one).
func (v *Verifier) waitReady(d time.Duration) (ready, fetched bool, err error) {
	ms := uint64((d + time.Millisecond - 1) / time.Millisecond)
	if ms > math.MaxUint32 {
		ms = math.MaxUint32
	}
	var r C.bool
	var m C.jwtv_metrics
	v.mu.RLock()
	if v.ptr == nil {
		v.mu.RUnlock()
		return false, false, ErrClosed
	}
	status := C.jwtv_verifier_wait_ready(v.ptr, C.uint32_t(ms), &r)
	if status == C.JWTV_OK && !bool(r) {
		status = C.jwtv_verifier_metrics(v.ptr, &m)
	}
	v.mu.RUnlock()
	runtime.KeepAlive(v)
	if status != C.JWTV_OK {
		return false, false, &Error{Code: Code(status)}
	}
	fetches := m.fetches_updated + m.fetches_unchanged + m.fetches_transport_errors +
		m.fetches_timeouts + m.fetches_http_errors + m.fetches_malformed
	return bool(r), fetches > 0, nil
}

const detailCap = 128

func (v *Verifier) verify(token string, now uint64) (*Token, error) {
	// The token's bytes are passed to C in place: a string holds no Go
	// pointers, and C does not keep the pointer past the call.
	var data *C.uint8_t
	if len(token) > 0 {
		data = (*C.uint8_t)(*(*unsafe.Pointer)(unsafe.Pointer(&token)))
	}
	var out *C.jwtv_token
	var detail [detailCap]C.char

	v.mu.RLock()
	if v.ptr == nil {
		v.mu.RUnlock()
		return nil, ErrClosed
	}
	audit := v.audit
	status, event := verifyC(v.ptr, data, C.size_t(len(token)), C.uint64_t(now), &out, &detail[0], audit != nil)
	v.mu.RUnlock()
	runtime.KeepAlive(token)
	runtime.KeepAlive(v)
	if event != nil {
		audit(*event)
	}

	if status != C.JWTV_OK {
		return nil, &Error{Code: Code(status), Detail: C.GoString(&detail[0])}
	}
	defer C.jwtv_token_free(out)
	return newToken(out)
}

// Metrics is a snapshot of a verifier's counters.
type Metrics struct {
	// Verified counts the tokens accepted.
	Verified uint64
	// Rejected counts the tokens refused, by rejection code (codes never
	// seen are absent).
	Rejected map[Code]uint64
	// CacheHits and CacheMisses count the verifications answered from the
	// verified-token cache, or not (both 0 without a cache).
	CacheHits, CacheMisses uint64
	// CacheEntries is the number of tokens held in the cache.
	CacheEntries uint64
	// KeyCount is the number of usable keys served now.
	KeyCount uint64
	// KeySetLoaded tells whether a key set was ever loaded; KeySetAge is the
	// time since it was loaded, fetched or renewed.
	KeySetLoaded bool
	KeySetAge    time.Duration
	// KeySetGeneration counts the key sets served (0: none yet).
	KeySetGeneration uint64
	// Fetches of a JWKS URL (or reloads of a JWKS file), by outcome.
	FetchesUpdated, FetchesUnchanged, FetchesTransportErrors uint64
	FetchesTimeouts, FetchesHTTPErrors, FetchesMalformed     uint64
	// Revocations is the state of the revocation list (Config.Revocations
	// or a policy file's "revocations"); nil without one. Tokens refused
	// because of it are counted in Rejected[CodeRevoked].
	Revocations *RevocationMetrics
}

// RevocationMetrics is the state of a verifier's revocation list.
type RevocationMetrics struct {
	// Entries is the size of the local copy of the list; JTIs, Subjects and
	// KeyIDs count its entries by kind.
	Entries, JTIs, Subjects, KeyIDs uint64
	// Synced tells whether the list was ever synced (loaded, re-read, or
	// confirmed by Redis); LastSync is when it last was, and SyncLag the
	// time since (since the list was opened, if it never synced), which
	// bounds how stale the local copy may be.
	Synced   bool
	LastSync time.Time
	SyncLag  time.Duration
	// FailClosed tells whether verifications are refused with
	// ErrUnavailable while the list is not in sync.
	FailClosed bool
	// SyncErrors counts failed syncs (an unreadable or invalid file, Redis
	// errors); Connected is true while the back end is reachable.
	SyncErrors uint64
	Connected  bool
}

// TotalRejected is the sum of m.Rejected.
func (m Metrics) TotalRejected() uint64 {
	var n uint64
	for _, c := range m.Rejected {
		n += c
	}
	return n
}

// RecordNoToken counts a request that carried no token at all (exported as
// jwtv_requests_without_token_total): the middleware calls it; a handler
// of your own that reads tokens itself may too.
func (v *Verifier) RecordNoToken() {
	v.mu.RLock()
	if v.ptr != nil {
		C.jwtv_verifier_record_no_token(v.ptr)
	}
	v.mu.RUnlock()
	runtime.KeepAlive(v)
}

// StateChange is a change of a dependency's state: a key server whose
// fetches start failing, fail for another reason or succeed again, or a
// revocation list that stops or resumes syncing.
type StateChange struct {
	// Failing is true for a failure, false for a recovery.
	Failing bool
	// Message says what happened, with the policy's name; escaped by
	// libjwtv (no control characters), ready for a log line.
	Message string
}

// TakeStateChanges returns the state changes not taken yet, oldest first.
// Each is reported once, never per request: call it from time to time (a
// ticker of a few seconds) and log what it returns, for example
// log.Printf("jwtv: %s", c.Message) or, with Go 1.21+, slog.Warn for a
// failure. At most 32 changes wait; the first taken after older ones were
// dropped says how many.
func (v *Verifier) TakeStateChanges() []StateChange {
	v.mu.RLock()
	defer v.mu.RUnlock()
	defer runtime.KeepAlive(v)
	if v.ptr == nil {
		return nil
	}
	var changes []StateChange
	buf := make([]byte, 2048)
	for {
		var n C.size_t
		var failing C.bool
		status := C.jwtv_verifier_take_state_change(v.ptr, (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &n, &failing)
		if status == C.JWTV_BUFFER_TOO_SMALL {
			buf = make([]byte, int(n)+1)
			continue
		}
		if status != C.JWTV_OK || n == 0 {
			return changes
		}
		changes = append(changes, StateChange{Failing: bool(failing), Message: string(buf[:n])})
	}
}

// Metrics returns a snapshot of the verifier's counters; the zero Metrics
// after Close.
func (v *Verifier) Metrics() Metrics {
	var cm C.jwtv_metrics
	var rs C.jwtv_revocation_status
	v.mu.RLock()
	if v.ptr == nil {
		v.mu.RUnlock()
		return Metrics{}
	}
	status := C.jwtv_verifier_metrics(v.ptr, &cm)
	if status == C.JWTV_OK {
		status = C.jwtv_verifier_revocation_status(v.ptr, &rs)
	}
	v.mu.RUnlock()
	runtime.KeepAlive(v)
	if status != C.JWTV_OK {
		return Metrics{}
	}
	m := Metrics{
		Verified:               uint64(cm.verified),
		Rejected:               map[Code]uint64{},
		CacheHits:              uint64(cm.cache_hits),
		CacheMisses:            uint64(cm.cache_misses),
		CacheEntries:           uint64(cm.cache_entries),
		KeyCount:               uint64(cm.key_count),
		KeySetGeneration:       uint64(cm.key_set_generation),
		FetchesUpdated:         uint64(cm.fetches_updated),
		FetchesUnchanged:       uint64(cm.fetches_unchanged),
		FetchesTransportErrors: uint64(cm.fetches_transport_errors),
		FetchesTimeouts:        uint64(cm.fetches_timeouts),
		FetchesHTTPErrors:      uint64(cm.fetches_http_errors),
		FetchesMalformed:       uint64(cm.fetches_malformed),
	}
	if age := uint64(cm.key_set_age_secs); age != ^uint64(0) {
		m.KeySetLoaded = true
		m.KeySetAge = time.Duration(age) * time.Second
	}
	for i, n := range cm.rejected {
		if n != 0 {
			m.Rejected[Code(i+1)] = uint64(n)
		}
	}
	if rs.has_list {
		r := &RevocationMetrics{
			Entries:    uint64(rs.entries),
			JTIs:       uint64(rs.jti),
			Subjects:   uint64(rs.sub),
			KeyIDs:     uint64(rs.kid),
			SyncErrors: uint64(rs.sync_errors),
			Connected:  bool(rs.connected),
			Synced:     bool(rs.synced),
			FailClosed: bool(rs.fail_closed),
			SyncLag:    time.Duration(uint64(rs.sync_lag_secs)) * time.Second,
		}
		if rs.last_sync_unix != 0 {
			r.LastSync = time.Unix(int64(rs.last_sync_unix), 0)
		}
		m.Revocations = r
	}
	return m
}

// MetricsPrometheus returns the counters in the Prometheus text format, to
// serve from a /metrics handler; "" after Close.
func (v *Verifier) MetricsPrometheus() string {
	buf := make([]byte, 4096)
	for {
		var n C.size_t
		v.mu.RLock()
		if v.ptr == nil {
			v.mu.RUnlock()
			return ""
		}
		status := C.jwtv_verifier_metrics_prometheus(v.ptr, (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), &n)
		v.mu.RUnlock()
		runtime.KeepAlive(v)
		switch status {
		case C.JWTV_OK:
			return string(buf[:n])
		case C.JWTV_BUFFER_TOO_SMALL:
			buf = make([]byte, int(n)+1024)
		default:
			return ""
		}
	}
}
