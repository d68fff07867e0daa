package itsme

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// countingReader is a deterministic byte stream (SHA-256 in counter mode).
type countingReader struct {
	n   uint64
	buf []byte
}

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		if len(r.buf) == 0 {
			var ctr [8]byte
			binary.BigEndian.PutUint64(ctr[:], r.n)
			r.n++
			sum := sha256.Sum256(ctr[:])
			r.buf = sum[:]
		}
		p[i], r.buf = r.buf[0], r.buf[1:]
	}
	return len(p), nil
}

func goldenClient(t *testing.T) *Client {
	t.Helper()
	c, err := New(Config{
		Issuer:       "https://idp.e2e.itsme.services/v2",
		ClientID:     testClientID,
		RedirectURI:  testRedirectURI,
		ServiceCodes: testServiceCodes,
		Keys:         loadTestKeys(t).bridge,
		Now:          func() time.Time { return testNow },
		Rand:         &countingReader{},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func goldenRequest() AuthRequest {
	return AuthRequest{
		State:        "state-0123456789abcdefghijkl",
		Nonce:        "nonce-0123456789abcdefghijkl",
		CodeVerifier: "verifier-0123456789abcdefghijklmnopqrstuvwxyz",
		Service:      ServiceIdentification,
		Claims: ClaimsRequest{
			IDToken: map[string]*ClaimSpec{"name": nil, "birthdate": nil},
			UserInfo: map[string]*ClaimSpec{
				ClaimPrefix + "BENationalNumber": {Essential: true},
				"address":                        nil,
			},
		},
		ACRValues: []string{ACRAdvanced},
		UILocales: []string{"fr", "nl"},
	}
}

func TestRequestObjectGolden(t *testing.T) {
	claims := goldenClient(t).RequestObjectClaims(goldenRequest())
	if claims == nil {
		t.Fatal("RequestObjectClaims returned nil")
	}
	got, err := json.MarshalIndent(claims, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "request_object.golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("request object claims differ from %s (run go test -update after checking):\n%s", path, got)
	}
	// Same Now and Rand state give the same claims.
	again, _ := json.MarshalIndent(goldenClient(t).RequestObjectClaims(goldenRequest()), "", "  ")
	if !bytes.Equal(append(again, '\n'), got) {
		t.Error("RequestObjectClaims is not deterministic for fixed Now and Rand")
	}
	if goldenClient(t).RequestObjectClaims(AuthRequest{Service: "nope"}) != nil {
		t.Error("an invalid request must give nil claims")
	}
}
