package emulator

import (
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
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

var (
	formRE  = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputRE = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	attrRE  = regexp.MustCompile(`(?is)([a-zA-Z_:-]+)\s*=\s*"([^"]*)"`)
)

// formAsFound returns the action and the values a browser submits for
// the page's first form when no button is pressed.
func formAsFound(t testing.TB, page string) (string, url.Values) {
	t.Helper()
	m := formRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no form on the page:\n%s", page)
	}
	attrs := func(s string) map[string]string {
		out := map[string]string{}
		for _, a := range attrRE.FindAllStringSubmatch(s, -1) {
			out[strings.ToLower(a[1])] = html.UnescapeString(a[2])
		}
		if regexp.MustCompile(`(?i)\bchecked\b`).MatchString(s) {
			out["checked"] = "checked"
		}
		return out
	}
	action := attrs(m[1])["action"]
	vals := url.Values{}
	for _, in := range inputRE.FindAllStringSubmatch(m[2], -1) {
		a := attrs(in[1])
		typ := strings.ToLower(a["type"])
		if a["name"] == "" || typ == "submit" || typ == "button" {
			continue
		}
		if (typ == "radio" || typ == "checkbox") && a["checked"] == "" {
			continue
		}
		vals.Add(a["name"], a["value"])
	}
	return action, vals
}
