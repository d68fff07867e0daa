package emulator

import (
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/samlbridge/samlbridge/internal/i18n"
)

// Random values of a page, replaced before comparing with golden files.
var (
	nonceAttr = regexp.MustCompile(`nonce="[^"]+"`)
	txValue   = regexp.MustCompile(`name="tx" value="[^"]+"`)
	hostPort  = regexp.MustCompile(`http://127\.0\.0\.1:[0-9]+`)
)

func goldenPage(t *testing.T, name, page string) {
	t.Helper()
	page = nonceAttr.ReplaceAllString(page, `nonce="NONCE"`)
	page = txValue.ReplaceAllString(page, `name="tx" value="TX"`)
	page = hostPort.ReplaceAllString(page, "http://EMULATOR")
	path := filepath.Join("testdata", "pages", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if page != string(want) {
		t.Errorf("%s differs from the golden file:\n%s", path, page)
	}
}

// TestPhonePageLanguages: the phone page follows ui_locales (from the
// request object), then Accept-Language, then English; each language is
// a golden file.
func TestPhonePageLanguages(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	tests := []struct {
		name, uiLocales, accept string
		want                    i18n.Lang
		golden                  bool
	}{
		{"en", "en", "", i18n.EN, true},
		{"nl", "nl", "fr", i18n.NL, true},
		{"fr", "fr-BE", "", i18n.FR, true},
		{"de", "de", "nl", i18n.DE, true},
		{"list: first supported", "es nl fr", "", i18n.NL, false},
		{"unsupported: Accept-Language", "es", "fr-BE,fr;q=0.9", i18n.FR, false},
		{"none: Accept-Language", "", "de-AT", i18n.DE, false},
		{"nothing: English", "", "", i18n.EN, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := h.authParams(svcIdentify, "lang")
			params["claims"] = map[string]any{"userinfo": map[string]any{"given_name": nil}}
			if tt.uiLocales != "" {
				params["ui_locales"] = tt.uiLocales
			}
			q := query(t, params)
			q.Set("request", h.requestJWT(h.requestObject(params)))
			hdr := http.Header{}
			if tt.accept != "" {
				hdr.Set("Accept-Language", tt.accept)
			}
			resp, page := h.get(h.issuer+PathAuthorization+"?"+q.Encode(), hdr)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d:\n%s", resp.StatusCode, page)
			}
			l := tt.want
			for _, want := range []string{`<html lang="` + string(l) + `">`,
				"<title>" + html.EscapeString(l.T(i18n.EmuPhoneTitle)) + "</title>",
				`<legend>` + html.EscapeString(l.T(i18n.EmuPersonaLegend)) + `</legend>`,
				`value="approve">` + html.EscapeString(l.T(i18n.EmuConfirm)) + `</button>`,
				`value="refuse">` + html.EscapeString(l.T(i18n.EmuRefuse)) + `</button>`,
			} {
				if !strings.Contains(page, want) {
					t.Errorf("page lacks %q:\n%s", want, page)
				}
			}
			if got := resp.Header.Get("Content-Language"); got != string(l) {
				t.Errorf("Content-Language %q", got)
			}
			if tt.golden {
				goldenPage(t, "phone."+string(l)+".html", page)
			}
		})
	}
}

// TestErrorPageLanguages: the page of an untrusted request follows the
// query's ui_locales, then Accept-Language; it keeps the OAuth code and
// marks the English description as English.
func TestErrorPageLanguages(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for _, l := range i18n.Supported {
		q := url.Values{"client_id": {"nobody"}, "ui_locales": {string(l)}}
		resp, page := h.get(h.issuer+PathAuthorization+"?"+q.Encode(), http.Header{"Accept-Language": {"nl"}})
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, `<html lang="`+string(l)+`">`) ||
			!strings.Contains(page, `data-code="invalid_client_id"`) || !strings.Contains(page, `<span lang="en">unknown client_id</span>`) {
			t.Errorf("%s: status %d:\n%s", l, resp.StatusCode, page)
		}
		goldenPage(t, "error."+string(l)+".html", page)
	}
	resp, page := h.get(h.issuer+PathAuthorization+"?client_id=nobody", http.Header{"Accept-Language": {"fr-BE,fr;q=0.9"}})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, `<html lang="fr">`) {
		t.Errorf("Accept-Language fr: status %d:\n%s", resp.StatusCode, page)
	}
}
