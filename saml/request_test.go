package saml

import (
	"bytes"
	"context"
	"crypto/rsa"
	"errors"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/certs"
	"github.com/samlbridge/samlbridge/metadata"
)

var formField = regexp.MustCompile(`name="(SAMLRequest|RelayState)" value="([^"]*)"`)

// crewjamPostForm turns crewjam's auto-submit HTML form into the POST the
// browser would send.
func crewjamPostForm(t *testing.T, form []byte) *http.Request {
	t.Helper()
	vals := url.Values{}
	for _, m := range formField.FindAllSubmatch(form, -1) {
		vals.Set(string(m[1]), html.UnescapeString(string(m[2])))
	}
	if vals.Get("SAMLRequest") == "" {
		t.Fatalf("no SAMLRequest in crewjam's form:\n%s", form)
	}
	r := httptest.NewRequest(http.MethodPost, testSSOURL, strings.NewReader(vals.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return r
}

func TestParseAcceptsCrewjamRequests(t *testing.T) {
	t.Parallel()
	f := fixture(t)
	tests := []struct {
		name       string
		req        func(t *testing.T) *http.Request
		sp         *crewjam.ServiceProvider
		binding    string
		signed     bool
		relayState string
	}{
		{"signed Redirect", func(t *testing.T) *http.Request {
			u, err := f.signed.MakeRedirectAuthenticationRequest("rs-1")
			if err != nil {
				t.Fatal(err)
			}
			return httptest.NewRequest(http.MethodGet, u.String(), nil)
		}, f.signed, crewjam.HTTPRedirectBinding, true, "rs-1"},
		{"signed POST", func(t *testing.T) *http.Request {
			form, err := f.signed.MakePostAuthenticationRequest("rs-2")
			if err != nil {
				t.Fatal(err)
			}
			return crewjamPostForm(t, form)
		}, f.signed, crewjam.HTTPPostBinding, true, "rs-2"},
		{"unsigned Redirect", func(t *testing.T) *http.Request {
			u, err := f.plain.MakeRedirectAuthenticationRequest("rs-3")
			if err != nil {
				t.Fatal(err)
			}
			return httptest.NewRequest(http.MethodGet, u.String(), nil)
		}, f.plain, crewjam.HTTPRedirectBinding, false, "rs-3"},
		{"unsigned POST", func(t *testing.T) *http.Request {
			form, err := f.plain.MakePostAuthenticationRequest("rs-4")
			if err != nil {
				t.Fatal(err)
			}
			return crewjamPostForm(t, form)
		}, f.plain, crewjam.HTTPPostBinding, false, "rs-4"},
		{"optional signer, signed", func(t *testing.T) *http.Request {
			return redirectRequest(t, f.optional, "rs-5", nil)
		}, f.optional, crewjam.HTTPRedirectBinding, true, "rs-5"},
		{"optional signer, unsigned", func(t *testing.T) *http.Request {
			return postRequest(postXML(t, withMethod(f.optional, ""), nil), ptr("rs-6"))
		}, f.optional, crewjam.HTTPPostBinding, false, "rs-6"},
		{"signed Redirect, RSA-SHA512", func(t *testing.T) *http.Request {
			return redirectRequest(t, withMethod(f.signed, SignatureRSASHA512), "rs-7", nil)
		}, f.signed, crewjam.HTTPRedirectBinding, true, "rs-7"},
		{"signed POST, RSA-SHA384", func(t *testing.T) *http.Request {
			return postRequest(postXML(t, withMethod(f.signed, SignatureRSASHA384), nil), ptr("rs-8"))
		}, f.signed, crewjam.HTTPPostBinding, true, "rs-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := f.parser().Parse(tt.req(t))
			if err != nil {
				t.Fatal(err)
			}
			if got.Binding != tt.binding || got.Signed != tt.signed {
				t.Errorf("binding %s signed %v, want %s %v", got.Binding, got.Signed, tt.binding, tt.signed)
			}
			if got.SP.EntityID != tt.sp.EntityID {
				t.Errorf("SP %s, want %s", got.SP.EntityID, tt.sp.EntityID)
			}
			if got.ACS.Location != tt.sp.AcsURL.String() || got.ACS.Binding != crewjam.HTTPPostBinding {
				t.Errorf("ACS %+v, want POST %s", got.ACS, tt.sp.AcsURL.String())
			}
			if !got.HasRelayState || got.RelayState != tt.relayState {
				t.Errorf("RelayState %q (%v), want %q", got.RelayState, got.HasRelayState, tt.relayState)
			}
			if !strings.HasPrefix(got.Request.ID, "id-") || got.Request.Issuer.Value != tt.sp.EntityID || got.Request.Signature != nil {
				t.Errorf("decoded request: ID %q Issuer %q Signature %v", got.Request.ID, got.Request.Issuer.Value, got.Request.Signature)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// failingRegistry is a registry whose backend is down.
type failingRegistry struct{}

func (failingRegistry) ServiceProvider(context.Context, string) (*metadata.ServiceProvider, error) {
	return nil, errors.New("backend unavailable")
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	f := fixture(t)
	plainXML := func(t *testing.T) []byte { return postXML(t, f.plain, nil) }
	replaceOnce := func(t *testing.T, data []byte, old, new string) []byte {
		t.Helper()
		if !bytes.Contains(data, []byte(old)) {
			t.Fatalf("%q not in %s", old, data)
		}
		return bytes.Replace(data, []byte(old), []byte(new), 1)
	}
	tests := []struct {
		name       string
		req        func(t *testing.T) *http.Request
		parser     func(p *RequestParser)
		wantErr    error
		wantStatus int
	}{
		// Method and binding.
		{name: "PUT", req: func(t *testing.T) *http.Request {
			return httptest.NewRequest(http.MethodPut, testSSOURL, nil)
		}, wantErr: ErrUnsupportedBinding, wantStatus: http.StatusMethodNotAllowed},
		{name: "no SAMLRequest", req: func(t *testing.T) *http.Request {
			return httptest.NewRequest(http.MethodGet, testSSOURL+"?RelayState=x", nil)
		}, wantErr: ErrMalformedRequest},
		{name: "duplicate SAMLRequest", req: func(t *testing.T) *http.Request {
			r := redirectRequest(t, f.plain, "", nil)
			q := r.URL.RawQuery
			return httptest.NewRequest(http.MethodGet, testSSOURL+"?"+q+"&"+q, nil)
		}, wantErr: ErrDuplicateParameter},
		{name: "duplicate RelayState", req: func(t *testing.T) *http.Request {
			r := redirectRequest(t, f.plain, "first", nil)
			return httptest.NewRequest(http.MethodGet, r.URL.String()+"&RelayState=second", nil)
		}, wantErr: ErrDuplicateParameter},
		{name: "duplicate Signature", req: func(t *testing.T) *http.Request {
			r := redirectRequest(t, f.signed, "", nil)
			return httptest.NewRequest(http.MethodGet, r.URL.String()+"&Signature=AAAA", nil)
		}, wantErr: ErrDuplicateParameter},
		{name: "encoded duplicate key", req: func(t *testing.T) *http.Request {
			r := redirectRequest(t, f.plain, "", nil)
			return httptest.NewRequest(http.MethodGet, r.URL.String()+"&SAML%52equest=AAAA", nil)
		}, wantErr: ErrDuplicateParameter},
		{name: "POST with SAMLRequest in URL and body", req: func(t *testing.T) *http.Request {
			r := postRequest(plainXML(t), nil)
			r.URL.RawQuery = "SAMLRequest=AAAA"
			return r
		}, wantErr: ErrDuplicateParameter},
		{name: "POST with duplicate SAMLRequest in body", req: func(t *testing.T) *http.Request {
			r := postRequest(plainXML(t), nil)
			body := string(readAll(t, r.Body))
			r = httptest.NewRequest(http.MethodPost, testSSOURL, strings.NewReader(body+"&"+body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, wantErr: ErrDuplicateParameter},
		{name: "POST multipart", req: func(t *testing.T) *http.Request {
			r := postRequest(plainXML(t), nil)
			r.Header.Set("Content-Type", "multipart/form-data; boundary=x")
			return r
		}, wantErr: ErrMalformedRequest},
		{name: "oversized POST body", req: func(t *testing.T) *http.Request {
			r := httptest.NewRequest(http.MethodPost, testSSOURL, strings.NewReader("SAMLRequest="+strings.Repeat("A", 300<<10)))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, wantErr: ErrRequestTooLarge, wantStatus: http.StatusRequestEntityTooLarge},
		{name: "oversized query", req: func(t *testing.T) *http.Request {
			return httptest.NewRequest(http.MethodGet, testSSOURL+"?SAMLRequest="+strings.Repeat("A", 300<<10), nil)
		}, wantErr: ErrRequestTooLarge, wantStatus: http.StatusRequestEntityTooLarge},
		{name: "deflate bomb", req: func(t *testing.T) *http.Request {
			return httptest.NewRequest(http.MethodGet, testSSOURL+"?SAMLRequest="+url.QueryEscape(base64Bomb(t)), nil)
		}, wantErr: ErrRequestTooLarge, wantStatus: http.StatusRequestEntityTooLarge},
		{name: "not base64", req: func(t *testing.T) *http.Request {
			return httptest.NewRequest(http.MethodGet, testSSOURL+"?SAMLRequest=%21%21%21", nil)
		}, wantErr: ErrMalformedRequest},
		{name: "not DEFLATE", req: func(t *testing.T) *http.Request {
			return httptest.NewRequest(http.MethodGet, testSSOURL+"?SAMLRequest="+url.QueryEscape("eJzLSM3JyQcABiwCFQ=="), nil)
		}, wantErr: ErrMalformedRequest},
		{name: "Redirect without DEFLATE", req: func(t *testing.T) *http.Request {
			return httptest.NewRequest(http.MethodGet, testSSOURL+"?SAMLRequest="+url.QueryEscape(base64Std(plainXML(t))), nil)
		}, wantErr: ErrMalformedRequest},

		// XML hardening (X-03..X-10).
		{name: "DOCTYPE", req: func(t *testing.T) *http.Request {
			return postRequest(append([]byte(`<!DOCTYPE r SYSTEM "http://127.0.0.1:1/x.dtd">`), plainXML(t)...), nil)
		}, wantErr: ErrMalformedRequest},
		{name: "entity declaration via Redirect", req: func(t *testing.T) *http.Request {
			return rawRedirect(t, append([]byte(`<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>`), plainXML(t)...), "", nil)
		}, wantErr: ErrMalformedRequest},
		{name: "duplicate attributes", req: func(t *testing.T) *http.Request {
			return postRequest(replaceOnce(t, plainXML(t), `ID="`, `ID="id-other" ID="`), nil)
		}, wantErr: ErrMalformedRequest},
		{name: "depth 10000", req: func(t *testing.T) *http.Request {
			deep := "<samlp:Extensions>" + strings.Repeat("<a>", 10000) + strings.Repeat("</a>", 10000) + "</samlp:Extensions>"
			return postRequest(replaceOnce(t, plainXML(t), "</saml:Issuer>", "</saml:Issuer>"+deep), nil)
		}, wantErr: ErrMalformedRequest},
		{name: "3000 elements", req: func(t *testing.T) *http.Request {
			wide := "<samlp:Extensions>" + strings.Repeat("<a/>", 3000) + "</samlp:Extensions>"
			return rawRedirect(t, replaceOnce(t, plainXML(t), "</saml:Issuer>", "</saml:Issuer>"+wide), "", nil)
		}, wantErr: ErrMalformedRequest},
		{name: "comment inside Issuer", req: func(t *testing.T) *http.Request {
			return postRequest(replaceOnce(t, plainXML(t), "plain.example.org/saml/metadata<", "plain.example.org/saml/<!---->metadata<"), nil)
		}, wantErr: ErrMalformedRequest},
		{name: "CDATA inside Issuer", req: func(t *testing.T) *http.Request {
			return postRequest(replaceOnce(t, plainXML(t), "plain.example.org/saml/metadata<", "plain.example.org/saml/<![CDATA[metadata]]><"), nil)
		}, wantErr: ErrMalformedRequest},
		{name: "namespaced ACS URL shadowing the real one", req: func(t *testing.T) *http.Request {
			return postRequest(replaceOnce(t, plainXML(t), "<samlp:AuthnRequest ", `<samlp:AuthnRequest xmlns:x="urn:x" x:AssertionConsumerServiceURL="https://evil.example/acs" `), nil)
		}, wantErr: ErrMalformedRequest},
		{name: "two roots", req: func(t *testing.T) *http.Request {
			x := plainXML(t)
			return postRequest(append(x, x...), nil)
		}, wantErr: ErrMalformedRequest},
		{name: "UTF-16 declaration", req: func(t *testing.T) *http.Request {
			return postRequest(append([]byte(`<?xml version="1.0" encoding="UTF-16"?>`), plainXML(t)...), nil)
		}, wantErr: ErrMalformedRequest},
		{name: "invalid UTF-8", req: func(t *testing.T) *http.Request {
			return postRequest(replaceOnce(t, plainXML(t), "plain.example.org/saml/metadata<", "plain.example.org/saml/metadata\xff<"), nil)
		}, wantErr: ErrMalformedRequest},

		// SAML shape (REQ-02, REQ-10, REQ-11).
		{name: "missing Issuer", req: func(t *testing.T) *http.Request {
			return postRequest(postXML(t, f.plain, func(r *crewjam.AuthnRequest) { r.Issuer = nil }), nil)
		}, wantErr: ErrMalformedRequest},
		{name: "empty Issuer", req: func(t *testing.T) *http.Request {
			return postRequest(postXML(t, f.plain, func(r *crewjam.AuthnRequest) { r.Issuer.Value = " " }), nil)
		}, wantErr: ErrMalformedRequest},
		{name: "Issuer with a non-entity Format", req: func(t *testing.T) *http.Request {
			return postRequest(postXML(t, f.plain, func(r *crewjam.AuthnRequest) { r.Issuer.Format = NameIDFormatEmail }), nil)
		}, wantErr: ErrMalformedRequest},
		{name: "Issuer in the wrong namespace", req: func(t *testing.T) *http.Request {
			return postRequest(replaceOnce(t, plainXML(t), "<saml:Issuer", `<saml:Issuer xmlns:saml="urn:evil"`), nil)
		}, wantErr: ErrMalformedRequest},
		{name: "Version 1.1", req: func(t *testing.T) *http.Request {
			return postRequest(postXML(t, f.plain, func(r *crewjam.AuthnRequest) { r.Version = "1.1" }), nil)
		}, wantErr: ErrMalformedRequest},
		{name: "ID not an NCName", req: func(t *testing.T) *http.Request {
			return postRequest(postXML(t, f.plain, func(r *crewjam.AuthnRequest) { r.ID = "1abc" }), nil)
		}, wantErr: ErrMalformedRequest},
		{name: "ID given again to an extension element", req: func(t *testing.T) *http.Request {
			x := postXML(t, f.plain, func(r *crewjam.AuthnRequest) { r.ID = "id-dup-1" })
			return postRequest(replaceOnce(t, x, "</saml:Issuer>", `</saml:Issuer><samlp:Extensions><x:a xmlns:x="urn:x" ID="id-dup-1"/></samlp:Extensions>`), nil)
		}, wantErr: ErrMalformedRequest},
		{name: "ID given again as xml:id", req: func(t *testing.T) *http.Request {
			x := postXML(t, f.plain, func(r *crewjam.AuthnRequest) { r.ID = "id-dup-2" })
			return postRequest(replaceOnce(t, x, "</saml:Issuer>", `</saml:Issuer><samlp:Extensions><x:a xmlns:x="urn:x" xml:id="id-dup-2"/></samlp:Extensions>`), nil)
		}, wantErr: ErrMalformedRequest},
		{name: "ID too long", req: func(t *testing.T) *http.Request {
			return postRequest(postXML(t, f.plain, func(r *crewjam.AuthnRequest) { r.ID = "id-" + strings.Repeat("a", 300) }), nil)
		}, wantErr: ErrMalformedRequest},
		{name: "LogoutRequest", req: func(t *testing.T) *http.Request {
			x := bytes.ReplaceAll(plainXML(t), []byte("samlp:AuthnRequest"), []byte("samlp:LogoutRequest"))
			return postRequest(x, nil)
		}, wantErr: ErrMalformedRequest},
		{name: "AuthnRequest in a foreign namespace", req: func(t *testing.T) *http.Request {
			return postRequest(replaceOnce(t, plainXML(t), `xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"`, `xmlns:samlp="urn:evil"`), nil)
		}, wantErr: ErrMalformedRequest},

		// The SP (REQ-01).
		{name: "unknown SP", req: func(t *testing.T) *http.Request {
			stranger := withKey(f.plain, f.evil)
			stranger.EntityID = "https://stranger.example/metadata"
			return redirectRequest(t, stranger, "", nil)
		}, wantErr: ErrUnknownSP},
		{name: "SP differing by a trailing slash", req: func(t *testing.T) *http.Request {
			return redirectRequest(t, f.plain, "", func(r *crewjam.AuthnRequest) { r.Issuer.Value += "/" })
		}, wantErr: ErrUnknownSP},
		{name: "registry down", req: func(t *testing.T) *http.Request {
			return redirectRequest(t, f.plain, "", nil)
		}, parser: func(p *RequestParser) { p.Registry = failingRegistry{} }, wantErr: ErrRegistryUnavailable, wantStatus: http.StatusServiceUnavailable},

		// Signatures (SIG-*).
		{name: "Redirect signature required but missing", req: func(t *testing.T) *http.Request {
			return redirectRequest(t, withMethod(f.signed, ""), "", nil)
		}, wantErr: ErrSignatureRequired},
		{name: "POST signature required but missing", req: func(t *testing.T) *http.Request {
			return postRequest(postXML(t, withMethod(f.signed, ""), nil), nil)
		}, wantErr: ErrSignatureRequired},
		{name: "bridge-wide signature requirement", req: func(t *testing.T) *http.Request {
			return redirectRequest(t, f.plain, "", nil)
		}, parser: func(p *RequestParser) { p.WantAuthnRequestsSigned = true }, wantErr: ErrSignatureRequired},
		{name: "bad Redirect signature", req: func(t *testing.T) *http.Request {
			r := redirectRequest(t, f.signed, "", nil)
			q := r.URL.Query()
			sig := []byte(q.Get("Signature"))
			sig[5] ^= 1
			q.Set("Signature", string(sig))
			return httptest.NewRequest(http.MethodGet, testSSOURL+"?"+q.Encode(), nil)
		}, wantErr: ErrBadSignature},
		{name: "garbage signature on an optional signer", req: func(t *testing.T) *http.Request {
			r := redirectRequest(t, withMethod(f.optional, ""), "", nil)
			return httptest.NewRequest(http.MethodGet, r.URL.String()+"&SigAlg="+url.QueryEscape(SignatureRSASHA256)+"&Signature=AAAA", nil)
		}, wantErr: ErrBadSignature},
		{name: "Signature without SigAlg", req: func(t *testing.T) *http.Request {
			r := redirectRequest(t, f.signed, "", nil)
			q := r.URL.Query()
			q.Del("SigAlg")
			return httptest.NewRequest(http.MethodGet, testSSOURL+"?"+q.Encode(), nil)
		}, wantErr: ErrBadSignature},
		{name: "RelayState tampered after signing", req: func(t *testing.T) *http.Request {
			r := redirectRequest(t, f.signed, "original", nil)
			return httptest.NewRequest(http.MethodGet, strings.Replace(r.URL.String(), "RelayState=original", "RelayState=tampered", 1), nil)
		}, wantErr: ErrBadSignature},
		{name: "RelayState added after signing", req: func(t *testing.T) *http.Request {
			r := redirectRequest(t, f.signed, "", nil)
			return httptest.NewRequest(http.MethodGet, r.URL.String()+"&RelayState=added", nil)
		}, wantErr: ErrBadSignature},
		{name: "SigAlg rsa-sha1", req: func(t *testing.T) *http.Request {
			return redirectRequest(t, withMethod(f.signed, rsaSHA1), "", nil)
		}, wantErr: ErrBadSignature},
		{name: "POST signed with rsa-sha1", req: func(t *testing.T) *http.Request {
			return postRequest(postXML(t, withMethod(f.signed, rsaSHA1), nil), nil)
		}, wantErr: ErrBadSignature},
		{name: "Redirect signed by another key", req: func(t *testing.T) *http.Request {
			return redirectRequest(t, withKey(f.signed, f.evil), "", nil)
		}, wantErr: ErrBadSignature},
		{name: "POST signed by another key", req: func(t *testing.T) *http.Request {
			return postRequest(postXML(t, withKey(f.signed, f.evil), nil), nil)
		}, wantErr: ErrBadSignature},
		{name: "POST signed by another registered SP", req: func(t *testing.T) *http.Request {
			sp := withKey(f.signed, &certs.KeyPair{Key: f.optional.Key.(*rsa.PrivateKey), Cert: f.optional.Certificate})
			return postRequest(postXML(t, sp, nil), nil)
		}, wantErr: ErrBadSignature},
		{name: "POST signature from an SP without signing keys", req: func(t *testing.T) *http.Request {
			return postRequest(postXML(t, withMethod(f.plain, SignatureRSASHA256), nil), nil)
		}, wantErr: ErrBadSignature},
		{name: "POST with SigAlg field", req: func(t *testing.T) *http.Request {
			r := postRequest(postXML(t, f.signed, nil), nil)
			body := string(readAll(t, r.Body)) + "&SigAlg=x"
			r = httptest.NewRequest(http.MethodPost, testSSOURL, strings.NewReader(body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, wantErr: ErrBadSignature},
		{name: "XSW: signed request moved into Extensions of an evil root", req: func(t *testing.T) *http.Request {
			return postRequest(xswWrapped(t, f), nil)
		}, wantErr: ErrBadSignature},
		{name: "XSW: evil root keeps the signature, signed request in Extensions", req: func(t *testing.T) *http.Request {
			return postRequest(xswSignatureOnEvilRoot(t, f), nil)
		}, wantErr: ErrBadSignature},
		{name: "two References", req: func(t *testing.T) *http.Request {
			return postRequest(twoReferences(t, f), nil)
		}, wantErr: ErrBadSignature},
		{name: "Redirect with embedded ds:Signature", req: func(t *testing.T) *http.Request {
			return rawRedirect(t, postXML(t, f.signed, nil), "", f.signed.Key.(*rsa.PrivateKey))
		}, wantErr: ErrBadSignature},

		// Destination (REQ-07).
		{name: "wrong Destination", req: func(t *testing.T) *http.Request {
			return redirectRequest(t, f.signed, "", func(r *crewjam.AuthnRequest) { r.Destination = "https://other-idp.example/sso" })
		}, wantErr: ErrDestination},
		{name: "wrong Destination unsigned", req: func(t *testing.T) *http.Request {
			return postRequest(postXML(t, f.plain, func(r *crewjam.AuthnRequest) { r.Destination = testSSOURL + "/" }), nil)
		}, wantErr: ErrDestination},
		{name: "signed request without Destination", req: func(t *testing.T) *http.Request {
			return postRequest(postXML(t, f.signed, func(r *crewjam.AuthnRequest) { r.Destination = "" }), nil)
		}, wantErr: ErrDestination},

		// IssueInstant (REQ-08, G4).
		{name: "IssueInstant one year ahead", req: func(t *testing.T) *http.Request {
			return redirectRequest(t, f.signed, "", func(r *crewjam.AuthnRequest) { r.IssueInstant = time.Now().AddDate(1, 0, 0) })
		}, wantErr: ErrStaleRequest},
		{name: "IssueInstant one hour old", req: func(t *testing.T) *http.Request {
			return postRequest(postXML(t, f.signed, func(r *crewjam.AuthnRequest) { r.IssueInstant = time.Now().Add(-time.Hour) }), nil)
		}, wantErr: ErrStaleRequest},
		{name: "request replayed an hour later", req: func(t *testing.T) *http.Request {
			return redirectRequest(t, f.plain, "", nil)
		}, parser: func(p *RequestParser) { p.Now = func() time.Time { return time.Now().Add(time.Hour) } }, wantErr: ErrStaleRequest},
		{name: "IssueInstant missing", req: func(t *testing.T) *http.Request {
			x := regexp.MustCompile(` IssueInstant="[^"]*"`).ReplaceAll(plainXML(t), nil)
			return postRequest(x, nil)
		}, wantErr: ErrMalformedRequest},

		// ACS (REQ-03/04/05).
		{name: "ACS not in metadata", req: func(t *testing.T) *http.Request {
			return redirectRequest(t, f.signed, "", func(r *crewjam.AuthnRequest) { r.AssertionConsumerServiceURL = "https://evil.example/steal" })
		}, wantErr: ErrACS},
		{name: "ACS near miss", req: func(t *testing.T) *http.Request {
			return redirectRequest(t, f.signed, "", func(r *crewjam.AuthnRequest) { r.AssertionConsumerServiceURL += "/" })
		}, wantErr: ErrACS},
		{name: "ACS index unknown", req: func(t *testing.T) *http.Request {
			return redirectRequest(t, f.signed, "", func(r *crewjam.AuthnRequest) {
				r.AssertionConsumerServiceURL, r.ProtocolBinding, r.AssertionConsumerServiceIndex = "", "", "99"
			})
		}, wantErr: ErrACS},
		{name: "ACS index of the Artifact endpoint, Artifact off", req: func(t *testing.T) *http.Request {
			return redirectRequest(t, f.signed, "", func(r *crewjam.AuthnRequest) {
				r.AssertionConsumerServiceURL, r.ProtocolBinding, r.AssertionConsumerServiceIndex = "", "", "2"
			})
		}, wantErr: ErrUnsupportedBinding},
		{name: "ACS index not a number", req: func(t *testing.T) *http.Request {
			return redirectRequest(t, f.signed, "", func(r *crewjam.AuthnRequest) {
				r.AssertionConsumerServiceURL, r.ProtocolBinding, r.AssertionConsumerServiceIndex = "", "", "-1"
			})
		}, wantErr: ErrACS},
		{name: "ACS URL and index", req: func(t *testing.T) *http.Request {
			return redirectRequest(t, f.signed, "", func(r *crewjam.AuthnRequest) { r.AssertionConsumerServiceIndex = "1" })
		}, wantErr: ErrACS},
		{name: "Artifact ProtocolBinding, Artifact off", req: func(t *testing.T) *http.Request {
			return redirectRequest(t, f.signed, "", func(r *crewjam.AuthnRequest) { r.ProtocolBinding = crewjam.HTTPArtifactBinding })
		}, wantErr: ErrUnsupportedBinding},

		// RelayState (REQ-19).
		{name: "RelayState too long", req: func(t *testing.T) *http.Request {
			return postRequest(plainXML(t), ptr(strings.Repeat("r", 1025)))
		}, wantErr: ErrMalformedRequest},
		{name: "RelayState with CRLF", req: func(t *testing.T) *http.Request {
			return postRequest(plainXML(t), ptr("x\r\nSet-Cookie: a=b"))
		}, wantErr: ErrMalformedRequest},
		{name: "RelayState with invalid UTF-8", req: func(t *testing.T) *http.Request {
			return postRequest(plainXML(t), ptr("x\xff"))
		}, wantErr: ErrMalformedRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := f.parser()
			if tt.parser != nil {
				tt.parser(p)
			}
			got, err := p.Parse(tt.req(t))
			t.Log(err)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got != nil {
				t.Error("a request was returned along with the error")
			}
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("%T is not a *RequestError", err)
			}
			want := tt.wantStatus
			if want == 0 {
				want = http.StatusBadRequest
			}
			if re.HTTPStatus() != want {
				t.Errorf("HTTP status %d, want %d", re.HTTPStatus(), want)
			}
			if re.Message == "" || strings.Contains(re.Message, "evil") || strings.Contains(re.Message, "example") {
				t.Errorf("unsafe or empty message %q", re.Message)
			}
			if re.Cause() == nil {
				t.Error("no cause for the logs")
			}
		})
	}
}

// TestParseKeepsEveryRequestedClass checks that every AuthnContextClassRef
// of a RequestedAuthnContext survives, in order (crewjam keeps only one).
func TestParseKeepsEveryRequestedClass(t *testing.T) {
	t.Parallel()
	f := fixture(t)
	el := parseElement(t, postXML(t, f.plain, nil))
	rac := el.CreateElement("samlp:RequestedAuthnContext")
	rac.CreateAttr("Comparison", "minimum")
	for _, ref := range []string{"urn:a", "urn:b", "urn:c"} {
		rac.CreateElement("saml:AuthnContextClassRef").SetText(ref)
	}
	got, err := f.parser().Parse(postRequest(elementBytes(t, el), nil))
	if err != nil {
		t.Fatal(describe(err))
	}
	want := &RequestedAuthnContext{Comparison: "minimum", ClassRefs: []string{"urn:a", "urn:b", "urn:c"}}
	if got.RequestedAuthnContext == nil || !reflect.DeepEqual(got.RequestedAuthnContext, want) {
		t.Fatalf("RequestedAuthnContext = %+v, want %+v", got.RequestedAuthnContext, want)
	}
	plain, err := f.parser().Parse(postRequest(postXML(t, f.plain, nil), nil))
	if err != nil {
		t.Fatal(describe(err))
	}
	if plain.RequestedAuthnContext != nil {
		t.Errorf("a request without RequestedAuthnContext got %+v", plain.RequestedAuthnContext)
	}
}

// TestRejectionLogIsBounded (PRIV-02): the debug line of a rejected
// request carries the reason and a cause cut short, however much of the
// request the cause would echo (a time value that does not parse is
// quoted whole by the XML decoder).
func TestRejectionLogIsBounded(t *testing.T) {
	f := fixture(t)
	var logs bytes.Buffer
	p := f.parser()
	p.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	huge := "2026-" + strings.Repeat("9", 100<<10)
	x := bytes.Replace(postXML(t, f.plain, nil), []byte(`IssueInstant="`), []byte(`IssueInstant="`+huge), 1)
	if !bytes.Contains(x, []byte(huge)) {
		t.Fatal("test set-up: IssueInstant not replaced")
	}
	if _, err := p.Parse(postRequest(x, nil)); err == nil {
		t.Fatal("a request with a 100 KiB IssueInstant was accepted")
	}
	line := logs.String()
	if !strings.Contains(line, "AuthnRequest rejected") {
		t.Fatalf("no rejection logged: %q", line)
	}
	if len(line) > 1024 {
		t.Errorf("rejection log line is %d bytes, want at most 1 KiB", len(line))
	}
}
