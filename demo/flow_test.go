package demo

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/samlbridge/samlbridge/internal/htmlform"
)

// browser is a minimal scripted browser: a cookie jar, redirects followed,
// and forms submitted as found (hidden fields, checked radios, no button).
type browser struct {
	t      *testing.T
	client *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, client: &http.Client{Jar: jar}}
}

type page struct {
	status int
	url    *url.URL
	body   string
	header http.Header
}

func (b *browser) do(req *http.Request) *page {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return &page{status: resp.StatusCode, url: resp.Request.URL, body: string(body), header: resp.Header}
}

func (b *browser) get(u string) *page {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) *page {
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// form returns the first form's absolute action and the values a browser
// would submit for it when submitted without pressing a button.
func (p *page) form(t *testing.T) (string, url.Values) {
	t.Helper()
	action, vals, ok := htmlform.AsFound(p.body)
	if !ok {
		t.Fatalf("no form on %s (status %d):\n%s", p.url, p.status, p.body)
	}
	u, err := p.url.Parse(action)
	if err != nil {
		t.Fatal(err)
	}
	return u.String(), vals
}

// newTestStack starts a demo stack on a loopback httptest server.
func newTestStack(t *testing.T, hook func(string, map[string]any)) (*Stack, string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	base := "http://" + srv.Listener.Addr().String()
	stack, err := New(context.Background(), Options{BaseURL: base, EmulatorHook: hook, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = stack.Handler
	srv.Start()
	t.Cleanup(srv.Close)
	return stack, base
}

// login runs the flow up to the bridge's auto-POST page and returns it.
func login(t *testing.T, b *browser, base string, approve bool) *page {
	t.Helper()
	phone := b.get(base + PathSPLogin)
	if phone.status != http.StatusOK || !strings.HasPrefix(phone.url.Path, emulatorPathPrefix+"/") {
		t.Fatalf("expected the emulator's page, got %d at %s:\n%s", phone.status, phone.url, phone.body)
	}
	action, vals := phone.form(t)
	if !approve {
		vals.Set("action", "refuse")
	}
	return b.post(action, vals)
}

func samlResponseFrom(t *testing.T, p *page, wantACS string) (string, url.Values) {
	t.Helper()
	if p.status != http.StatusOK {
		t.Fatalf("bridge answered %d at %s:\n%s", p.status, p.url, p.body)
	}
	action, vals := p.form(t)
	if action != wantACS {
		t.Fatalf("form posts to %q, want the ACS %q", action, wantACS)
	}
	if vals.Get("SAMLResponse") == "" {
		t.Fatalf("no SAMLResponse in form:\n%s", p.body)
	}
	return action, vals
}

func TestEndToEndIdentification(t *testing.T) {
	stack, base := newTestStack(t, nil)
	b := newBrowser(t)
	final := login(t, b, base, true)
	acs, vals := samlResponseFrom(t, final, base+PathSPACS)
	if got := vals.Get("RelayState"); got != "demo-relay-state" {
		t.Errorf("RelayState = %q, want it returned exactly", got)
	}
	if cc := final.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("auto-POST page Cache-Control = %q", cc)
	}

	// crewjam/saml's SP verifies the signature, decrypts and validates.
	res, err := stack.SP.Parse(vals.Get("SAMLResponse"))
	if err != nil {
		t.Fatalf("crewjam SP rejected the response: %v", err)
	}
	issuer := base + emulatorPathPrefix
	want := map[string]string{
		"name":                  "Maxence Legrand",
		"firstName":             "Maxence",
		"lastName":              "Legrand",
		"gender":                "female",
		"dateOfBirth":           "1981-04-24",
		"locale":                "fr",
		"nin":                   "81042419835",
		"nin.type":              "PERSON",
		"nin.issuingCountry":    "BE",
		"email":                 "test@itsme.be",
		"phoneNumber":           "+32 453519681",
		"address":               "Rue Royale 82 1000 Bruxelles",
		"nationality":           "BE",
		"placeOfBirth":          "Bruxelles",
		"countryOfBirth":        "BE",
		"itsmeEid":              "123-4567890-02",
		"itsmeIssuanceLocality": "Bruxelles",
		"itsmeValidityFrom":     "2019-03-01T00:00:00Z",
		"itsmeValidityTo":       "2029-03-01T00:00:00Z",
		"itsmeReadDate":         "2024-04-01T10:00:00Z",
		"itsmeNationalNumber":   "810424 198 35",
	}
	for name, v := range want {
		if got := res.Attributes[name]; len(got) != 1 || got[0] != v {
			t.Errorf("attribute %s = %q, want [%q]", name, got, v)
		}
	}
	if got := res.Attributes["idpId"]; len(got) != 1 || !regexp.MustCompile(`^[a-z0-9]{36}$`).MatchString(got[0]) {
		t.Errorf("idpId = %q, want itsme's 36-character pairwise sub", got)
	}
	if extra := len(res.Attributes) - len(want) - 1; extra != 0 {
		t.Errorf("%d unexpected attributes in %v", extra, res.Attributes)
	}
	if res.NameIDFormat != "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent" {
		t.Errorf("NameID format = %q", res.NameIDFormat)
	}
	if res.NameID == "" || strings.Contains(res.NameID, "81042419835") || res.NameID == res.Attributes["idpId"][0] {
		t.Errorf("NameID %q must be pairwise, not the national number nor the itsme sub", res.NameID)
	}
	if res.NameQualifier != issuer {
		t.Errorf("NameQualifier = %q, want %q", res.NameQualifier, issuer)
	}
	if res.AuthnContextClassRef != "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI" {
		t.Errorf("AuthnContextClassRef = %q", res.AuthnContextClassRef)
	}
	if res.AuthenticatingAuthority != issuer {
		t.Errorf("AuthenticatingAuthority = %q, want %q", res.AuthenticatingAuthority, issuer)
	}
	if !res.Encrypted {
		t.Error("the demo SP publishes an encryption key, but the assertion was not encrypted")
	}
	if res.Issuer != base+"/saml/metadata" {
		t.Errorf("Issuer = %q", res.Issuer)
	}

	// The same response again is refused by the SP (it was consumed).
	if _, err := stack.SP.Parse(vals.Get("SAMLResponse")); err == nil {
		t.Error("the SP accepted a replayed response")
	}

	// A second login of the same person gives the same NameID (persistent).
	final2 := login(t, b, base, true)
	_, vals2 := samlResponseFrom(t, final2, acs)
	page := b.post(acs, vals2)
	if page.status != http.StatusOK || !strings.Contains(page.body, "Maxence Legrand") || !strings.Contains(page.body, html.EscapeString(res.NameID)) {
		t.Errorf("demo SP page after the second login (status %d) lacks the name or the same NameID:\n%s", page.status, page.body)
	}
}

func TestEndToEndAuthenticationOnly(t *testing.T) {
	stack, base := newTestStack(t, nil)
	b := newBrowser(t)
	phone := b.get(base + PathSPLogin + "?service=authentication")
	if !strings.Contains(phone.body, ServiceLogin) && !strings.Contains(phone.url.RawQuery, ServiceLogin) {
		t.Logf("note: emulator page does not show the service code")
	}
	action, vals := phone.form(t)
	final := b.post(action, vals)
	_, form := samlResponseFrom(t, final, base+PathSPACS)
	res, err := stack.SP.Parse(form.Get("SAMLResponse"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"nin", "email", "dateOfBirth", "address"} {
		if _, ok := res.Attributes[n]; ok {
			t.Errorf("authentication-only login released %s", n)
		}
	}
	if got := res.Attributes["firstName"]; len(got) != 1 || got[0] != "Maxence" {
		t.Errorf("firstName = %q", got)
	}
}

func TestEndToEndUserRefuses(t *testing.T) {
	stack, base := newTestStack(t, nil)
	b := newBrowser(t)
	final := login(t, b, base, false)
	_, vals := samlResponseFrom(t, final, base+PathSPACS)
	_, err := stack.SP.Parse(vals.Get("SAMLResponse"))
	if err == nil || !strings.Contains(err.Error(), "Responder") {
		t.Fatalf("SP parse: got %v, want a Responder status", err)
	}
	raw := decodeB64(t, vals.Get("SAMLResponse"))
	if !strings.Contains(raw, "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed") || strings.Contains(raw, "Assertion") {
		t.Errorf("refusal response should carry AuthnFailed and no assertion:\n%s", raw)
	}
}

// TestEndToEndBadTokens drives itsme answers the bridge must refuse.
func TestEndToEndBadTokens(t *testing.T) {
	tests := []struct {
		name string
		hook func(kind string, claims map[string]any)
	}{
		{"wrong nonce", func(k string, c map[string]any) {
			if k == "id_token" {
				c["nonce"] = "not-the-flow-nonce"
			}
		}},
		{"wrong issuer", func(k string, c map[string]any) {
			if k == "id_token" {
				c["iss"] = "https://evil.example/v2"
			}
		}},
		{"wrong audience", func(k string, c map[string]any) {
			if k == "id_token" {
				c["aud"] = "someone-else"
			}
		}},
		{"expired ID token", func(k string, c map[string]any) {
			if k == "id_token" {
				c["exp"] = 1000000000
			}
		}},
		{"userinfo for another subject", func(k string, c map[string]any) {
			if k == "userinfo" {
				c["sub"] = "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stack, base := newTestStack(t, tc.hook)
			b := newBrowser(t)
			final := login(t, b, base, true)
			_, vals := samlResponseFrom(t, final, base+PathSPACS)
			raw := decodeB64(t, vals.Get("SAMLResponse"))
			if strings.Contains(raw, "Assertion") || !strings.Contains(raw, "status:Responder") {
				t.Fatalf("want a Responder status without assertion, got:\n%s", raw)
			}
			if _, err := stack.SP.Parse(vals.Get("SAMLResponse")); err == nil {
				t.Error("SP accepted the response")
			}
		})
	}
}

func decodeB64(t *testing.T, s string) string {
	t.Helper()
	b, err := decodeStd(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
