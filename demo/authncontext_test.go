package demo

import (
	"strings"
	"sync"
	"testing"

	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/authncontext"
	"github.com/samlbridge/samlbridge/itsme"
)

// TestRequestedAuthnContext runs whole logins with a RequestedAuthnContext:
// the acr the emulator is asked for, the acr it answers with, and the
// class the SP finally sees, through the default policy table.
func TestRequestedAuthnContext(t *testing.T) {
	tests := []struct {
		name       string
		cmp, class string
		// forceACR replaces the ID token's acr (the emulator otherwise
		// answers with what was asked).
		forceACR  string
		wantAsked string
		wantClass string // empty: a NoAuthnContext status is expected
	}{
		{"none: SmartcardPKI at acr_basic", "", "", "", itsme.ACRBasic, authncontext.SmartcardPKI},
		{"exact PasswordProtectedTransport (node-saml's default)", "exact", authncontext.PasswordProtectedTransport, "", itsme.ACRBasic, authncontext.PasswordProtectedTransport},
		{"minimum PasswordProtectedTransport", "minimum", authncontext.PasswordProtectedTransport, "", itsme.ACRBasic, authncontext.SmartcardPKI},
		{"minimum acr_advanced", "minimum", itsme.ACRAdvanced, "", itsme.ACRAdvanced, itsme.ACRAdvanced},
		{"better SmartcardPKI", "better", authncontext.SmartcardPKI, "", itsme.ACRAdvanced, itsme.ACRAdvanced},
		{"maximum acr_advanced", "maximum", itsme.ACRAdvanced, "", itsme.ACRBasic, authncontext.SmartcardPKI},
		{"acr_advanced asked, acr_basic answered", "exact", itsme.ACRAdvanced, itsme.ACRBasic, itsme.ACRAdvanced, ""},
		{"acr_basic asked, unknown acr answered", "", "", "urn:example:acr:weak", itsme.ACRBasic, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var asked string
			stack, base := newTestStack(t, func(kind string, c map[string]any) {
				if kind != "id_token" {
					return
				}
				mu.Lock()
				defer mu.Unlock()
				asked, _ = c["acr"].(string)
				if tc.forceACR != "" {
					c["acr"] = tc.forceACR
				}
			})
			u, err := stack.SP.LoginURLWith(1, "rs", func(req *crewjam.AuthnRequest) {
				if tc.class != "" {
					req.RequestedAuthnContext = &crewjam.RequestedAuthnContext{Comparison: tc.cmp, AuthnContextClassRef: tc.class}
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			b := newBrowser(t)
			phone := b.get(u)
			if !strings.HasPrefix(phone.url.Path, emulatorPathPrefix+"/") {
				t.Fatalf("expected the emulator's page, got %d at %s", phone.status, phone.url)
			}
			action, vals := phone.form(t)
			_, form := samlResponseFrom(t, b.post(action, vals), base+PathSPACS)
			mu.Lock()
			if asked != tc.wantAsked {
				t.Errorf("the emulator issued acr %q, want %q", asked, tc.wantAsked)
			}
			mu.Unlock()
			res, err := stack.SP.Parse(form.Get("SAMLResponse"))
			if tc.wantClass == "" {
				raw := decodeB64(t, form.Get("SAMLResponse"))
				if err == nil || !strings.Contains(raw, "status:NoAuthnContext") || strings.Contains(raw, "Assertion") {
					t.Fatalf("want a NoAuthnContext status without assertion, got:\n%s", raw)
				}
				return
			}
			if err != nil {
				t.Fatalf("the SP rejected the response: %v", err)
			}
			if res.AuthnContextClassRef != tc.wantClass {
				t.Errorf("AuthnContextClassRef = %q, want %q", res.AuthnContextClassRef, tc.wantClass)
			}
		})
	}
}
