package jwtv_test

import (
	"net"
	"strings"
	"testing"
	"time"

	jwtv "github.com/jwtv/jwtv/bindings/go"
)

// TestStateChanges: a key server that is away is one state change to take,
// however many fetches fail, and it is taken once.
func TestStateChanges(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + closed.Addr().String() + "/jwks.json"
	closed.Close()
	cfg := strictConfig()
	cfg.HMACSecrets = nil
	cfg.JWKSURL = url
	cfg.Name = "orders-api"
	v := newVerifier(t, cfg)
	var changes []jwtv.StateChange
	for deadline := time.Now().Add(10 * time.Second); len(changes) == 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		changes = v.TakeStateChanges()
	}
	if len(changes) != 1 || !changes[0].Failing {
		t.Fatalf("changes: %+v", changes)
	}
	if want := "policy=orders-api key set fetches from " + url + " failing (1 in a row)"; !strings.HasPrefix(changes[0].Message, want) {
		t.Errorf("message %q, want it to begin with %q", changes[0].Message, want)
	}
	time.Sleep(1500 * time.Millisecond)
	if again := v.TakeStateChanges(); len(again) != 0 {
		t.Errorf("the same failure again: %+v", again)
	}
}
