package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestFlowCookieHostPrefix: over https the flow cookie is a __Host-
// cookie (Secure, Path=/, no Domain), so a sibling subdomain cannot plant
// or overwrite it (OIDC-02); over plain-http loopback (the demo) browsers
// refuse that prefix, so it is dropped and Secure is not set.
func TestFlowCookieHostPrefix(t *testing.T) {
	for _, tt := range []struct {
		name   string
		secure bool
		prefix string
	}{
		{"https", true, "__Host-samlbridge_flow_"},
		{"http loopback", false, "samlbridge_flow_"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := &Server{secure: tt.secure, cfg: Config{FlowTTL: 15 * time.Minute}}
			rec := httptest.NewRecorder()
			s.setFlowCookie(rec, "state-1", "binding-value")
			set := rec.Result().Cookies()
			if len(set) != 1 {
				t.Fatalf("cookies %v", set)
			}
			c := set[0]
			if !strings.HasPrefix(c.Name, tt.prefix) || (!tt.secure && strings.HasPrefix(c.Name, "__Host-")) {
				t.Errorf("name %q, want prefix %q", c.Name, tt.prefix)
			}
			if c.Secure != tt.secure || c.Path != "/" || c.Domain != "" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
				t.Errorf("cookie %+v: want Secure=%v, Path=/, no Domain, HttpOnly, SameSite=Lax", c, tt.secure)
			}
			if c.MaxAge != 900 {
				t.Errorf("Max-Age %d, want the flow TTL", c.MaxAge)
			}
			// The callback finds and clears it.
			req := httptest.NewRequest(http.MethodGet, "/oidc/callback", nil)
			req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
			rec = httptest.NewRecorder()
			if got := s.takeFlowCookie(rec, req, "state-1"); got != "binding-value" {
				t.Errorf("takeFlowCookie = %q", got)
			}
			if cl := rec.Result().Cookies(); len(cl) != 1 || cl[0].MaxAge >= 0 {
				t.Errorf("the cookie is not cleared: %v", cl)
			}
			if got := s.takeFlowCookie(httptest.NewRecorder(), req, "state-2"); got != "" {
				t.Errorf("another flow's state found cookie value %q", got)
			}
		})
	}
}
