package server

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
)

// flowCookieName derives a per-flow cookie name, so that two logins in
// two tabs do not overwrite each other's binding. Over https the name has
// the __Host- prefix (RFC 6265bis: Secure, Path=/, no Domain), which stops
// sibling subdomains from planting it (OIDC-02). On plain-http loopback
// (the demo) browsers refuse __Host- cookies, so the prefix is dropped.
func (s *Server) flowCookieName(state string) string {
	sum := sha256.Sum256([]byte(state))
	name := "samlbridge_flow_" + hex.EncodeToString(sum[:6])
	if s.secure {
		return "__Host-" + name
	}
	return name
}

// setFlowCookie binds the flow to this browser. SameSite=Lax: the callback
// from itsme is a top-level GET navigation, which Lax cookies accompany.
func (s *Server) setFlowCookie(w http.ResponseWriter, state, value string) {
	http.SetCookie(w, &http.Cookie{
		Name:     s.flowCookieName(state),
		Value:    value,
		Path:     "/",
		MaxAge:   int(s.cfg.FlowTTL.Seconds()),
		HttpOnly: true,
		Secure:   s.secure,
		SameSite: http.SameSiteLaxMode,
	})
}

// takeFlowCookie returns the flow cookie's value and clears it.
func (s *Server) takeFlowCookie(w http.ResponseWriter, r *http.Request, state string) string {
	name := s.flowCookieName(state)
	c, err := r.Cookie(name)
	if err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	return c.Value
}
