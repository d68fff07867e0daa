package emulator

import (
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/samlbridge/samlbridge/internal/htmlform"
)

// signJWT signs claims RS256 with key and kid ("" omits the kid).
func signJWT(t testing.TB, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	jwk := jose.JSONWebKey{Key: key, KeyID: kid}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jwk}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := s.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// unsignedJWT is an alg "none" JWT.
func unsignedJWT(t testing.TB, claims map[string]any) string {
	t.Helper()
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none","kid":"`+clientSigKID+`"}`)) + "." + enc(b) + "."
}

// encryptTo wraps plaintext in a compact JWE.
func encryptTo(t testing.TB, pub *rsa.PublicKey, kid string, alg jose.KeyAlgorithm, enc jose.ContentEncryption, plaintext string) string {
	t.Helper()
	e, err := jose.NewEncrypter(enc, jose.Recipient{Algorithm: alg, Key: pub, KeyID: kid}, (&jose.EncrypterOptions{}).WithContentType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	obj, err := e.Encrypt([]byte(plaintext))
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// verifier returns a PKCE verifier and its S256 challenge.
func verifier(seed string) (string, string) {
	v := strings.Repeat(seed, 43/len(seed)+1)[:43]
	sum := sha256.Sum256([]byte(v))
	return v, base64.RawURLEncoding.EncodeToString(sum[:])
}

// formAsFound returns the action and the values a browser submits for
// the page's first form when no button is pressed.
func formAsFound(t testing.TB, page string) (string, url.Values) {
	t.Helper()
	action, vals, ok := htmlform.AsFound(page)
	if !ok {
		t.Fatalf("no form on the page:\n%s", page)
	}
	return action, vals
}
