package jwtv

import "testing"

// The C copies of every event's strings are freed, whatever the audit
// function does (here, panic every other time).
func TestAuditCopiesAreFreed(t *testing.T) {
	v, err := NewVerifier(Config{
		HMACSecrets: []HMACSecret{{Secret: []byte("jwtv-go-binding-test-secret-0123456789"), Algorithm: "HS256", KeyID: "hs"}},
		Algorithms:  []string{"HS256"},
		Name:        "leaks",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	// {"alg":"HS256","kid":"k1"}.{"iss":"i","jti":"j","sub":"s"}.signature
	const token = "eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIn0.eyJpc3MiOiJpIiwianRpIjoiaiIsInN1YiI6InMifQ.c2lnbmF0dXJl"
	events := 0
	v.SetAudit(func(ev AuditEvent) {
		events++
		if ev.KeyID != "k1" || ev.Issuer != "i" || ev.ID != "j" || ev.SubjectHash == "" || ev.Policy != "leaks" {
			t.Errorf("event %+v", ev)
		}
		if events%2 == 0 {
			panic("audit")
		}
	})
	for i := 0; i < 1000; i++ {
		func() {
			defer func() { _ = recover() }()
			_, _ = v.Verify(token)
		}()
	}
	if events != 1000 {
		t.Errorf("%d events for 1000 rejections", events)
	}
	if left := auditCopiesLeft(); left != 0 {
		t.Errorf("%d copies of event strings not freed", left)
	}
}
