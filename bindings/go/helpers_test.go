package jwtv_test

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jwtv "github.com/jwtv/jwtv/bindings/go"
)

// The repository's examples/ folder: keys, JWKS, policy and tokens.
var examples = filepath.Join("..", "..", "examples")

const (
	exampleIssuer = "https://issuer.example"
	exampleSub    = "user-1234"
)

func example(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(examples, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func exampleToken(t testing.TB, name string) string {
	return strings.TrimSpace(string(example(t, filepath.Join("tokens", name+".jwt"))))
}

// exampleConfig accepts the bundled example tokens (examples/jwks.json).
func exampleConfig() jwtv.Config {
	return jwtv.Config{
		JWKSFile:       filepath.Join(examples, "jwks.json"),
		Algorithms:     []string{"ES256", "EdDSA", "RS256"},
		Issuers:        []string{exampleIssuer},
		Audiences:      []string{"api"},
		Type:           "JWT",
		RequiredClaims: []string{"sub"},
	}
}

func newVerifier(t testing.TB, cfg jwtv.Config) *jwtv.Verifier {
	t.Helper()
	v, err := jwtv.NewVerifier(cfg)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func b64(data []byte) string { return base64.RawURLEncoding.EncodeToString(data) }

func mustJSON(v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return data
}

// A fixed "now" for the tokens the tests sign.
var testNow = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// testSecret is the HMAC secret of the in-memory HS256 key "hs".
var testSecret = []byte("jwtv-go-binding-test-secret-0123456789")

// testEd25519 is the key pair of the in-memory EdDSA key "ed".
var testEd25519 = ed25519.NewKeyFromSeed([]byte("jwtv-go-binding-ed25519-seed-32b"))

// signHS256 signs header and claims (maps, marshalled as given) with secret.
func signHS256(secret []byte, header, claims map[string]any) string {
	input := b64(mustJSON(header)) + "." + b64(mustJSON(claims))
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(input))
	return input + "." + b64(mac.Sum(nil))
}

// signEdDSA signs header and claims with key.
func signEdDSA(key ed25519.PrivateKey, header, claims map[string]any) string {
	input := b64(mustJSON(header)) + "." + b64(mustJSON(claims))
	return input + "." + b64(ed25519.Sign(key, []byte(input)))
}

// ed25519JWKS is a JWKS holding the public half of testEd25519 as "ed".
func ed25519JWKS() []byte {
	pub := testEd25519.Public().(ed25519.PublicKey)
	return mustJSON(map[string]any{"keys": []any{map[string]any{
		"kty": "OKP", "crv": "Ed25519", "x": b64(pub), "kid": "ed", "alg": "EdDSA", "use": "sig",
	}}})
}

// goodHeader and goodClaims make a token the strict test configuration
// accepts at testNow; tests change one field at a time.
func goodHeader(alg, kid string) map[string]any {
	return map[string]any{"alg": alg, "typ": "JWT", "kid": kid}
}

func goodClaims() map[string]any {
	now := testNow.Unix()
	return map[string]any{
		"iss":    exampleIssuer,
		"sub":    "user-42",
		"aud":    []string{"api", "reports"},
		"iat":    now - 60,
		"nbf":    now - 60,
		"exp":    now + 3600,
		"tenant": "acme",
		"n":      9007199254740993, // 2^53 + 1: exact only as an integer
	}
}

// strictConfig checks everything the C ABI can express, over the in-memory
// HS256 secret.
func strictConfig() jwtv.Config {
	return jwtv.Config{
		HMACSecrets:         []jwtv.HMACSecret{{Secret: testSecret, Algorithm: "HS256", KeyID: "hs"}},
		Algorithms:          []string{"HS256"},
		Issuers:             []string{exampleIssuer},
		Audiences:           []string{"api"},
		Type:                "JWT",
		Leeway:              jwtv.NoLeeway,
		RequiredClaims:      []string{"sub"},
		RequiredClaimValues: map[string]any{"tenant": "acme"},
		MaxTokenLen:         2048,
	}
}
