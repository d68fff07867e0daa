package itsme

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// The JOSE algorithms accepted from itsme. RSA1_5, dir, key wrapping,
// PBES2 and ECDH-ES are refused (OIDC-12); A128GCM and A256CBC-HS512 are
// refused too because itsme documents only A128CBC-HS256 (and A256GCM is
// listed by third parties). The inner JWS must be RS256 (OIDC-15).
var (
	allowedKeyAlgs = []jose.KeyAlgorithm{jose.RSA_OAEP, jose.RSA_OAEP_256}
	allowedEncs    = []jose.ContentEncryption{jose.A128CBC_HS256, jose.A256GCM}
	allowedSigAlgs = []jose.SignatureAlgorithm{jose.RS256}
)

// openNestedJWT decrypts a compact JWE with the bridge's keys, verifies the
// compact RS256 JWS inside against itsme's signing keys and returns its
// payload, checked to be one JSON object without duplicate member names.
// Errors from fetching the JWK Set are *Error; others are plain errors
// wrapping one of the Err* sentinels.
func (c *Client) openNestedJWT(ctx context.Context, raw string) ([]byte, error) {
	if len(raw) > MaxTokenBytes {
		return nil, fmt.Errorf("%w (%d bytes)", ErrTokenTooLarge, len(raw))
	}
	if strings.Count(raw, ".") != 4 || strings.HasPrefix(strings.TrimSpace(raw), "{") {
		return nil, ErrNotEncrypted
	}
	hdr, err := parseHeader(raw[:strings.IndexByte(raw, '.')])
	if err != nil {
		return nil, fmt.Errorf("%w: JWE header: %w", ErrNotEncrypted, err)
	}
	if err := checkJWEHeader(hdr); err != nil {
		return nil, err
	}
	jwe, err := jose.ParseEncryptedCompact(raw, allowedKeyAlgs, allowedEncs)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAlgorithm, err)
	}
	var key *rsa.PrivateKey
	if kid := hdr.str("kid"); kid != "" {
		key = c.cfg.Keys.DecryptionKey(kid)
	} else {
		key = c.cfg.Keys.Enc.Key
	}
	if key == nil {
		return nil, fmt.Errorf("%w: no decryption key for the JWE kid", ErrDecrypt)
	}
	plaintext, err := jwe.Decrypt(key)
	if err != nil {
		return nil, ErrDecrypt // uniform: no padding or tag oracle
	}
	return c.verifyInnerJWS(ctx, string(plaintext))
}

// verifyInnerJWS verifies a compact RS256 JWS from itsme.
func (c *Client) verifyInnerJWS(ctx context.Context, inner string) ([]byte, error) {
	if strings.Count(inner, ".") != 2 {
		return nil, ErrNotSigned
	}
	hdr, err := parseHeader(inner[:strings.IndexByte(inner, '.')])
	if err != nil {
		return nil, fmt.Errorf("%w: JWS header: %w", ErrNotSigned, err)
	}
	if alg := hdr.str("alg"); alg != string(jose.RS256) {
		return nil, fmt.Errorf("%w: JWS alg %.32q", ErrAlgorithm, alg)
	}
	for _, name := range []string{"jku", "x5u", "jwk", "x5c", "crit", "b64", "zip"} {
		if _, ok := hdr[name]; ok {
			return nil, fmt.Errorf("%w: JWS header %q", ErrAlgorithm, name)
		}
	}
	jws, err := jose.ParseSignedCompact(inner, allowedSigAlgs)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotSigned, err)
	}
	keys, err := c.keys.signingKeys(ctx, hdr.str("kid"))
	if err != nil {
		return nil, err
	}
	var payload []byte
	for _, k := range keys {
		if payload, err = jws.Verify(k); err == nil {
			break
		}
	}
	if payload == nil {
		return nil, ErrSignature
	}
	if err := checkStrictJSON(payload); err != nil {
		return nil, err
	}
	return payload, nil
}

// joseHeader is a JOSE header decoded strictly.
type joseHeader map[string]json.RawMessage

// str returns a string member, or "" when absent or not a string.
func (h joseHeader) str(name string) string {
	var s string
	if v, ok := h[name]; ok && json.Unmarshal(v, &s) == nil {
		return s
	}
	return ""
}

// parseHeader decodes a base64url JOSE header, refusing duplicate names.
func parseHeader(seg string) (joseHeader, error) {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return nil, fmt.Errorf("base64: %w", err)
	}
	if err := checkStrictJSON(b); err != nil {
		return nil, err
	}
	var h joseHeader
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, err
	}
	for _, name := range []string{"alg", "enc", "kid", "cty", "typ"} {
		if v, ok := h[name]; ok {
			var s string
			if json.Unmarshal(v, &s) != nil {
				return nil, fmt.Errorf("header %q is not a string", name)
			}
		}
	}
	return h, nil
}

// checkJWEHeader applies the JWE allow-lists before go-jose sees the
// token: no compression (CVE-2024-28180 class), no crit, a JWT content
// type when one is given.
func checkJWEHeader(h joseHeader) error {
	if _, ok := h["zip"]; ok {
		return fmt.Errorf("%w: JWE zip", ErrAlgorithm)
	}
	if _, ok := h["crit"]; ok {
		return fmt.Errorf("%w: JWE crit", ErrAlgorithm)
	}
	alg, enc := h.str("alg"), h.str("enc")
	if !containsAlg(allowedKeyAlgs, alg) {
		return fmt.Errorf("%w: JWE alg %.32q", ErrAlgorithm, alg)
	}
	if !containsAlg(allowedEncs, enc) {
		return fmt.Errorf("%w: JWE enc %.32q", ErrAlgorithm, enc)
	}
	if _, ok := h["cty"]; ok {
		cty := strings.ToLower(h.str("cty"))
		if cty != "jwt" && cty != "application/jwt" {
			return fmt.Errorf("%w: JWE cty %.32q", ErrAlgorithm, cty)
		}
	}
	return nil
}

func containsAlg[T ~string](list []T, v string) bool {
	for _, a := range list {
		if string(a) == v {
			return true
		}
	}
	return false
}

// tokenError wraps a failure of openNestedJWT or of claim validation in an
// *Error for stage, keeping *Error values from the JWK Set as they are.
func tokenError(stage string, err error) *Error {
	var ie *Error
	if errors.As(err, &ie) {
		return ie
	}
	return newError(stage, CodeInvalidToken, err)
}
