package server

import (
	"crypto/x509"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/internal/samltest"
	"github.com/samlbridge/samlbridge/metadata"
	"github.com/samlbridge/samlbridge/saml"
)

// TestLogoutReplayMarkerOutlivesTheMessage (REQ-09): the parser accepts a
// LogoutRequest while now ≤ IssueInstant + MaxAge, and IssueInstant may
// be up to the clock skew ahead of the bridge's clock. The replay marker
// must last as long, counted from the IssueInstant: counted from the
// moment of receipt, it expired while a message from an SP whose clock
// runs ahead was still acceptable, and the copy was processed again.
func TestLogoutReplayMarkerOutlivesTheMessage(t *testing.T) {
	const ext = "https://idp.example"
	var parser *saml.RequestParser
	b := newHygieneBridge(t, ext, func(c *Config) {
		slo := crewjam.Endpoint{Binding: crewjam.HTTPRedirectBinding, Location: "https://sp.example/slo"}
		acs := crewjam.IndexedEndpoint{Binding: crewjam.HTTPPostBinding, Location: "https://sp.example/acs", Index: 0}
		reg, err := metadata.NewStaticRegistry(&metadata.ServiceProvider{EntityID: hygieneSP, ACS: []crewjam.IndexedEndpoint{acs}, DefaultACS: acs,
			SingleLogoutServices: []crewjam.Endpoint{slo}, SigningCerts: []*x509.Certificate{hygieneKey.Cert}})
		if err != nil {
			t.Fatal(err)
		}
		c.Registry = reg
		parser = &saml.RequestParser{Registry: reg, SSOURL: ext + PathSSO, SLOURL: ext + PathSLO, Now: c.Parser.Now}
		c.Parser = parser
	})
	t0 := b.now
	issued := t0.Add(saml.DefaultMaxClockSkew - time.Minute) // the SP's clock runs ahead
	xml := fmt.Sprintf(`<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_lr-skewed" Version="2.0" IssueInstant="%s" Destination="%s"><saml:Issuer>%s</saml:Issuer><saml:NameID>someone</saml:NameID></samlp:LogoutRequest>`,
		issued.Format(time.RFC3339), ext+PathSLO, hygieneSP)
	q, err := samltest.RedirectQuery([]byte(xml), "", hygieneKey.Key, samltest.RSASHA256)
	if err != nil {
		t.Fatal(err)
	}
	send := func() *httptest.ResponseRecorder {
		t.Helper()
		return b.do(http.MethodGet, PathSLO+"?"+q, "192.0.2.1:1")
	}
	if rec := send(); rec.Code != http.StatusSeeOther || !strings.HasPrefix(rec.Header().Get("Location"), "https://sp.example/slo?SAMLResponse=") {
		t.Fatalf("first LogoutRequest: status %d to %q, want a LogoutResponse to the SP's SLO\n%s", rec.Code, rec.Header().Get("Location"), b.logs)
	}
	// Later than MaxAge plus the margin after receipt, still within
	// MaxAge of the IssueInstant: the parser accepts the copy, so only
	// the marker can refuse it.
	b.now = t0.Add(parser.MaxAge() + time.Minute + 30*time.Second)
	if !b.now.Before(issued.Add(parser.MaxAge())) {
		t.Fatal("test set-up: the copy is not within the parser's window")
	}
	if rec := send(); rec.Code != http.StatusBadRequest {
		t.Errorf("replayed LogoutRequest: status %d, want 400 (replay)", rec.Code)
	}
	last := b.audit.events[len(b.audit.events)-1]
	if last.Reason != "replay" {
		t.Errorf("last audit event %+v, want reason replay", last)
	}
}
