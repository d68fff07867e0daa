package demo

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"
	"github.com/crewjam/saml/xmlenc"

	"github.com/samlbridge/samlbridge/internal/i18n"
)

// Demo SP paths.
const (
	PathSPHome     = "/demo/"
	PathSPLogin    = "/demo/login"
	PathSPACS      = "/demo/acs"
	PathSPMetadata = "/demo/metadata"
)

// Attribute consuming services the demo SP declares in its metadata.
const (
	// IndexIdentification asks for the full identity.
	IndexIdentification = 0
	// IndexAuthentication asks only for the name.
	IndexAuthentication = 1
)

// SP is a small service provider built on crewjam/saml.
type SP struct {
	// SAML is the crewjam service provider; tests use it to parse
	// responses directly.
	SAML *crewjam.ServiceProvider
	key  *rsa.PrivateKey
	log  *slog.Logger
	now  func() time.Time

	mu      sync.Mutex
	pending map[string]time.Time // outstanding AuthnRequest IDs
}

// Result is what the demo SP learnt from one response.
type Result struct {
	NameID                  string
	NameIDFormat            string
	NameQualifier           string
	AuthnContextClassRef    string
	AuthenticatingAuthority string
	Issuer                  string
	Encrypted               bool
	Attributes              map[string][]string
}

func newSP(base string, cert *x509.Certificate, key *rsa.PrivateKey, idpMetadata []byte, now func() time.Time, log *slog.Logger) (*SP, error) {
	var idpMD crewjam.EntityDescriptor
	if err := xml.Unmarshal(idpMetadata, &idpMD); err != nil {
		return nil, fmt.Errorf("demo: parsing the bridge's metadata: %w", err)
	}
	md, _ := url.Parse(base + PathSPMetadata)
	acs, _ := url.Parse(base + PathSPACS)
	sp := &crewjam.ServiceProvider{
		EntityID:          md.String(),
		Key:               key,
		Certificate:       cert,
		MetadataURL:       *md,
		AcsURL:            *acs,
		IDPMetadata:       &idpMD,
		SignatureMethod:   "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
		AuthnNameIDFormat: crewjam.PersistentNameIDFormat,
	}
	return &SP{SAML: sp, key: key, log: log, now: now, pending: map[string]time.Time{}}, nil
}

// Metadata returns the SP's metadata XML, with two attribute consuming
// services: the full identity (default) and the name only.
func (s *SP) Metadata() ([]byte, error) {
	ed := s.SAML.Metadata()
	all := make([]crewjam.RequestedAttribute, 0, len(demoIdentification))
	for _, n := range demoIdentification {
		all = append(all, crewjam.RequestedAttribute{Attribute: crewjam.Attribute{Name: n}})
	}
	names := []crewjam.RequestedAttribute{
		{Attribute: crewjam.Attribute{Name: "name"}}, {Attribute: crewjam.Attribute{Name: "firstName"}}, {Attribute: crewjam.Attribute{Name: "lastName"}},
	}
	yes := true
	ed.SPSSODescriptors[0].AttributeConsumingServices = []crewjam.AttributeConsumingService{
		{Index: IndexIdentification, IsDefault: &yes, ServiceNames: []crewjam.LocalizedName{{Lang: "en", Value: "samlbridge demo (identification)"}}, RequestedAttributes: all},
		{Index: IndexAuthentication, ServiceNames: []crewjam.LocalizedName{{Lang: "en", Value: "samlbridge demo (authentication)"}}, RequestedAttributes: names},
	}
	return xml.MarshalIndent(ed, "", "  ")
}

// demoIdentification is what the demo SP asks for by default: the seed's
// identity attributes.
var demoIdentification = []string{
	"name", "firstName", "lastName", "gender", "dateOfBirth", "locale", "nin", "nin.type", "nin.issuingCountry",
	"email", "phoneNumber", "address", "nationality", "placeOfBirth", "countryOfBirth", "itsmeEid",
	"itsmeIssuanceLocality", "itsmeValidityFrom", "itsmeValidityTo", "itsmeReadDate", "itsmeNationalNumber", "idpId",
}

// LoginURL returns a redirect URL carrying a fresh signed AuthnRequest for
// the given attribute consuming service index.
func (s *SP) LoginURL(index int, relayState string) (string, error) {
	return s.LoginURLWith(index, relayState, nil)
}

// LoginURLWith is LoginURL with a chance to change the AuthnRequest before
// it is signed (RequestedAuthnContext, ForceAuthn, ...).
func (s *SP) LoginURLWith(index int, relayState string, modify func(*crewjam.AuthnRequest)) (string, error) {
	req, err := s.SAML.MakeAuthenticationRequest(s.SAML.GetSSOBindingLocation(crewjam.HTTPRedirectBinding), crewjam.HTTPRedirectBinding, crewjam.HTTPPostBinding)
	if err != nil {
		return "", fmt.Errorf("demo: making AuthnRequest: %w", err)
	}
	req.AttributeConsumingServiceIndex = fmt.Sprint(index)
	if modify != nil {
		modify(req)
	}
	u, err := req.Redirect(relayState, s.SAML)
	if err != nil {
		return "", fmt.Errorf("demo: signing AuthnRequest: %w", err)
	}
	s.mu.Lock()
	now := s.now()
	for id, exp := range s.pending {
		if now.After(exp) {
			delete(s.pending, id)
		}
	}
	if len(s.pending) < 10000 {
		s.pending[req.ID] = now.Add(30 * time.Minute)
	}
	s.mu.Unlock()
	return u.String(), nil
}

// Parse validates a base64 SAMLResponse with crewjam's SP code, accepting
// only responses to requests this SP sent and not yet used.
func (s *SP) Parse(samlResponse string) (*Result, error) {
	raw, err := base64.StdEncoding.DecodeString(samlResponse)
	if err != nil {
		return nil, fmt.Errorf("demo: SAMLResponse is not base64: %w", err)
	}
	s.mu.Lock()
	ids := make([]string, 0, len(s.pending))
	for id := range s.pending {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	assertion, err := s.SAML.ParseXMLResponse(raw, ids, s.SAML.AcsURL)
	if err != nil {
		var ire *crewjam.InvalidResponseError
		if errors.As(err, &ire) {
			return nil, fmt.Errorf("demo: response rejected: %w", ire.PrivateErr)
		}
		return nil, fmt.Errorf("demo: response rejected: %w", err)
	}
	s.mu.Lock()
	_, ok := s.pending[assertion.Subject.SubjectConfirmations[0].SubjectConfirmationData.InResponseTo]
	delete(s.pending, assertion.Subject.SubjectConfirmations[0].SubjectConfirmationData.InResponseTo)
	s.mu.Unlock()
	if !ok {
		return nil, errors.New("demo: response was already used")
	}
	res := &Result{Attributes: map[string][]string{}, Issuer: assertion.Issuer.Value}
	if n := assertion.Subject.NameID; n != nil {
		res.NameID, res.NameIDFormat, res.NameQualifier = n.Value, n.Format, n.NameQualifier
	}
	for _, st := range assertion.AuthnStatements {
		if st.AuthnContext.AuthnContextClassRef != nil {
			res.AuthnContextClassRef = st.AuthnContext.AuthnContextClassRef.Value
		}
	}
	for _, st := range assertion.AttributeStatements {
		for _, a := range st.Attributes {
			for _, v := range a.Values {
				res.Attributes[a.Name] = append(res.Attributes[a.Name], v.Value)
			}
		}
	}
	// crewjam does not model AuthenticatingAuthority; read it from the
	// (decrypted) assertion XML, which crewjam has just verified.
	res.AuthenticatingAuthority, res.Encrypted = s.authenticatingAuthority(raw)
	return res, nil
}

func (s *SP) authenticatingAuthority(raw []byte) (string, bool) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		return "", false
	}
	encrypted := false
	el := doc.FindElement("//Assertion")
	if el == nil {
		if ed := doc.FindElement("//EncryptedAssertion/EncryptedData"); ed != nil {
			encrypted = true
			plain, err := xmlenc.Decrypt(s.key, ed)
			if err != nil {
				return "", true
			}
			d2 := etree.NewDocument()
			if err := d2.ReadFromBytes(plain); err != nil {
				return "", true
			}
			el = d2.Root()
		}
	}
	if el == nil {
		return "", encrypted
	}
	if aa := el.FindElement(".//AuthenticatingAuthority"); aa != nil {
		return strings.TrimSpace(aa.Text()), encrypted
	}
	return "", encrypted
}

var spPage = template.Must(template.New("sp").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>samlbridge demo SP</title>
<style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}.btn{display:inline-block;background:#ff4612;color:#fff;padding:.6rem 1rem;border-radius:.4rem;text-decoration:none;margin-right:.5rem}
.err{color:#a00}</style></head><body>
<h1>samlbridge demo service provider</h1>
{{if .Error}}<p class="err" id="error">{{.Error}}</p>{{end}}
{{if .Result}}
<h2 id="welcome">Logged in</h2>
<table id="summary">
<tr><th>NameID</th><td id="nameid">{{.Result.NameID}}</td></tr>
<tr><th>NameID format</th><td>{{.Result.NameIDFormat}}</td></tr>
<tr><th>NameQualifier</th><td>{{.Result.NameQualifier}}</td></tr>
<tr><th>AuthnContextClassRef</th><td id="authncontext">{{.Result.AuthnContextClassRef}}</td></tr>
<tr><th>AuthenticatingAuthority</th><td id="authority">{{.Result.AuthenticatingAuthority}}</td></tr>
<tr><th>Issuer</th><td>{{.Result.Issuer}}</td></tr>
<tr><th>Assertion encrypted</th><td>{{.Result.Encrypted}}</td></tr>
</table>
<h2>Attributes</h2>
<table id="attributes"><tr><th>Name</th><th>Value</th></tr>
{{range .Attrs}}<tr><td class="attr-name">{{.Name}}</td><td class="attr-value" data-name="{{.Name}}">{{.Value}}</td></tr>
{{end}}</table>
{{end}}
<p><a class="btn" id="login" href="login">Log in with itsme (identification)</a>
<a class="btn" id="login-auth" href="login?service=authentication">Log in with itsme (authentication only)</a></p>
<p>This page is the demo service provider. It sends a signed AuthnRequest to the bridge, which runs the itsme flow
(here against the built-in itsme emulator) and answers with a signed, encrypted SAML assertion.</p>
</body></html>
`))

type attrRow struct{ Name, Value string }

// ServeHTTP serves the demo SP's pages.
func (s *SP) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	switch r.URL.Path {
	case PathSPMetadata:
		md, err := s.Metadata()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		_, _ = w.Write(md)
	case PathSPLogin:
		index := IndexIdentification
		if r.URL.Query().Get("service") == "authentication" {
			index = IndexAuthentication
		}
		u, err := s.LoginURL(index, "demo-relay-state")
		if err != nil {
			s.render(w, http.StatusInternalServerError, nil, err.Error())
			return
		}
		// An SP that knows its user's language passes it on as a hint
		// next to the SAMLRequest (docs/pages.md); the demo takes it from
		// its own ?lang=.
		if l, ok := i18n.Parse(r.URL.Query().Get("lang")); ok {
			u += "&ui_locales=" + url.QueryEscape(string(l))
		}
		http.Redirect(w, r, u, http.StatusFound)
	case PathSPACS:
		if r.Method != http.MethodPost {
			http.Redirect(w, r, PathSPHome, http.StatusFound)
			return
		}
		if err := r.ParseForm(); err != nil {
			s.render(w, http.StatusBadRequest, nil, "The form could not be read.")
			return
		}
		res, err := s.Parse(r.PostForm.Get("SAMLResponse"))
		if err != nil {
			s.log.Warn("demo SP rejected a response", "err", err)
			s.render(w, http.StatusForbidden, nil, describeFailure(err))
			return
		}
		s.render(w, http.StatusOK, res, "")
	case PathSPHome, strings.TrimSuffix(PathSPHome, "/"):
		s.render(w, http.StatusOK, nil, "")
	default:
		http.NotFound(w, r)
	}
}

func describeFailure(err error) string {
	var bad crewjam.ErrBadStatus
	if errors.As(err, &bad) {
		return "The identity provider answered with status " + bad.Status + ". The login was not completed."
	}
	return "The SAML response was rejected: " + err.Error()
}

func (s *SP) render(w http.ResponseWriter, status int, res *Result, msg string) {
	var rows []attrRow
	if res != nil {
		names := make([]string, 0, len(res.Attributes))
		for n := range res.Attributes {
			names = append(names, n)
		}
		sort.SliceStable(names, func(i, j int) bool { return orderOf(names[i]) < orderOf(names[j]) })
		for _, n := range names {
			rows = append(rows, attrRow{n, strings.Join(res.Attributes[n], ", ")})
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = spPage.Execute(w, struct {
		Result *Result
		Attrs  []attrRow
		Error  string
	}{res, rows, msg})
}

func orderOf(name string) int {
	for i, n := range demoIdentification {
		if n == name {
			return i
		}
	}
	return len(demoIdentification)
}
