package jwtv_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"unicode"

	jwtv "github.com/jwtv/jwtv/bindings/go"
)

func ExampleVerifier_SetAudit() {
	v, err := jwtv.NewVerifier(jwtv.Config{
		JWKSFile:   "../../examples/jwks.json",
		Algorithms: []string{"ES256"},
		Name:       "orders-api",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer v.Close()
	v.SetAudit(func(ev jwtv.AuditEvent) {
		// log.Printf("token rejected %v", ev), or with log/slog (Go 1.21):
		// logger.Warn("jwt rejected", ev.Args()...)
		fmt.Printf("token rejected %v\n", ev)
	})

	// Header {"alg":"ES256","kid":"k\n1"}, claims {"jti":"j-1"}, no signature.
	_, err = v.Verify("eyJhbGciOiJFUzI1NiIsImtpZCI6ImtcbjEifQ.eyJqdGkiOiJqLTEifQ.c2ln")
	fmt.Println(err)
	// Output:
	// token rejected code=key_not_found alg="ES256" kid="k\n1" iss=- jti="j-1" sub_hash=- token_len=62 policy=orders-api
	// jwtv: no verification key matches the token
}

// forgedToken is signed with another secret; its kid and iss hold CR, LF,
// an escape sequence and a NUL.
func forgedToken(kid string) string {
	claims := goodClaims()
	claims["jti"] = "j-7"
	claims["iss"] = "https://issuer.example\r\nX-Forged: 1"
	return signHS256([]byte("not-the-secret-not-the-secret-0123456789"), goodHeader("HS256", kid), claims)
}

// recorder keeps the events it is given.
type recorder struct {
	mu     sync.Mutex
	events []jwtv.AuditEvent
}

func (r *recorder) record(ev jwtv.AuditEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

func (r *recorder) all() []jwtv.AuditEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]jwtv.AuditEvent(nil), r.events...)
}

// Each rejection gives one event with the escaped fields, never the token;
// a valid token gives none; SetAudit(nil) stops them.
func TestAuditEvents(t *testing.T) {
	cfg := strictConfig()
	cfg.Name = "orders-api"
	v := newVerifier(t, cfg)
	var r recorder
	v.SetAudit(r.record)

	forged := forgedToken("hs\r\n\x1b[2J\x00x")
	if _, err := v.VerifyAt(forged, testNow); !errors.Is(err, jwtv.ErrKeyNotFound) {
		t.Fatalf("forged token: %v", err)
	}
	events := r.all()
	if len(events) != 1 {
		t.Fatalf("%d events, want 1", len(events))
	}
	ev := events[0]
	want := jwtv.AuditEvent{
		Code:        jwtv.CodeKeyNotFound,
		Algorithm:   "HS256",
		KeyID:       `hs\r\n\u{1b}[2J\0x`,
		Issuer:      `https://issuer.example\r\nX-Forged: 1`,
		ID:          "j-7",
		SubjectHash: ev.SubjectHash,
		TokenLen:    len(forged),
		Policy:      "orders-api",
	}
	if ev != want {
		t.Errorf("event %+v\nwant  %+v", ev, want)
	}
	if len(ev.SubjectHash) != 16 || strings.Trim(ev.SubjectHash, "0123456789abcdef") != "" {
		t.Errorf("sub_hash %q", ev.SubjectHash)
	}
	line := fmt.Sprintf(`code=key_not_found alg="HS256" kid="hs\r\n\u{1b}[2J\0x" iss="https://issuer.example\r\nX-Forged: 1" jti="j-7" sub_hash=%s token_len=%d policy=orders-api`,
		ev.SubjectHash, len(forged))
	if ev.String() != line {
		t.Errorf("String():\n%s\nwant\n%s", ev.String(), line)
	}
	args := ev.Args()
	wantArgs := []any{"code", "key_not_found", "alg", "HS256", "kid", want.KeyID, "iss", want.Issuer, "jti", "j-7",
		"sub_hash", ev.SubjectHash, "token_len", len(forged), "policy", "orders-api"}
	if fmt.Sprint(args) != fmt.Sprint(wantArgs) {
		t.Errorf("Args() = %v\nwant %v", args, wantArgs)
	}
	for _, shown := range []string{ev.String(), fmt.Sprintf("%+v", ev), fmt.Sprint(args...)} {
		for _, part := range strings.Split(forged, ".") {
			if strings.Contains(shown, part) {
				t.Errorf("the token's part %.20s… is in %q", part, shown)
			}
		}
		if strings.IndexFunc(shown, unicode.IsControl) >= 0 {
			t.Errorf("a control character in %q", shown)
		}
	}

	valid := signHS256(testSecret, goodHeader("HS256", "hs"), goodClaims())
	if _, err := v.VerifyAt(valid, testNow); err != nil {
		t.Fatal(err)
	}
	if _, err := v.VerifyAt(forgedToken("hs"), testNow); !errors.Is(err, jwtv.ErrBadSignature) {
		t.Fatalf("forged signature: %v", err)
	}
	if events = r.all(); len(events) != 2 || events[1].Code != jwtv.CodeBadSignature || events[1].KeyID != "hs" {
		t.Errorf("after a valid token and a bad signature: %+v", events)
	}

	v.SetAudit(nil)
	if _, err := v.VerifyAt(forged, testNow); err == nil {
		t.Fatal("forged token accepted")
	}
	if n := len(r.all()); n != 2 {
		t.Errorf("%d events after SetAudit(nil), want 2", n)
	}
}

// A panic in the audit function reaches the caller of Verify, and leaves
// the verifier usable.
func TestAuditPanicReachesTheCaller(t *testing.T) {
	v := newVerifier(t, strictConfig())
	v.SetAudit(func(jwtv.AuditEvent) { panic("audit") })
	func() {
		defer func() {
			if got := recover(); got != "audit" {
				t.Errorf("recovered %v, want the audit function's panic", got)
			}
		}()
		_, _ = v.VerifyAt(forgedToken("x"), testNow)
	}()
	v.SetAudit(nil) // waits for verifications in progress: none is left holding the verifier
	if _, err := v.VerifyAt(signHS256(testSecret, goodHeader("HS256", "hs"), goodClaims()), testNow); err != nil {
		t.Fatal(err)
	}
}

// Many goroutines verify while the audit function is set and cleared:
// every event goes to a function set at the time (go test -race), and once
// set, every rejection is one event. After Close, SetAudit does nothing.
func TestAuditConcurrent(t *testing.T) {
	v, err := jwtv.NewVerifier(strictConfig())
	if err != nil {
		t.Fatal(err)
	}
	var events int64
	count := func(ev jwtv.AuditEvent) {
		if ev.Code != jwtv.CodeKeyNotFound || ev.KeyID != `k\n` {
			panic(fmt.Sprintf("event %+v", ev))
		}
		atomic.AddInt64(&events, 1)
	}
	forged := forgedToken("k\n")
	v.SetAudit(count)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				if _, err := v.VerifyAt(forged, testNow); !errors.Is(err, jwtv.ErrKeyNotFound) {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := 0; i < 50; i++ {
		v.SetAudit(nil)
		v.SetAudit(count)
	}
	wg.Wait()
	before := atomic.LoadInt64(&events)
	if before == 0 || before > 8*200 {
		t.Errorf("%d events for 1600 rejections, some with the function cleared", before)
	}
	for i := 0; i < 10; i++ {
		_, _ = v.VerifyAt(forged, testNow)
	}
	if got := atomic.LoadInt64(&events) - before; got != 10 {
		t.Errorf("%d events for 10 rejections", got)
	}
	v.Close()
	v.SetAudit(count)
	if _, err := v.VerifyAt(forged, testNow); !errors.Is(err, jwtv.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}
