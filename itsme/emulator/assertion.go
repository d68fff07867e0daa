package emulator

import (
	"context"
	"errors"
	"net/url"
	"time"
)

// Client assertion rules (itsme-oidc.md §3, RFC 7523 §3).
const (
	jwtBearerType        = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	maxJTILen            = 255
	maxAssertionLifetime = time.Hour
)

// authenticateClient checks the private_key_jwt client assertion: an
// RS256 JWS with a kid, signed with a use=sig key of the client named by
// iss (optionally nested in a JWE to the emulator, which needs a kid
// too), iss = sub = client_id, aud naming the token endpoint, exp
// required and in the future, jti required, at most 255 characters and
// never seen before.
// itsme answers unauthorized_client with the text in "detail" (pitfall 9).
func (e *Emulator) authenticateClient(ctx context.Context, form url.Values) (*Client, *oauthError) {
	refuse := func(err error, desc string) (*Client, *oauthError) {
		return nil, oauthErr(codeUnauthorizedClient, err, "%s", desc)
	}
	if form.Has("client_secret") {
		return refuse(nil, "client_secret authentication is not enabled; use private_key_jwt")
	}
	if form.Get("client_assertion_type") != jwtBearerType {
		return refuse(nil, "client_assertion_type must be "+jwtBearerType)
	}
	raw := form.Get("client_assertion")
	if raw == "" {
		return refuse(nil, "client_assertion is missing")
	}
	inner, err := e.unwrapJWE(raw)
	if err != nil {
		return refuse(err, "client_assertion: "+describe(err))
	}
	pj, err := parseJWS(inner)
	if err != nil {
		return refuse(err, "client_assertion: "+describe(err))
	}
	iss, _ := pj.claims["iss"].(string)
	c := e.clients[iss]
	if c == nil {
		return refuse(nil, "client_assertion: iss is not a registered client")
	}
	if id := form.Get("client_id"); id != "" && id != iss {
		return refuse(nil, "client_id differs from the client_assertion iss")
	}
	if err := e.verifyJWS(ctx, c, pj); err != nil {
		return refuse(err, "client_assertion: "+describe(err))
	}
	now := e.cfg.Now()
	cl := pj.claims
	exp, hasExp := numericDate(cl["exp"])
	jti, _ := cl["jti"].(string)
	switch {
	case cl["sub"] != iss:
		return refuse(ErrClaims, "client_assertion: sub must equal iss (the client_id)")
	case !audContains(cl["aud"], e.endpoint(PathToken)):
		return refuse(ErrClaims, "client_assertion: aud must be the token endpoint")
	case !hasExp:
		return refuse(ErrClaims, "client_assertion: exp is missing")
	case !exp.After(now.Add(-clockSkew)):
		return refuse(ErrClaims, "client_assertion: expired")
	case exp.After(now.Add(maxAssertionLifetime)):
		return refuse(ErrClaims, "client_assertion: exp is more than an hour ahead")
	case jti == "" || len(jti) > maxJTILen:
		return refuse(ErrClaims, "client_assertion: jti missing or longer than 255 characters")
	}
	for _, name := range []string{"iat", "nbf"} {
		if v, ok := cl[name]; ok {
			if t, ok := numericDate(v); !ok || t.After(now.Add(clockSkew)) {
				return refuse(ErrClaims, "client_assertion: "+name+" is invalid or in the future")
			}
		}
	}
	if err := e.store.markJTI(c.ID, jti, exp.Add(clockSkew), now); err != nil {
		if errors.Is(err, ErrStoreFull) {
			return nil, oauthErr(codeTemporaryUnavailable, err, "the emulator is busy")
		}
		return refuse(err, "client_assertion: jti already used")
	}
	return c, nil
}
