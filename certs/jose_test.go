package certs

import (
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func testPair(t *testing.T, name string) *KeyPair {
	t.Helper()
	kp, err := Generate(nil, 2048, name+" (TEST KEY)", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

// TestNextSigningKeyIsPublishedButNeverSigns: the next key appears in the
// JWK Set with use "sig", the signer keeps the current key, and a next key
// equal to a key in use is refused.
func TestNextSigningKeyIsPublishedButNeverSigns(t *testing.T) {
	sig, enc, next := testPair(t, "sig"), testPair(t, "enc"), testPair(t, "next")
	k := &JOSEKeys{Sig: sig, Enc: enc, NextSig: next}
	if err := k.Validate(); err != nil {
		t.Fatal(err)
	}
	var uses []string
	for _, jwk := range k.PublicJWKS().Keys {
		if !jwk.IsPublic() {
			t.Fatalf("private member in the JWK Set (kid %s)", jwk.KeyID)
		}
		uses = append(uses, jwk.Use+":"+jwk.KeyID)
	}
	want := []string{"sig:" + sig.KeyID(), "sig:" + next.KeyID(), "enc:" + enc.KeyID()}
	if strings.Join(uses, ",") != strings.Join(want, ",") {
		t.Errorf("JWK Set %v, want %v", uses, want)
	}
	if got, ok := k.SigningKey().Key.(jose.JSONWebKey); !ok || got.KeyID != sig.KeyID() {
		t.Errorf("signing with a %T, want the current key %s", k.SigningKey().Key, sig.KeyID())
	}
	for name, bad := range map[string]*KeyPair{"current signing": sig, "encryption": enc} {
		if err := (&JOSEKeys{Sig: sig, Enc: enc, NextSig: bad}).Validate(); err == nil {
			t.Errorf("a next signing key equal to the %s key was accepted", name)
		}
	}
}
