package saml

import (
	"bytes"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/samlbridge/samlbridge/internal/i18n"
)

// TestPostFormLanguages keeps the auto-POST page in each language as a
// golden file (fixed nonce) and checks that its stylesheet and script
// both carry the CSP nonce, and that the noscript block has a real
// submit button.
func TestPostFormLanguages(t *testing.T) {
	for _, l := range append([]i18n.Lang{""}, i18n.Supported...) {
		rec := httptest.NewRecorder()
		f := PostForm{URL: "https://sp.example.org/acs", Message: []byte("<x/>"), RelayState: "rs", HasRelayState: true, Lang: l}
		if err := f.Write(rec, bytes.NewReader(bytes.Repeat([]byte{7}, 16))); err != nil {
			t.Fatal(err)
		}
		body := rec.Body.String()
		csp := rec.Result().Header.Get("Content-Security-Policy")
		const nonce = "BwcHBwcHBwcHBwcHBwcHBw"
		if !strings.Contains(csp, "script-src 'nonce-"+nonce+"'") || !strings.Contains(csp, "style-src 'nonce-"+nonce+"'") {
			t.Errorf("%q: CSP %q", l, csp)
		}
		want := l.OrDefault()
		for _, s := range []string{`<html lang="` + string(want) + `">`, `<style nonce="` + nonce + `">`, `<script nonce="` + nonce + `">`,
			`<button class="primary" type="submit">` + want.T(i18n.PostContinue) + `</button></noscript>`} {
			if !strings.Contains(body, s) {
				t.Errorf("%q: page lacks %q", l, s)
			}
		}
		if l == "" {
			continue
		}
		path := filepath.Join("testdata", "postform."+string(l)+".html")
		if *update {
			if err := os.WriteFile(path, rec.Body.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		golden, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if body != string(golden) {
			t.Errorf("%s differs:\n%s", path, body)
		}
	}
}

// TestRequestErrorCodes proves each rejected request's page code has a
// translated text whose English is the error's own Message.
func TestRequestErrorCodes(t *testing.T) {
	errs := []*RequestError{
		reject(ErrMalformedRequest, nil), reject(ErrRequestTooLarge, nil), reject(ErrUnknownSP, nil),
		reject(ErrSignatureRequired, nil), reject(ErrBadSignature, nil), reject(ErrDestination, nil),
		reject(ErrStaleRequest, nil), reject(ErrACS, nil), reject(ErrUnsupportedBinding, nil),
		reject(ErrDuplicateParameter, nil), reject(ErrRegistryUnavailable, nil),
		{Reason: ErrMalformedRequest, Message: msgRelayState},
		{Reason: ErrUnsupportedBinding, Message: msgMethod},
		{Reason: errors.New("other"), Message: "x"},
	}
	seen := map[string]bool{}
	for _, e := range errs {
		code := e.Code()
		if e.Message == "x" {
			if code != "malformed" {
				t.Errorf("an unknown reason has code %q, want malformed", code)
			}
			continue
		}
		if seen[code] {
			t.Errorf("two messages share the code %q", code)
		}
		seen[code] = true
		if got := i18n.EN.T(i18n.ErrorKey(code)); got != e.Message {
			t.Errorf("code %s: English catalogue text %q, error message %q", code, got, e.Message)
		}
	}
}
