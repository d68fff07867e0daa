package saml

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"flag"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/certs"
)

var update = flag.Bool("update", false, "rewrite golden files")

func loadTestKey(t testing.TB, name string) *certs.KeyPair {
	t.Helper()
	dir := filepath.Join("..", "testdata", "keys")
	kp, err := certs.LoadFiles(filepath.Join(dir, name+"-test.key"), filepath.Join(dir, name+"-test.crt"))
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

// detRand is a deterministic byte stream for golden tests.
type detRand struct{ ctr byte }

func (d *detRand) Read(p []byte) (int, error) {
	for i := range p {
		d.ctr++
		p[i] = d.ctr
	}
	return len(p), nil
}

func testIDP(t testing.TB, now func() time.Time, rnd *detRand) *IDP {
	kp := loadTestKey(t, "idp")
	idp := &IDP{
		EntityID: "http://127.0.0.1:8080/saml/metadata",
		Signer:   &Signer{Key: kp.Key, Certs: []*x509.Certificate{kp.Cert}},
		Now:      now,
	}
	if rnd != nil {
		idp.Rand = rnd
	}
	return idp
}

// crewjamSP is crewjam/saml's service provider, used as an independent
// parser of what the bridge emits.
func crewjamSP(t *testing.T, idp *IDP) *crewjam.ServiceProvider {
	sp := loadTestKey(t, "sp")
	acs, _ := url.Parse("https://sp.example.org/saml/acs")
	md, _ := url.Parse("https://sp.example.org/saml/metadata")
	return &crewjam.ServiceProvider{
		EntityID:    md.String(),
		Key:         sp.Key,
		Certificate: sp.Cert,
		AcsURL:      *acs,
		MetadataURL: *md,
		IDPMetadata: &crewjam.EntityDescriptor{
			EntityID: idp.EntityID,
			IDPSSODescriptors: []crewjam.IDPSSODescriptor{{
				SSODescriptor: crewjam.SSODescriptor{RoleDescriptor: crewjam.RoleDescriptor{
					KeyDescriptors: []crewjam.KeyDescriptor{{
						Use: "signing",
						KeyInfo: crewjam.KeyInfo{X509Data: crewjam.X509Data{X509Certificates: []crewjam.X509Certificate{{
							Data: base64.StdEncoding.EncodeToString(idp.Signer.Certs[0].Raw),
						}}}},
					}},
				}},
			}},
		},
	}
}

func sampleParams() ResponseParams {
	return ResponseParams{
		SPEntityID:   "https://sp.example.org/saml/metadata",
		ACSURL:       "https://sp.example.org/saml/acs",
		InResponseTo: "id-4242",
		NameID: NameID{
			Value: "pairwise-abc", Format: NameIDFormatPersistent,
			NameQualifier: "https://idp.e2e.itsme.services/v2", SPNameQualifier: "https://sp.example.org/saml/metadata",
		},
		Attributes: []crewjam.Attribute{
			{Name: "firstName", Values: []crewjam.AttributeValue{{Type: "xs:string", Value: "Maxence"}}},
			{Name: "nin", Values: []crewjam.AttributeValue{{Type: "xs:string", Value: "81042419835"}}},
		},
		AuthenticatingAuthority: "https://idp.e2e.itsme.services/v2",
	}
}

func TestBuildResponseGolden(t *testing.T) {
	fixed := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	idp := testIDP(t, func() time.Time { return fixed }, &detRand{})
	p := sampleParams()
	p.AuthnInstant = fixed.Add(-10 * time.Second)
	got, err := idp.BuildResponse(p)
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "TestBuildResponse_response.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("response differs from %s (run with -update after checking):\n%s", golden, got)
	}
}

func TestBuildResponseAcceptedByCrewjamSP(t *testing.T) {
	tests := []struct {
		name      string
		signing   Signing
		method    string
		allowSHA1 bool
		encrypt   bool
		cipher    string
		// signatures is how many ds:Signature elements are visible in the
		// Response before decryption; wantAlg the SignatureMethod used.
		signatures int
		wantAlg    string
	}{
		{name: "assertion signed", signatures: 1, wantAlg: SignatureRSASHA256},
		{name: "response and assertion signed", signing: SignBoth, signatures: 2, wantAlg: SignatureRSASHA256},
		{name: "response only signed", signing: SignResponse, signatures: 1, wantAlg: SignatureRSASHA256},
		{name: "RSA-SHA384", method: SignatureRSASHA384, signatures: 1, wantAlg: SignatureRSASHA384},
		{name: "RSA-SHA512 both", signing: SignBoth, method: SignatureRSASHA512, signatures: 2, wantAlg: SignatureRSASHA512},
		{name: "RSA-SHA1 for a legacy SP", method: SignatureRSASHA1, allowSHA1: true, signatures: 1, wantAlg: SignatureRSASHA1},
		{name: "encrypted AES-128-GCM", encrypt: true, cipher: EncAES128GCM, signatures: 0},
		{name: "encrypted AES-256-CBC", encrypt: true, cipher: EncAES256CBC, signing: SignBoth, signatures: 1, wantAlg: SignatureRSASHA256},
		{name: "encrypted AES-128-CBC, response only signed", encrypt: true, cipher: EncAES128CBC, signing: SignResponse, signatures: 1, wantAlg: SignatureRSASHA256},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			idp := testIDP(t, nil, nil)
			sp := crewjamSP(t, idp)
			p := sampleParams()
			p.Signing, p.SignatureMethod, p.AllowSHA1 = tc.signing, tc.method, tc.allowSHA1
			if tc.encrypt {
				p.EncryptTo = sp.Certificate
				p.EncryptionCipher = tc.cipher
			}
			raw, err := idp.BuildResponse(p)
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(raw), "<ds:Signature "); n != tc.signatures {
				t.Errorf("%d visible signatures, want %d", n, tc.signatures)
			}
			if tc.wantAlg != "" && !strings.Contains(string(raw), `<ds:SignatureMethod Algorithm="`+tc.wantAlg+`"`) {
				t.Errorf("no SignatureMethod %s", tc.wantAlg)
			}
			if tc.encrypt && (bytes.Contains(raw, []byte("Maxence")) || !bytes.Contains(raw, []byte(tc.cipher))) {
				t.Fatalf("assertion not encrypted with %s", tc.cipher)
			}
			a, err := sp.ParseXMLResponse(raw, []string{"id-4242"}, sp.AcsURL)
			if err != nil {
				t.Fatalf("crewjam SP rejected the response: %v", describe(err))
			}
			if a.Subject.NameID.Value != "pairwise-abc" || a.Subject.NameID.NameQualifier != "https://idp.e2e.itsme.services/v2" {
				t.Errorf("NameID = %+v", a.Subject.NameID)
			}
			if got := a.AuthnStatements[0].AuthnContext.AuthnContextClassRef.Value; got != AuthnContextSmartcardPKI {
				t.Errorf("AuthnContextClassRef = %q", got)
			}
			if got := a.AttributeStatements[0].Attributes[1]; got.Name != "nin" || got.Values[0].Value != "81042419835" {
				t.Errorf("attribute = %+v", got)
			}
		})
	}
}

func TestSHA1OnlyForLegacySPs(t *testing.T) {
	idp := testIDP(t, nil, nil)
	p := sampleParams()
	p.SignatureMethod = SignatureRSASHA1
	if _, err := idp.BuildResponse(p); err == nil || !strings.Contains(err.Error(), "legacy") {
		t.Fatalf("RSA-SHA1 without the legacy mark: err = %v, want a refusal naming legacy SPs", err)
	}
	if _, err := idp.BuildErrorResponse(ErrorParams{SPEntityID: p.SPEntityID, ACSURL: p.ACSURL, InResponseTo: "id-1",
		Status: &StatusError{Status: StatusResponder}, SignatureMethod: SignatureRSASHA1}); err == nil {
		t.Fatal("error response signed with RSA-SHA1 without the legacy mark")
	}
	p.Signing = Signing(7)
	p.SignatureMethod = ""
	if _, err := idp.BuildResponse(p); err == nil {
		t.Fatal("unknown signing choice accepted")
	}
}

func TestParseSigningAndMethodNames(t *testing.T) {
	for in, want := range map[string]Signing{"": SignAssertion, "assertion": SignAssertion, "response": SignResponse, "both": SignBoth} {
		if got, err := ParseSigning(in); err != nil || got != want {
			t.Errorf("ParseSigning(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseSigning("none"); err == nil {
		t.Error(`ParseSigning("none") accepted`)
	}
	for in, want := range map[string]string{"": SignatureRSASHA256, "RSA-SHA256": SignatureRSASHA256, "rsa-sha384": SignatureRSASHA384, "rsa-sha512": SignatureRSASHA512, "rsa-sha1": SignatureRSASHA1} {
		if got, err := SignatureMethodByName(in); err != nil || got != want {
			t.Errorf("SignatureMethodByName(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := SignatureMethodByName("hmac-sha256"); err == nil {
		t.Error("hmac-sha256 accepted")
	}
}

func TestBuildResponseStructure(t *testing.T) {
	idp := testIDP(t, nil, nil)
	raw, err := idp.BuildResponse(sampleParams())
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	for _, want := range []string{
		`<saml:AuthenticatingAuthority>https://idp.e2e.itsme.services/v2</saml:AuthenticatingAuthority>`,
		`Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"`,
		`Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"`,
		`Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"`,
		`Destination="https://sp.example.org/saml/acs"`,
		`Recipient="https://sp.example.org/saml/acs"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("response lacks %s", want)
		}
	}
	if n := strings.Count(s, "<ds:Signature "); n != 1 {
		t.Errorf("%d signatures, want exactly 1 (assertion only)", n)
	}
	if n := strings.Count(s, "<saml:Assertion"); n != 1 {
		t.Errorf("%d assertions, want 1", n)
	}
	if strings.Contains(s, "rsa-sha1") || strings.Contains(s, "xmldsig#sha1") {
		t.Error("SHA-1 used")
	}
}

// TestAssertionTimesAtIssuance checks RESP-02: validity is computed when the
// response is built, however long ago the request arrived.
func TestAssertionTimesAtIssuance(t *testing.T) {
	issued := time.Date(2026, 11, 21, 12, 15, 0, 0, time.UTC)
	idp := testIDP(t, func() time.Time { return issued }, nil)
	p := sampleParams()
	p.AuthnInstant = issued.Add(-14 * time.Minute)
	raw, err := idp.BuildResponse(p)
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	for _, want := range []string{
		`IssueInstant="2026-11-21T12:15:00Z"`,
		`NotBefore="2026-11-21T12:14:30Z"`,
		`NotOnOrAfter="2026-11-21T12:20:00Z"`,
		`AuthnInstant="2026-11-21T12:01:00Z"`,
	} {
		if !strings.Contains(s, want) {
			t.Errorf("response lacks %s", want)
		}
	}
}

func TestBuildErrorResponse(t *testing.T) {
	idp := testIDP(t, nil, nil)
	sp := crewjamSP(t, idp)
	raw, err := idp.BuildErrorResponse(ErrorParams{
		SPEntityID: sp.EntityID, ACSURL: sp.AcsURL.String(), InResponseTo: "id-4242",
		Status: &StatusError{Status: StatusResponder, SubStatus: StatusAuthnFailed, Message: "The user cancelled the login."},
	})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("Assertion")) {
		t.Error("error response carries an assertion")
	}
	_, err = sp.ParseXMLResponse(raw, []string{"id-4242"}, sp.AcsURL)
	var bad crewjam.ErrBadStatus
	if !asBadStatus(describe(err), &bad) || bad.Status != StatusResponder {
		t.Fatalf("crewjam SP: got %v, want ErrBadStatus Responder", describe(err))
	}
	if !bytes.Contains(raw, []byte(StatusAuthnFailed)) {
		t.Error("sub-status missing")
	}
}

func TestPostForm(t *testing.T) {
	rec := httptest.NewRecorder()
	f := PostForm{URL: "https://sp.example.org/acs", Message: []byte("<x/>"), RelayState: `"><script>alert(1)</script>`, HasRelayState: true}
	if err := f.Write(rec, rand.Reader); err != nil {
		t.Fatal(err)
	}
	body := rec.Body.String()
	if strings.Contains(body, "<script>alert(1)") {
		t.Error("RelayState not escaped")
	}
	if !strings.Contains(body, `name="RelayState" value="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"`) {
		t.Errorf("RelayState not returned escaped:\n%s", body)
	}
	h := rec.Result().Header
	if h.Get("Cache-Control") != "no-store" || h.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("headers %v", h)
	}
	csp := h.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'nonce-") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q", csp)
	}
	nonce := strings.TrimSuffix(strings.SplitN(strings.SplitN(csp, "'nonce-", 2)[1], "'", 2)[0], "'")
	if !strings.Contains(body, `<script nonce="`+nonce+`">`) {
		t.Error("script does not carry the CSP nonce")
	}
	// Absent RelayState stays absent.
	rec = httptest.NewRecorder()
	_ = PostForm{URL: "https://sp.example.org/acs", Message: []byte("<x/>")}.Write(rec, nil)
	if strings.Contains(rec.Body.String(), "RelayState") {
		t.Error("absent RelayState was added")
	}
}
