package saml

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	crewjam "github.com/crewjam/saml"
)

const testSLOURL = "https://idp.example.org/saml/slo"

func logoutParser(f *reqFixture) *RequestParser {
	return &RequestParser{Registry: f.registry, SSOURL: testSSOURL, SLOURL: testSLOURL}
}

// logoutRequestXML is a LogoutRequest from sp, edited by edit.
func logoutRequestXML(t testing.TB, sp *crewjam.ServiceProvider, edit func(*crewjam.LogoutRequest)) []byte {
	t.Helper()
	lr := &crewjam.LogoutRequest{ID: "_lr-1", Version: "2.0", IssueInstant: time.Now(), Destination: testSLOURL,
		Issuer:       &crewjam.Issuer{Value: sp.EntityID},
		NameID:       &crewjam.NameID{Format: NameIDFormatPersistent, Value: "pairwise-1"},
		SessionIndex: &crewjam.SessionIndex{Value: "_s1"}}
	if edit != nil {
		edit(lr)
	}
	return elementBytes(t, lr.Element())
}

func sloRedirect(t testing.TB, field string, data []byte, relay string, sign bool, sp *crewjam.ServiceProvider) *http.Request {
	t.Helper()
	q := field + "=" + url.QueryEscape(base64.StdEncoding.EncodeToString(deflate(t, data)))
	if relay != "" {
		q += "&RelayState=" + url.QueryEscape(relay)
	}
	if sign {
		q += "&SigAlg=" + url.QueryEscape(SignatureRSASHA256)
		q += "&Signature=" + url.QueryEscape(base64.StdEncoding.EncodeToString(signOctets(t, sp.Key.(*rsa.PrivateKey), q)))
	}
	return httptest.NewRequest(http.MethodGet, testSLOURL+"?"+q, nil)
}

func TestParseLogout(t *testing.T) {
	f := fixture(t)
	p := logoutParser(f)
	resp := func(edit func(*crewjam.LogoutResponse)) []byte {
		r := &crewjam.LogoutResponse{ID: "_resp-1", InResponseTo: "_mine", Version: "2.0", IssueInstant: time.Now(), Destination: testSLOURL,
			Issuer: &crewjam.Issuer{Value: f.optional.EntityID}, Status: crewjam.Status{StatusCode: crewjam.StatusCode{Value: StatusSuccess}}}
		if edit != nil {
			edit(r)
		}
		return elementBytes(t, r.Element())
	}
	t.Run("signed LogoutRequest", func(t *testing.T) {
		m, err := p.ParseLogout(sloRedirect(t, "SAMLRequest", logoutRequestXML(t, f.optional, nil), "rs", true, f.optional))
		if err != nil {
			t.Fatal(err)
		}
		if m.Request == nil || m.Response != nil || m.Request.NameID.Value != "pairwise-1" || m.Request.SessionIndex.Value != "_s1" ||
			m.SP.EntityID != f.optional.EntityID || m.RelayState != "rs" || m.ID() != "_lr-1" {
			t.Errorf("parsed %+v", m)
		}
	})
	t.Run("signed LogoutResponse", func(t *testing.T) {
		m, err := p.ParseLogout(sloRedirect(t, "SAMLResponse", resp(nil), "chain", true, f.optional))
		if err != nil {
			t.Fatal(err)
		}
		if m.Response == nil || m.Response.InResponseTo != "_mine" || m.ID() != "_resp-1" {
			t.Errorf("parsed %+v", m)
		}
	})
	for _, tc := range []struct {
		name string
		req  *http.Request
		want error
	}{
		{"unsigned, even from an SP that need not sign AuthnRequests", sloRedirect(t, "SAMLRequest", logoutRequestXML(t, f.optional, nil), "", false, f.optional), ErrSignatureRequired},
		{"signed by another key", sloRedirect(t, "SAMLRequest", logoutRequestXML(t, f.optional, nil), "", true, withKey(f.optional, f.evil)), ErrBadSignature},
		{"no NameID", sloRedirect(t, "SAMLRequest", logoutRequestXML(t, f.optional, func(r *crewjam.LogoutRequest) { r.NameID = nil }), "", true, f.optional), ErrMalformedRequest},
		{"Destination is the SSO URL", sloRedirect(t, "SAMLRequest", logoutRequestXML(t, f.optional, func(r *crewjam.LogoutRequest) { r.Destination = testSSOURL }), "", true, f.optional), ErrDestination},
		{"no Destination", sloRedirect(t, "SAMLRequest", logoutRequestXML(t, f.optional, func(r *crewjam.LogoutRequest) { r.Destination = "" }), "", true, f.optional), ErrDestination},
		{"an hour old", sloRedirect(t, "SAMLRequest", logoutRequestXML(t, f.optional, func(r *crewjam.LogoutRequest) { r.IssueInstant = time.Now().Add(-time.Hour) }), "", true, f.optional), ErrStaleRequest},
		{"NotOnOrAfter passed", sloRedirect(t, "SAMLRequest", logoutRequestXML(t, f.optional, func(r *crewjam.LogoutRequest) {
			past := time.Now().Add(-time.Second)
			r.NotOnOrAfter = &past
		}), "", true, f.optional), ErrStaleRequest},
		{"a LogoutResponse as SAMLRequest", sloRedirect(t, "SAMLRequest", resp(nil), "", true, f.optional), ErrMalformedRequest},
		{"an AuthnRequest", sloRedirect(t, "SAMLRequest", postXML(t, f.optional, nil), "", true, f.optional), ErrMalformedRequest},
		{"unknown issuer", sloRedirect(t, "SAMLRequest", logoutRequestXML(t, f.optional, func(r *crewjam.LogoutRequest) { r.Issuer.Value = "https://nobody.example.org" }), "", true, f.optional), ErrUnknownSP},
		{"both SAMLRequest and SAMLResponse", httptest.NewRequest(http.MethodGet, testSLOURL+"?SAMLRequest=a&SAMLResponse=b", nil), ErrDuplicateParameter},
		{"PUT", httptest.NewRequest(http.MethodPut, testSLOURL, nil), ErrUnsupportedBinding},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.ParseLogout(tc.req)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestEncodeRoundTrip: what the bridge sends by Encode (HTTP-Redirect with
// a query signature, HTTP-POST with an enveloped one) passes the bridge's
// own strict intake, as it must pass an SP's.
func TestEncodeRoundTrip(t *testing.T) {
	f := fixture(t)
	sp := f.optional
	// The "IdP" here signs with the SP's key, so the parser (which checks
	// messages from SPs) verifies it against that SP's metadata.
	idp := &IDP{EntityID: sp.EntityID, Signer: &Signer{Key: sp.Key, Certs: []*x509.Certificate{sp.Certificate}}}
	el, id, err := idp.BuildLogoutRequest(LogoutRequestParams{Destination: testSLOURL,
		NameID: NameID{Value: "pairwise-9", Format: NameIDFormatPersistent}, SessionIndex: "_s9", Reason: LogoutReasonUser})
	if err != nil {
		t.Fatal(err)
	}
	p := logoutParser(f)
	for _, binding := range []string{crewjam.HTTPRedirectBinding, crewjam.HTTPPostBinding} {
		out, err := idp.Encode(el, binding, testSLOURL, "SAMLRequest", "chain-1", true, "", false)
		if err != nil {
			t.Fatal(err)
		}
		var r *http.Request
		if binding == crewjam.HTTPRedirectBinding {
			if out.Form != nil || !strings.Contains(out.RedirectURL, "&SigAlg=") {
				t.Fatalf("redirect = %+v", out)
			}
			r = httptest.NewRequest(http.MethodGet, out.RedirectURL, nil)
		} else {
			if out.Form == nil || !strings.Contains(string(out.Form.Message), "<ds:Signature") {
				t.Fatalf("form = %+v", out)
			}
			body := "SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString(out.Form.Message)) + "&RelayState=chain-1"
			r = httptest.NewRequest(http.MethodPost, testSLOURL, strings.NewReader(body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		m, err := p.ParseLogout(r)
		if err != nil {
			t.Fatalf("%s: %v", binding, err)
		}
		if m.Request.ID != id || m.Request.SessionIndex.Value != "_s9" || m.RelayState != "chain-1" {
			t.Errorf("%s: parsed %+v", binding, m.Request)
		}
	}
	if _, err := idp.Encode(el, "urn:oasis:names:tc:SAML:2.0:bindings:SOAP", testSLOURL, "SAMLRequest", "", false, "", false); err == nil {
		t.Error("SOAP binding accepted for a front-channel message")
	}
	if _, err := idp.Encode(el, crewjam.HTTPRedirectBinding, testSLOURL, "SAMLRequest", "", false, SignatureRSASHA1, false); err == nil {
		t.Error("RSA-SHA1 redirect signature without the legacy mark")
	}
}

// FuzzParseLogout: whatever reaches the SLO endpoint (a Redirect query or
// a POST body), ParseLogout never panics and refuses with a
// *RequestError, or accepts only a message signed by a registered SP.
func FuzzParseLogout(f *testing.F) {
	fx, err := reqFixtureOnce()
	if err != nil {
		f.Fatal(err)
	}
	p := logoutParser(fx)
	signed := sloRedirect(f, "SAMLRequest", logoutRequestXML(f, fx.optional, nil), "rs", true, fx.optional)
	f.Add(signed.URL.RawQuery, false)
	f.Add("SAMLResponse=AAAA&RelayState=x", false)
	f.Add("SAMLRequest="+url.QueryEscape(base64.StdEncoding.EncodeToString([]byte("<samlp:LogoutRequest/>"))), true)
	f.Fuzz(func(t *testing.T, data string, post bool) {
		var r *http.Request
		if post {
			r = httptest.NewRequest(http.MethodPost, testSLOURL, strings.NewReader(data))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			r = httptest.NewRequest(http.MethodGet, testSLOURL, nil)
			r.URL.RawQuery = data
		}
		m, err := p.ParseLogout(r)
		if err != nil {
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("error %v is not a *RequestError", err)
			}
			return
		}
		if m.SP == nil || (m.Request == nil) == (m.Response == nil) {
			t.Fatalf("accepted a message without an SP or with both or neither kind: %+v", m)
		}
	})
}
