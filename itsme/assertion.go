package itsme

import (
	"time"
)

// clientAssertion returns a fresh private_key_jwt client assertion for
// the token endpoint (RFC 7523 §3, OIDC-10): iss = sub = client_id, aud =
// the token endpoint URL, a new random jti on every call, iat, and exp 60 s
// later, signed RS256 with the bridge's kid.
func (c *Client) clientAssertion(tokenEndpoint string) (string, error) {
	jti, err := randomString(c.cfg.Rand, jtiBytes)
	if err != nil {
		return "", err
	}
	now := c.cfg.Now().Truncate(time.Second)
	return c.signJWT(map[string]any{
		"iss": c.cfg.ClientID,
		"sub": c.cfg.ClientID,
		"aud": tokenEndpoint,
		"jti": jti,
		"iat": now.Unix(),
		"exp": now.Add(ClientAssertionLifetime).Unix(),
	})
}
