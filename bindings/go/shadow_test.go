package jwtv_test

import (
	"strings"
	"testing"

	jwtv "github.com/jwtv/jwtv/bindings/go"
)

// TestShadowPolicy: a shadow judges the tokens the enforced rules accept,
// counts what it would reject, and never changes a verdict.
func TestShadowPolicy(t *testing.T) {
	cfg := strictConfig()
	cfg.Audiences = []string{"api", "api-v1"}
	cfg.Shadow = map[string]any{"audiences": []string{"api"}}
	v := newVerifier(t, cfg)
	for _, aud := range []string{"api", "api-v1", "api-v1"} {
		c := goodClaims()
		c["aud"] = aud
		if _, err := v.VerifyAt(signHS256(testSecret, goodHeader("HS256", "hs"), c), testNow); err != nil {
			t.Fatalf("aud %s: %v (the shadow never decides)", aud, err)
		}
	}
	text := v.MetricsPrometheus()
	for _, want := range []string{
		`jwtv_shadow_verifications_total{result="ok"} 1`,
		`jwtv_shadow_verifications_total{result="bad_audience"} 2`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("metrics lack %q", want)
		}
	}
	cfg.Shadow = map[string]any{"token_cache_size": 10}
	if _, err := jwtv.NewVerifier(cfg); err == nil || !strings.Contains(err.Error(), "shadow.token_cache_size") {
		t.Errorf("a shadow changing the cache: %v", err)
	}
}
