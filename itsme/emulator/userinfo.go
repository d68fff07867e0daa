package emulator

import (
	"net/http"
	"strings"
)

// handleUserInfo answers a nested JWT (itsme-oidc.md §4.1) with iss, aud,
// sub, iat, nbf, exp, the scope claims and the claims requested under
// claims.userinfo that the persona has.
func (e *Emulator) handleUserInfo(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		methodNotAllowed(w, http.MethodGet, http.MethodPost)
		return
	}
	rec, ok := e.bearer(w, r)
	if !ok {
		return
	}
	g := rec.grant
	c := e.clients[g.clientID]
	now := e.cfg.Now()
	claims := e.releaseClaims(g.persona, g.userinfoClaims)
	claims["iss"] = e.cfg.Issuer
	claims["aud"] = c.ID
	claims["sub"] = e.Subject(g.persona.ID, c.ID)
	claims["iat"] = now.Unix()
	claims["nbf"] = now.Unix()
	claims["exp"] = now.Add(e.cfg.TokenTTL).Unix()
	if e.cfg.TokenHook != nil {
		e.cfg.TokenHook(KindUserInfo, claims)
	}
	jwt, err := e.seal(r.Context(), c, claims)
	if err != nil {
		e.log.Error("emulator: building the userinfo answer", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": codeServerError, "detail": "the answer could not be encrypted to the client"})
		return
	}
	e.log.Info("emulator: userinfo served", "client_id", c.ID, "claims", len(claims))
	w.Header().Set("Content-Type", "application/jwt")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	_, _ = w.Write([]byte(jwt))
}

// bearer returns the access token's record, or answers 401 (RFC 6750
// §3): without an error code when no token was sent, with
// error="invalid_token" when it is unknown, expired or revoked.
func (e *Emulator) bearer(w http.ResponseWriter, r *http.Request) (*tokenRecord, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="itsme emulator"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": codeInvalidRequest, "detail": "a Bearer access token is required"})
		return nil, false
	}
	rec, err := e.store.token(token, e.cfg.Now())
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="itsme emulator", error="invalid_token", error_description="the access token is unknown, expired or revoked"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": codeInvalidToken, "detail": "the access token is unknown, expired or revoked"})
		return nil, false
	}
	return rec, true
}
