package adversarial

import (
	"net/http"
	"testing"

	"github.com/samlbridge/samlbridge/demo"
	"github.com/samlbridge/samlbridge/server"
)

// TestSES01ConcurrentFlowsInOneBrowser: two logins in two tabs of one
// browser each finish with their own request (top-25 #24).
func TestSES01ConcurrentFlowsInOneBrowser(t *testing.T) {
	w := newWorld(t)
	b := browser(t)
	authA, idA := w.startLogin(t, b, demo.IndexAuthentication, "tab-a")
	authB, idB := w.startLogin(t, b, demo.IndexAuthentication, "tab-b")
	cbA, cbB := w.consent(t, b, authA, true), w.consent(t, b, authB, true)
	for _, tt := range []struct{ cb, id, relay string }{{cbB, idB, "tab-b"}, {cbA, idA, "tab-a"}} {
		r := w.callback(t, b, tt.cb)
		w.success(t, r)
		if got := r.form.response.SelectAttrValue("InResponseTo", ""); got != tt.id {
			t.Errorf("InResponseTo %q, want %q", got, tt.id)
		}
		if got := r.form.values.Get("RelayState"); got != tt.relay {
			t.Errorf("RelayState %q, want %q", got, tt.relay)
		}
	}
}

// TestSES03LoginSurvivesItsNode: a login started on node A finishes on
// node B (shared store and keys), as after A restarts (top-25 #24).
func TestSES03LoginSurvivesItsNode(t *testing.T) {
	w := newWorld(t, twoNodes)
	b := browser(t)
	auth, id := w.startLogin(t, b, demo.IndexAuthentication, "")
	cb := w.consent(t, b, auth, true)
	w.target = "b"
	r := w.callback(t, b, cb)
	w.success(t, r)
	if got := r.form.response.SelectAttrValue("InResponseTo", ""); got != id {
		t.Errorf("InResponseTo %q, want %q", got, id)
	}
}

// TestSES10HostHeaderIsNotTrusted: Host and X-Forwarded-* headers do not
// change the URLs the bridge builds; they come from configuration.
func TestSES10HostHeaderIsNotTrusted(t *testing.T) {
	w := newWorld(t)
	u, err := w.stack.SP.LoginURL(demo.IndexAuthentication, "")
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "evil.example"
	req.Header.Set("X-Forwarded-Host", "evil.example")
	req.Header.Set("X-Forwarded-Proto", "https")
	r := w.send(t, req, nil)
	w.flowStarted(t, r) // Location starts with the configured base URL
	if ru := mustURL(t, r.location).Query().Get("redirect_uri"); ru != w.base+"/oidc/callback" {
		t.Errorf("redirect_uri %q, want the configured callback", ru)
	}
}

// TestSES08FloodIsLimited: one address flooding the SSO endpoint is
// answered 429 with Retry-After once its burst is spent, each refusal
// with one audit event and no work; metadata stays reachable
// (top-25 #24).
func TestSES08FloodIsLimited(t *testing.T) {
	w := newWorld(t, func(o *demo.Options) { o.RateLimit = server.RateLimit{PerMinute: 60, Burst: 5} })
	limited := 0
	for i := range 8 {
		r := w.get(t, w.ssoURL()+"?SAMLRequest=AAAA")
		if i < 5 {
			r.local(t, http.StatusBadRequest, "malformed")
			continue
		}
		r.local(t, http.StatusTooManyRequests, "rate_limited")
		if r.header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
		limited++
	}
	if limited != 3 {
		t.Errorf("%d requests limited, want 3", limited)
	}
	if r := w.get(t, w.base+"/saml/metadata"); r.status != http.StatusOK {
		t.Errorf("metadata answered %d during the flood", r.status)
	}
}
