package server

import (
	"net/http"

	"github.com/samlbridge/samlbridge/internal/httpsec"
)

// setDefaultHeaders gives every response of the bridge the browser
// hardening headers (catalogue SES-11) before its handler runs:
// httpsec's defaults (CSP with frame-ancestors 'none', X-Frame-Options,
// nosniff, Referrer-Policy no-referrer), HSTS when the external URL is
// https, and Cache-Control: no-store, since the SSO and callback pages
// carry SAML messages, codes and cookies. Handlers replace what they must:
// the auto-POST page sets its CSP with a script nonce, and the metadata
// and JWKS documents, public and meant to be cached, set their own
// Cache-Control.
func (s *Server) setDefaultHeaders(h http.Header) {
	httpsec.SetDefaultHeaders(h)
	if s.secure {
		h.Set("Strict-Transport-Security", httpsec.HSTS)
	}
	h.Set("Cache-Control", "no-store")
}
