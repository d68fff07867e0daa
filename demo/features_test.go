package demo

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/certs"
	"github.com/samlbridge/samlbridge/internal/samltest"
	"github.com/samlbridge/samlbridge/metadata"
	"github.com/samlbridge/samlbridge/server"
)

// peerSP is a second service provider for the feature tests: a crewjam SP
// at /<name>/ on the stack's server, with a Single Logout endpoint that
// checks the bridge's LogoutRequest (query signature by the bridge's key,
// NameID and SessionIndex as issued) and answers with a signed
// LogoutResponse by HTTP-Redirect, as a real SP would.
type peerSP struct {
	t    *testing.T
	name string
	sp   *crewjam.ServiceProvider
	key  *rsa.PrivateKey
	base string

	mu        sync.Mutex
	nameID    string
	sessionIx string
	logouts   int    // LogoutRequests received and verified
	failNext  bool   // answer the next LogoutRequest with Responder
	lastError string // why the last message was refused
	// editMD, when set, changes the SP's metadata before registration.
	editMD func(*crewjam.EntityDescriptor)
	// final is the last LogoutResponse the bridge sent this SP, verified.
	final      *crewjam.LogoutResponse
	finalRelay string
}

func newPeerSP(t *testing.T, base, name string) *peerSP {
	t.Helper()
	kp, err := certs.Generate(nil, 2048, name+" SP (TEST KEY)", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	md, _ := url.Parse(base + "/" + name + "/metadata")
	acs, _ := url.Parse(base + "/" + name + "/acs")
	slo, _ := url.Parse(base + "/" + name + "/slo")
	sp := &crewjam.ServiceProvider{EntityID: md.String(), Key: kp.Key, Certificate: kp.Cert, MetadataURL: *md, AcsURL: *acs, SloURL: *slo,
		SignatureMethod: samltest.RSASHA256, AuthnNameIDFormat: crewjam.PersistentNameIDFormat}
	return &peerSP{t: t, name: name, sp: sp, key: kp.Key, base: base}
}

// metadata is the SP's metadata with one SingleLogoutService, by
// HTTP-Redirect.
func (p *peerSP) metadata() []byte {
	ed := p.sp.Metadata()
	ed.SPSSODescriptors[0].SingleLogoutServices = []crewjam.Endpoint{{Binding: crewjam.HTTPRedirectBinding, Location: p.sp.SloURL.String()}}
	if p.editMD != nil {
		p.editMD(ed)
	}
	out, err := xml.Marshal(ed)
	if err != nil {
		p.t.Fatal(err)
	}
	return out
}

// redirect returns the bridge URL for a message this SP signs by the
// HTTP-Redirect binding (field SAMLRequest or SAMLResponse).
func (p *peerSP) redirect(target, field string, el *etree.Element, relay string) string {
	p.t.Helper()
	doc := etree.NewDocument()
	doc.SetRoot(el)
	raw, err := doc.WriteToBytes()
	if err != nil {
		p.t.Fatal(err)
	}
	q := field + "=" + url.QueryEscape(base64.StdEncoding.EncodeToString(samltest.Deflate(raw)))
	if relay != "" {
		q += "&RelayState=" + url.QueryEscape(relay)
	}
	q += "&SigAlg=" + url.QueryEscape(samltest.RSASHA256)
	sig, err := samltest.SignOctets(p.key, samltest.RSASHA256, q)
	if err != nil {
		p.t.Fatal(err)
	}
	return target + "?" + q + "&Signature=" + url.QueryEscape(base64.StdEncoding.EncodeToString(sig))
}

// authnRequest returns a signed Redirect AuthnRequest URL to the bridge,
// after edit changes the request's XML (Scoping, Extensions, ...).
func (p *peerSP) authnRequest(bridge string, edit func(*etree.Element), relay string) (string, string) {
	p.t.Helper()
	req, err := p.sp.MakeAuthenticationRequest(bridge+"/saml/sso", crewjam.HTTPRedirectBinding, crewjam.HTTPPostBinding)
	if err != nil {
		p.t.Fatal(err)
	}
	el := req.Element()
	if edit != nil {
		edit(el)
	}
	return p.redirect(bridge+"/saml/sso", "SAMLRequest", el, relay), req.ID
}

// accept validates a response posted to this SP's ACS with crewjam's SP
// code and remembers the NameID and SessionIndex for logout.
func (p *peerSP) accept(form url.Values, requestID string) *crewjam.Assertion {
	p.t.Helper()
	a, err := p.acceptErr(form, requestID)
	if err != nil {
		p.t.Fatal(err)
	}
	return a
}

// acceptErr is accept for any goroutine: it returns what is wrong.
func (p *peerSP) acceptErr(form url.Values, requestID string) (*crewjam.Assertion, error) {
	raw, err := base64.StdEncoding.DecodeString(form.Get("SAMLResponse"))
	if err != nil {
		return nil, err
	}
	ids := []string{requestID}
	p.mu.Lock()
	p.sp.AllowIDPInitiated = requestID == ""
	a, err := p.sp.ParseXMLResponse(raw, ids, p.sp.AcsURL)
	p.mu.Unlock()
	if err != nil {
		var ire *crewjam.InvalidResponseError
		if asInvalid(err, &ire) {
			err = ire.PrivateErr
		}
		return nil, fmt.Errorf("%s rejected the response: %w\n%s", p.name, err, raw)
	}
	p.mu.Lock()
	p.nameID = a.Subject.NameID.Value
	p.sessionIx = a.AuthnStatements[0].SessionIndex
	p.mu.Unlock()
	return a, nil
}

// ServeHTTP is the SP's Single Logout endpoint.
func (p *peerSP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fail := func(format string, a ...any) {
		p.mu.Lock()
		p.lastError = fmt.Sprintf(format, a...)
		p.mu.Unlock()
		http.Error(w, p.lastError, http.StatusBadRequest)
	}
	if r.URL.Path != "/"+p.name+"/slo" {
		http.NotFound(w, r)
		return
	}
	idpCert, err := idpSigningCert(p.sp.IDPMetadata)
	if err != nil {
		fail("%v", err)
		return
	}
	if r.URL.Query().Has("SAMLResponse") {
		raw, err := verifyBridgeRedirect(r.URL.RawQuery, "SAMLResponse", idpCert)
		if err != nil {
			fail("bridge LogoutResponse: %v", err)
			return
		}
		var lr crewjam.LogoutResponse
		if err := xml.Unmarshal(raw, &lr); err != nil {
			fail("decoding: %v", err)
			return
		}
		p.mu.Lock()
		p.final, p.finalRelay = &lr, r.URL.Query().Get("RelayState")
		p.mu.Unlock()
		_, _ = io.WriteString(w, "logged out at "+p.name)
		return
	}
	req, err := verifyBridgeRedirect(r.URL.RawQuery, "SAMLRequest", idpCert)
	if err != nil {
		fail("bridge LogoutRequest: %v", err)
		return
	}
	var lr crewjam.LogoutRequest
	if err := xml.Unmarshal(req, &lr); err != nil {
		fail("decoding: %v", err)
		return
	}
	p.mu.Lock()
	ok := lr.NameID != nil && lr.NameID.Value == p.nameID && lr.SessionIndex != nil && lr.SessionIndex.Value == p.sessionIx &&
		lr.Destination == p.sp.SloURL.String()
	failNext := p.failNext
	p.failNext = false
	if ok {
		p.logouts++
	}
	p.mu.Unlock()
	if !ok {
		fail("LogoutRequest names %+v / %+v, not this SP's session", lr.NameID, lr.SessionIndex)
		return
	}
	status := crewjam.StatusSuccess
	if failNext {
		status = crewjam.StatusResponder
	}
	resp := &crewjam.LogoutResponse{ID: "_" + strings.Repeat("b", 10) + fmt.Sprint(time.Now().UnixNano()), InResponseTo: lr.ID, Version: "2.0",
		IssueInstant: time.Now(), Destination: p.base + server.PathSLO,
		Issuer: &crewjam.Issuer{Format: "urn:oasis:names:tc:SAML:2.0:nameid-format:entity", Value: p.sp.EntityID},
		Status: crewjam.Status{StatusCode: crewjam.StatusCode{Value: status}}}
	http.Redirect(w, r, p.redirect(p.base+server.PathSLO, "SAMLResponse", resp.Element(), r.URL.Query().Get("RelayState")), http.StatusFound)
}

// idpSigningCert is the bridge's first signing certificate from its
// metadata.
func idpSigningCert(md *crewjam.EntityDescriptor) (*x509.Certificate, error) {
	for _, kd := range md.IDPSSODescriptors[0].KeyDescriptors {
		if kd.Use == "signing" {
			der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(kd.KeyInfo.X509Data.X509Certificates[0].Data))
			if err != nil {
				return nil, err
			}
			return x509.ParseCertificate(der)
		}
	}
	return nil, fmt.Errorf("no signing key in the IdP metadata")
}

// verifyBridgeRedirect checks an HTTP-Redirect message from the bridge
// independently of the bridge's code (saml-bindings §3.4.4.1): the
// RSA-SHA256 signature over the raw octets, then inflates the message.
func verifyBridgeRedirect(rawQuery, field string, cert *x509.Certificate) ([]byte, error) {
	raw := map[string]string{}
	for _, part := range strings.Split(rawQuery, "&") {
		k, v, _ := strings.Cut(part, "=")
		raw[k] = v
	}
	if raw["SigAlg"] != url.QueryEscape(samltest.RSASHA256) {
		return nil, fmt.Errorf("SigAlg %q", raw["SigAlg"])
	}
	octets := field + "=" + raw[field]
	if v, ok := raw["RelayState"]; ok {
		octets += "&RelayState=" + v
	}
	octets += "&SigAlg=" + raw["SigAlg"]
	sigB64, err := url.QueryUnescape(raw["Signature"])
	if err != nil {
		return nil, err
	}
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(octets))
	if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, sum[:], sig); err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	msgB64, err := url.QueryUnescape(raw[field])
	if err != nil {
		return nil, err
	}
	compressed, err := base64.StdEncoding.DecodeString(msgB64)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(flate.NewReader(bytes.NewReader(compressed)))
}

// featureStack runs a demo stack with two peer SPs (a and b) registered
// next to the demo SP.
type featureStack struct {
	stack *Stack
	base  string
	a, b  *peerSP
}

func newFeatureStack(t *testing.T, opts Options) *featureStack {
	return newFeatureStackMD(t, opts, nil)
}

// newFeatureStackMD is newFeatureStack with spa's metadata changed by
// editA.
func newFeatureStackMD(t *testing.T, opts Options, editA func(*crewjam.EntityDescriptor)) *featureStack {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	base := "http://" + srv.Listener.Addr().String()
	fs := &featureStack{base: base, a: newPeerSP(t, base, "spa"), b: newPeerSP(t, base, "spb")}
	fs.a.editMD = editA
	opts.BaseURL = base
	opts.Logger = testLogger(t)
	opts.RateLimit = server.RateLimit{Disabled: true}
	opts.ExtraSPMetadata = [][]byte{fs.a.metadata(), fs.b.metadata()}
	configure := opts.ConfigureSP
	opts.ConfigureSP = func(sp *metadata.ServiceProvider) {
		if sp.EntityID != base+PathSPMetadata {
			sp.AllowedAttributes = []string{"name", "firstName", "lastName", "email", "dateOfBirth"}
		}
		if configure != nil {
			configure(sp)
		}
	}
	stack, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", stack.Handler)
	mux.Handle("/spa/", fs.a)
	mux.Handle("/spb/", fs.b)
	srv.Config.Handler = mux
	srv.Start()
	t.Cleanup(srv.Close)
	fs.stack = stack
	fs.a.sp.IDPMetadata = stack.SP.SAML.IDPMetadata
	fs.b.sp.IDPMetadata = stack.SP.SAML.IDPMetadata
	return fs
}

// approve confirms the login on the emulator's phone page and returns the
// bridge's auto-POST page.
func approve(t *testing.T, b *browser, phone *page) *page {
	t.Helper()
	if phone.status != http.StatusOK || !strings.HasPrefix(phone.url.Path, emulatorPathPrefix+"/") {
		t.Fatalf("expected the emulator's page, got %d at %s:\n%s", phone.status, phone.url, phone.body)
	}
	action, vals := phone.form(t)
	return b.post(action, vals)
}

// statusOf returns the top and second-level status codes of a posted
// Response, and whether it carries an assertion.
func statusOf(t *testing.T, form url.Values) (string, string, bool) {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(form.Get("SAMLResponse"))
	if err != nil {
		t.Fatal(err)
	}
	var r crewjam.Response
	if err := xml.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	second := ""
	if r.Status.StatusCode.StatusCode != nil {
		second = r.Status.StatusCode.StatusCode.Value
	}
	return r.Status.StatusCode.Value, second, bytes.Contains(raw, []byte("Assertion"))
}
