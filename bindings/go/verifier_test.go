package jwtv_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	jwtv "github.com/jwtv/jwtv/bindings/go"
)

// The example tokens against every way of giving keys.
func TestExamples(t *testing.T) {
	pem := func(name string) []byte { return example(t, filepath.Join("keys", name)) }
	secret := []byte(strings.TrimSuffix(string(example(t, "keys/test-hs256.secret")), "\n"))
	rules := exampleConfig()
	withKeys := func(edit func(c *jwtv.Config)) jwtv.Config {
		c := rules
		c.JWKSFile = ""
		edit(&c)
		return c
	}
	configs := map[string]struct {
		cfg    jwtv.Config
		tokens []string
	}{
		"JWKSFile": {rules, []string{"valid-es256", "valid-eddsa", "valid-rs256"}},
		"JWKS": {withKeys(func(c *jwtv.Config) { c.JWKS = example(t, "jwks.json") }),
			[]string{"valid-es256", "valid-eddsa", "valid-rs256"}},
		"PEMKeys": {withKeys(func(c *jwtv.Config) {
			c.PEMKeys = []jwtv.PEMKey{
				{PEM: pem("test-es256.pub.pem"), Algorithm: "ES256", KeyID: "test-es256"},
				{PEM: pem("test-eddsa.pub.pem"), Algorithm: "EdDSA", KeyID: "test-eddsa"},
				{PEM: pem("test-rs256.pub.pem"), Algorithm: "RS256", KeyID: "test-rs256"},
			}
		}), []string{"valid-es256", "valid-eddsa", "valid-rs256"}},
		"HMACSecrets": {withKeys(func(c *jwtv.Config) {
			c.HMACSecrets = []jwtv.HMACSecret{{Secret: secret, Algorithm: "HS256", KeyID: "test-hs256"}}
			c.Algorithms = []string{"HS256"}
		}), []string{"valid-hs256"}},
		"HS256 JWKS": {withKeys(func(c *jwtv.Config) {
			c.JWKS = example(t, "hs256-jwks.json")
			c.Algorithms = []string{"HS256"}
		}), []string{"valid-hs256"}},
		"PolicyFile": {jwtv.Config{PolicyFile: filepath.Join(examples, "policy.json")},
			[]string{"valid-es256", "valid-eddsa", "valid-rs256"}},
	}
	for name, c := range configs {
		t.Run(name, func(t *testing.T) {
			v := newVerifier(t, c.cfg)
			for _, name := range c.tokens {
				tok, err := v.Verify(exampleToken(t, name))
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				wantAlg := map[string]string{"valid-es256": "ES256", "valid-eddsa": "EdDSA", "valid-rs256": "RS256", "valid-hs256": "HS256"}[name]
				if tok.Algorithm() != wantAlg || tok.KeyID() != "test-"+strings.ToLower(wantAlg) {
					t.Errorf("%s: alg %q kid %q", name, tok.Algorithm(), tok.KeyID())
				}
				if tok.Subject() != exampleSub || tok.Issuer() != exampleIssuer {
					t.Errorf("%s: sub %q iss %q", name, tok.Subject(), tok.Issuer())
				}
			}
			for name, want := range map[string]error{
				"expired-es256":   jwtv.ErrExpired,
				"wrong-aud-es256": jwtv.ErrBadAudience,
				"wrong-key-es256": jwtv.ErrBadSignature,
				"alg-none":        jwtv.ErrMalformed, // its signature segment is empty
			} {
				if c.tokens[0] != "valid-es256" {
					break
				}
				if _, err := v.Verify(exampleToken(t, name)); !errors.Is(err, want) {
					t.Errorf("%s: got %v, want %v", name, err, want)
				}
			}
		})
	}
}

func TestTokenAccessors(t *testing.T) {
	v := newVerifier(t, exampleConfig())
	tok, err := v.Verify(exampleToken(t, "valid-es256"))
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Audiences(); !reflect.DeepEqual(got, []string{"api", "reports"}) {
		t.Errorf("Audiences() = %q", got)
	}
	if got := tok.ExpiresAt(); !got.Equal(time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("ExpiresAt() = %v", got)
	}
	if got := tok.IssuedAt(); !got.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("IssuedAt() = %v", got)
	}
	if !tok.NotBefore().Equal(tok.IssuedAt()) {
		t.Errorf("NotBefore() = %v", tok.NotBefore())
	}
	if s, ok := tok.ClaimString("scope"); !ok || s != "read write" {
		t.Errorf("ClaimString(scope) = %q, %v", s, ok)
	}
	if _, ok := tok.ClaimString("exp"); ok {
		t.Error("ClaimString(exp) gave a string")
	}
	if _, ok := tok.ClaimString("nope"); ok {
		t.Error("ClaimString(nope) found it")
	}
	if n, ok := tok.ClaimInt("exp"); !ok || n != 4102444800 {
		t.Errorf("ClaimInt(exp) = %d, %v", n, ok)
	}
	if _, ok := tok.ClaimInt("sub"); ok {
		t.Error("ClaimInt(sub) gave a number")
	}
	if tok.ID() != "example-0001" || tok.Type() != "JWT" {
		t.Errorf("ID %q Type %q", tok.ID(), tok.Type())
	}
	claims := tok.Claims()
	if claims["sub"] != exampleSub || claims["tenant"] != "acme" || claims["exp"] != float64(4102444800) {
		t.Errorf("Claims() = %v", claims)
	}
	claims["sub"] = "changed" // a new map each time
	if tok.Claims()["sub"] != exampleSub || tok.Subject() != exampleSub {
		t.Error("changing Claims() changed the token")
	}
	header := tok.Header()
	if !reflect.DeepEqual(header, map[string]any{"alg": "ES256", "kid": "test-es256", "typ": "JWT"}) {
		t.Errorf("Header() = %v", header)
	}
	var decoded struct {
		Subject  string   `json:"sub"`
		Audience []string `json:"aud"`
		Exp      int64    `json:"exp"`
	}
	if err := tok.Decode(&decoded); err != nil || decoded.Subject != exampleSub || decoded.Exp != 4102444800 || len(decoded.Audience) != 2 {
		t.Errorf("Decode: %+v, %v", decoded, err)
	}
	if !strings.Contains(string(tok.ClaimsJSON()), `"jti":"example-0001"`) || !strings.Contains(string(tok.HeaderJSON()), `"ES256"`) {
		t.Errorf("ClaimsJSON %s HeaderJSON %s", tok.ClaimsJSON(), tok.HeaderJSON())
	}

	// The token outlives its verifier.
	v.Close()
	if tok.Subject() != exampleSub {
		t.Error("token changed after Close")
	}
}

func TestClaimIntExact(t *testing.T) {
	v := newVerifier(t, strictConfig())
	c := goodClaims()
	c["aud"] = "api"
	c["frac"] = 1700000000.5
	c["big"] = 1e300
	tok, err := v.VerifyAt(signHS256(testSecret, goodHeader("HS256", "hs"), c), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := tok.ClaimInt("n"); !ok || n != 9007199254740993 {
		t.Errorf("ClaimInt(n) = %d, %v", n, ok)
	}
	if n, ok := tok.ClaimInt("frac"); !ok || n != 1700000000 {
		t.Errorf("ClaimInt(frac) = %d, %v", n, ok)
	}
	if _, ok := tok.ClaimInt("big"); ok {
		t.Error("ClaimInt(big) fitted in int64")
	}
	if got := tok.Audiences(); !reflect.DeepEqual(got, []string{"api"}) {
		t.Errorf("Audiences() of a string aud = %q", got)
	}
}

// Required values of every kind: integers, booleans, array members, scope
// words, and nested claims by JSON Pointer.
func TestRequiredClaimValuesOfEveryKind(t *testing.T) {
	cfg := strictConfig()
	cfg.RequiredClaims = []string{"/org/id"}
	cfg.RequiredClaimValues = map[string]any{
		"level": 3, "email_verified": true, "/realm_access/roles": "admin", "scope": "read",
	}
	v := newVerifier(t, cfg)
	good := func() map[string]any {
		c := goodClaims()
		c["level"], c["email_verified"], c["scope"] = 3, true, "openid read"
		c["realm_access"] = map[string]any{"roles": []string{"user", "admin"}}
		c["org"] = map[string]any{"id": 1}
		return c
	}
	if _, err := v.VerifyAt(signHS256(testSecret, goodHeader("HS256", "hs"), good()), testNow); err != nil {
		t.Fatalf("good: %v", err)
	}
	for name, tc := range map[string]struct {
		edit func(c map[string]any)
		want error
	}{
		"level as a string":   {func(c map[string]any) { c["level"] = "3" }, jwtv.ErrBadClaim},
		"not verified":        {func(c map[string]any) { c["email_verified"] = false }, jwtv.ErrBadClaim},
		"no admin role":       {func(c map[string]any) { c["realm_access"] = map[string]any{"roles": []string{"user"}} }, jwtv.ErrBadClaim},
		"no read scope":       {func(c map[string]any) { c["scope"] = "openid readonly" }, jwtv.ErrBadClaim},
		"no nested org id":    {func(c map[string]any) { c["org"] = map[string]any{} }, jwtv.ErrMissingClaim},
		"roles not reachable": {func(c map[string]any) { delete(c, "realm_access") }, jwtv.ErrMissingClaim},
	} {
		c := good()
		tc.edit(c)
		if _, err := v.VerifyAt(signHS256(testSecret, goodHeader("HS256", "hs"), c), testNow); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	cfg.RequiredClaimValues = map[string]any{"level": 3.5}
	if _, err := jwtv.NewVerifier(cfg); err == nil || !strings.Contains(err.Error(), "required_claim_values.level: 3.5: a number must be an integer") {
		t.Errorf("a fraction: %v", err)
	}
}

func TestVerifyAtAndLeeway(t *testing.T) {
	cfg := strictConfig()
	token := signHS256(testSecret, goodHeader("HS256", "hs"), goodClaims())
	exp := testNow.Add(time.Hour)

	strict := newVerifier(t, cfg)
	if _, err := strict.VerifyAt(token, exp.Add(-time.Second)); err != nil {
		t.Errorf("a second before exp: %v", err)
	}
	if _, err := strict.VerifyAt(token, exp.Add(time.Second)); !errors.Is(err, jwtv.ErrExpired) {
		t.Errorf("a second after exp: %v", err)
	}
	cfg.Leeway = 90 * time.Second
	lenient := newVerifier(t, cfg)
	if _, err := lenient.VerifyAt(token, exp.Add(80*time.Second)); err != nil {
		t.Errorf("within the leeway: %v", err)
	}
	if _, err := lenient.VerifyAt(token, exp.Add(100*time.Second)); !errors.Is(err, jwtv.ErrExpired) {
		t.Errorf("past the leeway: %v", err)
	}
	if _, err := strict.VerifyAt(token, time.Unix(-5, 0)); !errors.Is(err, jwtv.ErrInvalidArgument) {
		t.Errorf("before 1970: %v", err)
	}
	// The system clock (2026 or later) is before the token's nbf (2030).
	if _, err := strict.Verify(token); !errors.Is(err, jwtv.ErrNotYetValid) && !errors.Is(err, jwtv.ErrExpired) {
		t.Errorf("Verify against the system clock: %v", err)
	}
}

func TestMetrics(t *testing.T) {
	cfg := exampleConfig()
	cfg.TokenCacheSize = 100
	v := newVerifier(t, cfg)
	valid := exampleToken(t, "valid-es256")
	for i := 0; i < 3; i++ {
		if _, err := v.Verify(valid); err != nil {
			t.Fatal(err)
		}
	}
	v.Verify(exampleToken(t, "expired-es256"))
	v.Verify(exampleToken(t, "wrong-aud-es256"))
	v.Verify("garbage")
	m := v.Metrics()
	if m.Verified != 3 || m.TotalRejected() != 3 || m.Rejected[jwtv.CodeExpired] != 1 ||
		m.Rejected[jwtv.CodeBadAudience] != 1 || m.Rejected[jwtv.CodeMalformed] != 1 {
		t.Errorf("counts: %+v", m)
	}
	if m.CacheHits < 2 || m.CacheEntries < 1 || m.KeyCount != 3 || !m.KeySetLoaded || m.KeySetGeneration == 0 {
		t.Errorf("cache and keys: %+v", m)
	}
	text := v.MetricsPrometheus()
	for _, want := range []string{"# TYPE", "jwtv_", `"expired"`} {
		if !strings.Contains(text, want) {
			t.Errorf("Prometheus text lacks %q:\n%s", want, text)
		}
	}
}

func TestCloseAndUseAfterClose(t *testing.T) {
	v, err := jwtv.NewVerifier(exampleConfig())
	if err != nil {
		t.Fatal(err)
	}
	valid := exampleToken(t, "valid-es256")
	if _, err := v.Verify(valid); err != nil {
		t.Fatal(err)
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	if err := v.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if tok, err := v.Verify(valid); tok != nil || !errors.Is(err, jwtv.ErrClosed) {
		t.Errorf("Verify after Close: %v, %v", tok, err)
	}
	if _, err := v.VerifyAt(valid, testNow); !errors.Is(err, jwtv.ErrClosed) {
		t.Errorf("VerifyAt after Close: %v", err)
	}
	if m := v.Metrics(); !reflect.DeepEqual(m, jwtv.Metrics{}) {
		t.Errorf("Metrics after Close: %+v", m)
	}
	if text := v.MetricsPrometheus(); text != "" {
		t.Errorf("MetricsPrometheus after Close: %q", text)
	}
}

// Many goroutines on one verifier, with and without the token cache.
func TestConcurrentVerify(t *testing.T) {
	for _, cache := range []int{0, 64} {
		t.Run(fmt.Sprintf("cache=%d", cache), func(t *testing.T) {
			cfg := exampleConfig()
			cfg.TokenCacheSize = cache
			v := newVerifier(t, cfg)
			tokens := map[string]error{
				exampleToken(t, "valid-es256"):     nil,
				exampleToken(t, "valid-eddsa"):     nil,
				exampleToken(t, "valid-rs256"):     nil,
				exampleToken(t, "expired-es256"):   jwtv.ErrExpired,
				exampleToken(t, "wrong-key-es256"): jwtv.ErrBadSignature,
			}
			const goroutines, rounds = 16, 20
			var wg sync.WaitGroup
			errs := make(chan error, goroutines)
			for g := 0; g < goroutines; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < rounds; i++ {
						for token, want := range tokens {
							tok, err := v.Verify(token)
							if !errors.Is(err, want) || (want == nil) != (tok != nil) {
								errs <- fmt.Errorf("got (%v, %v), want %v", tok, err, want)
								return
							}
							if tok != nil && tok.Subject() != exampleSub {
								errs <- fmt.Errorf("sub %q", tok.Subject())
								return
							}
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			m := v.Metrics()
			if m.Verified != goroutines*rounds*3 || m.TotalRejected() != goroutines*rounds*2 {
				t.Errorf("metrics: verified %d, rejected %d", m.Verified, m.TotalRejected())
			}
		})
	}
}

// Close while other goroutines verify: they get results or ErrClosed, and
// nothing crashes.
func TestCloseWhileVerifying(t *testing.T) {
	v, err := jwtv.NewVerifier(exampleConfig())
	if err != nil {
		t.Fatal(err)
	}
	valid := exampleToken(t, "valid-eddsa")
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := 0; i < 200; i++ {
				if _, err := v.Verify(valid); errors.Is(err, jwtv.ErrClosed) {
					return
				} else if err != nil {
					t.Errorf("Verify: %v", err)
					return
				}
				v.Metrics()
			}
		}()
	}
	close(start)
	time.Sleep(time.Millisecond)
	v.Close()
	wg.Wait()
	if _, err := v.Verify(valid); !errors.Is(err, jwtv.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

// The finalizer frees verifiers that are dropped without Close.
func TestFinalizer(t *testing.T) {
	for i := 0; i < 20; i++ {
		if _, err := jwtv.NewVerifier(strictConfig()); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 3; i++ {
		runtime.GC()
	}
}

// A revocation file: revoked tokens are refused with ErrRevoked, the file is
// re-read when it changes, and Metrics reports the list.
func TestRevocations(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "revoked.json")
	write := func(text string) {
		t.Helper()
		tmp := list + ".tmp"
		if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, list); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"jti": {"token-1": 4102444800}}`)
	cfg := strictConfig()
	cfg.Revocations = list
	v := newVerifier(t, cfg)

	token := func(jti, sub string) string {
		c := goodClaims()
		c["jti"], c["sub"] = jti, sub
		return signHS256(testSecret, goodHeader("HS256", "hs"), c)
	}
	_, err := v.VerifyAt(token("token-1", "user-1"), testNow)
	var e *jwtv.Error
	if !errors.Is(err, jwtv.ErrRevoked) || !errors.As(err, &e) || e.Detail != "jti" {
		t.Fatalf("revoked jti: got %v, want ErrRevoked naming jti", err)
	}
	if _, err := v.VerifyAt(token("token-2", "user-2"), testNow); err != nil {
		t.Fatalf("a token that is not revoked: %v", err)
	}
	m := v.Metrics()
	r := m.Revocations
	if r == nil || r.Entries != 1 || r.JTIs != 1 || r.Subjects != 0 || !r.Connected || !r.Synced ||
		r.SyncErrors != 0 || time.Since(r.LastSync) > time.Minute || r.SyncLag > time.Minute {
		t.Fatalf("revocation metrics: %+v", r)
	}
	if m.Rejected[jwtv.CodeRevoked] != 1 {
		t.Errorf("Rejected[CodeRevoked] = %d", m.Rejected[jwtv.CodeRevoked])
	}
	if text := v.MetricsPrometheus(); !strings.Contains(text, `jwtv_revocations{kind="jti"} 1`) ||
		!strings.Contains(text, `jwtv_verifications_total{result="revoked"} 1`) {
		t.Errorf("Prometheus text lacks the revocation lines:\n%s", text)
	}

	// "Log out everywhere" for user-2: its tokens issued before the cut-off
	// are refused once the file is looked at again (at most once a second).
	time.Sleep(1100 * time.Millisecond)
	write(`{"jti": {"token-1": 4102444800}, "sub": {"user-2": 4102444800}}`)
	if _, err := v.VerifyAt(token("token-2", "user-2"), testNow); !errors.Is(err, jwtv.ErrRevoked) {
		t.Fatalf("revoked subject: got %v, want ErrRevoked", err)
	}
	if r := v.Metrics().Revocations; r == nil || r.Entries != 2 || r.Subjects != 1 {
		t.Errorf("after the edit: %+v", r)
	}

	// A verifier without a list has no revocation metrics.
	if r := newVerifier(t, strictConfig()).Metrics().Revocations; r != nil {
		t.Errorf("no list, but %+v", r)
	}
}

// A revocation list that cannot be reached: by default tokens are judged
// against the (empty) copy and the state is reported; failing closed, every
// token is refused with ErrUnavailable at once, and the middleware answers
// 503 with Retry-After, never 401.
func TestRevocationsFailClosed(t *testing.T) {
	cfg := strictConfig()
	cfg.Revocations = "redis://127.0.0.1:1/0" // nothing listens on port 1
	open := newVerifier(t, cfg)
	token := signHS256(testSecret, goodHeader("HS256", "hs"), goodClaims())
	if _, err := open.VerifyAt(token, testNow); err != nil {
		t.Fatalf("failing open: %v", err)
	}
	if r := open.Metrics().Revocations; r == nil || r.Synced || r.FailClosed || r.Connected {
		t.Fatalf("never synced, failing open: %+v", r)
	}

	cfg.RevocationsFailClosed = true
	strict := newVerifier(t, cfg)
	started := time.Now()
	_, err := strict.VerifyAt(token, testNow)
	var e *jwtv.Error
	if !errors.Is(err, jwtv.ErrUnavailable) || !errors.As(err, &e) || e.Detail != "revocations" {
		t.Fatalf("failing closed: got %v, want ErrUnavailable naming revocations", err)
	}
	if elapsed := time.Since(started); elapsed > 100*time.Millisecond {
		t.Errorf("the verdict waited %v for the store", elapsed)
	}
	if r := strict.Metrics().Revocations; r == nil || r.Synced || !r.FailClosed {
		t.Fatalf("never synced, failing closed: %+v", r)
	}
	if text := strict.MetricsPrometheus(); !strings.Contains(text, "jwtv_revocations_synced 0\n") ||
		!strings.Contains(text, `jwtv_verifications_total{result="unavailable"} 1`) {
		t.Errorf("Prometheus text:\n%s", text)
	}

	handler := strict.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the handler ran for a token that could not be judged")
	}))
	live := goodClaims()
	now := time.Now().Unix()
	live["iat"], live["nbf"], live["exp"] = now, now, now+600
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("Authorization", "Bearer "+signHS256(testSecret, goodHeader("HS256", "hs"), live))
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != jwtv.RetryAfterSeconds ||
		rec.Header().Get("WWW-Authenticate") != "" {
		t.Fatalf("middleware: %d, headers %v", rec.Code, rec.Header())
	}

	cfg.RevocationsMaxStaleness = time.Millisecond
	if _, err := jwtv.NewVerifier(cfg); !errors.Is(err, jwtv.ErrConfig) || !errors.As(err, &e) ||
		e.Detail != "revocations.max_staleness_secs: must be positive" {
		t.Errorf("a staleness under 1 s: %v", err)
	}
}

// Lists past the bound are refused by libjwtv, never cut short: the 33rd
// required claim is an ErrConfig naming the document field.
func TestRuleListsPastTheirBound(t *testing.T) {
	names := make([]string, 33)
	values := map[string]any{}
	for i := range names {
		names[i] = fmt.Sprintf("name-%d", i)
		values[names[i]] = "v"
	}
	for field, edit := range map[string]func(c *jwtv.Config){
		"issuers":               func(c *jwtv.Config) { c.Issuers = names },
		"audiences":             func(c *jwtv.Config) { c.Audiences = names },
		"required_claims":       func(c *jwtv.Config) { c.RequiredClaims = names },
		"required_claim_values": func(c *jwtv.Config) { c.RequiredClaimValues = values },
		"understood_crit":       func(c *jwtv.Config) { c.UnderstoodCrit = names },
	} {
		cfg := strictConfig()
		edit(&cfg)
		_, err := jwtv.NewVerifier(cfg)
		var e *jwtv.Error
		if want := field + ": at most 32 entries (33 given)"; !errors.Is(err, jwtv.ErrConfig) || !errors.As(err, &e) || e.Detail != want {
			t.Errorf("%s with 33 entries: got %v, want ErrConfig %q", field, err, want)
		}
	}
	// 32 entries in every list are fine.
	cfg := strictConfig()
	cfg.Issuers, cfg.Audiences, cfg.RequiredClaims, cfg.UnderstoodCrit = names[:32], names[:32], names[:32], names[:32]
	delete(values, "name-32")
	cfg.RequiredClaimValues = values
	newVerifier(t, cfg)

	cfg = strictConfig()
	cfg.Leeway = 300 * time.Second
	newVerifier(t, cfg)
	cfg.Leeway = 301 * time.Second
	var e *jwtv.Error
	if _, err := jwtv.NewVerifier(cfg); !errors.Is(err, jwtv.ErrConfig) || !errors.As(err, &e) ||
		!strings.HasPrefix(e.Detail, "leeway_secs: at most 300 s") {
		t.Errorf("a leeway past 300 s: %v", err)
	}
}

// Go strings may hold NUL: a claim with "\u0000" is read whole (C's
// accessors refuse it instead of cutting it short).
func TestClaimStringKeepsNUL(t *testing.T) {
	v := newVerifier(t, strictConfig())
	c := goodClaims()
	c["name"] = "admin\x00-evil"
	tok, err := v.VerifyAt(signHS256(testSecret, goodHeader("HS256", "hs"), c), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := tok.ClaimString("name"); !ok || s != "admin\x00-evil" {
		t.Errorf("ClaimString = %q, %v", s, ok)
	}
}

// silentKeyServer is a JWKS URL whose server accepts connections (the
// kernel does) and never answers: a key set that never loads.
func silentKeyServer(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return "http://" + l.Addr().String() + "/jwks.json"
}

// remoteConfig is exampleConfig with its keys fetched from url.
func remoteConfig(url string) jwtv.Config {
	cfg := exampleConfig()
	cfg.JWKSFile = ""
	cfg.JWKSURL = url
	return cfg
}

// remotePolicyFile is a policy file for the example tokens with its keys
// fetched from url, waiting firstFetchMS for the first fetch.
func remotePolicyFile(t testing.TB, url string, firstFetchMS int) jwtv.Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.json")
	doc := mustJSON(map[string]any{
		"keys":       map[string]any{"jwks_url": url},
		"algorithms": []string{"ES256"},
		"issuers":    []string{exampleIssuer},
		"audiences":  []string{"api"},
		"refresh":    map[string]any{"first_fetch_timeout_ms": firstFetchMS},
	})
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	return jwtv.Config{PolicyFile: path}
}

// verifyContextIn runs VerifyContext and says how long it took.
func verifyContextIn(v *jwtv.Verifier, ctx context.Context, token string) (*jwtv.Token, error, time.Duration) {
	start := time.Now()
	tok, err := v.VerifyContext(ctx, token)
	return tok, err, time.Since(start)
}

// The bounds below are generous (the machine may be loaded): each waits in
// slices of 50 ms, so a real regression (a wait that ignores its context)
// takes the policy's whole first-fetch timeout, 5 s or more.

// Canceled while the key server never answers: VerifyContext returns soon
// after the cancel, with context.Canceled.
func TestVerifyContextCanceledWhileKeysLoad(t *testing.T) {
	v := newVerifier(t, remoteConfig(silentKeyServer(t)))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	canceled := make(chan time.Time, 1)
	go func() {
		time.Sleep(200 * time.Millisecond)
		canceled <- time.Now()
		cancel()
	}()
	tok, err := v.VerifyContext(ctx, exampleToken(t, "valid-es256"))
	returned := time.Now()
	if tok != nil || !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, %v; want context.Canceled", tok, err)
	}
	if errors.Is(err, jwtv.ErrUnavailable) || err.Error() != "jwtv: token not verified: context canceled" {
		t.Errorf("error %q", err)
	}
	if after := returned.Sub(<-canceled); after > 2*time.Second {
		t.Errorf("returned %v after the cancel", after)
	}
	if m := v.Metrics(); m.Verified != 0 || m.TotalRejected() != 0 {
		t.Errorf("a canceled verification was counted: %+v", m)
	}
}

func TestVerifyContextDeadline(t *testing.T) {
	v := newVerifier(t, remoteConfig(silentKeyServer(t)))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	tok, err, took := verifyContextIn(v, ctx, exampleToken(t, "valid-es256"))
	if tok != nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, %v; want context.DeadlineExceeded", tok, err)
	}
	if took < 250*time.Millisecond || took > 2300*time.Millisecond {
		t.Errorf("returned after %v, for a 300 ms deadline", took)
	}
}

// A context that is already done is not verified at all, even by a
// verifier that is ready.
func TestVerifyContextAlreadyDone(t *testing.T) {
	v := newVerifier(t, exampleConfig())
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	for _, tc := range []struct {
		ctx  context.Context
		want error
	}{{canceled, context.Canceled}, {expired, context.DeadlineExceeded}} {
		if tok, err := v.VerifyContext(tc.ctx, exampleToken(t, "valid-es256")); tok != nil || !errors.Is(err, tc.want) {
			t.Errorf("got %v, %v; want %v", tok, err, tc.want)
		}
		if tok, err := v.VerifyContext(tc.ctx, "garbage"); tok != nil || !errors.Is(err, tc.want) {
			t.Errorf("garbage: got %v, %v; want %v", tok, err, tc.want)
		}
	}
	if m := v.Metrics(); m.Verified != 0 || m.TotalRejected() != 0 {
		t.Errorf("counted: %+v", m)
	}
}

// With a verifier that is ready, VerifyContext's verdicts are Verify's.
func TestVerifyContextSameVerdictsAsVerify(t *testing.T) {
	v := newVerifier(t, exampleConfig())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, name := range []string{"valid-es256", "valid-eddsa", "expired-es256", "wrong-aud-es256", "wrong-key-es256"} {
		token := exampleToken(t, name)
		want, wantErr := v.Verify(token)
		got, err := v.VerifyContext(ctx, token)
		if !reflect.DeepEqual(err, wantErr) {
			t.Errorf("%s: VerifyContext error %#v, Verify's %#v", name, err, wantErr)
		}
		if (got == nil) != (want == nil) || got != nil && (got.Subject() != want.Subject() ||
			!reflect.DeepEqual(got.Claims(), want.Claims())) {
			t.Errorf("%s: VerifyContext token %v, Verify's %v", name, got, want)
		}
	}
	_, err := v.VerifyContext(context.Background(), exampleToken(t, "expired-es256"))
	var e *jwtv.Error
	if !errors.As(err, &e) || e.Code != jwtv.CodeExpired || err.Error() != "jwtv: the token has expired" {
		t.Errorf("expired: %#v", err)
	}
	tok, err := v.VerifyContext(context.Background(), exampleToken(t, "valid-rs256"))
	if err != nil || tok.Subject() != exampleSub {
		t.Errorf("valid: %v, %v", tok, err)
	}
	v.Close()
	if tok, err := v.VerifyContext(ctx, exampleToken(t, "valid-es256")); tok != nil || !errors.Is(err, jwtv.ErrClosed) {
		t.Errorf("after Close: %v, %v", tok, err)
	}
}

// A key server that answers late: VerifyContext waits for it, then verifies.
func TestVerifyContextWaitsForKeys(t *testing.T) {
	jwks := example(t, "jwks.json")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
		w.Header().Set("Content-Type", "application/json")
		w.Write(jwks)
	}))
	defer srv.Close()
	v := newVerifier(t, remoteConfig(srv.URL+"/jwks.json"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tok, err := v.VerifyContext(ctx, exampleToken(t, "valid-es256"))
	if err != nil || tok.Subject() != exampleSub {
		t.Fatalf("got %v, %v", tok, err)
	}
	if m := v.Metrics(); m.Verified != 1 || !m.KeySetLoaded || m.FetchesUpdated == 0 {
		t.Errorf("metrics: %+v", m)
	}
}

// Without a deadline of its own, VerifyContext waits no longer than Verify:
// the policy's first-fetch timeout, then ErrUnavailable (detail "keys").
func TestVerifyContextGivesUpWithVerify(t *testing.T) {
	v := newVerifier(t, remotePolicyFile(t, silentKeyServer(t), 300))
	tok, err, took := verifyContextIn(v, context.Background(), exampleToken(t, "valid-es256"))
	var e *jwtv.Error
	if tok != nil || !errors.As(err, &e) || e.Code != jwtv.CodeUnavailable || e.Detail != "keys" {
		t.Fatalf("got %v, %#v; want ErrUnavailable, detail keys", tok, err)
	}
	if took < 250*time.Millisecond || took > 4*time.Second {
		t.Errorf("gave up after %v, for a first-fetch timeout of 300 ms", took)
	}
	if _, verr := v.Verify(exampleToken(t, "valid-es256")); !reflect.DeepEqual(verr, err) {
		t.Errorf("Verify: %#v; VerifyContext: %#v", verr, err)
	}
}

// Once a fetch has failed, Verify no longer waits, nor does VerifyContext;
// a policy that never waits is not waited for either. Both verdicts come
// from libjwtv, and are counted.
func TestVerifyContextDoesNotWaitWhenVerifyWouldNot(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + l.Addr().String() + "/jwks.json"
	l.Close() // connections are refused: the first fetch fails at once
	for name, cfg := range map[string]jwtv.Config{
		"fetch failed":  remotePolicyFile(t, refused, 60000),
		"never waiting": remotePolicyFile(t, silentKeyServer(t), 0),
	} {
		t.Run(name, func(t *testing.T) {
			v := newVerifier(t, cfg)
			for i := 0; i < 2; i++ {
				tok, err, took := verifyContextIn(v, context.Background(), exampleToken(t, "valid-es256"))
				if tok != nil || !errors.Is(err, jwtv.ErrUnavailable) {
					t.Fatalf("got %v, %v; want ErrUnavailable", tok, err)
				}
				if took > 20*time.Second {
					t.Errorf("waited %v", took)
				}
			}
			if n := v.Metrics().Rejected[jwtv.CodeUnavailable]; n != 2 {
				t.Errorf("%d counted, want 2", n)
			}
		})
	}
}
