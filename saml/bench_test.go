package saml

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	crewjam "github.com/crewjam/saml"
)

// TestPostFormMessageBytes proves the message reaches the page as its
// exact standard base64, '+' and '/' included, in the named field.
func TestPostFormMessageBytes(t *testing.T) {
	msg := bytes.Repeat([]byte{0xfb, 0xff, 0x3e, '<', '"'}, 700) // "+/8+PC..."; longer than the encoder's chunk
	for _, field := range []string{"", "SAMLRequest"} {
		rec := httptest.NewRecorder()
		if err := (PostForm{URL: "https://sp.example.org/acs", Field: field, Message: msg}).Write(rec, nil); err != nil {
			t.Fatal(err)
		}
		if field == "" {
			field = "SAMLResponse"
		}
		prefix := `<input type="hidden" name="` + field + `" value="`
		_, rest, ok := strings.Cut(rec.Body.String(), prefix)
		value, rest, ok2 := strings.Cut(rest, `">`)
		if !ok || !ok2 || !strings.HasPrefix(rest, "\n<noscript>") {
			t.Fatalf("field %s: no %s...\"> element followed by the noscript block:\n%s", field, prefix, rec.Body.String())
		}
		if got := html.UnescapeString(value); got != base64.StdEncoding.EncodeToString(msg) {
			t.Errorf("field %s: the value is not the message's base64 (%d characters, want %d)", field, len(got), base64.StdEncoding.EncodedLen(len(msg)))
		}
	}
}

// discardWriter is an http.ResponseWriter that keeps only the headers.
type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(b []byte) (int, error) { return io.Discard.Write(b) }
func (d discardWriter) WriteHeader(int)             {}

// BenchmarkPostFormWrite renders the auto-POST page for a Response of a
// typical encrypted assertion's size.
func BenchmarkPostFormWrite(b *testing.B) {
	msg := bytes.Repeat([]byte("<saml:Assertion>0123456789abcdef</saml:Assertion>"), 200) // about 10 KB
	w := discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if err := (PostForm{URL: "https://sp.example.org/acs", Message: msg, RelayState: "rs", HasRelayState: true}).Write(w, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuildResponse builds a Response the size the benchmark's main
// phase issues: 22 attributes, the Assertion signed and encrypted, or
// both the Assertion and the Response signed.
func BenchmarkBuildResponse(b *testing.B) {
	idp := testIDP(b, time.Now, nil)
	sp := loadTestKey(b, "sp")
	p := sampleParams()
	p.AuthnInstant = time.Now()
	for i := range 20 {
		p.Attributes = append(p.Attributes, crewjam.Attribute{Name: fmt.Sprintf("attribute%d", i),
			Values: []crewjam.AttributeValue{{Type: "xs:string", Value: "a value of twenty-odd characters"}}})
	}
	for _, bc := range []struct {
		name    string
		signing Signing
		encrypt bool
	}{{"assertion-signed-encrypted", SignAssertion, true}, {"both-signed", SignBoth, false}} {
		b.Run(bc.name, func(b *testing.B) {
			p := p
			p.Signing = bc.signing
			if bc.encrypt {
				p.EncryptTo, p.EncryptionCipher = sp.Cert, EncAES256CBC
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := idp.BuildResponse(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
