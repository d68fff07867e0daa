package saml

import (
	"bytes"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/certs"
	"github.com/samlbridge/samlbridge/internal/samltest"
)

const testArtifactURL = "https://idp.example.org/saml/artifact"

// TestArtifactEncoding checks the type 0x0004 layout against vectors
// computed independently (Python: base64 of 0004 || index || SHA-1 of the
// entity ID || handle).
func TestArtifactEncoding(t *testing.T) {
	handle := make([]byte, 20)
	for i := range handle {
		handle[i] = byte(i + 1)
	}
	tests := []struct {
		index uint16
		want  string
	}{
		{0, "AAQAABDEz+UkQ6hFRGs6HrTM0dlZgwanAQIDBAUGBwgJCgsMDQ4PEBESExQ="},
		{5, "AAQABRDEz+UkQ6hFRGs6HrTM0dlZgwanAQIDBAUGBwgJCgsMDQ4PEBESExQ="},
	}
	for _, tc := range tests {
		a, err := NewArtifact(testIDPEntityID, tc.index, bytes.NewReader(handle))
		if err != nil {
			t.Fatal(err)
		}
		if got := a.String(); got != tc.want {
			t.Errorf("index %d: artifact %s, want %s", tc.index, got, tc.want)
		}
		back, err := ParseArtifact(" " + tc.want + "\n")
		if err != nil || back != a {
			t.Errorf("ParseArtifact(%s) = %+v, %v; want %+v", tc.want, back, err, a)
		}
	}
	if fmt.Sprintf("%x", ArtifactSourceID(testIDPEntityID)) != "10c4cfe52443a845446b3a1eb4ccd1d9598306a7" {
		t.Errorf("SourceID is not the SHA-1 of the entity ID")
	}
	if _, err := NewArtifact(testIDPEntityID, 0, bytes.NewReader(handle[:19])); err == nil {
		t.Error("a short random source gave an artifact")
	}
}

func TestParseArtifactRejects(t *testing.T) {
	good := "AAQAABDEz+UkQ6hFRGs6HrTM0dlZgwanAQIDBAUGBwgJCgsMDQ4PEBESExQ="
	for name, s := range map[string]string{
		"empty":            "",
		"SAML 1 type code": "AAEAABDEz+UkQ6hFRGs6HrTM0dlZgwanAQIDBAUGBwgJCgsMDQ4PEBESExQ=",
		"one byte short":   good[:56] + "==",
		"one byte long":    good[:59] + "VVV=",
		"URL-safe base64":  strings.NewReplacer("+", "-", "/", "_").Replace(good),
		"no padding":       strings.TrimRight(good, "=") + "A",
		"inner space":      good[:10] + " " + good[11:],
		"not base64":       strings.Repeat("!", 60),
	} {
		if a, err := ParseArtifact(s); err == nil {
			t.Errorf("%s: ParseArtifact(%q) = %+v, want an error", name, s, a)
		}
	}
}

// resolveFor builds an ArtifactResolve from sp for artifact, lets edit
// change it, and signs it with kp (nil: unsigned) like the bridge's own
// Signer: RSA-SHA256, exclusive c14n, Signature after the Issuer.
func resolveFor(t *testing.T, sp *crewjam.ServiceProvider, artifact string, edit func(*etree.Element), kp *certs.KeyPair) *etree.Element {
	t.Helper()
	r := crewjam.ArtifactResolve{ID: fmt.Sprintf("id-%d", time.Now().UnixNano()), Version: "2.0", IssueInstant: time.Now().UTC(),
		Issuer: &crewjam.Issuer{Format: NameIDFormatEntity, Value: sp.EntityID}, Artifact: artifact}
	el := r.Element()
	if edit != nil {
		edit(el)
	}
	if kp == nil {
		return el
	}
	return signXML(t, el, kp)
}

func spKey(sp *crewjam.ServiceProvider) *certs.KeyPair {
	return &certs.KeyPair{Key: sp.Key.(*rsa.PrivateKey), Cert: sp.Certificate}
}

// soapOf wraps el in a SOAP 1.1 envelope.
func soapOf(t *testing.T, el *etree.Element) []byte {
	t.Helper()
	env := etree.NewElement("soapenv:Envelope")
	env.CreateAttr("xmlns:soapenv", nsSOAP11)
	env.CreateElement("soapenv:Body").AddChild(el)
	return elementBytes(t, env)
}

func soapRequest(body []byte, contentType string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, testArtifactURL, bytes.NewReader(body))
	r.Header.Set("Content-Type", contentType)
	return r
}

// TestParseArtifactResolve drives ArtifactResolveParser with genuinely
// signed messages and with every kind of refusal, checking the reason,
// whether a SOAP fault (and which) or an ArtifactResponse status answers
// it, and the ID answered to.
func TestParseArtifactResolve(t *testing.T) {
	t.Parallel()
	f := fixture(t)
	p := &ArtifactResolveParser{Registry: f.registry, URL: testArtifactURL}
	const art = "AAQAABDEz+UkQ6hFRGs6HrTM0dlZgwanAQIDBAUGBwgJCgsMDQ4PEBESExQ="
	signed := func(t *testing.T, edit func(*etree.Element)) []byte {
		return soapOf(t, resolveFor(t, f.signed, art, edit, spKey(f.signed)))
	}
	denied := &StatusError{Status: StatusRequester, SubStatus: StatusRequestDenied}
	tests := []struct {
		name        string
		body        func(t *testing.T) []byte
		contentType string
		wantErr     error
		wantFault   string       // SOAP fault code, for messages without a readable ID
		wantStatus  *StatusError // ArtifactResponse status otherwise
	}{
		{name: "signed by the bridge's signer", body: func(t *testing.T) []byte { return signed(t, nil) }},
		{name: "signed by crewjam", body: func(t *testing.T) []byte {
			r, err := f.signed.MakeArtifactResolveRequest(art)
			if err != nil {
				t.Fatal(err)
			}
			return elementBytes(t, r.SoapRequest())
		}},
		{name: "pysaml2's content type", contentType: "application/soap+xml", body: func(t *testing.T) []byte { return signed(t, nil) }},
		{name: "right Destination", body: func(t *testing.T) []byte {
			return signed(t, func(el *etree.Element) { el.CreateAttr("Destination", testArtifactURL) })
		}},
		{name: "namespaces declared on the envelope only", body: func(t *testing.T) []byte {
			// Exclusive c14n does not depend on where a prefix is
			// declared, so the SP's signature must still verify.
			el := resolveFor(t, f.signed, art, nil, spKey(f.signed))
			el.RemoveAttr("xmlns:samlp")
			el.RemoveAttr("xmlns:saml")
			env := etree.NewElement("soapenv:Envelope")
			env.CreateAttr("xmlns:soapenv", nsSOAP11)
			env.CreateAttr("xmlns:samlp", nsProtocol)
			env.CreateAttr("xmlns:saml", nsAssertion)
			env.CreateElement("soapenv:Header")
			env.CreateElement("soapenv:Body").AddChild(el)
			return elementBytes(t, env)
		}},

		// Refused with an ArtifactResponse status.
		{name: "unsigned", body: func(t *testing.T) []byte { return soapOf(t, resolveFor(t, f.signed, art, nil, nil)) },
			wantErr: ErrSignatureRequired, wantStatus: denied},
		{name: "signed with a key not in the metadata", body: func(t *testing.T) []byte {
			return soapOf(t, resolveFor(t, f.signed, art, nil, f.evil))
		}, wantErr: ErrBadSignature, wantStatus: denied},
		{name: "SP without a signing key", body: func(t *testing.T) []byte {
			return soapOf(t, resolveFor(t, f.plain, art, nil, spKey(f.plain)))
		}, wantErr: ErrBadSignature, wantStatus: denied},
		{name: "unknown Issuer", body: func(t *testing.T) []byte {
			other := *f.signed
			other.EntityID = "https://unknown.example.org/saml/metadata"
			return soapOf(t, resolveFor(t, &other, art, nil, spKey(f.signed)))
		}, wantErr: ErrUnknownSP, wantStatus: denied},
		{name: "wrong Destination", body: func(t *testing.T) []byte {
			return signed(t, func(el *etree.Element) { el.CreateAttr("Destination", testArtifactURL+"/") })
		}, wantErr: ErrDestination, wantStatus: denied},
		{name: "IssueInstant one hour old", body: func(t *testing.T) []byte {
			return signed(t, func(el *etree.Element) {
				el.CreateAttr("IssueInstant", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
			})
		}, wantErr: ErrStaleRequest, wantStatus: denied},
		{name: "IssueInstant one hour ahead", body: func(t *testing.T) []byte {
			return signed(t, func(el *etree.Element) {
				el.CreateAttr("IssueInstant", time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
			})
		}, wantErr: ErrStaleRequest, wantStatus: denied},
		{name: "tampered Artifact", body: func(t *testing.T) []byte {
			el := resolveFor(t, f.signed, art, nil, spKey(f.signed))
			el.FindElement("./Artifact").SetText(strings.Replace(art, "AQID", "AQIE", 1))
			return soapOf(t, el)
		}, wantErr: ErrBadSignature, wantStatus: denied},
		{name: "two Artifact elements, signed", body: func(t *testing.T) []byte {
			return signed(t, func(el *etree.Element) { el.CreateElement("samlp:Artifact").SetText(art) })
		}, wantErr: ErrMalformedRequest, wantStatus: &StatusError{Status: StatusRequester}},

		// Not a readable SOAP ArtifactResolve: SOAP faults.
		{name: "not XML", body: func(*testing.T) []byte { return []byte("SAMLart=x") }, wantErr: ErrMalformedRequest, wantFault: FaultClient},
		{name: "DOCTYPE", body: func(t *testing.T) []byte {
			return append([]byte(`<!DOCTYPE x [<!ENTITY e "x">]>`), signed(t, nil)...)
		}, wantErr: ErrMalformedRequest, wantFault: FaultClient},
		{name: "SOAP 1.2", body: func(t *testing.T) []byte {
			return bytes.Replace(signed(t, nil), []byte(nsSOAP11), []byte("http://www.w3.org/2003/05/soap-envelope"), 1)
		}, wantErr: ErrMalformedRequest, wantFault: FaultVersionMismatch},
		{name: "header that must be understood", body: func(t *testing.T) []byte {
			return bytes.Replace(signed(t, nil), []byte("<soapenv:Body>"),
				[]byte(`<soapenv:Header><x:Sec xmlns:x="urn:x" soapenv:mustUnderstand="1"/></soapenv:Header><soapenv:Body>`), 1)
		}, wantErr: ErrMalformedRequest, wantFault: FaultMustUnderstand},
		{name: "no Body", body: func(t *testing.T) []byte {
			return []byte(`<soapenv:Envelope xmlns:soapenv="` + nsSOAP11 + `"/>`)
		}, wantErr: ErrMalformedRequest, wantFault: FaultClient},
		{name: "two messages in the Body", body: func(t *testing.T) []byte {
			env := etree.NewElement("soapenv:Envelope")
			env.CreateAttr("xmlns:soapenv", nsSOAP11)
			b := env.CreateElement("soapenv:Body")
			b.AddChild(resolveFor(t, f.signed, art, nil, spKey(f.signed)))
			b.AddChild(resolveFor(t, f.signed, art, nil, spKey(f.signed)))
			return elementBytes(t, env)
		}, wantErr: ErrMalformedRequest, wantFault: FaultClient},
		{name: "two Bodies", body: func(t *testing.T) []byte {
			return bytes.Replace(signed(t, nil), []byte("</soapenv:Envelope>"), []byte("<soapenv:Body/></soapenv:Envelope>"), 1)
		}, wantErr: ErrMalformedRequest, wantFault: FaultClient},
		{name: "an AuthnRequest in the Body", body: func(t *testing.T) []byte {
			return soapOf(t, parseElement(t, postXML(t, f.signed, nil)))
		}, wantErr: ErrMalformedRequest, wantFault: FaultClient},
		{name: "bare ArtifactResolve without envelope", body: func(t *testing.T) []byte {
			return elementBytes(t, resolveFor(t, f.signed, art, nil, spKey(f.signed)))
		}, wantErr: ErrMalformedRequest, wantFault: FaultClient},
		{name: "form content type", contentType: "application/x-www-form-urlencoded", body: func(t *testing.T) []byte { return signed(t, nil) },
			wantErr: ErrMalformedRequest, wantFault: FaultClient},
		{name: "too large", body: func(t *testing.T) []byte {
			// Trailing white space is well-formed: only the cap refuses it.
			return append(signed(t, nil), bytes.Repeat([]byte(" "), DefaultMaxArtifactResolveBytes)...)
		}, wantErr: ErrRequestTooLarge, wantFault: FaultClient},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ct := tc.contentType
			if ct == "" {
				ct = "text/xml; charset=utf-8"
			}
			body := tc.body(t)
			got, err := p.Parse(soapRequest(body, ct))
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if got.Artifact != art || got.SP == nil || got.SP.EntityID != f.signed.EntityID || got.ID == "" {
					t.Errorf("Parse = %+v", got)
				}
				return
			}
			var ae *ArtifactResolveError
			if !errors.As(err, &ae) || !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want an ArtifactResolveError for %v", err, tc.wantErr)
			}
			if tc.wantFault != "" {
				if ae.InResponseTo != "" || ae.FaultCode != tc.wantFault {
					t.Errorf("InResponseTo %q, fault %q; want a %s fault", ae.InResponseTo, ae.FaultCode, tc.wantFault)
				}
				return
			}
			id := parseElementOf(t, body).FindElement("//ArtifactResolve").SelectAttrValue("ID", "")
			if ae.InResponseTo != id || ae.Status == nil || ae.Status.Status != tc.wantStatus.Status || ae.Status.SubStatus != tc.wantStatus.SubStatus {
				t.Errorf("answered to %q with %+v; want %q and %s", ae.InResponseTo, ae.Status, id, tc.wantStatus.Code())
			}
		})
	}
}

func parseElementOf(t *testing.T, data []byte) *etree.Element {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(data); err != nil {
		t.Fatal(err)
	}
	return doc.Root()
}

// TestParseArtifactResolveRefusesWrapping builds the eight XSW shapes
// around a genuinely signed ArtifactResolve for a harmless artifact, with
// the victim's artifact on the attacker's element: every one is refused
// and none yields the victim's artifact.
func TestParseArtifactResolveRefusesWrapping(t *testing.T) {
	t.Parallel()
	f := fixture(t)
	p := &ArtifactResolveParser{Registry: f.registry, URL: testArtifactURL}
	const harmless = "AAQAABDEz+UkQ6hFRGs6HrTM0dlZgwanAQIDBAUGBwgJCgsMDQ4PEBESExQ="
	const victim = "AAQAABDEz+UkQ6hFRGs6HrTM0dlZgwanFBMSERAPDg0MCwoJCAcGBQQDAgE="
	for n := 1; n <= samltest.XSWVariants; n++ {
		t.Run(fmt.Sprintf("XSW%d", n), func(t *testing.T) {
			t.Parallel()
			signed := resolveFor(t, f.signed, harmless, nil, spKey(f.signed))
			el, err := samltest.XSW(signed, n, "Destination", testArtifactURL)
			if err != nil {
				t.Fatal(err)
			}
			if a := el.FindElement("./Artifact"); a != nil && el.SelectAttrValue("Destination", "") == testArtifactURL {
				a.SetText(victim)
			}
			got, err := p.Parse(soapRequest(soapOf(t, el), "text/xml"))
			if err == nil {
				t.Fatalf("wrapped ArtifactResolve accepted, artifact %q", got.Artifact)
			}
			var ae *ArtifactResolveError
			if !errors.As(err, &ae) || !(errors.Is(err, ErrBadSignature) || errors.Is(err, ErrMalformedRequest)) {
				t.Fatalf("err = %v, want a bad signature or a malformed message", err)
			}
			if ae.InResponseTo != "" && (ae.Status.Status != StatusRequester) {
				t.Errorf("status %s, want Requester", ae.Status.Code())
			}
		})
	}
}

// TestBuildArtifactResponseGolden pins the ArtifactResponse envelope:
// namespaces, order (Issuer, Signature, Status, message), times and
// signature (deterministic: fixed key, clock and IDs).
func TestBuildArtifactResponseGolden(t *testing.T) {
	fixed := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	idp := testIDP(t, func() time.Time { return fixed }, &detRand{})
	resp, err := idp.BuildErrorResponse(ErrorParams{SPEntityID: "https://sp.example.org/saml/metadata", ACSURL: "https://sp.example.org/saml/acs",
		InResponseTo: "id-4242", Status: &StatusError{Status: StatusResponder, SubStatus: StatusAuthnFailed}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := idp.BuildArtifactResponse(ArtifactResponseParams{InResponseTo: "id-resolve-1", Message: resp})
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "TestBuildArtifactResponse.golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("ArtifactResponse differs from %s (run with -update after checking):\n%s", golden, got)
	}
}

// TestArtifactResponseReadByCrewjam checks the SP side with crewjam/saml's
// own artifact code: a Success ArtifactResponse carrying the bridge's
// Response yields the assertion; an empty one and an error status do not.
func TestArtifactResponseReadByCrewjam(t *testing.T) {
	idp := testIDP(t, nil, nil)
	sp := crewjamSP(t, idp)
	resp, err := idp.BuildResponse(sampleParams())
	if err != nil {
		t.Fatal(err)
	}
	p := sampleParams()
	p.EncryptTo, p.EncryptionCipher = sp.Certificate, EncAES256CBC
	encrypted, err := idp.BuildResponse(p)
	if err != nil {
		t.Fatal(err)
	}
	here, _ := url.Parse(testArtifactURL)
	tests := []struct {
		name   string
		params ArtifactResponseParams
		ok     bool
		status string
	}{
		{name: "message", params: ArtifactResponseParams{InResponseTo: "id-resolve", Message: resp}, ok: true},
		{name: "message, RSA-SHA512", params: ArtifactResponseParams{InResponseTo: "id-resolve", Message: resp, SignatureMethod: SignatureRSASHA512}, ok: true},
		{name: "encrypted assertion", params: ArtifactResponseParams{InResponseTo: "id-resolve", Message: encrypted}, ok: true},
		{name: "empty", params: ArtifactResponseParams{InResponseTo: "id-resolve"}},
		{name: "denied", params: ArtifactResponseParams{InResponseTo: "id-resolve", Status: &StatusError{Status: StatusRequester, SubStatus: StatusRequestDenied}}, status: StatusRequester},
		{name: "answer to another resolve", params: ArtifactResponseParams{InResponseTo: "id-other", Message: resp}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			soap, err := idp.BuildArtifactResponse(tc.params)
			if err != nil {
				t.Fatal(err)
			}
			want := 1 // the ArtifactResponse's, and the assertion's when it is visible
			if bytes.Equal(tc.params.Message, resp) {
				want = 2
			}
			if n := strings.Count(string(soap), "<ds:Signature "); n != want {
				t.Errorf("%d signatures, want %d", n, want)
			}
			a, err := sp.ParseXMLArtifactResponse(soap, []string{"id-4242"}, "id-resolve", *here)
			if tc.ok {
				if err != nil {
					t.Fatalf("crewjam rejected the ArtifactResponse: %v", describe(err))
				}
				if a.Subject.NameID.Value != "pairwise-abc" {
					t.Errorf("NameID %q", a.Subject.NameID.Value)
				}
				// crewjam trusts the inner Response once the
				// ArtifactResponse verifies; check that the embedded
				// Response still verifies on its own (its assertion
				// signature survived being embedded and re-signed).
				inner := parseElementOf(t, soap).FindElement("//ArtifactResponse/Response").Copy()
				inner.CreateAttr("xmlns:samlp", nsProtocol)
				inner.CreateAttr("xmlns:saml", nsAssertion)
				acs := sp.AcsURL
				if _, err := sp.ParseXMLResponse(elementBytes(t, inner), []string{"id-4242"}, acs); err != nil {
					t.Errorf("the embedded Response no longer verifies on its own: %v", describe(err))
				}
				return
			}
			if err == nil {
				t.Fatal("crewjam accepted it")
			}
			var bad crewjam.ErrBadStatus
			if tc.status != "" && (!asBadStatus(describe(err), &bad) || bad.Status != tc.status) {
				t.Errorf("err = %v, want status %s", describe(err), tc.status)
			}
		})
	}
	if _, err := idp.BuildArtifactResponse(ArtifactResponseParams{InResponseTo: "x", Message: resp, Status: &StatusError{Status: StatusResponder}}); err == nil {
		t.Error("an error status with a message was built")
	}
	if _, err := idp.BuildArtifactResponse(ArtifactResponseParams{Message: resp}); err == nil {
		t.Error("an ArtifactResponse without InResponseTo was built")
	}
}

func TestSOAPFault(t *testing.T) {
	b := SOAPFault(FaultClient, `bad <request> & "quotes"`)
	el := parseElementOf(t, b)
	if el.Tag != "Envelope" || el.NamespaceURI() != nsSOAP11 {
		t.Fatalf("root %s", el.Tag)
	}
	f := el.FindElement("./Body/Fault")
	if f == nil || f.NamespaceURI() != nsSOAP11 || f.FindElement("./faultcode").Text() != "SOAP-ENV:Client" ||
		f.FindElement("./faultstring").Text() != `bad <request> & "quotes"` {
		t.Errorf("fault = %s", b)
	}
}
