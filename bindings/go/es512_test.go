package jwtv_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha512"
	"errors"
	"os"
	"strings"
	"testing"

	jwtv "github.com/jwtv/jwtv/bindings/go"
)

// TestES512FollowsTheBackend: ES512 (P-521) tokens verify when libjwtv is
// built on aws-lc, and are an unsupported algorithm on ring (the default).
// The P-521 TEST KEY is made here and never kept.
func TestES512FollowsTheBackend(t *testing.T) {
	want := os.Getenv("JWTV_BACKEND")
	if want == "" {
		want = "ring"
	}
	if got := jwtv.CryptoBackend(); got != want {
		t.Fatalf("linked with libjwtv on %s, JWTV_BACKEND says %s", got, want)
	}
	key, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pad := func(b []byte) []byte { return append(make([]byte, 66-len(b)), b...) }
	jwks := mustJSON(map[string]any{"keys": []any{map[string]any{
		"kty": "EC", "crv": "P-521", "alg": "ES512", "kid": "p521",
		"x": b64(pad(key.X.Bytes())), "y": b64(pad(key.Y.Bytes())),
	}}})
	input := b64(mustJSON(goodHeader("ES512", "p521"))) + "." + b64(mustJSON(goodClaims()))
	digest := sha512.Sum512([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	token := input + "." + b64(append(pad(r.Bytes()), pad(s.Bytes())...))

	cfg := strictConfig()
	cfg.HMACSecrets = nil
	cfg.JWKS = jwks
	cfg.Algorithms = []string{"ES512"}
	if want == "aws-lc" {
		v := newVerifier(t, cfg)
		if _, err := v.VerifyAt(token, testNow); err != nil {
			t.Fatalf("ES512 on aws-lc: %v", err)
		}
		forged := token[:len(token)-4] + "AAAA"
		if _, err := v.VerifyAt(forged, testNow); !errors.Is(err, jwtv.ErrBadSignature) {
			t.Errorf("forged ES512: %v, want bad_signature", err)
		}
		return
	}
	if _, err := jwtv.NewVerifier(cfg); err == nil || !strings.Contains(err.Error(), "ES512") {
		t.Errorf("ES512 on ring: %v, want a configuration error naming ES512", err)
	}
	v := newVerifier(t, exampleConfig())
	if _, err := v.VerifyAt(token, testNow); !errors.Is(err, jwtv.ErrUnsupportedAlg) {
		t.Errorf("an ES512 token on ring: %v, want unsupported_alg", err)
	}
}
