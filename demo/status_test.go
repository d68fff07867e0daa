package demo

import (
	"fmt"
	"strings"
	"testing"

	crewjam "github.com/crewjam/saml"
)

// TestRequestsAnsweredWithStatus covers validated requests that the bridge
// cannot serve: they are answered at the ACS with the exact SAML status,
// and itsme is never involved.
func TestRequestsAnsweredWithStatus(t *testing.T) {
	yes := true
	tests := []struct {
		name   string
		modify func(*crewjam.AuthnRequest)
		want   []string
	}{
		{"IsPassive", func(r *crewjam.AuthnRequest) { r.IsPassive = &yes },
			[]string{"status:Responder", "status:NoPassive"}},
		{"unknown AttributeConsumingServiceIndex", func(r *crewjam.AuthnRequest) { r.AttributeConsumingServiceIndex = "7" },
			[]string{"status:Requester", "status:RequestUnsupported"}},
		{"malformed AttributeConsumingServiceIndex", func(r *crewjam.AuthnRequest) { r.AttributeConsumingServiceIndex = "x" },
			[]string{"status:Requester", "status:RequestUnsupported"}},
		{"exact AuthnContext the table lacks", func(r *crewjam.AuthnRequest) {
			r.RequestedAuthnContext = &crewjam.RequestedAuthnContext{Comparison: "exact", AuthnContextClassRef: "urn:oasis:names:tc:SAML:2.0:ac:classes:Kerberos"}
		}, []string{"status:Responder", "status:NoAuthnContext"}},
		{"AuthnContext better than acr_advanced", func(r *crewjam.AuthnRequest) {
			r.RequestedAuthnContext = &crewjam.RequestedAuthnContext{Comparison: "better", AuthnContextClassRef: "http://itsme.services/v2/claim/acr_advanced"}
		}, []string{"status:Responder", "status:NoAuthnContext"}},
		{"AuthnContext with an unknown Comparison", func(r *crewjam.AuthnRequest) {
			r.RequestedAuthnContext = &crewjam.RequestedAuthnContext{Comparison: "best", AuthnContextClassRef: "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI"}
		}, []string{"status:Requester", "status:RequestUnsupported"}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// crewjam's Redirect does not escape RelayState; keep it plain.
			relay := fmt.Sprintf("rs-%d", i)
			stack, base := newTestStack(t, nil)
			req, err := stack.SP.SAML.MakeAuthenticationRequest(base+"/saml/sso", crewjam.HTTPRedirectBinding, crewjam.HTTPPostBinding)
			if err != nil {
				t.Fatal(err)
			}
			tc.modify(req)
			u, err := req.Redirect(relay, stack.SP.SAML)
			if err != nil {
				t.Fatal(err)
			}
			b := newBrowser(t)
			p := b.get(u.String())
			if strings.HasPrefix(p.url.Path, emulatorPathPrefix) {
				t.Fatal("itsme was involved")
			}
			_, vals := samlResponseFrom(t, p, base+PathSPACS)
			if vals.Get("RelayState") != relay {
				t.Errorf("RelayState = %q", vals.Get("RelayState"))
			}
			raw := decodeB64(t, vals.Get("SAMLResponse"))
			for _, w := range tc.want {
				if !strings.Contains(raw, w) {
					t.Errorf("response lacks %s:\n%s", w, raw)
				}
			}
			if strings.Contains(raw, "Assertion") {
				t.Error("error response carries an assertion")
			}
		})
	}
}
