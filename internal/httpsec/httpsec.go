// Package httpsec sets the browser-hardening headers every page of the
// bridge, the demo SP and the itsme emulator carries (catalogue SES-11).
//
// The defaults are set before the handler runs, so a handler that needs
// something else (the auto-POST page with its script nonce, a cacheable
// metadata document) simply sets its own value over them.
package httpsec

import "net/http"

// DefaultCSP is the Content-Security-Policy of a response that sets none
// itself: nothing may load, nothing may frame it, no base URL and no form
// target. It fits JSON, XML and plain-text documents and the default
// error pages of net/http; HTML pages with styles or scripts set their
// own policy (with a nonce), keeping frame-ancestors 'none'.
const DefaultCSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// HSTS is the Strict-Transport-Security value for https deployments: one
// year, without includeSubDomains, which would bind sibling hosts the
// bridge does not own.
const HSTS = "max-age=31536000"

// SetDefaultHeaders sets the baseline security headers on h, replacing
// any value already there. Call it before the handler writes anything.
func SetDefaultHeaders(h http.Header) {
	h.Set("Content-Security-Policy", DefaultCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	// The callback URL carries the authorization code and state; no
	// page may leak its URL to the next site (RFC 9700 §4.2).
	h.Set("Referrer-Policy", "no-referrer")
}

// Options adjust Wrap.
type Options struct {
	// HSTS adds Strict-Transport-Security. Set it when the site is
	// served over https (even if TLS ends at a proxy in front).
	HSTS bool
	// NoStore adds Cache-Control: no-store, for sites where no response
	// may be cached unless its handler says otherwise.
	NoStore bool
}

// Wrap returns a handler that sets the default headers (and those chosen
// in opts) before calling next.
func Wrap(next http.Handler, opts Options) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		SetDefaultHeaders(h)
		if opts.HSTS {
			h.Set("Strict-Transport-Security", HSTS)
		}
		if opts.NoStore {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}
