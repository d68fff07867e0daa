package cryptofloor

import (
	"crypto/rand"
	"strings"
	"sync"
	"testing"
)

var (
	testKeysOnce sync.Once
	testKeys     *Keys
	testKeysErr  error
)

func keys(tb testing.TB) *Keys {
	tb.Helper()
	testKeysOnce.Do(func() { testKeys, testKeysErr = NewKeys(2048, rand.Reader) })
	if testKeysErr != nil {
		tb.Fatal(testKeysErr)
	}
	return testKeys
}

// bridgeDefault is the shape of a login with the bridge's defaults and an
// SP entitled to the national number: encrypted request object, userinfo,
// signed and encrypted assertion.
var bridgeDefault = Shape{EncryptRequestObject: true, UserInfo: true, SignAssertion: true, EncryptAssertion: true}

func TestOps(t *testing.T) {
	for _, tt := range []struct {
		name             string
		shape            Shape
		private, public  int
		first, lastEntry string
	}{
		{"smallest", Shape{}, 3, 1, "sign the request object", "verify the ID token signature"},
		{"bridge default, nin", bridgeDefault, 5, 4, "sign the request object", "encrypt the assertion key"},
		{"signed request, both signed", Shape{VerifyAuthnRequest: true, EncryptRequestObject: true, UserInfo: true, SignAssertion: true, SignResponse: true},
			6, 4, "verify the AuthnRequest", "sign the response"},
		{"from a session, both signed", Shape{FromSession: true, EncryptRequestObject: true, UserInfo: true, SignAssertion: true, SignResponse: true},
			2, 0, "sign the assertion", "sign the response"},
	} {
		ops := tt.shape.Ops()
		var priv, pub int
		for _, op := range ops {
			switch op.Kind {
			case Private:
				priv++
			case Public:
				pub++
			}
		}
		if priv != tt.private || pub != tt.public {
			t.Errorf("%s: %d private and %d public operations, want %d and %d", tt.name, priv, pub, tt.private, tt.public)
		}
		if !strings.HasPrefix(ops[0].Name, tt.first) || !strings.HasPrefix(ops[len(ops)-1].Name, tt.lastEntry) {
			t.Errorf("%s: operations run from %q to %q", tt.name, ops[0].Name, ops[len(ops)-1].Name)
		}
	}
}

// TestLoginChecksItsResults: every operation runs for real; a corrupted
// peer input makes Login fail rather than pass silently.
func TestLoginChecksItsResults(t *testing.T) {
	k := keys(t)
	all := Shape{VerifyAuthnRequest: true, EncryptRequestObject: true, UserInfo: true, SignResponse: true, SignAssertion: true, EncryptAssertion: true}
	if err := k.Login(all, rand.Reader); err != nil {
		t.Fatalf("Login: %v", err)
	}
	bad := *k
	bad.userinfoSig = append([]byte(nil), k.userinfoSig...)
	bad.userinfoSig[10] ^= 1
	if err := bad.Login(all, rand.Reader); err == nil || !strings.Contains(err.Error(), "userinfo signature") {
		t.Errorf("a corrupted userinfo signature: err = %v", err)
	}
	bad = *k
	bad.idTokenKey = append([]byte(nil), k.idTokenKey...)
	bad.idTokenKey[5] ^= 1
	if err := bad.Login(all, rand.Reader); err == nil || !strings.Contains(err.Error(), "ID token key") {
		t.Errorf("a corrupted ID token key: err = %v", err)
	}
	if _, err := NewKeys(1024, rand.Reader); err == nil {
		t.Error("1024-bit keys accepted")
	}
}

// BenchmarkFloor reports the CPU floor of one login with the bridge's
// defaults (ns/op is one login's asymmetric operations on one core).
func BenchmarkFloor(b *testing.B) {
	k := keys(b)
	for _, bc := range []struct {
		name  string
		shape Shape
	}{
		{"default-nin", bridgeDefault},
		{"authentication-only", Shape{EncryptRequestObject: true, SignAssertion: true}},
		{"both-signed", Shape{EncryptRequestObject: true, UserInfo: true, SignAssertion: true, SignResponse: true}},
		{"from-session-both-signed", Shape{FromSession: true, SignAssertion: true, SignResponse: true}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if err := k.Login(bc.shape, rand.Reader); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(bc.shape.Ops())), "ops/login")
		})
	}
}
