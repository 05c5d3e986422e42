package jwtv_test

// Benchmarks of jwtv through cgo against plainVerifier, a JWT verifier
// written on the standard library's crypto, on the same example tokens and
// rules:
//
//	go test -run '^$' -bench . -benchmem
//
// Both return the claims decoded into a map (jwtv: Verify, then Subject,
// which decodes the claims copied out of C). Also measured: jwtv without
// decoding the claims in Go (verify-only), jwtv with its verified-token
// cache (the signature is checked once), and the cost of one call through
// cgo (a token refused at once).

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jwtv "github.com/jwtv/jwtv/bindings/go"
)

// plainKey is one key of plainVerifier, bound to its algorithm.
type plainKey struct {
	alg    string
	secret []byte
	ec     *ecdsa.PublicKey
	rsa    *rsa.PublicKey
}

// plainVerifier checks what the benchmarks' jwtv configuration checks: the
// compact form, alg bound to the kid's key, typ, crit absent, the signature,
// then iss, aud, exp, nbf, iat (with leeway) and sub.
type plainVerifier struct {
	keys     map[string]plainKey
	issuer   string
	audience string
	typ      string
	leeway   int64
}

var errPlain = errors.New("plain: rejected")

func (p *plainVerifier) verify(token string, now int64) (map[string]any, error) {
	first := strings.IndexByte(token, '.')
	last := strings.LastIndexByte(token, '.')
	if first < 0 || last == first || strings.IndexByte(token[first+1:last], '.') >= 0 {
		return nil, errPlain
	}
	enc := base64.RawURLEncoding
	headerJSON, err := enc.DecodeString(token[:first])
	if err != nil {
		return nil, errPlain
	}
	var header struct {
		Alg  string          `json:"alg"`
		Kid  string          `json:"kid"`
		Typ  string          `json:"typ"`
		Crit json.RawMessage `json:"crit"`
	}
	if json.Unmarshal(headerJSON, &header) != nil || header.Crit != nil {
		return nil, errPlain
	}
	key, ok := p.keys[header.Kid]
	if !ok || key.alg != header.Alg {
		return nil, errPlain
	}
	if p.typ != "" && !strings.EqualFold(strings.TrimPrefix(strings.ToLower(header.Typ), "application/"), p.typ) {
		return nil, errPlain
	}
	sig, err := enc.DecodeString(token[last+1:])
	if err != nil {
		return nil, errPlain
	}
	input := token[:last]
	switch key.alg {
	case "HS256":
		mac := hmac.New(sha256.New, key.secret)
		mac.Write([]byte(input))
		if !hmac.Equal(mac.Sum(nil), sig) {
			return nil, errPlain
		}
	case "ES256":
		digest := sha256.Sum256([]byte(input))
		if len(sig) != 64 {
			return nil, errPlain
		}
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		if !ecdsa.Verify(key.ec, digest[:], r, s) {
			return nil, errPlain
		}
	case "RS256":
		digest := sha256.Sum256([]byte(input))
		if rsa.VerifyPKCS1v15(key.rsa, crypto.SHA256, digest[:], sig) != nil {
			return nil, errPlain
		}
	default:
		return nil, errPlain
	}
	payload, err := enc.DecodeString(token[first+1 : last])
	if err != nil {
		return nil, errPlain
	}
	var claims map[string]any
	if json.Unmarshal(payload, &claims) != nil || claims == nil {
		return nil, errPlain
	}
	if iss, _ := claims["iss"].(string); iss != p.issuer {
		return nil, errPlain
	}
	audOK := false
	switch aud := claims["aud"].(type) {
	case string:
		audOK = aud == p.audience
	case []any:
		for _, a := range aud {
			if a == p.audience {
				audOK = true
			}
		}
	}
	if !audOK {
		return nil, errPlain
	}
	exp, ok := claims["exp"].(float64)
	if !ok || float64(now) >= exp+float64(p.leeway) {
		return nil, errPlain
	}
	if nbf, ok := claims["nbf"].(float64); ok && float64(now)+float64(p.leeway) < nbf {
		return nil, errPlain
	}
	if iat, ok := claims["iat"].(float64); ok && float64(now)+float64(p.leeway) < iat {
		return nil, errPlain
	}
	if _, ok := claims["sub"].(string); !ok {
		return nil, errPlain
	}
	return claims, nil
}

func newPlainVerifier(t testing.TB) *plainVerifier {
	pub := func(name string) any {
		block, _ := pem.Decode(example(t, filepath.Join("keys", name)))
		if block == nil {
			t.Fatalf("%s: no PEM block", name)
		}
		key, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return key
	}
	secret := []byte(strings.TrimSuffix(string(example(t, "keys/test-hs256.secret")), "\n"))
	return &plainVerifier{
		keys: map[string]plainKey{
			"test-hs256": {alg: "HS256", secret: secret},
			"test-es256": {alg: "ES256", ec: pub("test-es256.pub.pem").(*ecdsa.PublicKey)},
			"test-rs256": {alg: "RS256", rsa: pub("test-rs256.pub.pem").(*rsa.PublicKey)},
		},
		issuer:   exampleIssuer,
		audience: "api",
		typ:      "jwt",
		leeway:   30,
	}
}

// benchConfig is the jwtv side of the comparison: the same keys and rules.
func benchConfig(t testing.TB, cache int) jwtv.Config {
	pem := func(name string) []byte { return example(t, filepath.Join("keys", name)) }
	secret := []byte(strings.TrimSuffix(string(example(t, "keys/test-hs256.secret")), "\n"))
	return jwtv.Config{
		PEMKeys: []jwtv.PEMKey{
			{PEM: pem("test-es256.pub.pem"), Algorithm: "ES256", KeyID: "test-es256"},
			{PEM: pem("test-rs256.pub.pem"), Algorithm: "RS256", KeyID: "test-rs256"},
		},
		HMACSecrets:    []jwtv.HMACSecret{{Secret: secret, Algorithm: "HS256", KeyID: "test-hs256"}},
		Algorithms:     []string{"HS256", "ES256", "RS256"},
		Issuers:        []string{exampleIssuer},
		Audiences:      []string{"api"},
		Type:           "JWT",
		RequiredClaims: []string{"sub"},
		TokenCacheSize: cache,
	}
}

// The plain verifier is a fair opponent: it accepts and refuses what jwtv does
// on the example tokens.
func TestPlainVerifier(t *testing.T) {
	p := newPlainVerifier(t)
	v := newVerifier(t, benchConfig(t, 0))
	now := time.Now().Unix()
	for _, name := range []string{"valid-hs256", "valid-es256", "valid-rs256", "expired-es256", "wrong-aud-es256", "wrong-key-es256", "alg-none"} {
		token := exampleToken(t, name)
		claims, perr := p.verify(token, now)
		tok, jerr := v.Verify(token)
		if (perr == nil) != (jerr == nil) {
			t.Errorf("%s: plain %v, jwtv %v", name, perr, jerr)
		}
		if perr == nil && (claims["sub"] != exampleSub || tok.Subject() != exampleSub) {
			t.Errorf("%s: sub %v / %v", name, claims["sub"], tok.Subject())
		}
	}
	if _, err := p.verify(tamper(exampleToken(t, "valid-hs256")), now); err == nil {
		t.Error("plain accepted a tampered token")
	}
}

func BenchmarkVerify(b *testing.B) {
	plain := newPlainVerifier(b)
	v, err := jwtv.NewVerifier(benchConfig(b, 0))
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	cached, err := jwtv.NewVerifier(benchConfig(b, 1024))
	if err != nil {
		b.Fatal(err)
	}
	defer cached.Close()

	for _, alg := range []string{"HS256", "ES256", "RS256"} {
		token := exampleToken(b, "valid-"+strings.ToLower(alg))
		b.Run(alg+"/jwtv", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				tok, err := v.Verify(token)
				if err != nil || tok.Subject() != exampleSub {
					b.Fatal(err)
				}
			}
		})
		b.Run(alg+"/jwtv-verify-only", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := v.Verify(token); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(alg+"/jwtv-cached", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				tok, err := cached.Verify(token)
				if err != nil || tok.Subject() != exampleSub {
					b.Fatal(err)
				}
			}
		})
		b.Run(alg+"/go", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				claims, err := plain.verify(token, time.Now().Unix())
				if err != nil || claims["sub"] != exampleSub {
					b.Fatal(err)
				}
			}
		})
	}
	// The floor of a call through cgo: a token refused before any work.
	b.Run("cgo-floor/jwtv-malformed", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := v.Verify("x"); err == nil {
				b.Fatal("accepted")
			}
		}
	})
	// Both cores on one shared verifier.
	es := exampleToken(b, "valid-es256")
	b.Run("ES256-parallel/jwtv", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := v.Verify(es); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
	b.Run("ES256-parallel/go", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := plain.verify(es, time.Now().Unix()); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
