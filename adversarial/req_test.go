package adversarial

import (
	"net/http"
	"strings"
	"testing"
	"time"

	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/certs"
	"github.com/samlbridge/samlbridge/internal/samltest"
	"github.com/samlbridge/samlbridge/saml"
)

// TestBaseline proves the suite's instruments on a genuine request: a
// signed AuthnRequest from the demo SP starts exactly one itsme flow.
// Every rejection below differs from it in one hostile detail.
func TestBaseline(t *testing.T) {
	w := newWorld(t)
	req := w.authnRequest(t, nil, nil)
	w.flowStarted(t, w.redirect(t, requestXML(t, req), "rs", samltest.RSASHA256))
	w.flowStarted(t, w.postRequest(t, mustBytes(t, w.signedXML(t, w.authnRequest(t, nil, nil))), ""))
}

// TestREQ01UnknownIssuer: an SP nobody registered gets the bridge's page,
// never a POST to the ACS it names (top-25 #7).
func TestREQ01UnknownIssuer(t *testing.T) {
	w := newWorld(t)
	kp, err := certs.Generate(nil, 2048, "stranger (TEST KEY)", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	stranger := *w.stack.SP.SAML
	stranger.EntityID = "https://stranger.example/metadata"
	stranger.Key, stranger.Certificate = kp.Key, kp.Cert
	req := w.authnRequest(t, &stranger, func(r *crewjam.AuthnRequest) {
		r.AssertionConsumerServiceURL = "https://stranger.example/acs"
	})
	q, err := samltest.RedirectQuery(requestXML(t, req), "", kp.Key, samltest.RSASHA256)
	if err != nil {
		t.Fatal(err)
	}
	r := w.get(t, w.ssoURL()+"?"+q)
	r.local(t, http.StatusBadRequest, "unknown_sp")
	if strings.Contains(r.body, "stranger.example") {
		t.Error("the page echoes the unknown Issuer")
	}
}

// TestREQ02MissingOrMalformedIssuer: crewjam v0.5.1 panics on a request
// without an Issuer; the bridge answers 400 (top-25 #7).
func TestREQ02MissingOrMalformedIssuer(t *testing.T) {
	w := newWorld(t)
	for _, tt := range []struct {
		name string
		edit func(*crewjam.AuthnRequest)
	}{
		{"no Issuer", func(r *crewjam.AuthnRequest) { r.Issuer = nil }},
		{"empty Issuer", func(r *crewjam.AuthnRequest) { r.Issuer.Value = "" }},
		{"Issuer with a comment", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := w.authnRequest(t, nil, tt.edit)
			data := requestXML(t, req)
			if tt.edit == nil {
				// a comment splits the Issuer; parsers that drop it
				// would read another SP's entityID.
				id := w.stack.SP.SAML.EntityID
				data = []byte(strings.Replace(string(data), id, id[:10]+"<!---->"+id[10:], 1))
			}
			r := w.redirect(t, data, "", samltest.RSASHA256)
			r.local(t, http.StatusBadRequest, "malformed")
		})
	}
}

// TestREQ03To06ACS: the ACS comes from the SP's metadata only; an
// attacker's URL, an unknown index, both at once, or a binding other than
// HTTP-POST never produce a POST (top-25 #2).
func TestREQ03To06ACS(t *testing.T) {
	w := newWorld(t)
	for _, tt := range []struct {
		name, reason string
		edit         func(*crewjam.AuthnRequest)
	}{
		{"REQ-03 ACS URL not in metadata", "acs_not_in_metadata", func(r *crewjam.AuthnRequest) {
			r.AssertionConsumerServiceURL = "https://evil.example/steal"
		}},
		{"REQ-03 ACS URL javascript:", "acs_not_in_metadata", func(r *crewjam.AuthnRequest) {
			r.AssertionConsumerServiceURL = "javascript:alert(1)"
		}},
		{"REQ-03 ACS URL scheme-relative", "acs_not_in_metadata", func(r *crewjam.AuthnRequest) {
			r.AssertionConsumerServiceURL = "//evil.example/acs"
		}},
		{"REQ-03 ACS URL differs in a trailing slash", "acs_not_in_metadata", func(r *crewjam.AuthnRequest) {
			r.AssertionConsumerServiceURL += "/"
		}},
		{"REQ-04 unknown ACS index", "acs_not_in_metadata", func(r *crewjam.AuthnRequest) {
			r.AssertionConsumerServiceURL = ""
			r.AssertionConsumerServiceIndex = "99"
		}},
		{"REQ-04 URL and index together", "acs_not_in_metadata", func(r *crewjam.AuthnRequest) {
			r.AssertionConsumerServiceIndex = "1"
		}},
		{"REQ-05 Artifact binding asked", "unsupported_binding", func(r *crewjam.AuthnRequest) {
			r.ProtocolBinding = crewjam.HTTPArtifactBinding
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := w.authnRequest(t, nil, tt.edit)
			r := w.redirect(t, requestXML(t, req), "", samltest.RSASHA256)
			r.local(t, http.StatusBadRequest, tt.reason)
			if strings.Contains(r.body, "evil.example") || strings.Contains(r.body, "javascript") {
				t.Error("the error page echoes the attacker's ACS")
			}
		})
	}
}

// TestREQ07Destination: a signed request must name the bridge's SSO URL
// (top-25 #9).
func TestREQ07Destination(t *testing.T) {
	w := newWorld(t)
	for _, tt := range []struct {
		name string
		dest string
	}{
		{"other endpoint", "https://other-idp.example/sso"},
		{"missing on a signed request", ""},
		{"same host, other path", w.base + "/saml/sso2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := w.authnRequest(t, nil, func(r *crewjam.AuthnRequest) { r.Destination = tt.dest })
			w.redirect(t, requestXML(t, req), "", samltest.RSASHA256).local(t, http.StatusBadRequest, "destination")
		})
	}
}

// TestREQ08IssueInstant: requests from the future or too old are refused
// (crewjam accepts a year ahead), top-25 #8.
func TestREQ08IssueInstant(t *testing.T) {
	w := newWorld(t)
	for _, tt := range []struct {
		name  string
		shift time.Duration
	}{
		{"a year ahead", 365 * 24 * time.Hour},
		{"ten minutes ahead", 10 * time.Minute},
		{"an hour old", -time.Hour},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := w.authnRequest(t, nil, func(r *crewjam.AuthnRequest) { r.IssueInstant = time.Now().Add(tt.shift) })
			w.redirect(t, requestXML(t, req), "", samltest.RSASHA256).local(t, http.StatusBadRequest, "stale")
		})
	}
}

// TestREQ09Replay: the same AuthnRequest twice starts one flow, and a
// second node sharing the store refuses it too (SES-04), top-25 #8.
func TestREQ09Replay(t *testing.T) {
	w := newWorld(t)
	data := requestXML(t, w.authnRequest(t, nil, nil))
	w.flowStarted(t, w.redirect(t, data, "", samltest.RSASHA256))
	w.redirect(t, data, "", samltest.RSASHA256).local(t, http.StatusBadRequest, "replay")

	t.Run("SES-04 across nodes", func(t *testing.T) {
		w := newWorld(t, twoNodes)
		data := requestXML(t, w.authnRequest(t, nil, nil))
		w.flowStarted(t, w.redirect(t, data, "", samltest.RSASHA256))
		w.target = "b"
		w.redirect(t, data, "", samltest.RSASHA256).local(t, http.StatusBadRequest, "replay")
	})
}

// TestREQ12To17Statuses: requests that are valid but cannot be served are
// answered to the ACS from metadata with the exact SAML status, without
// starting an itsme flow (top-25 #19).
func TestREQ12To17Statuses(t *testing.T) {
	w := newWorld(t)
	yes := true
	bogus := "urn:example:unsupported-format"
	for _, tt := range []struct {
		name        string
		edit        func(*crewjam.AuthnRequest)
		top, second string
	}{
		{"REQ-12 IsPassive", func(r *crewjam.AuthnRequest) { r.IsPassive = &yes }, saml.StatusResponder, saml.StatusNoPassive},
		{"REQ-14 NameIDPolicy format unsupported", func(r *crewjam.AuthnRequest) {
			r.NameIDPolicy = &crewjam.NameIDPolicy{Format: &bogus}
		}, saml.StatusRequester, saml.StatusInvalidNameIDPolicy},
		{"REQ-14 foreign SPNameQualifier", func(r *crewjam.AuthnRequest) {
			q := "https://other-sp.example"
			r.NameIDPolicy = &crewjam.NameIDPolicy{SPNameQualifier: &q}
		}, saml.StatusRequester, saml.StatusInvalidNameIDPolicy},
		{"REQ-16 class above what itsme proves", func(r *crewjam.AuthnRequest) {
			r.RequestedAuthnContext = &crewjam.RequestedAuthnContext{Comparison: "exact", AuthnContextClassRef: "urn:oasis:names:tc:SAML:2.0:ac:classes:Kerberos"}
		}, saml.StatusResponder, saml.StatusNoAuthnContext},
		{"REQ-16 better than the strongest", func(r *crewjam.AuthnRequest) {
			r.RequestedAuthnContext = &crewjam.RequestedAuthnContext{Comparison: "better", AuthnContextClassRef: "http://itsme.services/v2/claim/acr_advanced"}
		}, saml.StatusResponder, saml.StatusNoAuthnContext},
		{"REQ-18 unknown AttributeConsumingServiceIndex", func(r *crewjam.AuthnRequest) {
			r.AttributeConsumingServiceIndex = "7"
		}, saml.StatusRequester, saml.StatusRequestUnsupported},
		{"REQ-15 Subject naming a principal", func(r *crewjam.AuthnRequest) {
			r.Subject = &crewjam.Subject{NameID: &crewjam.NameID{Value: "other-user"}}
		}, saml.StatusResponder, saml.StatusUnknownPrincipal},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := w.authnRequest(t, nil, tt.edit)
			r := w.redirect(t, requestXML(t, req), "relay-1", samltest.RSASHA256)
			r.samlStatus(t, w.acsURL(), req.ID, tt.top, tt.second)
			r.nothingUpstream(t)
			if got := r.form.values.Get("RelayState"); got != "relay-1" {
				t.Errorf("RelayState %q, want it echoed", got)
			}
		})
	}
	t.Run("REQ-17 ProxyCount 0", func(t *testing.T) {
		// The bridge always proxies to itsme: ProxyCount="0" cannot be
		// honoured (saml-core §3.4.1.5.1).
		req := w.authnRequest(t, nil, nil)
		xml := strings.Replace(string(requestXML(t, req)), "</samlp:AuthnRequest>",
			`<samlp:Scoping ProxyCount="0"></samlp:Scoping></samlp:AuthnRequest>`, 1)
		if !strings.Contains(xml, "ProxyCount") {
			t.Fatal("Scoping not inserted")
		}
		r := w.redirect(t, []byte(xml), "relay-1", samltest.RSASHA256)
		r.samlStatus(t, w.acsURL(), req.ID, saml.StatusResponder, saml.StatusProxyCountExceeded)
		r.nothingUpstream(t)
	})
	t.Run("REQ-13 ForceAuthn starts a fresh itsme confirmation", func(t *testing.T) {
		req := w.authnRequest(t, nil, func(r *crewjam.AuthnRequest) { r.ForceAuthn = &yes })
		w.flowStarted(t, w.redirect(t, requestXML(t, req), "", samltest.RSASHA256))
	})
}

// TestREQ19RelayState: RelayState is bounded and printable, and returned
// exactly (escaped) on the auto-POST page (top-25 #20).
func TestREQ19RelayState(t *testing.T) {
	w := newWorld(t)
	for _, tt := range []struct{ name, relay string }{
		{"longer than 1024 bytes", strings.Repeat("r", 1025)},
		{"control characters", "a\r\nSet-Cookie: x=y"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := w.authnRequest(t, nil, nil)
			w.redirect(t, requestXML(t, req), tt.relay, samltest.RSASHA256).local(t, http.StatusBadRequest, "malformed")
		})
	}
	t.Run("markup is escaped and returned byte for byte", func(t *testing.T) {
		yes := true
		relay := `"><script>alert(1)</script>&x=1`
		req := w.authnRequest(t, nil, func(r *crewjam.AuthnRequest) { r.IsPassive = &yes })
		r := w.redirect(t, requestXML(t, req), relay, samltest.RSASHA256)
		r.samlStatus(t, w.acsURL(), req.ID, saml.StatusResponder, saml.StatusNoPassive)
		if got := r.form.values.Get("RelayState"); got != relay {
			t.Errorf("RelayState %q, want %q", got, relay)
		}
		if strings.Contains(r.body, "<script>alert") {
			t.Error("RelayState markup reached the page unescaped")
		}
	})
}
