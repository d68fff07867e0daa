package demo

import (
	"bytes"
	"compress/flate"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/internal/samltest"
	"github.com/samlbridge/samlbridge/metadata"
	"github.com/samlbridge/samlbridge/saml"
	"github.com/samlbridge/samlbridge/server"
)

const (
	nsSAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsMD    = "urn:oasis:names:tc:SAML:2.0:metadata"
	nsReq   = "urn:oasis:names:tc:SAML:protocol:ext:req-attr"
)

// addScoping appends a samlp:Scoping element to an AuthnRequest.
func addScoping(proxyCount string, idps ...string) func(*etree.Element) {
	return func(el *etree.Element) {
		sc := el.CreateElement("samlp:Scoping")
		if proxyCount != "" {
			sc.CreateAttr("ProxyCount", proxyCount)
		}
		if len(idps) > 0 {
			list := sc.CreateElement("samlp:IDPList")
			for _, id := range idps {
				list.CreateElement("samlp:IDPEntry").CreateAttr("ProviderID", id)
			}
		}
	}
}

// addRequestedAttributes adds the req-attr extension asking for names.
func addRequestedAttributes(names ...string) func(*etree.Element) {
	return func(el *etree.Element) {
		ext := etree.NewElement("samlp:Extensions")
		ras := ext.CreateElement("req-attr:RequestedAttributes")
		ras.CreateAttr("xmlns:req-attr", nsReq)
		ras.CreateAttr("xmlns:md", nsMD)
		for _, n := range names {
			ra := ras.CreateElement("md:RequestedAttribute")
			ra.CreateAttr("Name", n)
			ra.CreateAttr("isRequired", "true")
		}
		// Extensions follows Issuer and Signature (saml-core §3.2.1).
		el.InsertChildAt(el.SelectElement("Issuer").Index()+1, ext)
	}
}

func setAttr(name, value string) func(*etree.Element) {
	return func(el *etree.Element) { el.CreateAttr(name, value) }
}

func edits(fs ...func(*etree.Element)) func(*etree.Element) {
	return func(el *etree.Element) {
		for _, f := range fs {
			f(el)
		}
	}
}

// TestScoping covers saml-core §3.4.1.2 and §3.4.1.5.1: the bridge always
// proxies to itsme, so ProxyCount="0" is ProxyCountExceeded, and an
// IDPList must name itsme or the bridge. AuthenticatingAuthority is
// asserted on every success (TestEndToEndIdentification).
func TestScoping(t *testing.T) {
	tests := []struct {
		name         string
		edit         func(fs *featureStack) func(*etree.Element)
		top, second  string
		wantUpstream bool
		wantLocal    int
	}{
		{name: "ProxyCount 0", edit: func(*featureStack) func(*etree.Element) { return addScoping("0") },
			top: saml.StatusResponder, second: saml.StatusProxyCountExceeded},
		{name: "IDPList without itsme or the bridge", edit: func(*featureStack) func(*etree.Element) {
			return addScoping("", "https://other-idp.example.org/idp")
		}, top: saml.StatusResponder, second: saml.StatusNoSupportedIDP},
		{name: "ProxyCount 2 and an IDPList naming itsme", edit: func(fs *featureStack) func(*etree.Element) {
			return addScoping("2", "https://other-idp.example.org/idp", fs.base+emulatorPathPrefix)
		}, wantUpstream: true},
		{name: "IDPList naming the bridge", edit: func(fs *featureStack) func(*etree.Element) {
			return addScoping("", fs.base+server.PathMetadata)
		}, wantUpstream: true},
		{name: "ProxyCount not a number", edit: func(*featureStack) func(*etree.Element) { return addScoping("-1") },
			wantLocal: http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFeatureStack(t, Options{})
			u, id := fs.a.authnRequest(fs.base, tc.edit(fs), "rs-scoping")
			b := newBrowser(t)
			p := b.get(u)
			atUpstream := strings.HasPrefix(p.url.Path, emulatorPathPrefix+"/")
			switch {
			case tc.wantUpstream:
				if !atUpstream {
					t.Fatalf("want the itsme page, got %d at %s:\n%s", p.status, p.url, p.body)
				}
				fs.a.accept(mustForm(t, approve(t, b, p), fs.a.sp.AcsURL.String()), id)
				return
			case atUpstream:
				t.Fatal("itsme was involved")
			case tc.wantLocal != 0:
				if p.status != tc.wantLocal || strings.Contains(p.body, "SAMLResponse") {
					t.Fatalf("want a local %d page, got %d:\n%s", tc.wantLocal, p.status, p.body)
				}
				return
			}
			form := mustForm(t, p, fs.a.sp.AcsURL.String())
			top, second, hasAssertion := statusOf(t, form)
			if top != tc.top || second != tc.second || hasAssertion {
				t.Errorf("status %s / %s (assertion %v), want %s / %s and no assertion", top, second, hasAssertion, tc.top, tc.second)
			}
			if form.Get("RelayState") != "rs-scoping" {
				t.Errorf("RelayState = %q", form.Get("RelayState"))
			}
		})
	}
}

// mustForm returns the auto-POST form values, failing unless it posts to
// acs.
func mustForm(t *testing.T, p *page, acs string) url.Values {
	t.Helper()
	_, vals := samlResponseFrom(t, p, acs)
	return vals
}

func attributeNames(a *crewjam.Assertion) []string {
	var names []string
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			names = append(names, at.Name)
		}
	}
	return names
}

// TestRequestedAttributesExtension covers the req-attr protocol extension:
// what a request asks for is released within the SP's allow-list only
// (the national number is never released to an SP not entitled to it).
func TestRequestedAttributesExtension(t *testing.T) {
	tests := []struct {
		name  string
		asked []string
		want  []string
	}{
		{"one allowed attribute", []string{"email"}, []string{"email"}},
		{"allowed and not allowed", []string{"dateOfBirth", "nin", "itsmeNationalNumber", "firstName"}, []string{"firstName", "dateOfBirth"}},
		{"only unknown names: the default set", []string{"urn:example:unknown"}, []string{"name", "firstName", "lastName"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := newFeatureStack(t, Options{})
			u, id := fs.a.authnRequest(fs.base, addRequestedAttributes(tc.asked...), "")
			b := newBrowser(t)
			a := fs.a.accept(mustForm(t, approve(t, b, b.get(u)), fs.a.sp.AcsURL.String()), id)
			if got := attributeNames(a); !slices.Equal(got, tc.want) {
				t.Errorf("released %q, want %q", got, tc.want)
			}
		})
	}
}

// TestSSOSession covers the bridge's optional SSO session: one itsme
// confirmation serves a second SP without itsme (IsPassive included),
// ForceAuthn goes back to itsme, and a request for an attribute the
// session never fetched cannot be served passively.
func TestSSOSession(t *testing.T) {
	fs := newFeatureStack(t, Options{SSOSession: server.SSOSession{Enabled: true, Lifetime: time.Hour}})
	b := newBrowser(t)
	u, id := fs.a.authnRequest(fs.base, nil, "")
	first := fs.a.accept(mustForm(t, approve(t, b, b.get(u)), fs.a.sp.AcsURL.String()), id)

	u, id = fs.b.authnRequest(fs.base, setAttr("IsPassive", "true"), "rs-b")
	p := b.get(u)
	if strings.HasPrefix(p.url.Path, emulatorPathPrefix) {
		t.Fatal("a passive request went to itsme although the session can serve it")
	}
	form := mustForm(t, p, fs.b.sp.AcsURL.String())
	second := fs.b.accept(form, id)
	if form["RelayState"][0] != "rs-b" {
		t.Errorf("RelayState = %q", form["RelayState"])
	}
	if second.Subject.NameID.Value == first.Subject.NameID.Value {
		t.Error("two SPs got the same persistent NameID; it must be pairwise")
	}
	if got, want := attributeNames(second), []string{"name", "firstName", "lastName"}; !slices.Equal(got, want) {
		t.Errorf("released %q from the session, want %q", got, want)
	}

	// An attribute the session never fetched: passive cannot serve it.
	u, _ = fs.b.authnRequest(fs.base, edits(setAttr("IsPassive", "true"), addRequestedAttributes("dateOfBirth")), "")
	top, sub, _ := statusOf(t, mustForm(t, b.get(u), fs.b.sp.AcsURL.String()))
	if top != saml.StatusResponder || sub != saml.StatusNoPassive {
		t.Errorf("passive request beyond the session: %s / %s, want Responder / NoPassive", top, sub)
	}
	// Not passive: itsme is asked, and the session grows.
	u, id = fs.b.authnRequest(fs.base, addRequestedAttributes("dateOfBirth"), "")
	fs.b.accept(mustForm(t, approve(t, b, b.get(u)), fs.b.sp.AcsURL.String()), id)
	u, id = fs.b.authnRequest(fs.base, edits(setAttr("IsPassive", "true"), addRequestedAttributes("dateOfBirth")), "")
	if got := attributeNames(fs.b.accept(mustForm(t, b.get(u), fs.b.sp.AcsURL.String()), id)); !slices.Equal(got, []string{"dateOfBirth"}) {
		t.Errorf("released %q from the grown session", got)
	}

	// ForceAuthn: a fresh itsme confirmation even with a session.
	u, id = fs.a.authnRequest(fs.base, setAttr("ForceAuthn", "true"), "")
	p = b.get(u)
	if !strings.HasPrefix(p.url.Path, emulatorPathPrefix+"/") {
		t.Fatalf("ForceAuthn was served from the session (%d at %s)", p.status, p.url)
	}
	fs.a.accept(mustForm(t, approve(t, b, p), fs.a.sp.AcsURL.String()), id)

	// Another browser has no session.
	other := newBrowser(t)
	u, _ = fs.a.authnRequest(fs.base, setAttr("IsPassive", "true"), "")
	if top, sub, _ := statusOf(t, mustForm(t, other.get(u), fs.a.sp.AcsURL.String())); sub != saml.StatusNoPassive {
		t.Errorf("another browser's passive request: %s / %s, want NoPassive", top, sub)
	}
}

// logoutRequest is a LogoutRequest from p for its current session.
func (p *peerSP) logoutRequest(bridge, relay string, mutate func(*crewjam.LogoutRequest)) (string, string) {
	p.t.Helper()
	p.mu.Lock()
	lr := &crewjam.LogoutRequest{ID: fmt.Sprintf("_lr%d", time.Now().UnixNano()), Version: "2.0", IssueInstant: time.Now(),
		Destination:  bridge + server.PathSLO,
		Issuer:       &crewjam.Issuer{Format: "urn:oasis:names:tc:SAML:2.0:nameid-format:entity", Value: p.sp.EntityID},
		NameID:       &crewjam.NameID{Format: string(crewjam.PersistentNameIDFormat), Value: p.nameID},
		SessionIndex: &crewjam.SessionIndex{Value: p.sessionIx}}
	p.mu.Unlock()
	if mutate != nil {
		mutate(lr)
	}
	return p.redirect(bridge+server.PathSLO, "SAMLRequest", lr.Element(), relay), lr.ID
}

// TestSingleLogout covers SP-initiated Single Logout over the Redirect
// binding: the bridge ends its session, logs the other participant out in
// a front-channel chain (its LogoutRequest verified by the participant),
// and answers the initiator with a signed LogoutResponse.
func TestSingleLogout(t *testing.T) {
	setup := func(t *testing.T) (*featureStack, *browser) {
		fs := newFeatureStack(t, Options{SSOSession: server.SSOSession{Enabled: true}})
		b := newBrowser(t)
		u, id := fs.a.authnRequest(fs.base, nil, "")
		fs.a.accept(mustForm(t, approve(t, b, b.get(u)), fs.a.sp.AcsURL.String()), id)
		u, id = fs.b.authnRequest(fs.base, nil, "")
		fs.b.accept(mustForm(t, b.get(u), fs.b.sp.AcsURL.String()), id) // from the session
		return fs, b
	}
	passiveAt := func(t *testing.T, fs *featureStack, b *browser) string {
		u, _ := fs.b.authnRequest(fs.base, setAttr("IsPassive", "true"), "")
		_, sub, _ := statusOf(t, mustForm(t, b.get(u), fs.b.sp.AcsURL.String()))
		return sub
	}

	t.Run("chain", func(t *testing.T) {
		fs, b := setup(t)
		u, reqID := fs.a.logoutRequest(fs.base, "rs-logout", nil)
		p := b.get(u)
		if p.status != http.StatusOK || p.url.Path != "/spa/slo" {
			t.Fatalf("logout ended at %d %s (spa: %q, spb: %q):\n%s", p.status, p.url, fs.a.lastError, fs.b.lastError, p.body)
		}
		if fs.b.logouts != 1 {
			t.Errorf("spb received %d verified LogoutRequests, want 1 (%s)", fs.b.logouts, fs.b.lastError)
		}
		f := fs.a.final
		if f == nil || f.InResponseTo != reqID || f.Status.StatusCode.Value != saml.StatusSuccess || f.Status.StatusCode.StatusCode != nil {
			t.Fatalf("initiator's LogoutResponse = %+v, want Success in response to %s", f, reqID)
		}
		if fs.a.finalRelay != "rs-logout" {
			t.Errorf("RelayState = %q", fs.a.finalRelay)
		}
		if sub := passiveAt(t, fs, b); sub != saml.StatusNoPassive {
			t.Errorf("after logout a passive request got %q, want NoPassive: the session must be gone", sub)
		}
		// The same LogoutRequest again is a replay: local page.
		if p := b.get(u); p.status != http.StatusBadRequest || p.url.Path != server.PathSLO {
			t.Errorf("replayed LogoutRequest: %d at %s", p.status, p.url)
		}
	})
	t.Run("POST binding", func(t *testing.T) {
		fs, b := setup(t)
		u, reqID := fs.a.logoutRequest(fs.base, "", nil)
		// Same request, sent by HTTP-POST with an enveloped signature.
		q, _ := url.ParseQuery(strings.SplitN(u, "?", 2)[1])
		raw, err := inflateB64(q.Get("SAMLRequest"))
		if err != nil {
			t.Fatal(err)
		}
		el, err := samltest.ParseElement(raw)
		if err != nil {
			t.Fatal(err)
		}
		signed, err := (&saml.Signer{Key: fs.a.key, Certs: []*x509.Certificate{fs.a.sp.Certificate}}).SignEnveloped(el)
		if err != nil {
			t.Fatal(err)
		}
		body, err := samltest.ElementBytes(signed)
		if err != nil {
			t.Fatal(err)
		}
		p := b.post(fs.base+server.PathSLO, url.Values{"SAMLRequest": {base64.StdEncoding.EncodeToString(body)}, "RelayState": {"rs-post"}})
		if p.url.Path != "/spa/slo" || fs.b.logouts != 1 {
			t.Fatalf("POST logout ended at %d %s, spb logouts %d (%s)", p.status, p.url, fs.b.logouts, fs.b.lastError)
		}
		if f := fs.a.final; f == nil || f.InResponseTo != reqID || f.Status.StatusCode.Value != saml.StatusSuccess || fs.a.finalRelay != "rs-post" {
			t.Fatalf("LogoutResponse = %+v (RelayState %q)", f, fs.a.finalRelay)
		}
	})
	t.Run("partial", func(t *testing.T) {
		fs, b := setup(t)
		fs.b.failNext = true
		u, _ := fs.a.logoutRequest(fs.base, "", nil)
		b.get(u)
		f := fs.a.final
		if f == nil || f.Status.StatusCode.Value != saml.StatusSuccess || f.Status.StatusCode.StatusCode == nil ||
			f.Status.StatusCode.StatusCode.Value != saml.StatusPartialLogout {
			t.Fatalf("initiator's LogoutResponse = %+v, want Success / PartialLogout", f)
		}
	})
	t.Run("another principal", func(t *testing.T) {
		fs, b := setup(t)
		u, _ := fs.a.logoutRequest(fs.base, "", func(lr *crewjam.LogoutRequest) { lr.NameID.Value = "someone-else" })
		b.get(u)
		f := fs.a.final
		if f == nil || f.Status.StatusCode.Value != saml.StatusRequester || f.Status.StatusCode.StatusCode == nil ||
			f.Status.StatusCode.StatusCode.Value != saml.StatusUnknownPrincipal {
			t.Fatalf("LogoutResponse = %+v, want Requester / UnknownPrincipal", f)
		}
		if fs.b.logouts != 0 {
			t.Error("another SP was logged out for a LogoutRequest naming someone else")
		}
		if sub := passiveAt(t, fs, b); sub != "" {
			t.Errorf("the session was ended by a LogoutRequest for someone else (passive: %q)", sub)
		}
	})
	t.Run("refused messages", func(t *testing.T) {
		fs, b := setup(t)
		u, _ := fs.a.logoutRequest(fs.base, "", nil)
		unsigned := u[:strings.Index(u, "&SigAlg=")]
		wrongDest, _ := fs.a.logoutRequest(fs.base, "", func(lr *crewjam.LogoutRequest) { lr.Destination = fs.base + "/elsewhere" })
		stale, _ := fs.a.logoutRequest(fs.base, "", func(lr *crewjam.LogoutRequest) { lr.IssueInstant = time.Now().Add(-time.Hour) })
		resp := &crewjam.LogoutResponse{ID: "_lrx", InResponseTo: "_nothing", Version: "2.0", IssueInstant: time.Now(), Destination: fs.base + server.PathSLO,
			Issuer: &crewjam.Issuer{Value: fs.b.sp.EntityID}, Status: crewjam.Status{StatusCode: crewjam.StatusCode{Value: saml.StatusSuccess}}}
		strayResponse := fs.b.redirect(fs.base+server.PathSLO, "SAMLResponse", resp.Element(), "no-such-chain")
		for name, u := range map[string]string{"unsigned": unsigned, "wrong Destination": wrongDest, "stale": stale, "LogoutResponse for no chain": strayResponse} {
			p := b.get(u)
			if p.status != http.StatusBadRequest || p.url.Path != server.PathSLO || strings.Contains(p.body, "SAMLResponse") {
				t.Errorf("%s: %d at %s, want a local 400 page", name, p.status, p.url)
			}
		}
		if fs.a.final != nil || fs.b.logouts != 0 {
			t.Error("a refused logout message reached an SP")
		}
		if sub := passiveAt(t, fs, b); sub != "" {
			t.Errorf("a refused logout message ended the session (passive: %q)", sub)
		}
	})
	t.Run("without sessions", func(t *testing.T) {
		fs := newFeatureStack(t, Options{})
		b := newBrowser(t)
		u, id := fs.a.authnRequest(fs.base, nil, "")
		fs.a.accept(mustForm(t, approve(t, b, b.get(u)), fs.a.sp.AcsURL.String()), id)
		u, _ = fs.a.logoutRequest(fs.base, "", nil)
		b.get(u)
		if f := fs.a.final; f == nil || f.Status.StatusCode.Value != saml.StatusSuccess {
			t.Fatalf("LogoutResponse = %+v, want Success (nothing to end)", f)
		}
	})
}

// TestUnsolicited covers IdP-initiated SSO at /saml/unsolicited
// (Shibboleth's convention), only for SPs configured for it.
func TestUnsolicited(t *testing.T) {
	allowA := func(sp *metadata.ServiceProvider) {
		if strings.HasSuffix(sp.EntityID, "/spa/metadata") {
			sp.AllowUnsolicited = true
		}
	}
	fs := newFeatureStack(t, Options{ConfigureSP: allowA})
	b := newBrowser(t)
	q := func(kv ...string) string {
		v := make([]string, 0, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			v = append(v, kv[i]+"="+urlEscape(kv[i+1]))
		}
		return fs.base + server.PathUnsolicited + "?" + strings.Join(v, "&")
	}
	p := b.get(q("providerId", fs.a.sp.EntityID, "target", "https://portal.example.org/home?x=1"))
	final := approve(t, b, p)
	form := mustForm(t, final, fs.a.sp.AcsURL.String())
	if form["RelayState"][0] != "https://portal.example.org/home?x=1" {
		t.Errorf("RelayState = %q, want the target", form["RelayState"])
	}
	a := fs.a.accept(form, "")
	if a.Subject.SubjectConfirmations[0].SubjectConfirmationData.InResponseTo != "" {
		t.Error("an unsolicited response carries InResponseTo")
	}

	for name, tc := range map[string]struct {
		url    string
		status int
	}{
		"SP not allowed":        {q("providerId", fs.b.sp.EntityID), http.StatusForbidden},
		"unknown SP":            {q("providerId", "https://unknown.example.org/sp"), http.StatusBadRequest},
		"no providerId":         {q("target", "x"), http.StatusBadRequest},
		"shire not in metadata": {q("providerId", fs.a.sp.EntityID, "shire", "https://evil.example.org/acs"), http.StatusBadRequest},
		"target with controls":  {q("providerId", fs.a.sp.EntityID, "target", "a\nb"), http.StatusBadRequest},
		"providerId twice":      {q("providerId", fs.a.sp.EntityID, "providerId", fs.b.sp.EntityID), http.StatusBadRequest},
	} {
		p := b.get(tc.url)
		if p.status != tc.status || strings.HasPrefix(p.url.Path, emulatorPathPrefix) || strings.Contains(p.body, "SAMLResponse") {
			t.Errorf("%s: %d at %s, want a local %d page", name, p.status, p.url, tc.status)
		}
	}
}

// inflateB64 decodes a Redirect-binding message parameter.
func inflateB64(v string) ([]byte, error) {
	compressed, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(flate.NewReader(bytes.NewReader(compressed)))
}

func urlEscape(s string) string {
	r := strings.NewReplacer("%", "%25", "&", "%26", "=", "%3D", "?", "%3F", "\n", "%0A", "+", "%2B", " ", "%20", "#", "%23")
	return r.Replace(s)
}

// TestSigningChoicesPerSP: RSA-SHA512 with only the Response signed for
// one SP, RSA-SHA1 for an SP marked legacy; crewjam's SP code verifies
// both.
func TestSigningChoicesPerSP(t *testing.T) {
	fs := newFeatureStack(t, Options{ConfigureSP: func(sp *metadata.ServiceProvider) {
		switch {
		case strings.HasSuffix(sp.EntityID, "/spa/metadata"):
			sp.Signing, sp.SignatureAlgorithm = "response", saml.SignatureRSASHA512
		case strings.HasSuffix(sp.EntityID, "/spb/metadata"):
			sp.Signing, sp.SignatureAlgorithm, sp.LegacySHA1 = "both", saml.SignatureRSASHA1, true
		}
	}})
	for _, tc := range []struct {
		sp         *peerSP
		alg        string
		signatures int // visible before decryption
	}{{fs.a, saml.SignatureRSASHA512, 1}, {fs.b, saml.SignatureRSASHA1, 1}} {
		b := newBrowser(t)
		u, id := tc.sp.authnRequest(fs.base, nil, "")
		form := mustForm(t, approve(t, b, b.get(u)), tc.sp.sp.AcsURL.String())
		raw := decodeB64(t, form["SAMLResponse"][0])
		if !strings.Contains(raw, `SignatureMethod Algorithm="`+tc.alg+`"`) || strings.Count(raw, "<ds:Signature ") != tc.signatures {
			t.Errorf("%s: want %d visible signature(s) with %s:\n%.600s", tc.sp.name, tc.signatures, tc.alg, raw)
		}
		tc.sp.accept(form, id)
	}
}

// TestForceAuthnNeedsAFreshConfirmation: with ForceAuthn the ID token's
// auth_time must not predate the flow; an ID token whose auth_time is an
// hour old is answered with Responder/AuthnFailed, and the same token
// without ForceAuthn is accepted.
func TestForceAuthnNeedsAFreshConfirmation(t *testing.T) {
	for _, force := range []bool{true, false} {
		t.Run(fmt.Sprint("ForceAuthn=", force), func(t *testing.T) {
			fs := newFeatureStack(t, Options{EmulatorHook: func(kind string, claims map[string]any) {
				if kind == "id_token" {
					claims["auth_time"] = time.Now().Add(-time.Hour).Unix()
				}
			}})
			var edit func(*etree.Element)
			if force {
				edit = setAttr("ForceAuthn", "true")
			}
			b := newBrowser(t)
			u, id := fs.a.authnRequest(fs.base, edit, "")
			form := mustForm(t, approve(t, b, b.get(u)), fs.a.sp.AcsURL.String())
			top, sub, hasAssertion := statusOf(t, form)
			if !force {
				fs.a.accept(form, id)
				return
			}
			if top != saml.StatusResponder || sub != saml.StatusAuthnFailed || hasAssertion {
				t.Errorf("stale auth_time under ForceAuthn: %s / %s (assertion %v), want Responder / AuthnFailed", top, sub, hasAssertion)
			}
		})
	}
}

// TestAES128CBCOnlySP: an SP whose metadata declares only AES-128-CBC
// gets an assertion encrypted with it (RSA-OAEP key transport), and
// crewjam's SP code decrypts and verifies it.
func TestAES128CBCOnlySP(t *testing.T) {
	fs := newFeatureStackMD(t, Options{}, func(ed *crewjam.EntityDescriptor) {
		role := &ed.SPSSODescriptors[0]
		for i := range role.KeyDescriptors {
			if role.KeyDescriptors[i].Use == "encryption" {
				role.KeyDescriptors[i].EncryptionMethods = []crewjam.EncryptionMethod{{Algorithm: saml.EncAES128CBC}}
			}
		}
	})
	b := newBrowser(t)
	u, id := fs.a.authnRequest(fs.base, nil, "")
	form := mustForm(t, approve(t, b, b.get(u)), fs.a.sp.AcsURL.String())
	raw := decodeB64(t, form.Get("SAMLResponse"))
	if !strings.Contains(raw, "EncryptedAssertion") || !strings.Contains(raw, `Algorithm="`+saml.EncAES128CBC+`"`) ||
		strings.Contains(raw, "aes256-gcm") || strings.Contains(raw, "Maxence") {
		t.Fatalf("assertion not encrypted with AES-128-CBC only:\n%.800s", raw)
	}
	a := fs.a.accept(form, id)
	if got := attributeNames(a); !slices.Equal(got, []string{"name", "firstName", "lastName"}) {
		t.Errorf("decrypted attributes %q", got)
	}
}

// TestArtifactBinding: an SP asking for the Response by HTTP-Artifact gets
// a redirect to its artifact ACS with SAMLart and the RelayState; crewjam's
// SP code resolves it at the bridge with a signed SOAP ArtifactResolve and
// verifies the Response; the artifact is single-use. With the binding off
// (the default) such a request is refused before any login starts.
func TestArtifactBinding(t *testing.T) {
	artifact := setAttr("ProtocolBinding", crewjam.HTTPArtifactBinding)
	t.Run("enabled", func(t *testing.T) {
		fs := newFeatureStack(t, Options{Artifact: server.ArtifactBinding{Enabled: true}})
		b := newBrowser(t)
		u, id := fs.a.authnRequest(fs.base, artifact, "rs-art")
		final := approve(t, b, b.get(u))
		if final.url.Path != "/spa/acs" || final.url.Query().Get("SAMLart") == "" || final.url.Query().Get("RelayState") != "rs-art" {
			t.Fatalf("want a redirect to the artifact ACS with SAMLart and RelayState, got %s", final.url)
		}
		resolve := func() (*crewjam.Assertion, error) {
			at := httptest.NewRequest(http.MethodGet, final.url.String(), nil)
			if err := at.ParseForm(); err != nil {
				t.Fatal(err)
			}
			return fs.a.sp.ParseResponse(at, []string{id})
		}
		a, err := resolve()
		if err != nil {
			var ire *crewjam.InvalidResponseError
			if asInvalid(err, &ire) {
				err = ire.PrivateErr
			}
			t.Fatalf("crewjam could not resolve the artifact: %v", err)
		}
		if a.Subject.NameID.Value == "" || len(a.AuthnStatements) != 1 {
			t.Errorf("assertion %+v", a)
		}
		if _, err := resolve(); err == nil {
			t.Error("the artifact resolved twice")
		}
	})
	t.Run("disabled", func(t *testing.T) {
		fs := newFeatureStack(t, Options{})
		b := newBrowser(t)
		u, _ := fs.a.authnRequest(fs.base, artifact, "")
		p := b.get(u)
		if p.status != http.StatusBadRequest || strings.HasPrefix(p.url.Path, emulatorPathPrefix) || strings.Contains(p.body, "SAMLResponse") {
			t.Errorf("artifact request with the binding off: %d at %s", p.status, p.url)
		}
		md := b.get(fs.base + server.PathMetadata)
		if strings.Contains(md.body, "ArtifactResolutionService") {
			t.Error("the metadata advertises artifact resolution while it is off")
		}
	})
}

// TestAttributeProfilesEndToEnd: an SP on the oid profile gets urn:oid
// names with NameFormat uri and values in that vocabulary's formats, and
// may ask for them by those names; an SP on the microsoft profile gets
// claim URIs.
func TestAttributeProfilesEndToEnd(t *testing.T) {
	fs := newFeatureStack(t, Options{ConfigureSP: func(sp *metadata.ServiceProvider) {
		switch {
		case strings.HasSuffix(sp.EntityID, "/spa/metadata"):
			sp.AttributeProfile = "oid"
		case strings.HasSuffix(sp.EntityID, "/spb/metadata"):
			sp.AttributeProfile = "microsoft"
		}
	}})
	values := func(a *crewjam.Assertion) map[string]string {
		out := map[string]string{}
		for _, st := range a.AttributeStatements {
			for _, at := range st.Attributes {
				out[at.Name+" "+at.NameFormat] = at.Values[0].Value
			}
		}
		return out
	}
	b := newBrowser(t)
	// The oid SP asks in its own vocabulary: mail and schacDateOfBirth.
	u, id := fs.a.authnRequest(fs.base, addRequestedAttributes("urn:oid:0.9.2342.19200300.100.1.3", "urn:oid:1.3.6.1.4.1.25178.1.2.3", "urn:oid:2.5.4.42"), "")
	got := values(fs.a.accept(mustForm(t, approve(t, b, b.get(u)), fs.a.sp.AcsURL.String()), id))
	uri := "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
	for name, want := range map[string]string{
		"urn:oid:0.9.2342.19200300.100.1.3 " + uri: "test@itsme.be",
		"urn:oid:1.3.6.1.4.1.25178.1.2.3 " + uri:   "19810424",
		"urn:oid:2.5.4.42 " + uri:                  "Maxence",
	} {
		if got[name] != want {
			t.Errorf("oid profile: %s = %q, want %q (all: %v)", name, got[name], want, got)
		}
	}
	if len(got) != 3 {
		t.Errorf("oid profile released %v, want exactly the three asked for", got)
	}
	u, id = fs.b.authnRequest(fs.base, addRequestedAttributes("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname"), "")
	got = values(fs.b.accept(mustForm(t, approve(t, b, b.get(u)), fs.b.sp.AcsURL.String()), id))
	found := false
	for k, v := range got {
		if strings.HasPrefix(k, "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname ") && v == "Maxence" {
			found = true
		}
	}
	if !found || len(got) != 1 {
		t.Errorf("microsoft profile released %v, want the givenname claim only", got)
	}
}
