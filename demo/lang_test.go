package demo

import (
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/samlbridge/samlbridge/internal/i18n"
)

// TestLanguageHintEndToEnd: the SP's hint (?lang= on the demo SP, sent
// as ui_locales next to the SAMLRequest) reaches itsme, whose phone page
// is in that language, and the bridge's auto-POST page after the
// callback is too; the SP still gets a valid response.
func TestLanguageHintEndToEnd(t *testing.T) {
	stack, base := newTestStack(t, nil)
	for _, l := range []i18n.Lang{i18n.NL, i18n.FR, i18n.DE} {
		b := newBrowser(t)
		phone := b.get(base + PathSPLogin + "?lang=" + string(l))
		if phone.status != http.StatusOK || !strings.Contains(phone.body, `<html lang="`+string(l)+`">`) ||
			!strings.Contains(phone.body, html.EscapeString(l.T(i18n.EmuConfirm))+"</button>") {
			t.Fatalf("%s: phone page (status %d) not in the language asked:\n%s", l, phone.status, phone.body)
		}
		action, vals := phone.form(t)
		final := b.post(action, vals)
		if !strings.Contains(final.body, `<html lang="`+string(l)+`">`) ||
			!strings.Contains(final.body, html.EscapeString(l.T(i18n.PostNoScript))) {
			t.Errorf("%s: auto-POST page not in the language asked:\n%s", l, final.body)
		}
		_, form := samlResponseFrom(t, final, base+PathSPACS)
		if _, err := stack.SP.Parse(form.Get("SAMLResponse")); err != nil {
			t.Errorf("%s: the SP rejected the response: %v", l, err)
		}
	}
}
