package emulator

import (
	"context"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TestOpenClientJWT classifies what a client may send as a request object
// or client assertion.
func TestOpenClientJWT(t *testing.T) {
	t.Parallel()
	keys(t)
	e, err := New(validConfig())
	if err != nil {
		t.Fatal(err)
	}
	c := e.clients[clientA]
	claims := map[string]any{"iss": clientA, "exp": time.Now().Add(time.Minute).Unix()}
	signed := signJWT(t, tk.rpSig, clientSigKID, claims)
	tests := []struct {
		name    string
		raw     string
		wantErr error
	}{
		{"signed", signed, nil},
		{"signed then encrypted RSA-OAEP-256", encryptTo(t, &tk.opEnc.PublicKey, e.ownKeys().encKID, jose.RSA_OAEP_256, jose.A128CBC_HS256, signed), nil},
		{"signed then encrypted without kid", encryptTo(t, &tk.opEnc.PublicKey, "", jose.RSA_OAEP, jose.A256GCM, signed), ErrUnknownKey},
		{"alg none", unsignedJWT(t, claims), ErrUnsigned},
		{"HS256", hs256(t, claims), ErrUnsigned},
		{"wrong key", signJWT(t, tk.evil, clientSigKID, claims), ErrSignature},
		{"unknown kid", signJWT(t, tk.rpSig, "nope", claims), ErrUnknownKey},
		{"enc key kid used for a signature", signJWT(t, tk.rpEnc, clientEncKID, claims), ErrUnknownKey},
		{"no kid", signJWT(t, tk.rpSig, "", claims), ErrUnknownKey},
		{"JWE to another kid", encryptTo(t, &tk.opEnc.PublicKey, "other", jose.RSA_OAEP, jose.A256GCM, signed), ErrUnknownKey},
		{"JWE to another key", encryptTo(t, &tk.evil.PublicKey, e.ownKeys().encKID, jose.RSA_OAEP, jose.A256GCM, signed), ErrDecrypt},
		{"JWE A128GCM", encryptTo(t, &tk.opEnc.PublicKey, e.ownKeys().encKID, jose.RSA_OAEP, jose.A128GCM, signed), ErrDecrypt},
		{"JWE holding plain JSON", encryptTo(t, &tk.opEnc.PublicKey, e.ownKeys().encKID, jose.RSA_OAEP, jose.A256GCM, `{"iss":"OIDC_TEST1"}`), ErrUnsigned},
		{"JWE in JWE", encryptTo(t, &tk.opEnc.PublicKey, e.ownKeys().encKID, jose.RSA_OAEP, jose.A256GCM, encryptTo(t, &tk.opEnc.PublicKey, e.ownKeys().encKID, jose.RSA_OAEP, jose.A256GCM, signed)), ErrUnsigned},
		{"three dots", "a.b.c.d", ErrMalformedJWT},
		{"empty", "", ErrMalformedJWT},
		{"oversized", strings.Repeat("a", maxJWTBytes+1), ErrMalformedJWT},
		{"payload not an object", signJWTRaw(t, []byte(`["x"]`)), ErrMalformedJWT},
		{"duplicate claim", signJWTRaw(t, []byte(`{"iss":"OIDC_TEST1","iss":"OIDC_TEST2"}`)), ErrMalformedJWT},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := e.openClientJWT(context.Background(), c, tt.raw)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if err == nil && got["iss"] != clientA {
				t.Errorf("claims = %v", got)
			}
		})
	}
}

// hs256 is a JWT MACed with a key derived from public data (the classic
// RS256 → HS256 confusion).
func hs256(t *testing.T, claims map[string]any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: jose.JSONWebKey{Key: tk.rpSig.N.Bytes(), KeyID: clientSigKID}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := marshalJSON(claims)
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

// signJWTRaw signs an arbitrary payload as client A.
func signJWTRaw(t *testing.T, payload []byte) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: tk.rpSig, KeyID: clientSigKID}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSealPicksAnEncKey: with several use=enc keys, the JWE names the
// one used, which decrypts it; use=sig keys are never encryption targets.
func TestSealPicksAnEncKey(t *testing.T) {
	t.Parallel()
	keys(t)
	cfg := validConfig()
	cfg.IDTokenKeyAlg, cfg.IDTokenContentEnc = jose.RSA_OAEP_256, jose.A256GCM
	set := clientJWKS()
	set.Keys = append(set.Keys, jose.JSONWebKey{Key: &tk.evil.PublicKey, KeyID: "rp-enc-2", Use: "enc"})
	cfg.Clients[0].JWKS = set
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	priv := map[string]*rsa.PrivateKey{clientEncKID: tk.rpEnc, "rp-enc-2": tk.evil}
	for i := 0; i < 4; i++ {
		raw, err := e.seal(context.Background(), e.clients[clientA], map[string]any{"n": i})
		if err != nil {
			t.Fatal(err)
		}
		jwe, err := jose.ParseEncryptedCompact(raw, []jose.KeyAlgorithm{jose.RSA_OAEP_256}, []jose.ContentEncryption{jose.A256GCM})
		if err != nil {
			t.Fatalf("the configured algorithms were not used: %v", err)
		}
		key := priv[jwe.Header.KeyID]
		if key == nil {
			t.Fatalf("JWE kid %q is not an enc key of the client", jwe.Header.KeyID)
		}
		if _, err := jwe.Decrypt(key); err != nil {
			t.Errorf("the key named by the kid does not decrypt: %v", err)
		}
	}
}
