package itsme

import "time"

// clientAssertion returns a private_key_jwt client assertion for the token
// endpoint tokenEndpoint: one signed ahead of need when the stock has a
// fresh one, otherwise one signed now. Either way one is then signed in
// the background for the next caller, so under load the token request
// does not wait for an RSA signature.
func (c *Client) clientAssertion(tokenEndpoint string) (string, error) {
	now := c.cfg.Now()
	jwt, ok := c.assertions.draw(c, tokenEndpoint, now, "a client assertion", func(now time.Time) (string, error) {
		return c.signClientAssertion(tokenEndpoint, now)
	})
	if ok {
		return jwt, nil
	}
	return c.signClientAssertion(tokenEndpoint, now)
}

// signClientAssertion returns a fresh private_key_jwt client assertion
// (RFC 7523 §3, OIDC-10): iss = sub = client_id, aud = the token endpoint
// URL, a new random jti on every call, iat = now, and exp 60 s later,
// signed RS256 with the bridge's kid.
func (c *Client) signClientAssertion(tokenEndpoint string, now time.Time) (string, error) {
	jti, err := randomString(c.cfg.Rand, jtiBytes)
	if err != nil {
		return "", err
	}
	now = now.Truncate(time.Second)
	return c.signJWT(map[string]any{
		"iss": c.cfg.ClientID,
		"sub": c.cfg.ClientID,
		"aud": tokenEndpoint,
		"jti": jti,
		"iat": now.Unix(),
		"exp": now.Add(ClientAssertionLifetime).Unix(),
	})
}

// maxStockedAssertionAge is how old a client assertion signed ahead may be
// when it is used: it then has at least 40 of its 60 s left, for the token
// request and for a clock at itsme that runs ahead of ours.
const maxStockedAssertionAge = 20 * time.Second
