package saml

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	crewjam "github.com/crewjam/saml"
)

// seedNow is the time the testdata requests were issued at.
func seedNow() time.Time { return time.Date(2026, 11, 21, 12, 1, 0, 0, time.UTC) }

func seedRequests(tb testing.TB) map[string][]byte {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "requests", "*.xml"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no seeds: %v", err)
	}
	out := map[string][]byte{}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		out[filepath.Base(name)] = data
	}
	return out
}

func seedParser(tb testing.TB) *RequestParser {
	p := fixture(tb).parser()
	p.Now = seedNow
	return p
}

// TestSeedRequests pins what each fuzz seed is, in both bindings.
func TestSeedRequests(t *testing.T) {
	t.Parallel()
	want := map[string]error{
		"unsigned_plain.xml":      nil,
		"by_index.xml":            nil,
		"doctype.xml":             ErrMalformedRequest,
		"comment_in_issuer.xml":   ErrMalformedRequest,
		"duplicate_attribute.xml": ErrMalformedRequest,
		"namespaced_acs.xml":      ErrMalformedRequest,
		"no_issuer.xml":           ErrMalformedRequest,
		"xsw_shape.xml":           ErrBadSignature,
		"two_references.xml":      ErrBadSignature,
	}
	for name, data := range seedRequests(t) {
		wantErr, ok := want[name]
		if !ok {
			t.Errorf("unexpected seed %s: add it to this test", name)
			continue
		}
		for _, binding := range []string{crewjam.HTTPPostBinding, crewjam.HTTPRedirectBinding} {
			t.Run(name+"/"+binding[strings.LastIndex(binding, "-")+1:], func(t *testing.T) {
				t.Parallel()
				var r *http.Request
				if binding == crewjam.HTTPPostBinding {
					r = postRequest(data, nil)
				} else {
					r = rawRedirect(t, data, "", nil)
				}
				got, err := seedParser(t).Parse(r)
				if !errors.Is(err, wantErr) || (wantErr == nil && err != nil) {
					t.Fatalf("err = %v, want %v", err, wantErr)
				}
				if err == nil && got.ACS.Location != "https://plain.example.org/saml/acs" {
					t.Errorf("ACS %+v", got.ACS)
				}
			})
		}
	}
}

// checkParseOutcome is the invariant both fuzz targets enforce: no panic,
// every error is a *RequestError with a known reason, and an accepted
// request has a registered SP and a metadata ACS.
func checkParseOutcome(t *testing.T, got *AuthnRequest, err error) {
	t.Helper()
	if err != nil {
		var re *RequestError
		if !errors.As(err, &re) || re.Reason == nil || re.Message == "" {
			t.Fatalf("not a complete *RequestError: %#v", err)
		}
		return
	}
	if got == nil || got.Request == nil || got.SP == nil {
		t.Fatal("nil result without an error")
	}
	if !slices.ContainsFunc(got.SP.ACS, func(e crewjam.IndexedEndpoint) bool { return e == got.ACS }) {
		t.Fatalf("ACS %+v is not in the SP's metadata", got.ACS)
	}
	if got.Request.Issuer == nil || strings.TrimSpace(got.Request.Issuer.Value) != got.SP.EntityID {
		t.Fatal("Issuer differs from the SP")
	}
}

// FuzzDecodeRedirect feeds arbitrary query strings to the Redirect
// binding.
func FuzzDecodeRedirect(f *testing.F) {
	for _, data := range seedRequests(f) {
		var b bytes.Buffer
		w, _ := flate.NewWriter(&b, flate.BestCompression)
		_, _ = w.Write(data)
		_ = w.Close()
		q := "SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString(b.Bytes()))
		f.Add(q)
		f.Add(q + "&RelayState=x%0d&SigAlg=" + url.QueryEscape(SignatureRSASHA256) + "&Signature=AAAA")
	}
	f.Add("SAMLRequest=%zz&SAMLRequest=")
	f.Add("SigAlg=&Signature=&RelayState=&SAMLRequest=AAAA")
	p := seedParser(f)
	f.Fuzz(func(t *testing.T, query string) {
		r := httptest.NewRequest(http.MethodGet, testSSOURL, nil)
		r.URL.RawQuery = query
		got, err := p.Parse(r)
		checkParseOutcome(t, got, err)
	})
}

// FuzzParseAuthnRequest feeds arbitrary XML to the POST binding.
func FuzzParseAuthnRequest(f *testing.F) {
	for _, data := range seedRequests(f) {
		f.Add(data)
	}
	p := seedParser(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := p.Parse(postRequest(data, nil))
		checkParseOutcome(t, got, err)
	})
}

// FuzzParsePOSTForm feeds arbitrary application/x-www-form-urlencoded
// bodies to the POST binding: the whole body is the input, so duplicate,
// misplaced and garbled parameters are all in reach. Besides the shared
// invariant, an accepted body must agree with the standard form decoder
// on what SAMLRequest and RelayState were, when that decoder accepts the
// body too.
func FuzzParsePOSTForm(f *testing.F) {
	for _, data := range seedRequests(f) {
		b64 := base64.StdEncoding.EncodeToString(data)
		f.Add("SAMLRequest=" + url.QueryEscape(b64))
		f.Add("SAMLRequest=" + url.QueryEscape(b64) + "&RelayState=" + url.QueryEscape("https://sp.example.org/app?a=1&b=2"))
		f.Add("RelayState=&SAMLRequest=" + url.QueryEscape(b64) + "&other=%zz")
		// Line-wrapped base64, as some SPs send it.
		var wrapped strings.Builder
		for i := 0; i < len(b64); i += 76 {
			wrapped.WriteString(b64[i:min(i+76, len(b64))] + "\r\n")
		}
		f.Add("SAMLRequest=" + url.QueryEscape(wrapped.String()))
		// Hostile: a second SAMLRequest, a POST with a query signature,
		// '+' left unescaped in the base64.
		f.Add("SAMLRequest=" + url.QueryEscape(b64) + "&SAMLRequest=" + url.QueryEscape(b64))
		f.Add("SAMLRequest=" + url.QueryEscape(b64) + "&SigAlg=" + url.QueryEscape(SignatureRSASHA256) + "&Signature=AAAA")
		f.Add("SAMLRequest=" + b64 + "&RelayState=%0d%0a")
	}
	f.Add("")
	f.Add("&&&=&SAMLRequest")
	f.Add("SAMLRequest=%zz&RelayState=%")
	f.Add("SAML%52equest=PD94bWw%2B;RelayState=x")
	f.Add("RelayState=" + strings.Repeat("A", maxRelayStateBytes+1) + "&SAMLRequest=AAAA")
	p := seedParser(f)
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, testSSOURL, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		got, err := p.Parse(r)
		checkParseOutcome(t, got, err)
		if err != nil {
			return
		}
		if got.Binding != crewjam.HTTPPostBinding {
			t.Fatalf("binding %s for a POST", got.Binding)
		}
		std, perr := url.ParseQuery(body)
		if perr != nil {
			return
		}
		if n := len(std["SAMLRequest"]); n != 1 {
			t.Fatalf("accepted a body with %d SAMLRequest fields", n)
		}
		rs, has := std["RelayState"]
		if has != got.HasRelayState || (has && (len(rs) != 1 || rs[0] != got.RelayState)) {
			t.Fatalf("RelayState %q (present %v), form decoder says %q", got.RelayState, got.HasRelayState, rs)
		}
	})
}
