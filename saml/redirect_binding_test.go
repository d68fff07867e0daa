package saml

import (
	"bytes"
	"compress/flate"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	crewjam "github.com/crewjam/saml"
)

// bombOnce deflates 100 MiB of zeros (about 100 KiB compressed) once per
// test binary.
var bombOnce = sync.OnceValues(func() (string, error) {
	var b bytes.Buffer
	w, err := flate.NewWriter(&b, flate.BestCompression)
	if err != nil {
		return "", err
	}
	if _, err := w.Write(make([]byte, 100<<20)); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b.Bytes()), nil
})

func base64Bomb(t *testing.T) string {
	t.Helper()
	s, err := bombOnce()
	if err != nil {
		t.Fatal(err)
	}
	if len(url.QueryEscape(s)) >= DefaultMaxBodyBytes {
		t.Fatalf("bomb is %d bytes; it should pass the query cap and fail at inflation", len(s))
	}
	return s
}

func base64Std(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

var pctEscape = regexp.MustCompile(`%[0-9A-F]{2}`)

// TestRedirectSignedOctetsAreRaw covers SIG-03: the signature is checked
// over the query exactly as received.
func TestRedirectSignedOctetsAreRaw(t *testing.T) {
	t.Parallel()
	f := fixture(t)
	key := f.signed.Key.(*rsa.PrivateKey)
	xmlData := postXML(t, withMethod(f.signed, ""), nil)
	samlRequest := url.QueryEscape(base64Std(deflate(t, xmlData)))
	sigAlg := url.QueryEscape(SignatureRSASHA256)
	lower := func(s string) string { return pctEscape.ReplaceAllStringFunc(s, strings.ToLower) }

	tests := []struct {
		name       string
		query      func() string
		wantErr    error
		wantRelay  string
		wantHasRel bool
	}{
		{name: "lowercase percent-encoding", query: func() string {
			octets := "SAMLRequest=" + lower(samlRequest) + "&RelayState=" + lower(url.QueryEscape("a/b c")) + "&SigAlg=" + lower(sigAlg)
			if octets == "SAMLRequest="+samlRequest+"&RelayState="+url.QueryEscape("a/b c")+"&SigAlg="+sigAlg {
				panic("fixture has no percent-escapes to lowercase")
			}
			return octets + "&Signature=" + url.QueryEscape(base64Std(signOctets(t, key, octets)))
		}, wantRelay: "a/b c", wantHasRel: true},
		{name: "parameters reordered", query: func() string {
			octets := "SAMLRequest=" + samlRequest + "&RelayState=rs&SigAlg=" + sigAlg
			sig := url.QueryEscape(base64Std(signOctets(t, key, octets)))
			return "Signature=" + sig + "&SigAlg=" + sigAlg + "&foo=bar&RelayState=rs&SAMLRequest=" + samlRequest
		}, wantRelay: "rs", wantHasRel: true},
		{name: "empty RelayState is signed and kept", query: func() string {
			octets := "SAMLRequest=" + samlRequest + "&RelayState=&SigAlg=" + sigAlg
			return octets + "&Signature=" + url.QueryEscape(base64Std(signOctets(t, key, octets)))
		}, wantRelay: "", wantHasRel: true},
		{name: "absent RelayState stays absent", query: func() string {
			octets := "SAMLRequest=" + samlRequest + "&SigAlg=" + sigAlg
			return octets + "&Signature=" + url.QueryEscape(base64Std(signOctets(t, key, octets)))
		}},
		{name: "unencoded + in base64 values", query: func() string {
			b64 := base64Std(deflate(t, xmlData))
			rawReq := strings.NewReplacer("/", "%2F", "=", "%3D").Replace(b64) // '+' left as is
			octets := "SAMLRequest=" + rawReq + "&SigAlg=" + sigAlg
			sig := strings.NewReplacer("/", "%2F", "=", "%3D").Replace(base64Std(signOctets(t, key, octets)))
			return octets + "&Signature=" + sig
		}},
		{name: "extra parameter is not signed over", query: func() string {
			octets := "SAMLRequest=" + samlRequest + "&SigAlg=" + sigAlg
			return "x=1&" + octets + "&Signature=" + url.QueryEscape(base64Std(signOctets(t, key, octets))) + "&y=2"
		}},
		{name: "re-encoded value breaks the signature", query: func() string {
			octets := "SAMLRequest=" + lower(samlRequest) + "&SigAlg=" + sigAlg
			return "SAMLRequest=" + samlRequest + "&SigAlg=" + sigAlg + "&Signature=" + url.QueryEscape(base64Std(signOctets(t, key, octets)))
		}, wantErr: ErrBadSignature},
		{name: "SigAlg swapped after signing", query: func() string {
			octets := "SAMLRequest=" + samlRequest + "&SigAlg=" + sigAlg
			return "SAMLRequest=" + samlRequest + "&SigAlg=" + url.QueryEscape(SignatureRSASHA512) + "&Signature=" + url.QueryEscape(base64Std(signOctets(t, key, octets)))
		}, wantErr: ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := f.parser().Parse(httptest.NewRequest(http.MethodGet, testSSOURL+"?"+tt.query(), nil))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if !got.Signed || got.RelayState != tt.wantRelay || got.HasRelayState != tt.wantHasRel {
				t.Errorf("signed=%v RelayState=%q has=%v, want %q %v", got.Signed, got.RelayState, got.HasRelayState, tt.wantRelay, tt.wantHasRel)
			}
		})
	}
}

func TestRelayStatePreserved(t *testing.T) {
	t.Parallel()
	f := fixture(t)
	data := postXML(t, f.plain, nil)
	tests := []struct {
		name string
		rs   *string
	}{
		{"absent", nil},
		{"empty", ptr("")},
		{"80 bytes", ptr(strings.Repeat("a", 80))},
		{"1024 bytes", ptr(strings.Repeat("b", 1024))},
		{"HTML and unicode", ptr(`"><script>alert(1)</script> é ✓`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := f.parser().Parse(postRequest(data, tt.rs))
			if err != nil {
				t.Fatal(err)
			}
			if got.HasRelayState != (tt.rs != nil) || (tt.rs != nil && got.RelayState != *tt.rs) {
				t.Errorf("RelayState %q has=%v, want %v", got.RelayState, got.HasRelayState, tt.rs)
			}
		})
	}
}

func TestACSSelection(t *testing.T) {
	t.Parallel()
	f := fixture(t)
	tests := []struct {
		name  string
		edit  func(url, index, binding *string)
		want  string
		index int
	}{
		{"by URL", func(u, i, b *string) {}, "https://signed.example.org/saml/acs", 1},
		{"by index", func(u, i, b *string) { *u, *i, *b = "", "3", "" }, "https://signed.example.org/saml/acs2", 3},
		{"default", func(u, i, b *string) { *u, *b = "", "" }, "https://signed.example.org/saml/acs", 1},
		{"second URL", func(u, i, b *string) { *u = "https://signed.example.org/saml/acs2" }, "https://signed.example.org/saml/acs2", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := redirectRequest(t, f.signed, "", func(r *crewjam.AuthnRequest) {
				tt.edit(&r.AssertionConsumerServiceURL, &r.AssertionConsumerServiceIndex, &r.ProtocolBinding)
			})
			got, err := f.parser().Parse(r)
			if err != nil {
				t.Fatal(err)
			}
			if got.ACS.Location != tt.want || got.ACS.Index != tt.index {
				t.Errorf("ACS %+v, want %s #%d", got.ACS, tt.want, tt.index)
			}
		})
	}
}

func TestIssueInstantWindow(t *testing.T) {
	t.Parallel()
	f := fixture(t)
	now := time.Now()
	tests := []struct {
		name    string
		offset  time.Duration
		wantErr error
	}{
		{"now", 0, nil},
		{"2 minutes ahead (skew)", 2 * time.Minute, nil},
		{"4 minutes ahead", 4 * time.Minute, ErrStaleRequest},
		{"7 minutes old", -7 * time.Minute, nil},
		{"9 minutes old", -9 * time.Minute, ErrStaleRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := postRequest(postXML(t, f.plain, func(r *crewjam.AuthnRequest) { r.IssueInstant = now.Add(tt.offset) }), nil)
			p := f.parser()
			p.Now = func() time.Time { return now }
			_, err := p.Parse(r)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if got := (&RequestParser{}).MaxAge(); got != 8*time.Minute {
		t.Errorf("MaxAge() = %v, want 8m", got)
	}
}

// TestInflateReusesDecompressors runs inflate over a pooled decompressor
// left in each state a request can leave it in (a bomb stopped at the
// limit, data that is not DEFLATE, a good request) and checks that every
// later request still gets exactly its own bytes or its own error.
func TestInflateReusesDecompressors(t *testing.T) {
	deflate := func(s string) []byte {
		var b bytes.Buffer
		w, _ := flate.NewWriter(&b, flate.DefaultCompression)
		_, _ = w.Write([]byte(s))
		_ = w.Close()
		return b.Bytes()
	}
	var zeros bytes.Buffer
	zw, _ := flate.NewWriter(&zeros, flate.BestCompression)
	_, _ = zw.Write(make([]byte, 1<<20))
	_ = zw.Close()
	steps := []struct {
		name string
		in   []byte
		want string
		err  error
	}{
		{"first request", deflate("<samlp:AuthnRequest ID=\"one\"/>"), "<samlp:AuthnRequest ID=\"one\"/>", nil},
		{"bomb", zeros.Bytes(), "", ErrRequestTooLarge},
		{"after a bomb", deflate("<two/>"), "<two/>", nil},
		{"not DEFLATE", []byte("<plain xml, not deflated/>"), "", ErrMalformedRequest},
		{"after bad data", deflate("<three/>"), "<three/>", nil},
		{"truncated", func() []byte { b := deflate("<four/>"); return b[:len(b)-2] }(), "", ErrMalformedRequest},
		{"after truncation", deflate("<five/>"), "<five/>", nil},
	}
	for range 3 { // the pool may hand out any decompressor; go round a few times
		for _, s := range steps {
			got, err := inflate(s.in, 64<<10)
			if s.err != nil {
				if !errors.Is(err, s.err) {
					t.Errorf("%s: err %v, want %v", s.name, err, s.err)
				}
				continue
			}
			if err != nil || string(got) != s.want {
				t.Errorf("%s: got %q, %v; want %q", s.name, got, err, s.want)
			}
		}
	}
}
