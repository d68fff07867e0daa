package server

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/audit"
	"github.com/samlbridge/samlbridge/certs"
	"github.com/samlbridge/samlbridge/internal/samltest"
	"github.com/samlbridge/samlbridge/itsme"
	"github.com/samlbridge/samlbridge/metadata"
	"github.com/samlbridge/samlbridge/saml"
	"github.com/samlbridge/samlbridge/session"
	"github.com/samlbridge/samlbridge/session/memory"
)

// artifactKeys are the IdP's and the SPs' keys, made once.
var artifactKeys = sync.OnceValues(func() (map[string]*certs.KeyPair, error) {
	out := map[string]*certs.KeyPair{}
	for _, n := range []string{"idp", "sp", "other", "artonly"} {
		kp, err := certs.Generate(nil, 2048, "artifact test "+n+" (TEST KEY)", time.Now().Add(-time.Hour), 24*time.Hour)
		if err != nil {
			return nil, err
		}
		out[n] = kp
	}
	return out, nil
})

// fakeItsme approves every login as the same person.
type fakeItsme struct{}

func (fakeItsme) BeginAuth(_ context.Context, req itsme.AuthRequest) (itsme.AuthRequest, string, error) {
	var err error
	if req.State, req.Nonce, req.CodeVerifier, err = itsme.NewAuthRequestSecrets(nil); err != nil {
		return req, "", err
	}
	return req, "https://itsme.example/authorize?state=" + url.QueryEscape(req.State), nil
}

func (fakeItsme) Exchange(context.Context, string, itsme.AuthRequest) (*itsme.Identity, error) {
	return &itsme.Identity{Issuer: "https://itsme.example", Subject: "subject-artifact-1", Claims: map[string]any{}}, nil
}

// lockedAudit keeps the audit events of a server on another goroutine.
type lockedAudit struct {
	mu     sync.Mutex
	events []audit.Event
}

func (a *lockedAudit) Record(_ context.Context, e audit.Event) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, e)
}

func (a *lockedAudit) all() []audit.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.events)
}

// failingPuts is a store that cannot store records.
type failingPuts struct{ session.Store }

func (failingPuts) PutRecord(context.Context, string, []byte, time.Time) error {
	return fmt.Errorf("test: %w", session.ErrUnavailable)
}

// failingRecords is a store whose records are unreachable.
type failingRecords struct{ session.Store }

func (failingRecords) GetRecord(context.Context, string, time.Time) ([]byte, error) {
	return nil, fmt.Errorf("test: %w", session.ErrUnavailable)
}

// artifactWorld is a bridge served over HTTP with three crewjam SPs: sp
// and other (crewjam's metadata: one ACS URL with HTTP-POST and
// HTTP-Artifact) and artOnly (POST at /acs, Artifact only at /art).
type artifactWorld struct {
	base          string
	bridge        *Server
	srv           *httptest.Server
	keys          map[string]*certs.KeyPair
	sp, other     *crewjam.ServiceProvider
	artOnly       *crewjam.ServiceProvider
	store         session.Store
	audit         lockedAudit
	mu            sync.Mutex
	now           time.Time
	logs          bytes.Buffer
	logMu         sync.Mutex
	artifactOnRun bool
}

func (w *artifactWorld) clock() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.now
}

func (w *artifactWorld) advance(d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.now = w.now.Add(d)
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func newArtifactWorld(t *testing.T, enabled bool, store session.Store) *artifactWorld {
	t.Helper()
	keys, err := artifactKeys()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	w := &artifactWorld{base: "http://" + srv.Listener.Addr().String(), srv: srv, keys: keys, now: time.Now().UTC(), store: store}
	if w.store == nil {
		w.store = memory.New(0)
	}
	idpCfg := metadata.IDPConfig{EntityID: w.base + PathMetadata, SSOURL: w.base + PathSSO, SigningCerts: []*x509.Certificate{keys["idp"].Cert}}
	if enabled {
		idpCfg.ArtifactResolutionURL = w.base + PathArtifactResolve
	}
	idpMD, err := metadata.IDPMetadata(idpCfg)
	if err != nil {
		t.Fatal(err)
	}
	var idpED crewjam.EntityDescriptor
	if err := xml.Unmarshal(idpMD, &idpED); err != nil {
		t.Fatal(err)
	}
	newSP := func(name, acs string, edit func(*crewjam.EntityDescriptor)) (*crewjam.ServiceProvider, *metadata.ServiceProvider) {
		md, _ := url.Parse("https://" + name + ".example/metadata")
		acsURL, _ := url.Parse(acs)
		sp := &crewjam.ServiceProvider{EntityID: md.String(), Key: keys[name].Key, Certificate: keys[name].Cert, MetadataURL: *md, AcsURL: *acsURL,
			IDPMetadata: &idpED, SignatureMethod: saml.SignatureRSASHA256, HTTPClient: srv.Client()}
		ed := sp.Metadata()
		if edit != nil {
			edit(ed)
		}
		data, err := xml.Marshal(ed)
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := metadata.ParseServiceProviders(data, metadata.ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return sp, parsed[0]
	}
	var sps []*metadata.ServiceProvider
	var m *metadata.ServiceProvider
	w.sp, m = newSP("sp", "https://sp.example/acs", nil)
	sps = append(sps, m)
	w.other, m = newSP("other", "https://other.example/acs", nil)
	sps = append(sps, m)
	w.artOnly, m = newSP("artonly", "https://artonly.example/art", func(ed *crewjam.EntityDescriptor) {
		ed.SPSSODescriptors[0].AssertionConsumerServices = []crewjam.IndexedEndpoint{
			{Binding: crewjam.HTTPPostBinding, Location: "https://artonly.example/acs", Index: 1},
			{Binding: crewjam.HTTPArtifactBinding, Location: "https://artonly.example/art", Index: 2},
		}
	})
	sps = append(sps, m)
	reg, err := metadata.NewStaticRegistry(sps...)
	if err != nil {
		t.Fatal(err)
	}
	w.bridge, err = New(Config{
		ExternalURL:    w.base,
		Registry:       reg,
		Parser:         &saml.RequestParser{Registry: reg, SSOURL: w.base + PathSSO, Now: w.clock, ArtifactBinding: enabled},
		Artifact:       ArtifactBinding{Enabled: enabled},
		IDP:            &saml.IDP{EntityID: w.base + PathMetadata, Signer: &saml.Signer{Key: keys["idp"].Key, Certs: []*x509.Certificate{keys["idp"].Cert}}, Now: w.clock},
		IDPMetadata:    idpMD,
		Upstream:       fakeItsme{},
		Store:          w.store,
		Audit:          &w.audit,
		PairwiseSecret: bytes.Repeat([]byte{9}, 32),
		Now:            w.clock,
		Logger:         slog.New(slog.NewTextHandler(lockedWriter{&w.logMu, &w.logs}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = w.bridge
	srv.Start()
	t.Cleanup(srv.Close)
	return w
}

// login runs a login for sp asking for the answer by resultBinding (and
// edit), and returns where the bridge finally sends the browser: the
// callback's response.
func (w *artifactWorld) login(t *testing.T, sp *crewjam.ServiceProvider, resultBinding, relayState string, edit func(*crewjam.AuthnRequest)) (*http.Response, string) {
	t.Helper()
	req, err := sp.MakeAuthenticationRequest(w.base+PathSSO, crewjam.HTTPRedirectBinding, resultBinding)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(req)
	}
	// crewjam puts RelayState into the query unescaped.
	u, err := req.Redirect(url.QueryEscape(relayState), sp)
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Transport: w.srv.Client().Transport, Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Host != "itsme.example" {
		return resp, req.ID // answered without itsme
	}
	resp, err = client.Get(w.base + PathCallback + "?code=code-1&state=" + url.QueryEscape(loc.Query().Get("state")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp, req.ID
}

// artifactFrom checks that resp redirects to acs with SAMLart and the
// RelayState exactly as sent, and returns the artifact.
func artifactFrom(t *testing.T, resp *http.Response, acs, relayState string) string {
	t.Helper()
	if resp.StatusCode != http.StatusFound {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d, want a 302 to the artifact ACS; body %.300s; location %q", resp.StatusCode, body, resp.Header.Get("Location"))
	}
	loc := resp.Header.Get("Location")
	u, err := url.Parse(loc)
	if err != nil || !strings.HasPrefix(loc, acs+"?SAMLart=") {
		t.Fatalf("Location %q, want %s?SAMLart=...", loc, acs)
	}
	q := u.Query()
	if got, ok := q["RelayState"]; relayState != "" && (!ok || len(got) != 1 || got[0] != relayState) {
		t.Errorf("RelayState %q, want %q", got, relayState)
	}
	if resp.Header.Get("Referrer-Policy") != "no-referrer" || !strings.Contains(resp.Header.Get("Cache-Control"), "no-store") {
		t.Errorf("headers %v: the artifact redirect must not be cached or leak a Referer", resp.Header)
	}
	a, err := saml.ParseArtifact(q.Get("SAMLart"))
	if err != nil {
		t.Fatalf("SAMLart: %v", err)
	}
	return a.String()
}

// resolveOutcome is what the bridge answered to an ArtifactResolve.
type resolveOutcome struct {
	httpStatus       int
	fault            string // faultcode, for a SOAP fault
	status, sub      string
	inResponseTo     string
	hasResponse      bool
	responseStatus   string // the inner Response's top-level status
	responseSubCode  string
	responseHasAsser bool
}

// resolve posts a SOAP ArtifactResolve from sp for artifact, changed by
// edit and signed with kp (nil: unsigned), and reads the answer.
func (w *artifactWorld) resolve(t *testing.T, sp *crewjam.ServiceProvider, kp *certs.KeyPair, artifact string, edit func(*etree.Element)) (resolveOutcome, string) {
	t.Helper()
	id := fmt.Sprintf("id-resolve-%d", time.Now().UnixNano())
	r := crewjam.ArtifactResolve{ID: id, Version: "2.0", IssueInstant: w.clock(),
		Issuer: &crewjam.Issuer{Format: saml.NameIDFormatEntity, Value: sp.EntityID}, Artifact: artifact}
	el := r.Element()
	if edit != nil {
		edit(el)
	}
	if kp != nil {
		var err error
		if el, err = (&saml.Signer{Key: kp.Key, Certs: []*x509.Certificate{kp.Cert}}).SignEnveloped(el); err != nil {
			t.Fatal(err)
		}
	}
	return w.post(t, el), id
}

// post sends el in a SOAP envelope to the resolution endpoint.
func (w *artifactWorld) post(t *testing.T, el *etree.Element) resolveOutcome {
	t.Helper()
	env := etree.NewElement("soapenv:Envelope")
	env.CreateAttr("xmlns:soapenv", "http://schemas.xmlsoap.org/soap/envelope/")
	env.CreateElement("soapenv:Body").AddChild(el)
	body, err := samltest.ElementBytes(env)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := w.srv.Client().Post(w.base+PathArtifactResolve, "text/xml; charset=utf-8", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := resolveOutcome{httpStatus: resp.StatusCode}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		return out
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") {
		t.Errorf("Content-Type %q, want text/xml", ct)
	}
	if f := doc.FindElement("//Fault/faultcode"); f != nil {
		out.fault = f.Text()
		return out
	}
	ar := doc.FindElement("//Body/ArtifactResponse")
	if ar == nil {
		t.Fatalf("no ArtifactResponse in %.300s", raw)
	}
	if ar.FindElement("./Signature") == nil {
		t.Error("the ArtifactResponse is not signed")
	}
	out.inResponseTo = ar.SelectAttrValue("InResponseTo", "")
	out.status = ar.FindElement("./Status/StatusCode").SelectAttrValue("Value", "")
	if sc := ar.FindElement("./Status/StatusCode/StatusCode"); sc != nil {
		out.sub = sc.SelectAttrValue("Value", "")
	}
	if r := ar.FindElement("./Response"); r != nil {
		out.hasResponse = true
		out.responseStatus = r.FindElement("./Status/StatusCode").SelectAttrValue("Value", "")
		if sc := r.FindElement("./Status/StatusCode/StatusCode"); sc != nil {
			out.responseSubCode = sc.SelectAttrValue("Value", "")
		}
		out.responseHasAsser = r.FindElement("./Assertion") != nil || r.FindElement("./EncryptedAssertion") != nil
	}
	return out
}

func (w *artifactWorld) spKey(sp *crewjam.ServiceProvider) *certs.KeyPair {
	return &certs.KeyPair{Key: sp.Key.(*rsa.PrivateKey), Cert: sp.Certificate}
}

// wantEmpty checks an empty Success answer (saml-core §3.5.3).
func wantEmpty(t *testing.T, got resolveOutcome, id string) {
	t.Helper()
	if got.httpStatus != http.StatusOK || got.status != saml.StatusSuccess || got.sub != "" || got.hasResponse || got.inResponseTo != id {
		t.Errorf("got %+v; want HTTP 200, Success, no message, InResponseTo %q", got, id)
	}
}

// wantMessage checks a Success answer carrying the login's Response.
func wantMessage(t *testing.T, got resolveOutcome, id string) {
	t.Helper()
	if got.httpStatus != http.StatusOK || got.status != saml.StatusSuccess || !got.hasResponse || !got.responseHasAsser || got.inResponseTo != id {
		t.Errorf("got %+v; want HTTP 200, Success with the Response and its assertion, InResponseTo %q", got, id)
	}
}

func wantDenied(t *testing.T, got resolveOutcome, id string) {
	t.Helper()
	if got.httpStatus != http.StatusOK || got.status != saml.StatusRequester || got.sub != saml.StatusRequestDenied || got.hasResponse || got.inResponseTo != id {
		t.Errorf("got %+v; want HTTP 200, Requester/RequestDenied, no message, InResponseTo %q", got, id)
	}
}

// TestArtifactLoginWithCrewjamSP is a whole login by the HTTP-Artifact
// binding: a crewjam SP asks for it, the bridge redirects the browser to
// the SP's artifact ACS with SAMLart and the RelayState as received, and
// crewjam's own artifact code resolves it with a signed ArtifactResolve
// over SOAP and verifies the signed ArtifactResponse and the Response in
// it. The artifact is then spent.
func TestArtifactLoginWithCrewjamSP(t *testing.T) {
	w := newArtifactWorld(t, true, nil)
	const relay = "back/to?page=ü x&y=1"
	resp, reqID := w.login(t, w.sp, crewjam.HTTPArtifactBinding, relay, nil)
	art := artifactFrom(t, resp, "https://sp.example/acs", relay)

	r := httptest.NewRequest(http.MethodGet, resp.Header.Get("Location"), nil)
	if err := r.ParseForm(); err != nil {
		t.Fatal(err)
	}
	a, err := w.sp.ParseResponse(r, []string{reqID})
	if err != nil {
		var ire *crewjam.InvalidResponseError
		if errors.As(err, &ire) {
			err = ire.PrivateErr
		}
		t.Fatalf("crewjam SP could not resolve the artifact: %v\nbridge logs:\n%s", err, w.logs.String())
	}
	if a.Issuer.Value != w.base+PathMetadata || a.Subject.NameID.Value == "" ||
		a.Subject.SubjectConfirmations[0].SubjectConfirmationData.InResponseTo != reqID {
		t.Errorf("assertion issuer %q, NameID %q", a.Issuer.Value, a.Subject.NameID.Value)
	}
	// Single use (saml-core §3.5.3): a second resolution gets nothing.
	got, id := w.resolve(t, w.sp, w.spKey(w.sp), art, nil)
	wantEmpty(t, got, id)
	if strings.Contains(w.logs.String(), art) {
		t.Error("the artifact was logged")
	}
}

// TestArtifactResolveRefusals covers what must never give an SP the
// message: each case gets a fresh login by artifact, makes one hostile or
// late resolution, checks the exact answer, and then checks whether the
// rightful SP can still resolve the artifact.
func TestArtifactResolveRefusals(t *testing.T) {
	tests := []struct {
		name string
		// attack resolves art and checks the answer.
		attack func(t *testing.T, w *artifactWorld, art string)
		// stillThere: the rightful SP still gets the message afterwards.
		stillThere bool
	}{
		{name: "unsigned", stillThere: true, attack: func(t *testing.T, w *artifactWorld, art string) {
			got, id := w.resolve(t, w.sp, nil, art, nil)
			wantDenied(t, got, id)
		}},
		{name: "signed with a key not in the SP's metadata", stillThere: true, attack: func(t *testing.T, w *artifactWorld, art string) {
			got, id := w.resolve(t, w.sp, w.keys["other"], art, nil)
			wantDenied(t, got, id)
		}},
		{name: "resolved by another SP", stillThere: true, attack: func(t *testing.T, w *artifactWorld, art string) {
			got, id := w.resolve(t, w.other, w.spKey(w.other), art, nil)
			wantEmpty(t, got, id)
		}},
		{name: "wrong Destination", stillThere: true, attack: func(t *testing.T, w *artifactWorld, art string) {
			got, id := w.resolve(t, w.sp, w.spKey(w.sp), art, func(el *etree.Element) { el.CreateAttr("Destination", w.base+PathSSO) })
			wantDenied(t, got, id)
		}},
		{name: "stale IssueInstant", stillThere: true, attack: func(t *testing.T, w *artifactWorld, art string) {
			got, id := w.resolve(t, w.sp, w.spKey(w.sp), art, func(el *etree.Element) {
				el.CreateAttr("IssueInstant", w.clock().Add(-time.Hour).Format(time.RFC3339))
			})
			wantDenied(t, got, id)
		}},
		{name: "wrapped signatures", stillThere: true, attack: func(t *testing.T, w *artifactWorld, art string) {
			signed, err := (&saml.Signer{Key: w.keys["sp"].Key, Certs: []*x509.Certificate{w.keys["sp"].Cert}}).SignEnveloped(
				(&crewjam.ArtifactResolve{ID: "id-harmless", Version: "2.0", IssueInstant: w.clock(),
					Issuer: &crewjam.Issuer{Value: w.sp.EntityID}, Artifact: "AAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}).Element())
			if err != nil {
				t.Fatal(err)
			}
			for n := 1; n <= samltest.XSWVariants; n++ {
				el, err := samltest.XSW(signed, n, "Destination", w.base+PathArtifactResolve)
				if err != nil {
					t.Fatal(err)
				}
				if a := el.FindElement("./Artifact"); a != nil {
					a.SetText(art)
				}
				got := w.post(t, el)
				if got.hasResponse || (got.fault == "" && got.sub != saml.StatusRequestDenied && got.status != saml.StatusRequester) {
					t.Errorf("XSW%d: got %+v, want a refusal", n, got)
				}
			}
		}},
		{name: "expired", attack: func(t *testing.T, w *artifactWorld, art string) {
			w.advance(DefaultArtifactLifetime)
			got, id := w.resolve(t, w.sp, w.spKey(w.sp), art, nil)
			wantEmpty(t, got, id)
		}},
		{name: "replayed artifact", attack: func(t *testing.T, w *artifactWorld, art string) {
			got, id := w.resolve(t, w.sp, w.spKey(w.sp), art, nil)
			wantMessage(t, got, id)
			got, id = w.resolve(t, w.sp, w.spKey(w.sp), art, nil)
			wantEmpty(t, got, id)
		}},
		{name: "replayed ArtifactResolve", attack: func(t *testing.T, w *artifactWorld, art string) {
			el, err := (&saml.Signer{Key: w.keys["sp"].Key, Certs: []*x509.Certificate{w.keys["sp"].Cert}}).SignEnveloped(
				(&crewjam.ArtifactResolve{ID: "id-once", Version: "2.0", IssueInstant: w.clock(),
					Issuer: &crewjam.Issuer{Value: w.sp.EntityID}, Artifact: art}).Element())
			if err != nil {
				t.Fatal(err)
			}
			wantMessage(t, w.post(t, el.Copy()), "id-once")
			wantDenied(t, w.post(t, el.Copy()), "id-once")
		}},
		{name: "artifact of another issuer", stillThere: true, attack: func(t *testing.T, w *artifactWorld, art string) {
			a, _ := saml.ParseArtifact(art)
			a.SourceID = saml.ArtifactSourceID("https://other-idp.example/")
			got, id := w.resolve(t, w.sp, w.spKey(w.sp), a.String(), nil)
			wantEmpty(t, got, id)
		}},
		{name: "malformed artifact", stillThere: true, attack: func(t *testing.T, w *artifactWorld, art string) {
			got, id := w.resolve(t, w.sp, w.spKey(w.sp), art[:40], nil)
			wantEmpty(t, got, id)
		}},
		{name: "not SOAP", stillThere: true, attack: func(t *testing.T, w *artifactWorld, art string) {
			resp, err := w.srv.Client().Post(w.base+PathArtifactResolve, "text/xml", strings.NewReader("SAMLart="+url.QueryEscape(art)))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusInternalServerError || !bytes.Contains(body, []byte("<faultcode>SOAP-ENV:Client</faultcode>")) {
				t.Errorf("status %d body %.200s; want a SOAP Client fault with HTTP 500", resp.StatusCode, body)
			}
		}},
		{name: "GET", stillThere: true, attack: func(t *testing.T, w *artifactWorld, art string) {
			resp, err := w.srv.Client().Get(w.base + PathArtifactResolve + "?SAMLart=" + url.QueryEscape(art))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("status %d, want 405", resp.StatusCode)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newArtifactWorld(t, true, nil)
			resp, _ := w.login(t, w.sp, crewjam.HTTPArtifactBinding, "rs", nil)
			art := artifactFrom(t, resp, "https://sp.example/acs", "rs")
			tc.attack(t, w, art)
			got, id := w.resolve(t, w.sp, w.spKey(w.sp), art, nil)
			if tc.stillThere {
				wantMessage(t, got, id)
			} else {
				wantEmpty(t, got, id)
			}
		})
	}
}

// TestArtifactBindingChoice checks that only an SP asking for the
// Artifact binding gets it, that error statuses reach an artifact-only
// ACS by artifact, and that the store being down is a Responder status.
func TestArtifactBindingChoice(t *testing.T) {
	t.Run("POST stays POST", func(t *testing.T) {
		w := newArtifactWorld(t, true, nil)
		resp, _ := w.login(t, w.sp, crewjam.HTTPPostBinding, "rs", nil)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`name="SAMLResponse"`)) || !bytes.Contains(body, []byte(`action="https://sp.example/acs"`)) {
			t.Errorf("status %d, body %.300s; want the auto-POST form", resp.StatusCode, body)
		}
	})
	t.Run("error status to an artifact-only ACS", func(t *testing.T) {
		w := newArtifactWorld(t, true, nil)
		resp, _ := w.login(t, w.artOnly, crewjam.HTTPArtifactBinding, "rs", func(r *crewjam.AuthnRequest) {
			r.NameIDPolicy = &crewjam.NameIDPolicy{Format: ptr("urn:example:unsupported-format")}
		})
		art := artifactFrom(t, resp, "https://artonly.example/art", "rs")
		got, id := w.resolve(t, w.artOnly, w.spKey(w.artOnly), art, nil)
		if got.status != saml.StatusSuccess || !got.hasResponse || got.responseHasAsser || got.inResponseTo != id ||
			got.responseStatus != saml.StatusRequester || got.responseSubCode != saml.StatusInvalidNameIDPolicy {
			t.Errorf("got %+v; want Success carrying a Requester/InvalidNameIDPolicy Response", got)
		}
	})
	t.Run("binding off", func(t *testing.T) {
		w := newArtifactWorld(t, false, nil)
		resp, _ := w.login(t, w.sp, crewjam.HTTPArtifactBinding, "rs", nil)
		if resp.StatusCode == http.StatusFound || resp.Header.Get("Location") != "" {
			t.Errorf("status %d to %q: an artifact was issued with the binding off", resp.StatusCode, resp.Header.Get("Location"))
		}
		r, err := w.srv.Client().Post(w.base+PathArtifactResolve, "text/xml", strings.NewReader("<x/>"))
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusNotFound {
			t.Errorf("resolution endpoint: status %d, want 404 with the binding off", r.StatusCode)
		}
	})
	t.Run("artifact cannot be stored", func(t *testing.T) {
		// The Response cannot reach the SP: the user gets the local
		// page, and the audit says so instead of "success".
		w := newArtifactWorld(t, true, failingPuts{memory.New(0)})
		resp, _ := w.login(t, w.sp, crewjam.HTTPArtifactBinding, "rs", nil)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Location") != "" || !bytes.Contains(body, []byte(`data-code="`+codeStoreDown+`"`)) {
			t.Errorf("status %d, Location %q; want the store-down page", resp.StatusCode, resp.Header.Get("Location"))
		}
		var last audit.Event
		for _, e := range w.audit.all() {
			if e.Stage == audit.StageCallback {
				last = e
			}
		}
		if last.Outcome != audit.Rejected || last.Reason != reasonStoreUnavailable || last.SP != w.sp.EntityID {
			t.Errorf("the callback's audit event is %+v; want rejected, %s", last, reasonStoreUnavailable)
		}
	})
	t.Run("store down", func(t *testing.T) {
		w := newArtifactWorld(t, true, failingRecords{memory.New(0)})
		resp, _ := w.login(t, w.sp, crewjam.HTTPArtifactBinding, "rs", nil)
		art := artifactFrom(t, resp, "https://sp.example/acs", "rs")
		got, id := w.resolve(t, w.sp, w.spKey(w.sp), art, nil)
		if got.status != saml.StatusResponder || got.hasResponse || got.inResponseTo != id {
			t.Errorf("got %+v; want Responder and no message", got)
		}
	})
}

func ptr[T any](v T) *T { return &v }
