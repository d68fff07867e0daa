package server

import (
	"flag"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/samlbridge/samlbridge/internal/i18n"
	"github.com/samlbridge/samlbridge/saml"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/pages/name, or rewrites it with
// -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "pages", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from the golden file:\n%s", path, got)
	}
}

func TestPageLang(t *testing.T) {
	tests := []struct {
		name, query, accept string
		want                i18n.Lang
	}{
		{"nothing", "", "", i18n.EN},
		{"Accept-Language", "", "fr-BE,fr;q=0.9,en;q=0.5", i18n.FR},
		{"ui_locales beats Accept-Language", "ui_locales=nl", "fr", i18n.NL},
		{"ui_locales list", "ui_locales=es+de-CH+fr", "nl", i18n.DE},
		{"lang", "lang=de", "fr", i18n.DE},
		{"ui_locales beats lang", "lang=de&ui_locales=fr", "", i18n.FR},
		{"unsupported ui_locales, then lang", "ui_locales=es&lang=nl", "fr", i18n.NL},
		{"repeated hint ignored", "lang=de&lang=fr", "nl", i18n.NL},
		{"garbage hint ignored", "lang=%3Cscript%3E", "de", i18n.DE},
		{"undecodable query", "lang=%zz&ui_locales=fr", "", i18n.FR},
		{"garbage header", "", "q=;;,,", i18n.EN},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, PathSSO+"?"+tt.query, nil)
			if tt.accept != "" {
				r.Header.Set("Accept-Language", tt.accept)
			}
			if got := pageLang(r); got != tt.want {
				t.Errorf("pageLang(?%s, %q) = %s, want %s", tt.query, tt.accept, got, tt.want)
			}
		})
	}
}

// TestErrorAndLogoutPagesGolden keeps the error page (one code) and the
// logout page in each language as golden files.
func TestErrorAndLogoutPagesGolden(t *testing.T) {
	s := &Server{}
	for _, l := range i18n.Supported {
		rec := httptest.NewRecorder()
		s.errorPage(rec, l, http.StatusBadRequest, "unknown_sp")
		if rec.Code != http.StatusBadRequest || rec.Header().Get("Content-Language") != string(l) {
			t.Errorf("%s: status %d, Content-Language %q", l, rec.Code, rec.Header().Get("Content-Language"))
		}
		golden(t, "error-unknown_sp."+string(l)+".html", rec.Body.Bytes())
		rec = httptest.NewRecorder()
		s.logoutPage(rec, l, i18n.LoggedOut)
		golden(t, "logout."+string(l)+".html", rec.Body.Bytes())
	}
}

// TestEveryErrorPageInEveryLanguage renders each stable code in each
// language: lang attribute, title, the code, and the message of that
// language.
func TestEveryErrorPageInEveryLanguage(t *testing.T) {
	s := &Server{}
	for _, code := range i18n.ErrorCodes {
		for _, l := range i18n.Supported {
			rec := httptest.NewRecorder()
			s.errorPage(rec, l, http.StatusBadRequest, code)
			body := rec.Body.String()
			for _, want := range []string{
				`<html lang="` + string(l) + `">`,
				"<title>" + html.EscapeString(l.T(i18n.ErrorTitle)) + "</title>",
				`data-code="` + code + `"`,
				html.EscapeString(l.T(i18n.ErrorKey(code))),
			} {
				if !strings.Contains(body, want) {
					t.Errorf("%s/%s: page lacks %q", code, l, want)
				}
			}
		}
	}
	// An unknown code still shows a page, with the internal error's text.
	rec := httptest.NewRecorder()
	s.errorPage(rec, "xx", http.StatusInternalServerError, "no_such_code")
	if body := rec.Body.String(); !strings.Contains(body, `lang="en"`) || !strings.Contains(body, html.EscapeString(i18n.EN.T(i18n.ErrorKey(codeInternal)))) {
		t.Errorf("unknown code page:\n%s", body)
	}
}

// TestErrorCodesListed proves every code the server and package saml
// show is in i18n.ErrorCodes (and so translated and documented), and
// that the English catalogue text is saml's own message.
func TestErrorCodesListed(t *testing.T) {
	codes := []string{codeBadRequest, codeReplay, codeStoreDown, codeBadCallback, codeExpired, codeBinding, codeSPGone,
		codeInternal, codeRateLimited, codeArtifactOff, codeChainExpired, codeChainMismatch, codeUnsolicitedBad, codeUnsolicitedForbidden}
	for _, reason := range requestReasons {
		re := &saml.RequestError{Reason: reason.err, Message: "?"}
		codes = append(codes, re.Code())
	}
	for _, c := range codes {
		if !slices.Contains(i18n.ErrorCodes, c) {
			t.Errorf("code %q is not in i18n.ErrorCodes", c)
		}
	}
}

// TestLanguageCarriedThroughLogin: the hint at /saml/sso is sent to
// itsme as ui_locales and stored with the transaction, so the callback's
// error page is in that language even when the browser asks another.
func TestLanguageCarriedThroughLogin(t *testing.T) {
	const ext = "https://idp.example"
	b := newHygieneBridge(t, ext, nil)
	r := httptest.NewRequest(http.MethodGet, ssoRequest(t, ext, b.now, "id-lang-1", false)+"&ui_locales=fr-BE", nil)
	r.Header.Set("Accept-Language", "de")
	rec := httptest.NewRecorder()
	b.srv.ServeHTTP(rec, r)
	if rec.Code != http.StatusFound {
		t.Fatalf("SSO: status %d", rec.Code)
	}
	if got := b.up.last.UILocales; !slices.Equal(got, []string{"fr"}) {
		t.Errorf("ui_locales sent to itsme = %q, want [fr]", got)
	}
	// No flow cookie: the callback fails the browser binding, after the
	// transaction was taken, in the transaction's language.
	r = httptest.NewRequest(http.MethodGet, PathCallback+"?code=c&state="+url.QueryEscape(b.up.last.State), nil)
	r.Header.Set("Accept-Language", "de")
	rec = httptest.NewRecorder()
	b.srv.ServeHTTP(rec, r)
	body := rec.Body.String()
	if rec.Code != http.StatusBadRequest || !strings.Contains(body, `<html lang="fr">`) || !strings.Contains(body, `data-code="browser_binding"`) {
		t.Errorf("callback: status %d, want the French browser_binding page:\n%s", rec.Code, body)
	}

	// Without any hint or header: English, and ui_locales=en.
	rec = b.do(http.MethodGet, ssoRequest(t, ext, b.now, "id-lang-2", false), "192.0.2.9:1")
	if rec.Code != http.StatusFound || !slices.Equal(b.up.last.UILocales, []string{"en"}) {
		t.Errorf("no hint: status %d, ui_locales %q", rec.Code, b.up.last.UILocales)
	}
	// An unknown state has no transaction: Accept-Language decides.
	r = httptest.NewRequest(http.MethodGet, PathCallback+"?code=c&state=unknown", nil)
	r.Header.Set("Accept-Language", "nl-BE,nl;q=0.9")
	rec = httptest.NewRecorder()
	b.srv.ServeHTTP(rec, r)
	if body := rec.Body.String(); !strings.Contains(body, `<html lang="nl">`) || !strings.Contains(body, `data-code="unknown_state"`) {
		t.Errorf("unknown state: want the Dutch unknown_state page:\n%s", body)
	}
}

// TestLocalizedAutoPOSTAndRequestErrors: the auto-POST page and the page
// of a rejected AuthnRequest follow the hint.
func TestLocalizedAutoPOSTAndRequestErrors(t *testing.T) {
	const ext = "https://idp.example"
	b := newHygieneBridge(t, ext, nil)
	b.up.forbid = true
	rec := b.do(http.MethodGet, ssoRequest(t, ext, b.now, "id-lang-3", true)+"&lang=nl", "192.0.2.9:1")
	body := rec.Body.String()
	for _, want := range []string{`<html lang="nl">`, "<noscript><p>" + html.EscapeString(i18n.NL.T(i18n.PostNoScript)), ">Doorgaan</button>"} {
		if rec.Code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("auto-POST page (status %d) lacks %q:\n%s", rec.Code, want, body)
		}
	}
	rec = b.do(http.MethodGet, PathSSO+"?lang=de", "192.0.2.9:1")
	body = rec.Body.String()
	if rec.Code != http.StatusBadRequest || !strings.Contains(body, `<html lang="de">`) || !strings.Contains(body, `data-code="malformed"`) ||
		!strings.Contains(body, html.EscapeString(i18n.DE.T(i18n.ErrorKey("malformed")))) {
		t.Errorf("rejected request: status %d, want the German malformed page:\n%s", rec.Code, body)
	}
}
