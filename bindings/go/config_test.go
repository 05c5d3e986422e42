package jwtv_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	jwtv "github.com/jwtv/jwtv/bindings/go"
)

// A Config marshals to the policy document, field by field.
func TestConfigMarshalJSON(t *testing.T) {
	for _, tc := range []struct {
		cfg  jwtv.Config
		want string
	}{
		{jwtv.Config{}, `{"keys":{}}`},
		{
			jwtv.Config{
				HMACSecrets:         []jwtv.HMACSecret{{Secret: []byte("0123456789abcdef0123456789abcdef"), Algorithm: "HS256", KeyID: "hs"}},
				PEMKeys:             []jwtv.PEMKey{{PEM: []byte("-----BEGIN PUBLIC KEY-----\n"), Algorithm: "ES256"}},
				Algorithms:          []string{"HS256", "ES256"},
				Issuers:             []string{"https://issuer.example"},
				IgnoreAudience:      true,
				Type:                "at+jwt",
				Leeway:              90*time.Second + 900*time.Millisecond,
				AllowMissingExp:     true,
				MaxAge:              time.Hour,
				MaxLifetime:         24 * time.Hour,
				RequiredClaims:      []string{"sub"},
				RequiredClaimValues: map[string]any{"tenant": "acme", "a": "b"},
				UnderstoodCrit:      []string{"x-ext"},
				MaxTokenLen:         4096,
				TokenCacheSize:      100,
				Revocations:         "redis://127.0.0.1/0",
			},
			`{"keys":{"pem":[{"pem":"-----BEGIN PUBLIC KEY-----\n","alg":"ES256"}],` +
				`"secrets":[{"k":"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY","alg":"HS256","kid":"hs"}]},` +
				`"algorithms":["HS256","ES256"],"issuers":["https://issuer.example"],"ignore_audience":true,` +
				`"typ":"at+jwt","leeway_secs":90,"require_exp":false,"max_age_secs":3600,"max_lifetime_secs":86400,"required_claims":["sub"],` +
				`"required_claim_values":{"a":"b","tenant":"acme"},"understood_crit":["x-ext"],` +
				`"max_token_len":4096,"token_cache_size":100,"revocations":{"source":"redis://127.0.0.1/0"}}`,
		},
		{
			jwtv.Config{JWKS: []byte(` { "keys": [] } `), Audiences: []string{"api"}, Leeway: jwtv.NoLeeway},
			`{"keys":{"jwks":{"keys":[]}},"audiences":["api"],"leeway_secs":0}`,
		},
		{
			jwtv.Config{JWKSFile: "jwks.json", RevocationsFailClosed: true, RevocationsMaxStaleness: 2 * time.Minute},
			`{"keys":{"jwks_file":"jwks.json"},"revocations":{"fail_closed":true,"max_staleness_secs":120}}`,
		},
		{
			jwtv.Config{JWKSURL: "https://login.example/jwks", Leeway: -time.Millisecond, MaxAge: 500 * time.Millisecond},
			`{"keys":{"jwks_url":"https://login.example/jwks"},"leeway_secs":-1,"max_age_secs":0}`,
		},
	} {
		got, err := json.Marshal(tc.cfg)
		if err != nil || string(got) != tc.want {
			t.Errorf("json.Marshal(%+v)\n got %s, %v\nwant %s", tc.cfg, got, err, tc.want)
		}
	}
	if _, err := json.Marshal(jwtv.Config{PolicyFile: "policy.json"}); !errors.Is(err, jwtv.ErrConfig) {
		t.Errorf("a Config with a PolicyFile: %v", err)
	}
}

// A Config with every field set, key source by key source, makes a verifier,
// directly and through its marshalled document read back as a policy file.
func TestEveryConfigFieldReadsBack(t *testing.T) {
	dir := t.TempDir()
	revocations := filepath.Join(dir, "revoked.json")
	if err := os.WriteFile(revocations, []byte(`{"jti": {"revoked-1": 4102444800}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	jwksFile, err := filepath.Abs(filepath.Join(examples, "jwks.json"))
	if err != nil {
		t.Fatal(err)
	}
	caFile, err := filepath.Abs(filepath.Join(examples, "keys", "test-ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	rules := jwtv.Config{
		Name:                    "orders-api",
		Algorithms:              []string{"HS256", "EdDSA", "ES256", "RS256"},
		Issuers:                 []string{exampleIssuer},
		Type:                    "JWT",
		Leeway:                  10 * time.Second,
		AllowMissingExp:         true,
		MaxAge:                  time.Hour,
		RequiredClaims:          []string{"sub"},
		RequiredClaimValues:     map[string]any{"tenant": "acme"},
		UnderstoodCrit:          []string{"x-ext"},
		MaxTokenLen:             4096,
		TokenCacheSize:          16,
		Revocations:             revocations,
		RevocationsFailClosed:   true,
		RevocationsMaxStaleness: 2 * time.Minute,
	}
	token := func(sign func(h, c map[string]any) string) string {
		h, c := goodHeader("", ""), goodClaims()
		h["crit"], h["x-ext"] = []string{"x-ext"}, true
		delete(c, "exp")
		return sign(h, c)
	}
	hs := token(func(h, c map[string]any) string {
		h["alg"], h["kid"] = "HS256", "hs"
		return signHS256(testSecret, h, c)
	})
	ed := token(func(h, c map[string]any) string {
		h["alg"], h["kid"] = "EdDSA", "ed"
		return signEdDSA(testEd25519, h, c)
	})
	cases := map[string]struct {
		keys  func(c *jwtv.Config)
		token string // "": none to check
	}{
		"PEMKeys and HMACSecrets": {func(c *jwtv.Config) {
			c.PEMKeys = []jwtv.PEMKey{{PEM: example(t, "keys/test-es256.pub.pem"), Algorithm: "ES256", KeyID: "test-es256"}}
			c.HMACSecrets = []jwtv.HMACSecret{{Secret: testSecret, Algorithm: "HS256", KeyID: "hs"}}
			c.Audiences = []string{"api"}
		}, hs},
		"JWKS": {func(c *jwtv.Config) {
			c.JWKS = ed25519JWKS()
			c.IgnoreAudience = true
		}, ed},
		"KeySources": {func(c *jwtv.Config) {
			c.KeySources = []jwtv.KeySource{{JWKSFile: jwksFile}, {JWKS: ed25519JWKS(), Issuer: exampleIssuer}}
			c.IgnoreAudience = true
		}, ed},
		// (A lifetime needs exp, which the token above leaves out: no token here.)
		"JWKSFile": {func(c *jwtv.Config) { c.JWKSFile = jwksFile; c.MaxLifetime = 24 * time.Hour }, ""},
		// A shadow that would refuse the token: it is still accepted.
		"Shadow": {func(c *jwtv.Config) {
			c.JWKS = ed25519JWKS()
			c.IgnoreAudience = true
			c.Shadow = map[string]any{"issuers": []string{"https://other.example"}}
		}, ed},
		"IssuerDiscovery": {func(c *jwtv.Config) { c.IssuerDiscovery = "http://127.0.0.1:9/realms/acme" }, ""},
		"JWKSURL": {func(c *jwtv.Config) {
			c.JWKSURL = "http://127.0.0.1:9/jwks.json"
			c.TLSCAFile = caFile
		}, ""},
	}
	set := map[string]bool{}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := rules
			tc.keys(&cfg)
			for i, v := 0, reflect.ValueOf(cfg); i < v.NumField(); i++ {
				if !v.Field(i).IsZero() {
					set[v.Type().Field(i).Name] = true
				}
			}
			doc, err := json.Marshal(cfg)
			if err != nil {
				t.Fatal(err)
			}
			policyFile := filepath.Join(t.TempDir(), "policy.json")
			if err := os.WriteFile(policyFile, doc, 0o600); err != nil {
				t.Fatal(err)
			}
			for _, v := range []*jwtv.Verifier{newVerifier(t, cfg), newVerifier(t, jwtv.Config{PolicyFile: policyFile})} {
				if tc.token == "" {
					continue
				}
				if _, err := v.VerifyAt(tc.token, testNow); err != nil {
					t.Errorf("a token every rule accepts: %v", err)
				}
				if m := v.Metrics(); m.Revocations == nil || !m.Revocations.FailClosed || m.Revocations.JTIs != 1 {
					t.Errorf("revocations: %+v", m.Revocations)
				}
			}
		})
	}
	for i, typ := 0, reflect.TypeOf(jwtv.Config{}); i < typ.NumField(); i++ {
		if name := typ.Field(i).Name; name != "PolicyFile" && !set[name] {
			t.Errorf("no case sets Config.%s", name)
		}
	}
}

// MaxAge refuses tokens issued too long ago (too_old), and tokens without iat.
func TestMaxAge(t *testing.T) {
	cfg := strictConfig()
	cfg.MaxAge = 10 * time.Minute
	v := newVerifier(t, cfg)
	without := newVerifier(t, strictConfig())
	iat := func(age time.Duration) string {
		c := goodClaims()
		c["iat"], c["nbf"] = testNow.Add(-age).Unix(), testNow.Add(-age).Unix()
		return signHS256(testSecret, goodHeader("HS256", "hs"), c)
	}
	noIat := goodClaims()
	delete(noIat, "iat")
	for _, tc := range []struct {
		token          string
		want, wantNone error
	}{
		{iat(10 * time.Minute), nil, nil},
		{iat(10*time.Minute + time.Second), jwtv.ErrTooOld, nil},
		{iat(24 * time.Hour), jwtv.ErrTooOld, nil},
		{signHS256(testSecret, goodHeader("HS256", "hs"), noIat), jwtv.ErrMissingClaim, nil},
	} {
		if _, err := v.VerifyAt(tc.token, testNow); !errors.Is(err, tc.want) {
			t.Errorf("MaxAge 10 min: got %v, want %v", err, tc.want)
		}
		if _, err := without.VerifyAt(tc.token, testNow); !errors.Is(err, tc.wantNone) {
			t.Errorf("no MaxAge: got %v, want %v", err, tc.wantNone)
		}
	}
}

// IgnoreAudience accepts any aud, which a verifier without Audiences refuses.
func TestIgnoreAudience(t *testing.T) {
	cfg := strictConfig()
	cfg.Audiences = nil
	strict := newVerifier(t, cfg)
	cfg.IgnoreAudience = true
	ignoring := newVerifier(t, cfg)
	for _, aud := range []any{"api", []string{"other", "more"}, nil} {
		c := goodClaims()
		c["aud"] = aud
		if aud == nil {
			delete(c, "aud")
		}
		token := signHS256(testSecret, goodHeader("HS256", "hs"), c)
		if _, err := ignoring.VerifyAt(token, testNow); err != nil {
			t.Errorf("aud %v, IgnoreAudience: %v", aud, err)
		}
		if _, err := strict.VerifyAt(token, testNow); (aud == nil) != (err == nil) || (err != nil && !errors.Is(err, jwtv.ErrBadAudience)) {
			t.Errorf("aud %v, no Audiences: %v", aud, err)
		}
	}
}

// UnderstoodCrit accepts tokens whose crit names only those extensions.
func TestUnderstoodCrit(t *testing.T) {
	cfg := strictConfig()
	strict := newVerifier(t, cfg)
	cfg.UnderstoodCrit = []string{"x-ext", "b64"}
	understanding := newVerifier(t, cfg)
	crit := func(names ...string) string {
		h := goodHeader("HS256", "hs")
		h["crit"] = names
		for _, n := range names {
			h[n] = true
		}
		return signHS256(testSecret, h, goodClaims())
	}
	for _, tc := range []struct {
		token             string
		want, wantDefault error
	}{
		{crit("x-ext"), nil, jwtv.ErrUnsupportedCrit},
		{crit("x-ext", "x-other"), jwtv.ErrUnsupportedCrit, jwtv.ErrUnsupportedCrit},
		{crit("b64"), jwtv.ErrUnsupportedCrit, jwtv.ErrUnsupportedCrit}, // never understood
	} {
		if _, err := understanding.VerifyAt(tc.token, testNow); !errors.Is(err, tc.want) {
			t.Errorf("UnderstoodCrit: got %v, want %v", err, tc.want)
		}
		if _, err := strict.VerifyAt(tc.token, testNow); !errors.Is(err, tc.wantDefault) {
			t.Errorf("no UnderstoodCrit: got %v, want %v", err, tc.wantDefault)
		}
	}
}

// AllowMissingExp accepts tokens without exp; an exp present is still checked.
func TestAllowMissingExp(t *testing.T) {
	cfg := strictConfig()
	strict := newVerifier(t, cfg)
	cfg.AllowMissingExp = true
	lenient := newVerifier(t, cfg)
	noExp, expired := goodClaims(), goodClaims()
	delete(noExp, "exp")
	expired["exp"] = testNow.Unix() - 1
	var e *jwtv.Error
	token := signHS256(testSecret, goodHeader("HS256", "hs"), noExp)
	if _, err := strict.VerifyAt(token, testNow); !errors.As(err, &e) || e.Code != jwtv.CodeMissingClaim || e.Detail != "exp" {
		t.Errorf("no exp, exp required: %v", err)
	}
	if _, err := lenient.VerifyAt(token, testNow); err != nil {
		t.Errorf("no exp, AllowMissingExp: %v", err)
	}
	token = signHS256(testSecret, goodHeader("HS256", "hs"), expired)
	if _, err := lenient.VerifyAt(token, testNow); !errors.Is(err, jwtv.ErrExpired) {
		t.Errorf("expired, AllowMissingExp: %v", err)
	}
}

// Strings reach libjwtv whole: a NUL byte, which C strings could not carry,
// is part of the value, never the end of it.
func TestConfigStringsWithNUL(t *testing.T) {
	cfg := strictConfig()
	cfg.Audiences = []string{"api\x00admin"}
	v := newVerifier(t, cfg)
	for aud, want := range map[string]error{"api\x00admin": nil, "api": jwtv.ErrBadAudience} {
		c := goodClaims()
		c["aud"] = aud
		if _, err := v.VerifyAt(signHS256(testSecret, goodHeader("HS256", "hs"), c), testNow); !errors.Is(err, want) {
			t.Errorf("aud %q: got %v, want %v", aud, err, want)
		}
	}
}

// A JWKS without a key for the allowed algorithms never verifies a token.
func TestJWKSWithoutUsableKey(t *testing.T) {
	cfg := strictConfig()
	cfg.HMACSecrets, cfg.JWKS = nil, ed25519JWKS() // an EdDSA key; HS256 allowed
	v, err := jwtv.NewVerifier(cfg)
	if err != nil {
		if !errors.Is(err, jwtv.ErrConfig) {
			t.Fatalf("got %v, want ErrConfig or a verifier without keys", err)
		}
		return
	}
	defer v.Close()
	if _, err := v.VerifyAt(signHS256(testSecret, goodHeader("HS256", "hs"), goodClaims()), testNow); err == nil {
		t.Error("a token was accepted")
	}
	if n := v.Metrics().KeyCount; n != 0 {
		t.Errorf("%d keys", n)
	}
}

func TestKeySourcesBindKeysToTheirIssuer(t *testing.T) {
	jwksFile, err := filepath.Abs(filepath.Join(examples, "jwks.json"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := jwtv.Config{
		Algorithms: []string{"EdDSA", "ES256"},
		Audiences:  []string{"api"},
		KeySources: []jwtv.KeySource{{JWKSFile: jwksFile}, {JWKS: ed25519JWKS(), Issuer: "https://other.example"}},
	}
	v := newVerifier(t, cfg)
	token := signEdDSA(testEd25519, goodHeader("EdDSA", "ed"), goodClaims())
	if _, err := v.VerifyAt(token, testNow); !errors.Is(err, jwtv.ErrBadIssuer) {
		t.Fatalf("a key bound to another issuer: %v, want ErrBadIssuer", err)
	}
	cfg.KeySources[1].Issuer = exampleIssuer
	if _, err := newVerifier(t, cfg).VerifyAt(token, testNow); err != nil {
		t.Fatalf("its own issuer's token: %v", err)
	}
	cfg.KeySources = []jwtv.KeySource{{JWKSFile: jwksFile, JWKSURL: "https://a.example/keys"}}
	if _, err := jwtv.NewVerifier(cfg); !errors.Is(err, jwtv.ErrConfig) || !strings.Contains(err.Error(), "keys.sources[0]") {
		t.Fatalf("two forms in one source: %v", err)
	}
}

func TestNameLabelsEveryMetric(t *testing.T) {
	cfg := exampleConfig()
	cfg.Name = "orders-api"
	text := newVerifier(t, cfg).MetricsPrometheus()
	if !strings.Contains(text, `jwtv_verifications_total{policy="orders-api",result="ok"} 0`) ||
		!strings.Contains(text, `jwtv_keys{policy="orders-api"} 3`) {
		t.Fatalf("metrics without the policy label:\n%s", text)
	}
	cfg.Name = "orders api"
	if _, err := jwtv.NewVerifier(cfg); !errors.Is(err, jwtv.ErrConfig) || !strings.Contains(err.Error(), "name") {
		t.Fatalf("a name with a space: %v", err)
	}
}
