package saml

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
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
)

const (
	testSSOURL      = "https://idp.example.org/saml/sso"
	testIDPEntityID = "https://idp.example.org/saml/metadata"
	rsaSHA1         = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
)

// reqFixture is the shared world of the AuthnRequest tests: the bridge's
// IdP metadata (from metadata.IDPMetadata), crewjam SPs that talk to it,
// and a registry built from the SPs' own metadata.
type reqFixture struct {
	idpMetadata *crewjam.EntityDescriptor
	// signed requires signed requests (metadata AuthnRequestsSigned).
	signed *crewjam.ServiceProvider
	// plain never signs and publishes no signing key.
	plain *crewjam.ServiceProvider
	// optional publishes a signing key but does not require signatures.
	optional *crewjam.ServiceProvider
	// rollover publishes two signing keys: oldKey (certificate expired
	// years ago) and newKey.
	rollover       *crewjam.ServiceProvider
	oldKey, newKey *certs.KeyPair
	// evil is a key no metadata mentions.
	evil     *certs.KeyPair
	registry *metadata.StaticRegistry
}

var reqFixtureOnce = sync.OnceValues(newReqFixture)

func fixture(t testing.TB) *reqFixture {
	t.Helper()
	f, err := reqFixtureOnce()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func newReqFixture() (*reqFixture, error) {
	now := time.Now()
	gen := func(name string, notBefore time.Time) (*certs.KeyPair, error) {
		return certs.Generate(nil, 2048, "request-test-"+name, notBefore, 24*time.Hour)
	}
	f := &reqFixture{}
	keys := map[string]*certs.KeyPair{}
	for _, n := range []string{"signed", "plain", "optional", "new", "evil"} {
		kp, err := gen(n, now)
		if err != nil {
			return nil, err
		}
		keys[n] = kp
	}
	old, err := gen("old", now.AddDate(-10, 0, 0))
	if err != nil {
		return nil, err
	}
	f.oldKey, f.newKey, f.evil = old, keys["new"], keys["evil"]

	idpKey, err := certs.LoadFiles("../testdata/keys/idp-test.key", "../testdata/keys/idp-test.crt")
	if err != nil {
		return nil, err
	}
	idpMD, err := metadata.IDPMetadata(metadata.IDPConfig{EntityID: testIDPEntityID, SSOURL: testSSOURL, SigningCerts: []*x509.Certificate{idpKey.Cert}})
	if err != nil {
		return nil, err
	}
	f.idpMetadata = &crewjam.EntityDescriptor{}
	if err := xml.Unmarshal(idpMD, f.idpMetadata); err != nil {
		return nil, err
	}

	newSP := func(host string, kp *certs.KeyPair, method string) *crewjam.ServiceProvider {
		md, _ := url.Parse("https://" + host + "/saml/metadata")
		acs, _ := url.Parse("https://" + host + "/saml/acs")
		return &crewjam.ServiceProvider{EntityID: md.String(), Key: kp.Key, Certificate: kp.Cert, MetadataURL: *md, AcsURL: *acs,
			IDPMetadata: f.idpMetadata, SignatureMethod: method}
	}
	f.signed = newSP("signed.example.org", keys["signed"], SignatureRSASHA256)
	f.plain = newSP("plain.example.org", keys["plain"], "")
	f.optional = newSP("optional.example.org", keys["optional"], SignatureRSASHA256)
	f.rollover = newSP("rollover.example.org", keys["new"], SignatureRSASHA256)

	var all []*metadata.ServiceProvider
	for _, sp := range []*crewjam.ServiceProvider{f.signed, f.plain, f.optional, f.rollover} {
		ed := sp.Metadata()
		role := &ed.SPSSODescriptors[0]
		switch sp {
		case f.signed:
			role.AssertionConsumerServices = append(role.AssertionConsumerServices,
				crewjam.IndexedEndpoint{Binding: crewjam.HTTPPostBinding, Location: "https://signed.example.org/saml/acs2", Index: 3})
		case f.optional:
			no := false
			role.AuthnRequestsSigned = &no
		case f.rollover:
			role.KeyDescriptors = append(role.KeyDescriptors, crewjam.KeyDescriptor{Use: "signing", KeyInfo: crewjam.KeyInfo{X509Data: crewjam.X509Data{
				X509Certificates: []crewjam.X509Certificate{{Data: base64.StdEncoding.EncodeToString(old.Cert.Raw)}}}}})
		}
		data, err := xml.Marshal(ed)
		if err != nil {
			return nil, err
		}
		sps, err := metadata.ParseServiceProviders(data, metadata.ParseOptions{})
		if err != nil {
			return nil, err
		}
		all = append(all, sps...)
	}
	f.registry, err = metadata.NewStaticRegistry(all...)
	return f, err
}

func (f *reqFixture) parser() *RequestParser {
	return &RequestParser{Registry: f.registry, SSOURL: testSSOURL}
}

// withKey returns a copy of sp that signs with kp.
func withKey(sp *crewjam.ServiceProvider, kp *certs.KeyPair) *crewjam.ServiceProvider {
	c := *sp
	c.Key, c.Certificate = kp.Key, kp.Cert
	return &c
}

// withMethod returns a copy of sp that signs with method ("" = unsigned).
func withMethod(sp *crewjam.ServiceProvider, method string) *crewjam.ServiceProvider {
	c := *sp
	c.SignatureMethod = method
	return &c
}

// newAuthnRequest is crewjam's AuthnRequest for sp, unsigned, edited.
func newAuthnRequest(t testing.TB, sp *crewjam.ServiceProvider, edit func(*crewjam.AuthnRequest)) *crewjam.AuthnRequest {
	t.Helper()
	req, err := sp.MakeAuthenticationRequest(testSSOURL, crewjam.HTTPRedirectBinding, crewjam.HTTPPostBinding)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(req)
	}
	return req
}

// redirectRequest is what crewjam's SP sends by HTTP-Redirect (signed when
// sp.SignatureMethod is set), after edit.
func redirectRequest(t testing.TB, sp *crewjam.ServiceProvider, relayState string, edit func(*crewjam.AuthnRequest)) *http.Request {
	t.Helper()
	u, err := newAuthnRequest(t, sp, edit).Redirect(relayState, sp)
	if err != nil {
		t.Fatal(err)
	}
	return httptest.NewRequest(http.MethodGet, u.String(), nil)
}

// postXML is the XML crewjam's SP sends by HTTP-POST (signed when
// sp.SignatureMethod is set), after edit.
func postXML(t testing.TB, sp *crewjam.ServiceProvider, edit func(*crewjam.AuthnRequest)) []byte {
	t.Helper()
	req := newAuthnRequest(t, sp, edit)
	if sp.SignatureMethod != "" {
		if err := sp.SignAuthnRequest(req); err != nil {
			t.Fatal(err)
		}
	}
	return elementBytes(t, req.Element())
}

func elementBytes(t testing.TB, el *etree.Element) []byte {
	t.Helper()
	b, err := samltest.ElementBytes(el)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func parseElement(t testing.TB, data []byte) *etree.Element {
	t.Helper()
	el, err := samltest.ParseElement(data)
	if err != nil {
		t.Fatal(err)
	}
	return el
}

// postRequest posts data as an HTTP-POST binding form; relayState nil
// means no RelayState field.
func postRequest(data []byte, relayState *string) *http.Request {
	body := "SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString(data))
	if relayState != nil {
		body += "&RelayState=" + url.QueryEscape(*relayState)
	}
	r := httptest.NewRequest(http.MethodPost, testSSOURL, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

func deflate(_ testing.TB, data []byte) []byte { return samltest.Deflate(data) }

// rawRedirect builds a Redirect-binding request for arbitrary XML. When
// key is set, the query is signed with RSA-SHA256 the way the binding
// says (over the encoded values, in the fixed order).
func rawRedirect(t testing.TB, data []byte, relayState string, key *rsa.PrivateKey) *http.Request {
	t.Helper()
	q, err := samltest.RedirectQuery(data, relayState, key, SignatureRSASHA256)
	if err != nil {
		t.Fatal(err)
	}
	return httptest.NewRequest(http.MethodGet, testSSOURL+"?"+q, nil)
}

func signOctets(t testing.TB, key *rsa.PrivateKey, octets string) []byte {
	t.Helper()
	sig, err := samltest.SignOctets(key, SignatureRSASHA256, octets)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// signXML signs the request element with kp the way the bridge's own
// Signer does (RSA-SHA256, exclusive c14n, Signature after the Issuer).
func signXML(t testing.TB, el *etree.Element, kp *certs.KeyPair) *etree.Element {
	t.Helper()
	signed, err := (&Signer{Key: kp.Key, Certs: []*x509.Certificate{kp.Cert}}).SignEnveloped(el)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// resign recomputes the SignatureValue over the (edited) SignedInfo of
// sig with key, so that a test can build a genuinely signed but
// maliciously shaped signature.
func resign(t testing.TB, sig *etree.Element, key *rsa.PrivateKey) {
	t.Helper()
	if err := samltest.Resign(sig, key); err != nil {
		t.Fatal(err)
	}
}

// readAll drains r for tests that need a body twice.
func readAll(t testing.TB, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
