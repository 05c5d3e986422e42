package jwtv

/*
#include <stdlib.h>
#include "jwtv.h"
*/
import "C"

import (
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// Config says how a Verifier gets its keys and which tokens it accepts.
//
// Give either PolicyFile alone (a JSON policy, docs/POLICY.md, which states
// everything, its "revocations" included) or exactly one key source — JWKS,
// JWKSFile, JWKSURL, or PEMKeys and/or HMACSecrets — together with
// Algorithms, the rules and optionally Revocations.
type Config struct {
	// PolicyFile is the path of a policy file. When set, every other field
	// must be left empty.
	PolicyFile string

	// JWKS is a JWKS document held in memory (copied).
	JWKS []byte
	// JWKSFile is the path of a JWKS file, re-read when it changes.
	JWKSFile string
	// JWKSURL is an http or https JWKS endpoint, refreshed in the background
	// (the first verification waits up to 5 s for the first fetch).
	JWKSURL string
	// PEMKeys are public keys in PEM form, each bound to an algorithm.
	PEMKeys []PEMKey
	// HMACSecrets are shared secrets, each bound to HS256, HS384 or HS512.
	HMACSecrets []HMACSecret

	// Algorithms are the accepted "alg" values ("ES256", "RS256", "EdDSA",
	// "HS256", …). At least one is required; "none" is refused.
	Algorithms []string
	// Issuers are the accepted "iss" values; empty: iss is not checked.
	Issuers []string
	// Audiences are the accepted "aud" values (one must be in the token's);
	// empty: a token that has an aud is refused.
	Audiences []string
	// Type, when set, is the required header "typ" (case-insensitive,
	// "application/" optional).
	Type string
	// Leeway is the clock-skew allowance for exp, nbf and iat, in whole
	// seconds (truncated). Zero means the default, 30 s; NoLeeway means none.
	Leeway time.Duration
	// RequiredClaims must be present in the token.
	RequiredClaims []string
	// RequiredClaimValues maps claim names to the string each must equal.
	RequiredClaimValues map[string]string
	// MaxTokenLen is the largest token accepted, in bytes; 0: 16384.
	MaxTokenLen int
	// TokenCacheSize is the number of verified tokens remembered, so that a
	// token seen again skips the signature check (the claims are still
	// checked against the current time); 0: no cache.
	TokenCacheSize int

	// Revocations, when set, is the source of a revocation list checked
	// after every other check: a file path (a JSON list of revoked "jti",
	// "sub" and "kid" values, re-read when it changes) or a redis:// URL
	// (synced in the background; NewVerifier waits up to 2 s for the first
	// sync). Revoked tokens are refused with ErrRevoked. A missing or
	// invalid file, or a malformed URL, is an ErrConfig.
	Revocations string
	// RevocationsFailClosed, when true, refuses every token with
	// ErrUnavailable while the revocation list has never synced or has not
	// synced for longer than RevocationsMaxStaleness: the safer choice
	// where a revoked token must never pass. When false (the default) the
	// last good copy keeps serving and the state is only reported
	// (Metrics().Revocations).
	RevocationsFailClosed bool
	// RevocationsMaxStaleness is how long after its last sync the list
	// still counts as in sync, in whole seconds; 0: 60 s.
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

// HMACSecret is a shared secret at least as long as its hash's output (32,
// 48 or 64 bytes).
type HMACSecret struct {
	Secret    []byte
	Algorithm string
	// KeyID is the key's "kid"; empty: none.
	KeyID string
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
}

// cString copies s to C memory (free it with C.free). A NUL byte inside s
// cannot be passed to C: it is an ErrInvalidArgument naming what.
func cString(s, what string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, &Error{Code: CodeInvalidArgument, Detail: what + " contains a NUL byte"}
	}
	return C.CString(s), nil
}

// NewVerifier makes a verifier from cfg. A configuration libjwtv refuses is
// an *Error with CodeConfigError (or CodeInvalidArgument, CodeInvalidUTF8)
// whose Detail says why.
func NewVerifier(cfg Config) (*Verifier, error) {
	var ptr *C.jwtv_verifier
	var err error
	if cfg.PolicyFile != "" {
		ptr, err = fromPolicyFile(cfg)
	} else {
		ptr, err = fromConfig(cfg)
	}
	if err != nil {
		return nil, err
	}
	v := &Verifier{ptr: ptr}
	runtime.SetFinalizer(v, (*Verifier).Close)
	return v, nil
}

const errCap = 512

func fromPolicyFile(cfg Config) (*C.jwtv_verifier, error) {
	other := cfg
	other.PolicyFile = ""
	if !isEmptyConfig(&other) {
		return nil, &Error{Code: CodeConfigError, Detail: "PolicyFile states the whole configuration: leave the other fields empty"}
	}
	path, err := cString(cfg.PolicyFile, "PolicyFile")
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(path))
	var ptr *C.jwtv_verifier
	var msg [errCap]C.char
	status := C.jwtv_verifier_from_policy_file(path, &ptr, &msg[0], errCap)
	if status != C.JWTV_OK {
		return nil, &Error{Code: Code(status), Detail: C.GoString(&msg[0])}
	}
	return ptr, nil
}

func isEmptyConfig(c *Config) bool {
	return c.JWKS == nil && c.JWKSFile == "" && c.JWKSURL == "" && len(c.PEMKeys) == 0 &&
		len(c.HMACSecrets) == 0 && len(c.Algorithms) == 0 && len(c.Issuers) == 0 &&
		len(c.Audiences) == 0 && c.Type == "" && c.Leeway == 0 && len(c.RequiredClaims) == 0 &&
		len(c.RequiredClaimValues) == 0 && c.MaxTokenLen == 0 && c.TokenCacheSize == 0 &&
		c.Revocations == "" && !c.RevocationsFailClosed && c.RevocationsMaxStaleness == 0
}

// configBuilder makes the C calls of a jwtv_config, stopping at the first
// error.
type configBuilder struct {
	cfg *C.jwtv_config
	err error
}

// call runs f with the strings copied to C, recording a failure as an
// *Error whose detail is what.
func (b *configBuilder) call(what string, f func(args []*C.char) C.jwtv_status, args ...string) {
	if b.err != nil {
		return
	}
	cargs := make([]*C.char, len(args))
	for i, a := range args {
		c, err := cString(a, what)
		if err != nil {
			b.err = err
			break
		}
		cargs[i] = c
	}
	defer func() {
		for _, c := range cargs {
			C.free(unsafe.Pointer(c))
		}
	}()
	if b.err != nil {
		return
	}
	if status := f(cargs); status != C.JWTV_OK {
		b.err = &Error{Code: Code(status), Detail: what}
	}
}

// optional is c, or NULL when the Go string was empty.
func optional(c *C.char, s string) *C.char {
	if s == "" {
		return nil
	}
	return c
}

// bytesArg is a byte slice as C pointer and length (NULL for empty).
func bytesArg(b []byte) (*C.uint8_t, C.size_t) {
	if len(b) == 0 {
		return nil, 0
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0])), C.size_t(len(b))
}

func fromConfig(c Config) (*C.jwtv_verifier, error) {
	var b configBuilder
	if status := C.jwtv_config_new(&b.cfg); status != C.JWTV_OK {
		return nil, errorOf(status, "jwtv_config_new")
	}
	defer C.jwtv_config_free(b.cfg)
	cfg := b.cfg

	sources := 0
	for _, set := range []bool{c.JWKS != nil, c.JWKSFile != "", c.JWKSURL != "", len(c.PEMKeys)+len(c.HMACSecrets) > 0} {
		if set {
			sources++
		}
	}
	if sources > 1 {
		return nil, &Error{Code: CodeConfigError, Detail: "choose one key source: JWKS, JWKSFile, JWKSURL, or PEMKeys and HMACSecrets"}
	}

	for _, alg := range c.Algorithms {
		b.call("Algorithms: "+alg, func(a []*C.char) C.jwtv_status { return C.jwtv_config_add_algorithm(cfg, a[0]) }, alg)
	}
	if c.JWKS != nil {
		b.call("JWKS", func([]*C.char) C.jwtv_status {
			p, n := bytesArg(c.JWKS)
			return C.jwtv_config_set_jwks(cfg, p, n)
		})
	}
	if c.JWKSFile != "" {
		b.call("JWKSFile", func(a []*C.char) C.jwtv_status { return C.jwtv_config_set_jwks_file(cfg, a[0]) }, c.JWKSFile)
	}
	if c.JWKSURL != "" {
		b.call("JWKSURL", func(a []*C.char) C.jwtv_status { return C.jwtv_config_set_jwks_url(cfg, a[0]) }, c.JWKSURL)
	}
	for i, k := range c.PEMKeys {
		k := k
		b.call(fmt.Sprintf("PEMKeys[%d]", i), func(a []*C.char) C.jwtv_status {
			p, n := bytesArg(k.PEM)
			return C.jwtv_config_add_pem_key(cfg, p, n, a[0], optional(a[1], k.KeyID))
		}, k.Algorithm, k.KeyID)
	}
	for i, s := range c.HMACSecrets {
		s := s
		b.call(fmt.Sprintf("HMACSecrets[%d]", i), func(a []*C.char) C.jwtv_status {
			p, n := bytesArg(s.Secret)
			return C.jwtv_config_add_hmac_secret(cfg, p, n, a[0], optional(a[1], s.KeyID))
		}, s.Algorithm, s.KeyID)
	}
	for _, iss := range c.Issuers {
		b.call("Issuers", func(a []*C.char) C.jwtv_status { return C.jwtv_config_add_issuer(cfg, a[0]) }, iss)
	}
	for _, aud := range c.Audiences {
		b.call("Audiences", func(a []*C.char) C.jwtv_status { return C.jwtv_config_add_audience(cfg, a[0]) }, aud)
	}
	if c.Type != "" {
		b.call("Type", func(a []*C.char) C.jwtv_status { return C.jwtv_config_set_typ(cfg, a[0]) }, c.Type)
	}
	switch {
	case c.Leeway == NoLeeway:
		b.call("Leeway", func([]*C.char) C.jwtv_status { return C.jwtv_config_set_leeway(cfg, 0) })
	case c.Leeway < 0:
		return nil, &Error{Code: CodeInvalidArgument, Detail: "Leeway is negative (use NoLeeway for none)"}
	case c.Leeway > 0:
		secs := C.uint64_t(c.Leeway / time.Second)
		b.call("Leeway", func([]*C.char) C.jwtv_status { return C.jwtv_config_set_leeway(cfg, secs) })
	}
	for _, name := range c.RequiredClaims {
		b.call("RequiredClaims: "+name, func(a []*C.char) C.jwtv_status { return C.jwtv_config_require_claim(cfg, a[0]) }, name)
	}
	names := make([]string, 0, len(c.RequiredClaimValues))
	for name := range c.RequiredClaimValues {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		value := c.RequiredClaimValues[name]
		b.call("RequiredClaimValues: "+name, func(a []*C.char) C.jwtv_status {
			return C.jwtv_config_require_claim_value(cfg, a[0], a[1])
		}, name, value)
	}
	if c.MaxTokenLen < 0 {
		return nil, &Error{Code: CodeInvalidArgument, Detail: "MaxTokenLen is negative"}
	}
	if c.MaxTokenLen > 0 {
		b.call("MaxTokenLen", func([]*C.char) C.jwtv_status { return C.jwtv_config_set_max_token_len(cfg, C.size_t(c.MaxTokenLen)) })
	}
	if c.TokenCacheSize < 0 {
		return nil, &Error{Code: CodeInvalidArgument, Detail: "TokenCacheSize is negative"}
	}
	if c.TokenCacheSize > 0 {
		b.call("TokenCacheSize", func([]*C.char) C.jwtv_status { return C.jwtv_config_set_token_cache(cfg, C.size_t(c.TokenCacheSize)) })
	}
	if c.Revocations != "" {
		b.call("Revocations", func(a []*C.char) C.jwtv_status { return C.jwtv_config_set_revocations(cfg, a[0]) }, c.Revocations)
	}
	if c.RevocationsMaxStaleness < 0 || (c.RevocationsMaxStaleness > 0 && c.RevocationsMaxStaleness < time.Second) {
		return nil, &Error{Code: CodeInvalidArgument, Detail: "RevocationsMaxStaleness must be at least 1 s"}
	}
	if c.RevocationsFailClosed || c.RevocationsMaxStaleness > 0 {
		staleness := C.uint64_t(60)
		if c.RevocationsMaxStaleness > 0 {
			staleness = C.uint64_t(c.RevocationsMaxStaleness / time.Second)
		}
		failClosed := C.bool(c.RevocationsFailClosed)
		b.call("RevocationsFailClosed", func([]*C.char) C.jwtv_status {
			return C.jwtv_config_set_revocation_freshness(cfg, failClosed, staleness)
		})
	}
	if b.err != nil {
		return nil, b.err
	}

	var ptr *C.jwtv_verifier
	var msg [errCap]C.char
	if status := C.jwtv_verifier_new(cfg, &ptr, &msg[0], errCap); status != C.JWTV_OK {
		return nil, &Error{Code: Code(status), Detail: C.GoString(&msg[0])}
	}
	return ptr, nil
}

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
	status := C.jwtv_verifier_verify(v.ptr, data, C.size_t(len(token)), C.uint64_t(now), &out, &detail[0], detailCap)
	v.mu.RUnlock()
	runtime.KeepAlive(token)
	runtime.KeepAlive(v)

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
