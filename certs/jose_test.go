package certs

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
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

// TestJOSEKeysValidateKeySeparation: Validate refuses every key found in
// two roles, compared by public key (the reused key is parsed anew from
// PEM, not the same *KeyPair), and accepts distinct keys.
func TestJOSEKeysValidateKeySeparation(t *testing.T) {
	sig, enc, next, old0, old1 := testPair(t, "sig"), testPair(t, "enc"), testPair(t, "next"), testPair(t, "old0"), testPair(t, "old1")
	again := func(kp *KeyPair) *KeyPair { // the same key, parsed anew
		kp, err := ParsePEM(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(kp.Key)}), nil)
		if err != nil {
			t.Fatal(err)
		}
		return kp
	}
	tests := []struct {
		name string
		keys JOSEKeys
		want string // "" for accepted
	}{
		{"distinct", JOSEKeys{Sig: sig, Enc: enc, NextSig: next, OldEnc: []*KeyPair{old0, old1}}, ""},
		{"encryption is signing", JOSEKeys{Sig: sig, Enc: again(sig)},
			"the encryption key holds the same key as the signing key: use a different key for each purpose"},
		{"next signing is signing", JOSEKeys{Sig: sig, Enc: enc, NextSig: again(sig)},
			"the next signing key holds the same key as the signing key: configure each key once"},
		{"next signing is encryption", JOSEKeys{Sig: sig, Enc: enc, NextSig: again(enc)},
			"the encryption key holds the same key as the next signing key: use a different key for each purpose"},
		{"old encryption is signing", JOSEKeys{Sig: sig, Enc: enc, OldEnc: []*KeyPair{old0, again(sig)}},
			"old encryption key 1 holds the same key as the signing key: use a different key for each purpose"},
		{"old encryption is next signing", JOSEKeys{Sig: sig, Enc: enc, NextSig: next, OldEnc: []*KeyPair{again(next)}},
			"old encryption key 0 holds the same key as the next signing key: use a different key for each purpose"},
		{"old encryption is encryption", JOSEKeys{Sig: sig, Enc: enc, OldEnc: []*KeyPair{again(enc)}},
			"old encryption key 0 holds the same key as the encryption key: configure each key once"},
		{"old encryption twice", JOSEKeys{Sig: sig, Enc: enc, OldEnc: []*KeyPair{old0, old1, again(old0)}},
			"old encryption key 2 holds the same key as old encryption key 0: configure each key once"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.keys.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("distinct keys refused: %v", err)
			case tt.want == "":
			case err == nil:
				t.Fatalf("accepted, want %q", tt.want)
			case !strings.Contains(err.Error(), tt.want) || strings.Count(err.Error(), "holds the same key") != 1:
				t.Errorf("got %q, want one error with %q", err, tt.want)
			}
			var reuse *KeyReuseError
			if tt.want != "" && !errors.As(err, &reuse) {
				t.Errorf("%v does not wrap a *KeyReuseError", err)
			}
		})
	}
}
