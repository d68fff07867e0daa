package itsme

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
)

// Sizes of the per-flow secrets, in random bytes before base64url.
const (
	stateBytes    = 24 // 192 bits
	nonceBytes    = 24 // 192 bits
	verifierBytes = 32 // 256 bits, 43 characters
	jtiBytes      = 24 // 192 bits
)

// NewAuthRequestSecrets returns a fresh state and nonce (192 random bits
// each) and a PKCE code verifier (256 random bits, 43 characters), all
// base64url without padding. rnd nil means crypto/rand.
func NewAuthRequestSecrets(rnd io.Reader) (state, nonce, verifier string, err error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	if state, err = randomString(rnd, stateBytes); err != nil {
		return "", "", "", err
	}
	if nonce, err = randomString(rnd, nonceBytes); err != nil {
		return "", "", "", err
	}
	if verifier, err = randomString(rnd, verifierBytes); err != nil {
		return "", "", "", err
	}
	return state, nonce, verifier, nil
}

// randomString returns n random bytes as base64url without padding.
func randomString(rnd io.Reader, n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(rnd, b); err != nil {
		return "", fmt.Errorf("itsme: reading randomness: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// CodeChallengeS256 returns BASE64URL(SHA256(verifier)), the PKCE S256
// code challenge (RFC 7636 §4.2).
func CodeChallengeS256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// validVerifier reports whether v is a PKCE code verifier: 43 to 128
// characters of [A-Za-z0-9-._~] (RFC 7636 §4.1).
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		ch := v[i]
		switch {
		case ch >= 'A' && ch <= 'Z', ch >= 'a' && ch <= 'z', ch >= '0' && ch <= '9',
			ch == '-', ch == '.', ch == '_', ch == '~':
		default:
			return false
		}
	}
	return true
}
