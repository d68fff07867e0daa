package emulator

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// maxJWTBytes caps request objects and client assertions.
const maxJWTBytes = 32 << 10

// The algorithms accepted from clients (itsme-oidc.md §2.1, §3; pitfall 6).
var (
	inboundKeyAlgs = []jose.KeyAlgorithm{jose.RSA_OAEP, jose.RSA_OAEP_256}
	inboundEncs    = []jose.ContentEncryption{jose.A128CBC_HS256, jose.A256GCM}
	inboundSigAlgs = []jose.SignatureAlgorithm{jose.RS256}
)

// parseHeader decodes a base64url JOSE header segment.
func parseHeader(seg string) (map[string]any, error) {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrMalformedJWT, err)
	}
	return decodeObject(b)
}

// unwrapJWE returns the compact JWS in raw: raw itself when it is a JWS,
// or the plaintext of a JWE (sign-then-encrypt) encrypted to the accepted
// key of the emulator its kid names. A JWE without a kid is refused
// (ErrUnknownKey): itsme requires a kid in every JWS and JWE header the
// RP produces (itsme-oidc.md §4.3). The JWE must use RSA-OAEP or
// RSA-OAEP-256 with A128CBC-HS256 or A256GCM, no compression and no crit.
func (e *Emulator) unwrapJWE(raw string) (string, error) {
	if len(raw) > maxJWTBytes {
		return "", fmt.Errorf("%w: longer than %d bytes", ErrMalformedJWT, maxJWTBytes)
	}
	switch strings.Count(raw, ".") {
	case 2:
		return raw, nil
	case 4:
	default:
		return "", fmt.Errorf("%w: not a compact JWS or JWE", ErrMalformedJWT)
	}
	hdr, err := parseHeader(raw[:strings.IndexByte(raw, '.')])
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrDecrypt, err)
	}
	for _, name := range []string{"zip", "crit"} {
		if _, ok := hdr[name]; ok {
			return "", fmt.Errorf("%w: JWE header %q refused", ErrDecrypt, name)
		}
	}
	kid, _ := hdr["kid"].(string)
	if kid == "" {
		return "", fmt.Errorf("%w: JWE kid missing", ErrUnknownKey)
	}
	key, ok := e.ownKeys().decryptionKey(kid)
	if !ok {
		return "", fmt.Errorf("%w: JWE kid is not an encryption key of the emulator", ErrUnknownKey)
	}
	jwe, err := jose.ParseEncryptedCompact(raw, inboundKeyAlgs, inboundEncs)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrDecrypt, err)
	}
	plain, err := jwe.Decrypt(key)
	if err != nil {
		return "", ErrDecrypt
	}
	inner := string(plain)
	if strings.Count(inner, ".") != 2 {
		return "", fmt.Errorf("%w: the JWE does not hold a signed JWT", ErrUnsigned)
	}
	return inner, nil
}

// parsedJWS is a parsed, not yet verified, RS256 JWS.
type parsedJWS struct {
	jws    *jose.JSONWebSignature
	kid    string
	claims map[string]any
}

// parseJWS parses a compact JWS that must be RS256 with a kid and a JSON
// object payload. alg "none" and other algorithms are ErrUnsigned.
func parseJWS(raw string) (*parsedJWS, error) {
	if strings.Count(raw, ".") != 2 {
		return nil, fmt.Errorf("%w: not a compact JWS", ErrMalformedJWT)
	}
	hdr, err := parseHeader(raw[:strings.IndexByte(raw, '.')])
	if err != nil {
		return nil, err
	}
	if alg, _ := hdr["alg"].(string); alg != string(jose.RS256) {
		return nil, fmt.Errorf("%w: alg %.32q", ErrUnsigned, alg)
	}
	for _, name := range []string{"crit", "b64", "zip"} {
		if _, ok := hdr[name]; ok {
			return nil, fmt.Errorf("%w: JWS header %q refused", ErrMalformedJWT, name)
		}
	}
	jws, err := jose.ParseSignedCompact(raw, inboundSigAlgs)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedJWT, err)
	}
	if len(jws.Signatures) != 1 {
		return nil, fmt.Errorf("%w: want one signature", ErrMalformedJWT)
	}
	kid := jws.Signatures[0].Header.KeyID
	if kid == "" {
		return nil, fmt.Errorf("%w: kid missing", ErrUnknownKey)
	}
	claims, err := decodeObject(jws.UnsafePayloadWithoutVerification())
	if err != nil {
		return nil, err
	}
	return &parsedJWS{jws: jws, kid: kid, claims: claims}, nil
}

// verifyJWS checks the signature with c's use=sig key named by the kid.
func (e *Emulator) verifyJWS(ctx context.Context, c *Client, p *parsedJWS) error {
	keys, err := e.keysFor(ctx, c, p.kid)
	if err != nil {
		return err
	}
	for _, k := range keys.sig {
		if k.KeyID != p.kid {
			continue
		}
		if _, err := p.jws.Verify(k.Key); err != nil {
			return ErrSignature
		}
		return nil
	}
	return fmt.Errorf("%w: no use=sig key of the client has that kid", ErrUnknownKey)
}

// openClientJWT unwraps, parses and verifies a JWT from client c and
// returns its claims.
func (e *Emulator) openClientJWT(ctx context.Context, c *Client, raw string) (map[string]any, error) {
	inner, err := e.unwrapJWE(raw)
	if err != nil {
		return nil, err
	}
	p, err := parseJWS(inner)
	if err != nil {
		return nil, err
	}
	if err := e.verifyJWS(ctx, c, p); err != nil {
		return nil, err
	}
	return p.claims, nil
}
