package main

import (
	"bytes"
	"compress/flate"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samlbridge/samlbridge/certs"
	"github.com/samlbridge/samlbridge/saml"
)

const (
	decodeSP      = "https://sp.example/"
	decodeSSO     = "https://idp.example/saml/sso"
	decodeRSA256  = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
	decodeRelay   = "state/42?x=1"
	decodeReqTime = "2027-03-01T09:59:00Z" // a minute before toolsNow
)

// authnRequestXML is an AuthnRequest from decodeSP issued at issued.
func authnRequestXML(id, issued, destination string) string {
	dest := ""
	if destination != "" {
		dest = ` Destination="` + destination + `"`
	}
	return `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="` + id +
		`" Version="2.0" IssueInstant="` + issued + `"` + dest + ` AssertionConsumerServiceURL="https://sp.example/acs" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST">` +
		`<saml:Issuer>` + decodeSP + `</saml:Issuer><samlp:NameIDPolicy Format="urn:oasis:names:tc:SAML:2.0:nameid-format:transient" AllowCreate="true"/></samlp:AuthnRequest>`
}

func deflateB64(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	w, err := flate.NewWriter(&b, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte(s))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

// signedRedirectURL is the HTTP-Redirect URL an SP sends for xml, with
// RelayState, signed with the test SP key (RSA-SHA256, deterministic).
func signedRedirectURL(t *testing.T, xml string) string {
	t.Helper()
	kp, err := certs.LoadFiles(filepath.Join(testKeyDir, "sp-test.key"), "")
	if err != nil {
		t.Fatal(err)
	}
	q := "SAMLRequest=" + url.QueryEscape(deflateB64(t, xml)) + "&RelayState=" + url.QueryEscape(decodeRelay) + "&SigAlg=" + url.QueryEscape(decodeRSA256)
	sum := sha256.Sum256([]byte(q))
	sig, err := rsa.SignPKCS1v15(nil, kp.Key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return decodeSSO + "?" + q + "&Signature=" + url.QueryEscape(base64.StdEncoding.EncodeToString(sig))
}

// writeDecodeConfig writes a configuration registering decodeSP, which signs
// its requests with the test SP key.
func writeDecodeConfig(t *testing.T) string {
	t.Helper()
	return writeToolConfig(t, t.TempDir(), "  - {metadata_file: sp.xml, attributes: [name, firstName]}\n",
		map[string]string{"sp.xml": spMetadataXML(t, decodeSP, "https://sp.example/acs", true)})
}

// TestDecodeGolden decodes a signed HTTP-Redirect AuthnRequest against
// the configuration that registers its SP: every step of the bridge's own
// validation passes, and the output is stable.
func TestDecodeGolden(t *testing.T) {
	cfg := writeDecodeConfig(t)
	u := signedRedirectURL(t, authnRequestXML("_req1", decodeReqTime, decodeSSO))
	code, out, stderr := runTool(t, runDecode, toolsEnv(""), "--config", cfg, u)
	if code != 0 {
		t.Fatalf("exit %d:\n%s%s", code, out, stderr)
	}
	golden(t, "decode_redirect_valid.golden", strings.ReplaceAll(out, filepath.Dir(cfg), "DIR"))

	// The same message by stdin and without configuration: only the
	// binding, XML and shape are checked, still exit 0.
	code, out, stderr = runTool(t, runDecode, toolsEnv(u+"\n"), "-")
	if code != 0 {
		t.Fatalf("no config: exit %d:\n%s%s", code, out, stderr)
	}
	golden(t, "decode_redirect_noconfig.golden", out)
}

// TestDecode checks each input form and each verdict: exit 0 when valid,
// 1 when a check fails (naming the step and the reason), 2 for input
// that holds no SAML message.
func TestDecode(t *testing.T) {
	cfg := writeDecodeConfig(t)
	valid := authnRequestXML("_req2", decodeReqTime, decodeSSO)
	signedURL := signedRedirectURL(t, valid)
	query := signedURL[strings.IndexByte(signedURL, '?')+1:]
	unsignedPOST := "SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(valid))) + "&RelayState=r"
	// A tampered query: the signature no longer matches.
	tampered := strings.Replace(signedURL, "RelayState=", "RelayState=x", 1)
	later := toolsNow.Add(time.Hour).Format(time.RFC3339)
	response := `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r" Version="2.0" IssueInstant="2027-03-01T10:00:00Z"><saml:Issuer>https://idp.example/saml/metadata</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:NoPassive"/></samlp:StatusCode><samlp:StatusMessage>needs the user</samlp:StatusMessage></samlp:Status></samlp:Response>`
	logout := `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_l" Version="2.0" IssueInstant="` + decodeReqTime + `" Destination="https://idp.example/saml/slo"><saml:Issuer>` + decodeSP + `</saml:Issuer><saml:NameID>abc</saml:NameID></samlp:LogoutRequest>`
	bridgeResponse := signedErrorResponse(t)
	tests := []struct {
		name  string
		args  []string
		code  int
		wants []string
	}{
		{"unsigned LogoutRequest", []string{"--config", cfg, logout}, 1, []string{"kind: LogoutRequest (XML, SAMLRequest)", "pass  Issuer", "FAIL  signature: unsigned POST request"}},
		{"Response signed by the bridge", []string{"--config", cfg, base64.StdEncoding.EncodeToString(bridgeResponse)}, 0, []string{"kind: Response (base64, SAMLResponse)",
			"pass  Issuer: https://idp.example/saml/metadata", "pass  Response signature: verified", "Status: Requester / RequestDenied", "verdict: VALID"}},
		{"Response signed by the bridge, altered", []string{"--config", cfg, strings.Replace(string(bridgeResponse), "RequestDenied", "AuthnFailed", 1)}, 1, []string{"FAIL  Response signature"}},
		{"whole URL", []string{"--config", cfg, signedURL}, 0, []string{"kind: AuthnRequest (HTTP-Redirect URL, SAMLRequest)", "pass  signature: query signature verified", "verdict: VALID"}},
		{"URL without scheme", []string{"--config", cfg, strings.TrimPrefix(signedURL, "https://")}, 0, []string{"(HTTP-Redirect URL, SAMLRequest)", "verdict: VALID"}},
		{"query string with ?", []string{"--config", cfg, "?" + query}, 0, []string{"(HTTP-Redirect URL, SAMLRequest)", "verdict: VALID"}},
		{"query string", []string{"--config", cfg, query}, 0, []string{"(HTTP-Redirect query, SAMLRequest)", "verdict: VALID"}},
		{"tampered query", []string{"--config", cfg, tampered}, 1, []string{"FAIL  signature: the signature does not verify", "-     Destination: not checked", "verdict: NOT VALID"}},
		{"unsigned POST body, signature required", []string{"--config", cfg, unsignedPOST}, 1, []string{"(HTTP-POST form body, SAMLRequest)", "pass  Issuer", "FAIL  signature: unsigned POST request"}},
		{"unsigned POST body, no config", []string{unsignedPOST}, 0, []string{"pass  XML", "-     Issuer: not checked: give --config", "verdict: WELL-FORMED"}},
		{"bare base64", []string{base64.StdEncoding.EncodeToString([]byte(valid))}, 0, []string{"(base64, SAMLRequest)", "binding: HTTP-POST"}},
		{"bare deflated base64", []string{deflateB64(t, valid)}, 0, []string{"(base64 (deflated), SAMLRequest)", "binding: HTTP-Redirect"}},
		{"raw XML", []string{valid}, 0, []string{"(XML, SAMLRequest)", `ID="_req2"`}},
		{"stale with --now", []string{"--config", cfg, "--now", later, signedURL}, 1, []string{"FAIL  IssueInstant: IssueInstant 2027-03-01T09:59:00Z is too old"}},
		{"wrong Destination", []string{"--config", cfg, signedRedirectURL(t, authnRequestXML("_req3", decodeReqTime, "https://other.example/sso"))}, 1, []string{"FAIL  Destination"}},
		{"unknown SP", []string{"--config", cfg, strings.ReplaceAll(valid, decodeSP, "https://stranger.example/")}, 1, []string{"FAIL  Issuer", "unknown service provider"}},
		{"DOCTYPE", []string{`<!DOCTYPE x [<!ENTITY a "b">]>` + valid}, 1, []string{"FAIL  XML", "DOCTYPE"}},
		{"not well-formed", []string{"<samlp:AuthnRequest"}, 1, []string{"FAIL  XML"}},
		{"Response, no config", []string{response}, 0, []string{"kind: Response (XML, SAMLResponse)", "Status: Responder / NoPassive: needs the user"}},
		{"unsigned Response, config", []string{"--config", cfg, response}, 1, []string{"pass  Issuer", "FAIL  signature: neither the Response nor an assertion is signed"}},
		{"garbage", []string{"hello world"}, 2, []string{"no SAML message found"}},
		{"empty stdin", nil, 2, []string{"the input is empty"}},
		{"bad --now", []string{"--now", "yesterday", valid}, 2, []string{"--now"}},
		{"two inputs", []string{valid, valid}, 2, []string{"give one input"}},
		{"deflate bomb", []string{deflateB64(t, strings.Repeat("<a>", 200000))}, 2, []string{"inflates to more than"}},
		{"both SAMLRequest and SAMLResponse", []string{"SAMLRequest=AA&SAMLResponse=AA"}, 2, []string{"both SAMLRequest and SAMLResponse"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := runTool(t, runDecode, toolsEnv(""), tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d:\n%s%s", code, tt.code, out, stderr)
			}
			for _, w := range tt.wants {
				if !strings.Contains(out+stderr, w) {
					t.Errorf("output lacks %q:\n%s%s", w, out, stderr)
				}
			}
		})
	}
}

// signedErrorResponse is an error Response the bridge of writeDecodeConfig
// (the test IdP key) sends to decodeSP.
func signedErrorResponse(t *testing.T) []byte {
	t.Helper()
	kp, err := certs.LoadFiles(filepath.Join(testKeyDir, "idp-test.key"), filepath.Join(testKeyDir, "idp-test.crt"))
	if err != nil {
		t.Fatal(err)
	}
	idp := &saml.IDP{EntityID: "https://idp.example/saml/metadata", Signer: &saml.Signer{Key: kp.Key, Certs: []*x509.Certificate{kp.Cert}},
		Now: func() time.Time { return toolsNow }}
	b, err := idp.BuildErrorResponse(saml.ErrorParams{SPEntityID: decodeSP, ACSURL: "https://sp.example/acs", InResponseTo: "_req1",
		Status: &saml.StatusError{Status: saml.StatusRequester, SubStatus: saml.StatusRequestDenied, Message: "no"}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzDecodeInput feeds arbitrary input to decode's input sniffing and
// decoding, and to the pretty-printer: never a panic, and a message found
// is always a SAMLRequest or SAMLResponse with XML and a binding.
func FuzzDecodeInput(f *testing.F) {
	valid := authnRequestXML("_f", decodeReqTime, decodeSSO)
	for _, s := range []string{valid, "SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(valid))),
		"https://idp.example/saml/sso?SAMLRequest=fZ%2B&SigAlg=x&Signature=y", base64.StdEncoding.EncodeToString([]byte(valid)),
		"?SAMLResponse=PA==&RelayState=%ZZ", "", "<", "%", "SAMLRequest=&&&="} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		m, err := decodeInput(in)
		if err != nil {
			return
		}
		if (m.Field != fieldRequest && m.Field != fieldResponse) || len(m.XML) == 0 || m.Binding == "" || m.Form == "" {
			t.Fatalf("incomplete message %+v", m)
		}
		_ = prettyXML(m.XML)
		_ = rootName(string(m.XML))
	})
}
