package server

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/samlbridge/samlbridge/internal/httpsec"
)

// TestSecurityHeadersOnEveryRoute hits every route of the bridge, on its
// success and error paths, and checks the browser-hardening headers
// (catalogue SES-11): framing and sniffing refused, no referrer, a CSP
// with frame-ancestors 'none', HSTS over https, and no-store everywhere
// except on the two public, cacheable documents.
func TestSecurityHeadersOnEveryRoute(t *testing.T) {
	const ext = "https://idp.example"
	b := newHygieneBridge(t, ext, func(c *Config) { c.RateLimit.Disabled = true })
	nonceCSP := regexp.MustCompile(`^default-src 'none'; script-src 'nonce-([A-Za-z0-9_-]{22})'; style-src 'nonce-[A-Za-z0-9_-]{22}'; base-uri 'none'; frame-ancestors 'none'$`)
	tests := []struct {
		name         string
		method, path string
		wantStatus   int
		wantCache    string
		wantCSP      *regexp.Regexp // nil means httpsec.DefaultCSP
	}{
		{"SSO without a request", http.MethodGet, PathSSO, http.StatusBadRequest, "no-store", errorPageCSP},
		{"SSO redirecting to itsme", http.MethodGet, "", http.StatusFound, "no-store", nil},
		{"SSO answering on the auto-POST page", http.MethodGet, "passive", http.StatusOK, "no-store", nonceCSP},
		{"callback without state", http.MethodGet, PathCallback, http.StatusBadRequest, "no-store", errorPageCSP},
		{"callback with a POST", http.MethodPost, PathCallback, http.StatusMethodNotAllowed, "no-store", errorPageCSP},
		{"callback with an unknown state", http.MethodGet, PathCallback + "?state=x&code=y", http.StatusBadRequest, "no-store", errorPageCSP},
		{"metadata", http.MethodGet, PathMetadata, http.StatusOK, "public, max-age=3600", nil},
		{"metadata with a POST", http.MethodPost, PathMetadata, http.StatusMethodNotAllowed, "no-store", nil},
		{"JWKS", http.MethodGet, PathJWKS, http.StatusOK, "public, max-age=1800", nil},
		{"healthz", http.MethodGet, PathHealthz, http.StatusOK, "no-store", nil},
		{"unknown path", http.MethodGet, "/nope", http.StatusNotFound, "no-store", nil},
		{"unclean path redirect", http.MethodGet, "/saml//sso", http.StatusTemporaryRedirect, "no-store", nil},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path
			switch path {
			case "":
				path = ssoRequest(t, ext, b.now, fmt.Sprint("_hdr", i), false)
			case "passive":
				path = ssoRequest(t, ext, b.now, fmt.Sprint("_hdr", i), true)
			}
			rec := b.do(tc.method, path, "192.0.2.1:1")
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d, want %d:\n%s", rec.Code, tc.wantStatus, rec.Body.String())
			}
			h := rec.Header()
			for k, v := range map[string]string{
				"X-Frame-Options":           "DENY",
				"X-Content-Type-Options":    "nosniff",
				"Referrer-Policy":           "no-referrer",
				"Strict-Transport-Security": httpsec.HSTS,
				"Cache-Control":             tc.wantCache,
			} {
				if got := h.Values(k); len(got) != 1 || got[0] != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			csp := h.Values("Content-Security-Policy")
			if len(csp) != 1 {
				t.Fatalf("Content-Security-Policy %q, want exactly one", csp)
			}
			if tc.wantCSP == nil && csp[0] != httpsec.DefaultCSP || tc.wantCSP != nil && !tc.wantCSP.MatchString(csp[0]) {
				t.Errorf("Content-Security-Policy %q", csp[0])
			}
			if !strings.Contains(csp[0], "frame-ancestors 'none'") {
				t.Errorf("CSP without frame-ancestors 'none': %q", csp[0])
			}
		})
	}
}

// errorPageCSP is the error page's own policy (set in errors.go).
var errorPageCSP = regexp.MustCompile(`^default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'$`)

// TestNoHSTSOverPlainHTTP checks that HSTS is only sent for an https
// external URL (browsers ignore it over http, and loopback demos would
// get it pinned).
func TestNoHSTSOverPlainHTTP(t *testing.T) {
	b := newHygieneBridge(t, "http://127.0.0.1:8080", nil)
	rec := b.do(http.MethodGet, PathHealthz, "127.0.0.1:5")
	if got := rec.Header().Get("Strict-Transport-Security"); got != "" {
		t.Errorf("Strict-Transport-Security %q over http", got)
	}
	if got := rec.Header().Get("Content-Security-Policy"); got != httpsec.DefaultCSP {
		t.Errorf("Content-Security-Policy %q", got)
	}
}
