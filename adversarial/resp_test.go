package adversarial

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/samlbridge/samlbridge/demo"
	"github.com/samlbridge/samlbridge/metadata"
)

// plainAssertions stops the demo SP's assertions being encrypted, so that
// the test can read the signed assertion itself; it keeps the SP to the
// Authentication set, which carries nothing sensitive.
func plainAssertions(o *demo.Options) {
	o.ConfigureSP = func(sp *metadata.ServiceProvider) {
		sp.EncryptionCerts = nil
		sp.AllowedAttributes = []string{"name", "firstName", "lastName"}
	}
}

// TestRESP01To04Assertion: one assertion, signed with RSA-SHA256 and a
// SHA-256 digest, times taken at issuance, bound to the SP, the ACS and
// the request, accepted by an independent SP implementation (crewjam)
// (top-25 #4, #17).
func TestRESP01To04Assertion(t *testing.T) {
	w := newWorld(t, plainAssertions)
	before := time.Now()
	r, requestID := w.fullLogin(t, demo.IndexAuthentication, "rs")
	res := w.success(t, r)
	resp := r.form.response
	as := resp.FindElements("./Assertion")
	if len(as) != 1 || resp.FindElement("./EncryptedAssertion") != nil {
		t.Fatalf("%d assertions, want exactly one in the clear", len(as))
	}
	a := as[0]
	check := func(what, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %q, want %q", what, got, want)
		}
	}
	check("RESP-01 SignatureMethod", a.FindElement("./Signature/SignedInfo/SignatureMethod").SelectAttrValue("Algorithm", ""), "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")
	check("RESP-01 DigestMethod", a.FindElement("./Signature/SignedInfo/Reference/DigestMethod").SelectAttrValue("Algorithm", ""), "http://www.w3.org/2001/04/xmlenc#sha256")
	check("RESP-01 Reference", a.FindElement("./Signature/SignedInfo/Reference").SelectAttrValue("URI", ""), "#"+a.SelectAttrValue("ID", ""))
	check("RESP-01 Signature follows Issuer", a.ChildElements()[1].Tag, "Signature")
	check("RESP-03 Issuer", a.FindElement("./Issuer").Text(), w.base+"/saml/metadata")
	check("RESP-03 Audience", a.FindElement("./Conditions/AudienceRestriction/Audience").Text(), w.stack.SP.SAML.EntityID)
	scd := a.FindElement("./Subject/SubjectConfirmation/SubjectConfirmationData")
	check("RESP-03 Recipient", scd.SelectAttrValue("Recipient", ""), w.acsURL())
	check("RESP-03 InResponseTo", scd.SelectAttrValue("InResponseTo", ""), requestID)
	check("RESP-03 Response InResponseTo", resp.SelectAttrValue("InResponseTo", ""), requestID)
	check("RESP-03 Destination", resp.SelectAttrValue("Destination", ""), w.acsURL())
	check("SubjectConfirmation Method", a.FindElement("./Subject/SubjectConfirmation").SelectAttrValue("Method", ""), "urn:oasis:names:tc:SAML:2.0:cm:bearer")
	if scd.SelectAttr("Address") != nil {
		t.Error("SubjectConfirmationData carries an Address (crewjam puts RemoteAddr there)")
	}
	// RESP-02: the window is computed when the assertion is issued.
	parse := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatalf("time %q: %v", s, err)
		}
		return v
	}
	issued := parse(a.SelectAttrValue("IssueInstant", ""))
	notOnOrAfter := parse(a.FindElement("./Conditions").SelectAttrValue("NotOnOrAfter", ""))
	if issued.Before(before.Add(-time.Second)) || issued.After(time.Now().Add(time.Second)) {
		t.Errorf("RESP-02 IssueInstant %v is not the time of issuance", issued)
	}
	if !notOnOrAfter.After(time.Now()) || notOnOrAfter.Sub(issued) > 10*time.Minute {
		t.Errorf("RESP-02 NotOnOrAfter %v: want after now and at most 10 min after issuance", notOnOrAfter)
	}
	check("AuthnContextClassRef", res.AuthnContextClassRef, "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI")
	check("AuthenticatingAuthority", res.AuthenticatingAuthority, w.base+"/v2")
}

// TestRESP06AttributeRelease: the per-SP allow-list wins over what the
// SP's metadata requests; the national number never becomes the NameID,
// and the NameID is pairwise (top-25 #18).
func TestRESP06AttributeRelease(t *testing.T) {
	w := newWorld(t, func(o *demo.Options) {
		o.ConfigureSP = func(sp *metadata.ServiceProvider) {
			sp.AllowedAttributes = []string{"name", "firstName", "lastName", "dateOfBirth"}
		}
	})
	r, _ := w.fullLogin(t, demo.IndexIdentification, "")
	res := w.success(t, r)
	var names []string
	for n := range res.Attributes {
		names = append(names, n)
	}
	slices.Sort(names)
	if strings.Join(names, ",") != "dateOfBirth,firstName,lastName,name" {
		t.Errorf("released %v; the metadata asked for everything but the allow-list has four", names)
	}
	if res.NameIDFormat != "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" {
		t.Errorf("NameID format %q", res.NameIDFormat)
	}
	if strings.Contains(res.NameID, "81042419835") || len(res.NameID) < 20 {
		t.Errorf("NameID %q is not an opaque pairwise identifier", res.NameID)
	}
	if e := r.events[0]; strings.Join(e.Attributes, ",") == "" || e.Subject == "" || strings.Contains(e.Subject, res.NameID) {
		t.Errorf("audit event %+v: want attribute names and a pseudonym distinct from the NameID", e)
	}
}

// TestRESP07AutoPOSTPage: the page that carries the assertion is not
// cached, leaks no referrer, runs only its own nonce'd script, cannot be
// framed, and posts only to the ACS (top-25 #20).
func TestRESP07AutoPOSTPage(t *testing.T) {
	w := newWorld(t)
	r, _ := w.fullLogin(t, demo.IndexAuthentication, "")
	w.success(t, r)
	h := r.header
	if !strings.Contains(h.Get("Cache-Control"), "no-store") {
		t.Errorf("Cache-Control %q", h.Get("Cache-Control"))
	}
	if h.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("Referrer-Policy %q", h.Get("Referrer-Policy"))
	}
	csp := h.Get("Content-Security-Policy")
	for _, want := range []string{"frame-ancestors 'none'", "script-src 'nonce-", "default-src 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if !strings.Contains(r.body, "<noscript>") {
		t.Error("no noscript fallback button")
	}
	if r.status != http.StatusOK {
		t.Errorf("HTTP %d", r.status)
	}
}
