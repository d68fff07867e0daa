package emulator

import (
	"net/http"
	"time"
)

// Token kinds passed to Config.TokenHook.
const (
	KindIDToken  = "id_token"
	KindUserInfo = "userinfo"
)

// idToken builds the nested ID token (itsme-oidc.md §4.2): iss, sub, aud,
// exp = iat + TokenTTL, iat, nonce when sent, acr, auth_time, and only
// the claims requested under claims.id_token that the persona has.
func (e *Emulator) idToken(r *http.Request, c *Client, g *grant, now time.Time) (string, error) {
	claims := e.releaseClaims(g.persona, g.idTokenClaims)
	claims["iss"] = e.cfg.Issuer
	claims["sub"] = e.Subject(g.persona.ID, c.ID)
	claims["aud"] = c.ID
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(e.cfg.TokenTTL).Unix()
	claims["acr"] = g.acr
	claims["auth_time"] = g.authTime.Unix()
	if g.nonce != "" {
		claims["nonce"] = g.nonce
	}
	if e.cfg.TokenHook != nil {
		e.cfg.TokenHook(KindIDToken, claims)
	}
	return e.seal(r.Context(), c, claims)
}
