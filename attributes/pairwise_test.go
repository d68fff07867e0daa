package attributes

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestPairwiseID(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	const sub = "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8"
	const spA, spB = "https://sp-a.example.com/saml", "https://sp-b.example.com/saml"
	base := PairwiseID(secret, sub, spA)

	t.Run("known answer", func(t *testing.T) {
		// Pins the derivation (computed independently with Python's hmac);
		// changing it changes every NameID in use.
		if want := "1Af3ka9aAPKi2SK-tzymSAGE__OUdM6xOCDbULuzFGM"; base != want {
			t.Errorf("got %s, want %s", base, want)
		}
	})
	t.Run("stable", func(t *testing.T) {
		if again := PairwiseID(secret, sub, spA); again != base {
			t.Errorf("not stable: %s vs %s", base, again)
		}
	})
	t.Run("shape", func(t *testing.T) {
		raw, err := base64.RawURLEncoding.DecodeString(base)
		if err != nil || len(raw) != 32 {
			t.Errorf("%q is not unpadded base64url of 32 bytes: %v", base, err)
		}
		if strings.Contains(base, sub) || strings.Contains(base, sub[:8]) {
			t.Errorf("%q contains the subject", base)
		}
	})
	differ := []struct {
		name          string
		secret        []byte
		sub, entityID string
	}{
		{"other SP", secret, sub, spB},
		{"other subject", secret, sub + "x", spA},
		{"other secret", []byte("another secret of 32 bytes......"), sub, spA},
		// Without the length prefix, ("ab","c") and ("a","bc") would collide.
		{"boundary shift", secret, sub[:35], sub[35:] + spA},
	}
	for _, tt := range differ {
		t.Run(tt.name, func(t *testing.T) {
			if got := PairwiseID(tt.secret, tt.sub, tt.entityID); got == base {
				t.Errorf("same ID %s", got)
			}
		})
	}
}
