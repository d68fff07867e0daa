package attributes

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

const spID = "https://sp.example/metadata"

func TestChooseNameIDFormat(t *testing.T) {
	all := []string{"name", "email"}
	tests := []struct {
		name      string
		policy    NameIDPolicy
		spFormats []string
		allowed   []string
		want      string
		wantErr   error
	}{
		{name: "no policy, no metadata preference", want: FormatPersistent},
		{name: "no policy, SP prefers transient", spFormats: []string{FormatTransient}, want: FormatTransient},
		{name: "no policy, SP lists an unsupported format first", spFormats: []string{"urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName", FormatPersistent}, want: FormatPersistent},
		{name: "no policy, SP prefers email but may not get it", spFormats: []string{FormatEmail}, allowed: []string{"name"}, want: FormatPersistent},
		{name: "unspecified follows metadata", policy: NameIDPolicy{Format: FormatUnspecified}, spFormats: []string{FormatEmail}, allowed: all, want: FormatEmail},
		{name: "persistent", policy: NameIDPolicy{Format: FormatPersistent}, want: FormatPersistent},
		{name: "transient", policy: NameIDPolicy{Format: FormatTransient}, want: FormatTransient},
		{name: "email allowed", policy: NameIDPolicy{Format: FormatEmail}, allowed: all, want: FormatEmail},
		{name: "email not allowed", policy: NameIDPolicy{Format: FormatEmail}, allowed: []string{"name"}, wantErr: ErrInvalidNameIDPolicy},
		{name: "x509 subject", policy: NameIDPolicy{Format: "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName"}, wantErr: ErrInvalidNameIDPolicy},
		{name: "encrypted", policy: NameIDPolicy{Format: "urn:oasis:names:tc:SAML:2.0:nameid-format:encrypted"}, wantErr: ErrInvalidNameIDPolicy},
		{name: "own SPNameQualifier", policy: NameIDPolicy{Format: FormatPersistent, SPNameQualifier: spID}, want: FormatPersistent},
		{name: "foreign SPNameQualifier", policy: NameIDPolicy{Format: FormatPersistent, SPNameQualifier: "https://affiliation.example"}, wantErr: ErrInvalidNameIDPolicy},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ChooseNameIDFormat(tc.policy, spID, tc.spFormats, tc.allowed)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("format = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNameIDValue(t *testing.T) {
	secret := []byte(strings.Repeat("k", 32))
	claims := map[string]any{"email": "test@itsme.be"}

	p1, err := NameIDValue(FormatPersistent, secret, "sub-1", spID, claims, rand.Reader)
	if err != nil || p1 != PairwiseID(secret, "sub-1", spID) {
		t.Errorf("persistent = %q, %v", p1, err)
	}
	t1, _ := NameIDValue(FormatTransient, secret, "sub-1", spID, claims, rand.Reader)
	t2, _ := NameIDValue(FormatTransient, secret, "sub-1", spID, claims, rand.Reader)
	if t1 == t2 || len(t1) != 43 || t1 == p1 {
		t.Errorf("transient NameIDs %q and %q must be fresh 256-bit values", t1, t2)
	}
	if e, err := NameIDValue(FormatEmail, secret, "sub-1", spID, claims, rand.Reader); err != nil || e != "test@itsme.be" {
		t.Errorf("email = %q, %v", e, err)
	}
	if _, err := NameIDValue(FormatEmail, secret, "sub-1", spID, map[string]any{}, rand.Reader); !errors.Is(err, ErrInvalidNameIDPolicy) {
		t.Errorf("email without address: %v", err)
	}
	if _, err := NameIDValue("urn:x", secret, "sub-1", spID, claims, rand.Reader); !errors.Is(err, ErrInvalidNameIDPolicy) {
		t.Errorf("unknown format: %v", err)
	}
	if got := NeedsClaims(FormatEmail); len(got) != 1 || got[0] != "email" {
		t.Errorf("NeedsClaims(email) = %q", got)
	}
	if got := NeedsClaims(FormatPersistent); got != nil {
		t.Errorf("NeedsClaims(persistent) = %q", got)
	}
}
