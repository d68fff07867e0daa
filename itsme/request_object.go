package itsme

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// maxSecretLen caps state and nonce; the bridge generates 32 characters.
const maxSecretLen = 512

// serviceScope returns the scope that asks itsme for service, "openid
// service:<code>", or ErrUnknownService when no code is configured for it.
func (c *Client) serviceScope(service Service) (string, error) {
	code, ok := c.cfg.ServiceCodes[service]
	if !ok {
		return "", fmt.Errorf("%w: %.64q", ErrUnknownService, string(service))
	}
	return "openid service:" + code, nil
}

// checkAuthRequest validates the per-flow values and returns the scope.
func (c *Client) checkAuthRequest(req AuthRequest) (scope string, err error) {
	scope, err = c.serviceScope(req.Service)
	if err != nil {
		return "", err
	}
	switch {
	case req.State == "" || len(req.State) > maxSecretLen:
		return "", fmt.Errorf("%w: state missing or too long", ErrInvalidRequest)
	case req.Nonce == "" || len(req.Nonce) > maxSecretLen:
		return "", fmt.Errorf("%w: nonce missing or too long", ErrInvalidRequest)
	case !validVerifier(req.CodeVerifier):
		return "", fmt.Errorf("%w: code verifier must be 43-128 unreserved characters", ErrInvalidRequest)
	}
	return scope, nil
}

// hasClaims reports whether the claims request asks for anything.
func hasClaims(cr ClaimsRequest) bool { return len(cr.IDToken) > 0 || len(cr.UserInfo) > 0 }

// RequestObjectClaims returns the claims of the request object that
// AuthCodeURL would send for req: iss, aud, iat, nbf, exp, jti and the
// authorization parameters. It is deterministic given Config.Now and
// Config.Rand (jti is read from Rand). It returns nil when req is invalid
// or Rand fails.
func (c *Client) RequestObjectClaims(req AuthRequest) map[string]any {
	claims, err := c.requestObjectClaims(req)
	if err != nil {
		return nil
	}
	return claims
}

func (c *Client) requestObjectClaims(req AuthRequest) (map[string]any, error) {
	return c.requestObjectClaimsAt(req, c.cfg.Now())
}

// requestObjectClaimsAt is requestObjectClaims with the clock read at now.
func (c *Client) requestObjectClaimsAt(req AuthRequest, now time.Time) (map[string]any, error) {
	scope, err := c.checkAuthRequest(req)
	if err != nil {
		return nil, err
	}
	jti, err := randomString(c.cfg.Rand, jtiBytes)
	if err != nil {
		return nil, err
	}
	now = now.Truncate(time.Second)
	claims := map[string]any{
		"iss":                   c.cfg.ClientID,
		"aud":                   c.cfg.Issuer,
		"iat":                   now.Unix(),
		"nbf":                   now.Unix(),
		"exp":                   now.Add(RequestObjectLifetime).Unix(),
		"jti":                   jti,
		"response_type":         "code",
		"client_id":             c.cfg.ClientID,
		"redirect_uri":          c.cfg.RedirectURI,
		"scope":                 scope,
		"state":                 req.State,
		"nonce":                 req.Nonce,
		"code_challenge":        CodeChallengeS256(req.CodeVerifier),
		"code_challenge_method": "S256",
	}
	if hasClaims(req.Claims) {
		claims["claims"] = req.Claims
	}
	if len(req.ACRValues) > 0 {
		claims["acr_values"] = strings.Join(req.ACRValues, " ")
	}
	if len(req.UILocales) > 0 {
		claims["ui_locales"] = strings.Join(req.UILocales, " ")
	}
	if req.ForceLogin {
		claims["prompt"] = "login"
	}
	return claims, nil
}

// signJWT signs claims as a compact RS256 JWS with the bridge's kid.
func (c *Client) signJWT(claims map[string]any) (string, error) {
	signer, err := jose.NewSigner(c.cfg.Keys.SigningKey(), (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("itsme: signer: %w", err)
	}
	payload, err := marshalJSON(claims)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("itsme: signing: %w", err)
	}
	return jws.CompactSerialize()
}

// sealRequestObject returns the signed request object, encrypted to
// itsme's current encryption key when configured.
func (c *Client) sealRequestObject(ctx context.Context, meta *providerMetadata, signed string) (string, error) {
	if !c.cfg.EncryptRequestObject {
		return signed, nil
	}
	key, err := c.keys.encryptionKey(ctx)
	if err != nil {
		return "", err
	}
	alg, enc, err := requestObjectEncryption(meta)
	if err != nil {
		return "", newError(StageDiscovery, CodeProtocol, err)
	}
	encrypter, err := jose.NewEncrypter(enc,
		jose.Recipient{Algorithm: alg, Key: key.Key, KeyID: key.KeyID},
		(&jose.EncrypterOptions{}).WithContentType("JWT"))
	if err != nil {
		return "", newError(StageAuthorization, CodeProtocol, fmt.Errorf("itsme: encrypter: %w", err))
	}
	jwe, err := encrypter.Encrypt([]byte(signed))
	if err != nil {
		return "", newError(StageAuthorization, CodeProtocol, fmt.Errorf("itsme: encrypting request object: %w", err))
	}
	out, err := jwe.CompactSerialize()
	if err != nil {
		return "", newError(StageAuthorization, CodeProtocol, fmt.Errorf("itsme: encrypting request object: %w", err))
	}
	return out, nil
}

// requestObjectEncryption picks RSA-OAEP-256 and A128CBC-HS256 unless
// discovery advertises lists without them, then RSA-OAEP or A256GCM.
func requestObjectEncryption(meta *providerMetadata) (jose.KeyAlgorithm, jose.ContentEncryption, error) {
	pick := func(list []string, prefs ...string) string {
		if len(list) == 0 {
			return prefs[0]
		}
		for _, p := range prefs {
			if slices.Contains(list, p) {
				return p
			}
		}
		return ""
	}
	alg := pick(meta.ROEncryptionAlgs, string(jose.RSA_OAEP_256), string(jose.RSA_OAEP))
	enc := pick(meta.ROEncryptionEncs, string(jose.A128CBC_HS256), string(jose.A256GCM))
	if alg == "" || enc == "" {
		return "", "", fmt.Errorf("%w: no supported request object encryption (alg %q, enc %q)", ErrDiscovery, meta.ROEncryptionAlgs, meta.ROEncryptionEncs)
	}
	return jose.KeyAlgorithm(alg), jose.ContentEncryption(enc), nil
}
