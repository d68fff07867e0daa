package demo

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/certs"
)

// assertLocalError checks that the bridge showed its own error page with
// the given status and text, and posted nothing anywhere.
func assertLocalError(t *testing.T, p *page, status int, text string) {
	t.Helper()
	if p.status != status {
		t.Errorf("status %d, want %d; body:\n%s", p.status, status, p.body)
	}
	if strings.Contains(p.body, "SAMLResponse") || strings.Contains(p.body, "<form") {
		t.Errorf("the error page carries a form:\n%s", p.body)
	}
	if !strings.Contains(p.body, text) {
		t.Errorf("error page lacks %q:\n%s", text, p.body)
	}
	if !strings.HasPrefix(p.url.Path, "/saml/") && !strings.HasPrefix(p.url.Path, "/oidc/") {
		t.Errorf("ended at %s, want the bridge's own page (no redirect)", p.url)
	}
}

func TestRejectedRequests(t *testing.T) {
	stack, base := newTestStack(t, nil)
	noRedirect := func(b *browser) {
		b.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}

	t.Run("unknown SP", func(t *testing.T) {
		kp, err := certs.Generate(nil, 2048, "stranger", time.Now(), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		md, _ := url.Parse("https://stranger.example/metadata")
		acs, _ := url.Parse("https://stranger.example/acs")
		stranger := &crewjam.ServiceProvider{EntityID: md.String(), Key: kp.Key, Certificate: kp.Cert, MetadataURL: *md, AcsURL: *acs, IDPMetadata: stack.SP.SAML.IDPMetadata}
		u, err := stranger.MakeRedirectAuthenticationRequest("")
		if err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t)
		noRedirect(b)
		assertLocalError(t, b.get(u.String()), http.StatusBadRequest, "not registered")
	})

	t.Run("ACS not in metadata", func(t *testing.T) {
		req, err := stack.SP.SAML.MakeAuthenticationRequest(base+"/saml/sso", crewjam.HTTPRedirectBinding, crewjam.HTTPPostBinding)
		if err != nil {
			t.Fatal(err)
		}
		req.AssertionConsumerServiceURL = "https://evil.example/steal"
		u, err := req.Redirect("", stack.SP.SAML)
		if err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t)
		noRedirect(b)
		p := b.get(u.String())
		assertLocalError(t, p, http.StatusBadRequest, "")
		if strings.Contains(p.body, "evil.example") {
			t.Error("the error page echoes the attacker's ACS URL")
		}
	})

	t.Run("bad signature", func(t *testing.T) {
		u, err := stack.SP.LoginURL(IndexIdentification, "rs")
		if err != nil {
			t.Fatal(err)
		}
		parsed, _ := url.Parse(u)
		q := parsed.Query()
		sig := []byte(q.Get("Signature"))
		sig[10] ^= 'A' ^ 'B'
		if sig[10] == q.Get("Signature")[10] {
			sig[10] = 'Q'
		}
		q.Set("Signature", string(sig))
		parsed.RawQuery = q.Encode()
		b := newBrowser(t)
		noRedirect(b)
		assertLocalError(t, b.get(parsed.String()), http.StatusBadRequest, "sign")
	})

	t.Run("RelayState changed after signing", func(t *testing.T) {
		u, err := stack.SP.LoginURL(IndexIdentification, "original")
		if err != nil {
			t.Fatal(err)
		}
		tampered := strings.Replace(u, "RelayState=original", "RelayState=tampered", 1)
		b := newBrowser(t)
		noRedirect(b)
		assertLocalError(t, b.get(tampered), http.StatusBadRequest, "")
	})

	t.Run("signature stripped", func(t *testing.T) {
		u, err := stack.SP.LoginURL(IndexIdentification, "rs")
		if err != nil {
			t.Fatal(err)
		}
		parsed, _ := url.Parse(u)
		q := parsed.Query()
		q.Del("Signature")
		q.Del("SigAlg")
		parsed.RawQuery = q.Encode()
		b := newBrowser(t)
		noRedirect(b)
		assertLocalError(t, b.get(parsed.String()), http.StatusBadRequest, "sign")
	})

	t.Run("replayed request ID", func(t *testing.T) {
		u, err := stack.SP.LoginURL(IndexIdentification, "rs")
		if err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t)
		noRedirect(b)
		first := b.get(u)
		if first.status != http.StatusFound {
			t.Fatalf("first use: status %d:\n%s", first.status, first.body)
		}
		assertLocalError(t, b.get(u), http.StatusBadRequest, "already used")
	})
}

func TestCallbackBindingAndReuse(t *testing.T) {
	_, base := newTestStack(t, nil)
	alice := newBrowser(t)
	phone := alice.get(base + PathSPLogin)
	action, vals := phone.form(t)

	// Mallory finishes Alice's flow in another browser: the bridge must
	// refuse (login CSRF), since the flow cookie is missing.
	mallory := newBrowser(t)
	mallory.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	approved := mallory.post(action, vals)
	loc := approved.header.Get("Location")
	if approved.status != http.StatusFound || !strings.Contains(loc, "/oidc/callback?") {
		t.Fatalf("emulator did not redirect to the callback: %d %q", approved.status, loc)
	}
	assertLocalError(t, mallory.get(loc), http.StatusBadRequest, "another browser")

	// That attempt did not use up Alice's login: her own browser still
	// finishes it, and only once.
	mustForm(t, alice.get(loc), base+PathSPACS)
	assertLocalError(t, alice.get(loc), http.StatusBadRequest, "expired")
}

// TestCallbackFromAnotherIssuer checks the RFC 9207 mix-up defence: an
// authorization response naming another issuer is not redeemed, and the
// SP gets an error status (the request itself was valid).
func TestCallbackFromAnotherIssuer(t *testing.T) {
	stack, base := newTestStack(t, nil)
	b := newBrowser(t)
	b.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	login := b.get(base + PathSPLogin)
	sso := b.get(login.header.Get("Location"))
	authz := b.get(sso.header.Get("Location"))
	action, vals := authz.form(t)
	approved := b.post(action, vals)
	loc := approved.header.Get("Location")
	if !strings.Contains(loc, "/oidc/callback?") {
		t.Fatalf("no callback redirect: %d %q", approved.status, loc)
	}
	p := b.get(loc + "&iss=" + url.QueryEscape("https://idp.prd.itsme.services/v2"))
	_, form := samlResponseFrom(t, p, base+PathSPACS)
	raw := decodeB64(t, form.Get("SAMLResponse"))
	if strings.Contains(raw, "Assertion") || !strings.Contains(raw, "status:AuthnFailed") {
		t.Errorf("want AuthnFailed without assertion:\n%s", raw)
	}
	if _, err := stack.SP.Parse(form.Get("SAMLResponse")); err == nil {
		t.Error("the SP accepted it")
	}
}
