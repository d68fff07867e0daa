package demo

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	crewjam "github.com/crewjam/saml"
)

// TestNameIDPolicy drives the NameIDPolicy formats through the whole flow
// with crewjam's SP asking for each (saml-core §3.4.1.1).
func TestNameIDPolicy(t *testing.T) {
	tests := []struct {
		name       string
		format     crewjam.NameIDFormat
		wantFormat string
		wantValue  *regexp.Regexp
		wantStatus string // non-empty: an error status instead of an assertion
	}{
		{name: "emailAddress", format: crewjam.EmailAddressNameIDFormat, wantFormat: string(crewjam.EmailAddressNameIDFormat), wantValue: regexp.MustCompile(`^test@itsme\.be$`)},
		{name: "transient", format: crewjam.TransientNameIDFormat, wantFormat: string(crewjam.TransientNameIDFormat), wantValue: regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)},
		{name: "X509SubjectName", format: "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName", wantStatus: "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stack, base := newTestStack(t, nil)
			stack.SP.SAML.AuthnNameIDFormat = tc.format
			b := newBrowser(t)
			if tc.wantStatus != "" {
				// Refused before itsme is involved: straight to the ACS.
				p := b.get(base + PathSPLogin)
				_, vals := samlResponseFrom(t, p, base+PathSPACS)
				raw := decodeB64(t, vals.Get("SAMLResponse"))
				if !strings.Contains(raw, tc.wantStatus) || strings.Contains(raw, "Assertion") {
					t.Fatalf("want %s without assertion:\n%s", tc.wantStatus, raw)
				}
				if strings.HasPrefix(p.url.Path, emulatorPathPrefix) {
					t.Error("itsme was involved although the request could not be met")
				}
				return
			}
			_, vals := samlResponseFrom(t, login(t, b, base, true), base+PathSPACS)
			res, err := stack.SP.Parse(vals.Get("SAMLResponse"))
			if err != nil {
				t.Fatal(err)
			}
			if res.NameIDFormat != tc.wantFormat || !tc.wantValue.MatchString(res.NameID) {
				t.Errorf("NameID %q format %q, want %s matching %v", res.NameID, res.NameIDFormat, tc.wantFormat, tc.wantValue)
			}
		})
	}
}

// TestEmailNameIDForUserWithoutEmail picks the persona without an e-mail
// address: an emailAddress NameID cannot be made, so the SP gets
// InvalidNameIDPolicy, not an empty NameID.
func TestEmailNameIDForUserWithoutEmail(t *testing.T) {
	stack, base := newTestStack(t, nil)
	stack.SP.SAML.AuthnNameIDFormat = crewjam.EmailAddressNameIDFormat
	b := newBrowser(t)
	phone := b.get(base + PathSPLogin)
	action, vals := phone.form(t)
	if !strings.Contains(phone.body, `value="lucas"`) {
		t.Fatalf("the emulator page does not offer the persona without e-mail:\n%s", phone.body)
	}
	vals.Set("persona", "lucas")
	final := b.post(action, vals)
	if final.status != http.StatusOK {
		t.Fatalf("status %d", final.status)
	}
	_, form := samlResponseFrom(t, final, base+PathSPACS)
	raw := decodeB64(t, form.Get("SAMLResponse"))
	if !strings.Contains(raw, "status:InvalidNameIDPolicy") || strings.Contains(raw, "Assertion") {
		t.Errorf("want InvalidNameIDPolicy without assertion:\n%s", raw)
	}
}
