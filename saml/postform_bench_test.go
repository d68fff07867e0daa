package saml

import (
	"bytes"
	"encoding/base64"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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
