package jwtv_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jwtv "github.com/jwtv/jwtv/bindings/go"
)

// Every code has its C name and number, and a sentinel errors.Is matches.
func TestCodesAndSentinels(t *testing.T) {
	want := []struct {
		code     jwtv.Code
		number   uint32
		name     string
		sentinel error
	}{
		{jwtv.CodeOK, 0, "ok", nil},
		{jwtv.CodeMalformed, 1, "malformed", jwtv.ErrMalformed},
		{jwtv.CodeTooLarge, 2, "too_large", jwtv.ErrTooLarge},
		{jwtv.CodeUnsupportedAlg, 3, "unsupported_alg", jwtv.ErrUnsupportedAlg},
		{jwtv.CodeAlgNotAllowed, 4, "alg_not_allowed", jwtv.ErrAlgNotAllowed},
		{jwtv.CodeKeyNotFound, 5, "key_not_found", jwtv.ErrKeyNotFound},
		{jwtv.CodeBadSignature, 6, "bad_signature", jwtv.ErrBadSignature},
		{jwtv.CodeExpired, 7, "expired", jwtv.ErrExpired},
		{jwtv.CodeNotYetValid, 8, "not_yet_valid", jwtv.ErrNotYetValid},
		{jwtv.CodeIssuedInFuture, 9, "issued_in_future", jwtv.ErrIssuedInFuture},
		{jwtv.CodeTooOld, 10, "too_old", jwtv.ErrTooOld},
		{jwtv.CodeBadIssuer, 11, "bad_issuer", jwtv.ErrBadIssuer},
		{jwtv.CodeBadAudience, 12, "bad_audience", jwtv.ErrBadAudience},
		{jwtv.CodeBadType, 13, "bad_type", jwtv.ErrBadType},
		{jwtv.CodeMissingClaim, 14, "missing_claim", jwtv.ErrMissingClaim},
		{jwtv.CodeBadClaim, 15, "bad_claim", jwtv.ErrBadClaim},
		{jwtv.CodeUnsupportedCrit, 16, "unsupported_crit", jwtv.ErrUnsupportedCrit},
		{jwtv.CodeRevoked, 17, "revoked", jwtv.ErrRevoked},
		{jwtv.CodeUnavailable, 18, "unavailable", jwtv.ErrUnavailable},
		{jwtv.CodeLifetimeTooLong, 19, "lifetime_too_long", jwtv.ErrLifetimeTooLong},
		{jwtv.CodeNullArgument, 100, "null_argument", jwtv.ErrNullArgument},
		{jwtv.CodeInvalidUTF8, 101, "invalid_utf8", jwtv.ErrInvalidUTF8},
		{jwtv.CodeBufferTooSmall, 102, "buffer_too_small", jwtv.ErrBufferTooSmall},
		{jwtv.CodeInvalidArgument, 103, "invalid_argument", jwtv.ErrInvalidArgument},
		{jwtv.CodeConfigError, 104, "config_error", jwtv.ErrConfig},
		{jwtv.CodeNotFound, 105, "not_found", jwtv.ErrNotFound},
		{jwtv.CodeWrongType, 106, "wrong_type", jwtv.ErrWrongType},
		{jwtv.CodeEmbeddedNUL, 107, "embedded_nul", jwtv.ErrEmbeddedNUL},
		{jwtv.CodeInternalError, 199, "internal_error", jwtv.ErrInternal},
	}
	if len(want) != len(jwtv.Codes) {
		t.Fatalf("%d codes listed, %d tested", len(jwtv.Codes), len(want))
	}
	messages := map[string]bool{}
	for i, w := range want {
		if jwtv.Codes[i] != w.code {
			t.Errorf("Codes[%d] = %d, want %d", i, jwtv.Codes[i], w.code)
		}
		if uint32(w.code) != w.number {
			t.Errorf("%s = %d, want %d", w.name, w.code, w.number)
		}
		if got := w.code.String(); got != w.name {
			t.Errorf("Code(%d).String() = %q, want %q", w.number, got, w.name)
		}
		msg := w.code.Message()
		if msg == "" || messages[msg] {
			t.Errorf("Code(%d).Message() = %q: empty or not unique", w.number, msg)
		}
		messages[msg] = true
		if w.code.IsRejection() != (w.number >= 1 && w.number <= 99) {
			t.Errorf("%s.IsRejection() = %v", w.name, w.code.IsRejection())
		}
		if w.sentinel == nil {
			continue
		}
		err := error(&jwtv.Error{Code: w.code, Detail: "some detail"})
		if !errors.Is(err, w.sentinel) {
			t.Errorf("errors.Is(%v, sentinel of %s) = false", err, w.name)
		}
		for _, other := range want {
			if other.sentinel != nil && other.code != w.code && errors.Is(err, other.sentinel) {
				t.Errorf("errors.Is(%s, %s) = true", w.name, other.name)
			}
		}
		if got, wantText := err.Error(), "jwtv: "+msg+": some detail"; got != wantText {
			t.Errorf("Error() = %q, want %q", got, wantText)
		}
		if got := w.sentinel.Error(); got != "jwtv: "+msg {
			t.Errorf("sentinel Error() = %q", got)
		}
	}
	if got := jwtv.Code(12345).String(); got != "internal_error" {
		t.Errorf("unknown code's name = %q", got)
	}
	if errors.Is(jwtv.ErrClosed, jwtv.ErrInternal) {
		t.Error("ErrClosed matched ErrInternal")
	}
}

// Each rejection code, produced through the API by a token or configuration.
func TestRejectionCodes(t *testing.T) {
	strict := newVerifier(t, strictConfig())
	edCfg := strictConfig()
	edCfg.HMACSecrets = nil
	edCfg.JWKS = ed25519JWKS()
	edCfg.Algorithms = []string{"EdDSA"}
	ed := newVerifier(t, edCfg)

	// too_old needs a maximum age.
	agedCfg := strictConfig()
	agedCfg.MaxAge = 10 * time.Minute
	aged := newVerifier(t, agedCfg)

	// lifetime_too_long needs a maximum lifetime: the good token lives 3660 s.
	shortCfg := strictConfig()
	shortCfg.MaxLifetime = time.Hour
	short := newVerifier(t, shortCfg)

	// revoked needs a revocation list: a file naming one token id.
	revokedList := filepath.Join(t.TempDir(), "revoked.json")
	if err := os.WriteFile(revokedList, []byte(`{"jti": {"revoked-1": 4102444800}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	revokingCfg := strictConfig()
	revokingCfg.Revocations = revokedList
	revoking := newVerifier(t, revokingCfg)

	// unavailable needs a key set that never loads: nothing listens on port 9.
	keyless := newVerifier(t, jwtv.Config{JWKSURL: "http://127.0.0.1:9/jwks.json", Algorithms: []string{"HS256"}})

	hs := func(edit func(h, c map[string]any)) string {
		h, c := goodHeader("HS256", "hs"), goodClaims()
		edit(h, c)
		return signHS256(testSecret, h, c)
	}
	now := testNow.Unix()
	good := hs(func(h, c map[string]any) {})
	parts := strings.Split(good, ".")

	cases := []struct {
		name     string
		verifier *jwtv.Verifier
		token    string
		want     error
		detail   string // "": not checked
	}{
		{"malformed: not three parts", strict, "not-a-jwt", jwtv.ErrMalformed, ""},
		{"malformed: empty", strict, "", jwtv.ErrMalformed, ""},
		{"malformed: bad base64 header", strict, "%%%." + parts[1] + "." + parts[2], jwtv.ErrMalformed, ""},
		{"malformed: empty signature (example alg-none)", strict, exampleToken(t, "alg-none"), jwtv.ErrMalformed, "token"},
		{"too_large", strict, hs(func(h, c map[string]any) { c["pad"] = strings.Repeat("x", 3000) }), jwtv.ErrTooLarge, ""},
		{"unsupported_alg: none", strict, b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + parts[1] + "." + parts[2], jwtv.ErrUnsupportedAlg, ""},
		{"unsupported_alg: unknown", strict, hs(func(h, c map[string]any) { h["alg"] = "HS999" }), jwtv.ErrUnsupportedAlg, ""},
		{"alg_not_allowed", strict, hs(func(h, c map[string]any) { h["alg"] = "ES256" }), jwtv.ErrAlgNotAllowed, ""},
		{"key_not_found", strict, hs(func(h, c map[string]any) { h["kid"] = "other" }), jwtv.ErrKeyNotFound, ""},
		{"bad_signature: other secret", strict, signHS256([]byte("another-secret-of-enough-length-0123456789"), goodHeader("HS256", "hs"), goodClaims()), jwtv.ErrBadSignature, ""},
		{"bad_signature: changed claims", strict, parts[0] + "." + b64([]byte(`{"sub":"admin"}`)) + "." + parts[2], jwtv.ErrBadSignature, ""},
		{"bad_signature: EdDSA", ed, tamper(signEdDSA(testEd25519, goodHeader("EdDSA", "ed"), goodClaims())), jwtv.ErrBadSignature, ""},
		{"expired", strict, hs(func(h, c map[string]any) { c["exp"] = now - 1 }), jwtv.ErrExpired, ""},
		{"not_yet_valid", strict, hs(func(h, c map[string]any) { c["nbf"] = now + 60 }), jwtv.ErrNotYetValid, ""},
		{"issued_in_future", strict, hs(func(h, c map[string]any) { c["iat"] = now + 60 }), jwtv.ErrIssuedInFuture, ""},
		{"too_old", aged, hs(func(h, c map[string]any) { c["iat"] = now - 3600 }), jwtv.ErrTooOld, ""},
		{"bad_issuer", strict, hs(func(h, c map[string]any) { c["iss"] = "https://evil.example" }), jwtv.ErrBadIssuer, ""},
		{"bad_audience", strict, hs(func(h, c map[string]any) { c["aud"] = "other" }), jwtv.ErrBadAudience, ""},
		{"bad_type", strict, hs(func(h, c map[string]any) { h["typ"] = "at+jwt" }), jwtv.ErrBadType, ""},
		{"missing_claim: sub", strict, hs(func(h, c map[string]any) { delete(c, "sub") }), jwtv.ErrMissingClaim, "sub"},
		{"missing_claim: exp", strict, hs(func(h, c map[string]any) { delete(c, "exp") }), jwtv.ErrMissingClaim, "exp"},
		{"bad_claim: required value", strict, hs(func(h, c map[string]any) { c["tenant"] = "other" }), jwtv.ErrBadClaim, "tenant"},
		{"bad_claim: exp not a number", strict, hs(func(h, c map[string]any) { c["exp"] = "tomorrow" }), jwtv.ErrBadClaim, "exp"},
		{"unsupported_crit", strict, hs(func(h, c map[string]any) { h["crit"] = []string{"x-ext"}; h["x-ext"] = true }), jwtv.ErrUnsupportedCrit, ""},
		{"revoked (revocation file)", revoking, hs(func(h, c map[string]any) { c["jti"] = "revoked-1" }), jwtv.ErrRevoked, "jti"},
		{"unavailable (key set never loaded)", keyless, good, jwtv.ErrUnavailable, "keys"},
		{"lifetime_too_long", short, good, jwtv.ErrLifetimeTooLong, ""},
	}
	seen := map[jwtv.Code]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := tc.verifier.VerifyAt(tc.token, testNow)
			if tok != nil || !errors.Is(err, tc.want) {
				t.Fatalf("got (%v, %v), want %v", tok, err, tc.want)
			}
			var e *jwtv.Error
			if !errors.As(err, &e) {
				t.Fatalf("%T is not *jwtv.Error", err)
			}
			if tc.detail != "" && e.Detail != tc.detail {
				t.Errorf("detail %q, want %q", e.Detail, tc.detail)
			}
			seen[e.Code] = true
		})
	}
	for _, c := range jwtv.Codes {
		if c.IsRejection() && !seen[c] {
			t.Errorf("no case produced %s", c)
		}
	}
	// The good token itself passes both verifiers that accept it.
	if _, err := strict.VerifyAt(good, testNow); err != nil {
		t.Fatalf("good token: %v", err)
	}
	if _, err := ed.VerifyAt(signEdDSA(testEd25519, goodHeader("EdDSA", "ed"), goodClaims()), testNow); err != nil {
		t.Fatalf("good EdDSA token: %v", err)
	}
	if _, err := short.VerifyAt(hs(func(h, c map[string]any) { c["exp"] = now + 3540 }), testNow); err != nil {
		t.Fatalf("a token living an hour under a maximum lifetime of an hour: %v", err)
	}
	if _, err := aged.VerifyAt(hs(func(h, c map[string]any) {}), testNow); err != nil {
		t.Fatalf("good token under a maximum age: %v", err)
	}
	if _, err := revoking.VerifyAt(hs(func(h, c map[string]any) { c["jti"] = "not-revoked" }), testNow); err != nil {
		t.Fatalf("a token that is not revoked: %v", err)
	}
}

// The errors of calls: configurations and arguments libjwtv refuses.
func TestConfigErrors(t *testing.T) {
	pem := func(name string) []byte { return example(t, filepath.Join("keys", name)) }
	cases := []struct {
		name   string
		cfg    jwtv.Config
		want   error
		detail string // a substring of the detail
	}{
		{"no algorithm", jwtv.Config{JWKS: ed25519JWKS()}, jwtv.ErrConfig, "algorithms: name at least one algorithm"},
		{"no keys", jwtv.Config{Algorithms: []string{"ES256"}}, jwtv.ErrConfig, "keys: missing"},
		{"alg none", jwtv.Config{JWKS: ed25519JWKS(), Algorithms: []string{"none"}}, jwtv.ErrConfig, "algorithms[0]: unknown algorithm `none`"},
		{"unknown alg", jwtv.Config{JWKS: ed25519JWKS(), Algorithms: []string{"EdDSA", "XS256"}}, jwtv.ErrConfig, "algorithms[1]: unknown algorithm `XS256`"},
		{"two key sources", jwtv.Config{JWKS: ed25519JWKS(), JWKSFile: "x", Algorithms: []string{"EdDSA"}}, jwtv.ErrConfig, "keys: name one key source"},
		{"JWKS and PEM keys", jwtv.Config{JWKS: ed25519JWKS(), PEMKeys: []jwtv.PEMKey{{PEM: pem("test-es256.pub.pem"), Algorithm: "ES256"}}, Algorithms: []string{"EdDSA", "ES256"}}, jwtv.ErrConfig, "keys: name one key source"},
		{"JWKS not JSON", jwtv.Config{JWKS: []byte("{"), Algorithms: []string{"EdDSA"}}, jwtv.ErrConfig, "keys.jwks: not a JSON document"},
		{"JWKS empty", jwtv.Config{JWKS: []byte{}, Algorithms: []string{"EdDSA"}}, jwtv.ErrConfig, "keys.jwks"},
		{"JWKS not a JWKS", jwtv.Config{JWKS: []byte(`{"keys": 1}`), Algorithms: []string{"EdDSA"}}, jwtv.ErrConfig, "keys.jwks"},
		{"missing JWKS file", jwtv.Config{JWKSFile: filepath.Join(examples, "nope.json"), Algorithms: []string{"ES256"}}, jwtv.ErrConfig, "keys.jwks_file"},
		{"bad JWKS URL", jwtv.Config{JWKSURL: "ftp://example.com/jwks", Algorithms: []string{"ES256"}}, jwtv.ErrConfig, "keys.jwks_url"},
		{"CA file without a certificate", jwtv.Config{JWKSURL: "https://127.0.0.1:9/jwks", TLSCAFile: filepath.Join(examples, "keys", "test-es256.pub.pem"), Algorithms: []string{"ES256"}}, jwtv.ErrConfig, "tls.ca_file"},
		{"private PEM", jwtv.Config{PEMKeys: []jwtv.PEMKey{{PEM: pem("test-es256.pem"), Algorithm: "ES256"}}, Algorithms: []string{"ES256"}}, jwtv.ErrConfig, "keys.pem[0]: a private key"},
		{"PEM key of another algorithm", jwtv.Config{PEMKeys: []jwtv.PEMKey{{PEM: pem("test-es256.pub.pem"), Algorithm: "RS256"}}, Algorithms: []string{"RS256"}}, jwtv.ErrConfig, "keys.pem[0]"},
		{"short HMAC secret", jwtv.Config{HMACSecrets: []jwtv.HMACSecret{{Secret: []byte("short"), Algorithm: "HS256"}}, Algorithms: []string{"HS256"}}, jwtv.ErrConfig, "keys.secrets[0]"},
		{"HMAC secret for ES256", jwtv.Config{HMACSecrets: []jwtv.HMACSecret{{Secret: testSecret, Algorithm: "ES256"}}, Algorithms: []string{"ES256"}}, jwtv.ErrConfig, "keys.secrets[0]"},
		{"issuer not UTF-8", jwtv.Config{JWKS: ed25519JWKS(), Algorithms: []string{"EdDSA"}, Issuers: []string{"ok", "\xff"}}, jwtv.ErrInvalidUTF8, "issuers[1]: not UTF-8"},
		{"claim value not UTF-8", jwtv.Config{JWKS: ed25519JWKS(), Algorithms: []string{"EdDSA"}, RequiredClaimValues: map[string]any{"tenant": "\xe2\x82"}}, jwtv.ErrInvalidUTF8, "required_claim_values: not UTF-8"},
		{"PEM not UTF-8", jwtv.Config{PEMKeys: []jwtv.PEMKey{{PEM: []byte("\xff"), Algorithm: "ES256"}}, Algorithms: []string{"ES256"}}, jwtv.ErrInvalidUTF8, "keys.pem[0].pem: not UTF-8"},
		{"negative leeway", jwtv.Config{JWKS: ed25519JWKS(), Algorithms: []string{"EdDSA"}, Leeway: -5}, jwtv.ErrConfig, "leeway_secs"},
		{"negative maximum age", jwtv.Config{JWKS: ed25519JWKS(), Algorithms: []string{"EdDSA"}, MaxAge: -time.Second}, jwtv.ErrConfig, "max_age_secs"},
		{"negative max length", jwtv.Config{JWKS: ed25519JWKS(), Algorithms: []string{"EdDSA"}, MaxTokenLen: -1}, jwtv.ErrConfig, "max_token_len"},
		{"negative cache", jwtv.Config{JWKS: ed25519JWKS(), Algorithms: []string{"EdDSA"}, TokenCacheSize: -1}, jwtv.ErrConfig, "token_cache_size"},
		{"audiences and IgnoreAudience", jwtv.Config{JWKS: ed25519JWKS(), Algorithms: []string{"EdDSA"}, Audiences: []string{"api"}, IgnoreAudience: true}, jwtv.ErrConfig, "ignore_audience: cannot be true when audiences are listed"},
		{"policy file and fields", jwtv.Config{PolicyFile: filepath.Join(examples, "policy.json"), Algorithms: []string{"ES256"}}, jwtv.ErrConfig, "PolicyFile"},
		{"policy file and a new field", jwtv.Config{PolicyFile: filepath.Join(examples, "policy.json"), AllowMissingExp: true}, jwtv.ErrConfig, "PolicyFile"},
		{"missing policy file", jwtv.Config{PolicyFile: filepath.Join(examples, "nope.json")}, jwtv.ErrConfig, "nope.json"},
		{"empty policy file", jwtv.Config{PolicyFile: writeTemp(t, "")}, jwtv.ErrConfig, ""},
		{"missing revocation file", jwtv.Config{JWKS: ed25519JWKS(), Algorithms: []string{"EdDSA"}, Revocations: filepath.Join(examples, "nope.json")}, jwtv.ErrConfig, "revocations.source: revocation list"},
		{"unsupported revocation source", jwtv.Config{JWKS: ed25519JWKS(), Algorithms: []string{"EdDSA"}, Revocations: "https://example.com/revoked"}, jwtv.ErrConfig, "unsupported scheme"},
		{"revocation settings without a source", jwtv.Config{JWKS: ed25519JWKS(), Algorithms: []string{"EdDSA"}, RevocationsFailClosed: true}, jwtv.ErrConfig, "revocations"},
		{"revocations and policy file", jwtv.Config{PolicyFile: filepath.Join(examples, "policy.json"), Revocations: "revoked.json"}, jwtv.ErrConfig, "PolicyFile"},
		{"bad policy field", jwtv.Config{PolicyFile: writeTemp(t, `{"keys": {"jwks_file": "x"}, "algorithms": ["ES256"], "leeway": 1}`)}, jwtv.ErrConfig, "leeway"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := jwtv.NewVerifier(tc.cfg)
			if v != nil || !errors.Is(err, tc.want) {
				t.Fatalf("got (%v, %v), want %v", v, err, tc.want)
			}
			var e *jwtv.Error
			if !errors.As(err, &e) || !strings.Contains(e.Detail, tc.detail) {
				t.Errorf("error %q does not mention %q", err, tc.detail)
			}
		})
	}
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// tamper changes one character in the middle of the token's signature.
func tamper(token string) string {
	i := strings.LastIndexByte(token, '.') + 10
	c := byte('A')
	if token[i] == 'A' {
		c = 'B'
	}
	return token[:i] + string(c) + token[i+1:]
}
