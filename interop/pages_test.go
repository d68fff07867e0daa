//go:build interop

package interop

import (
	"context"
	"crypto/rsa"
	"encoding/xml"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/certs"
	"github.com/samlbridge/samlbridge/demo"
	"github.com/samlbridge/samlbridge/internal/i18n"
	"github.com/samlbridge/samlbridge/internal/samltest"
	"github.com/samlbridge/samlbridge/server"
)

// TestChromiumPages visits every page the bridge and the emulator show,
// in each of the four languages, in a real Chromium: the bridge's error
// page, the emulator's phone and error pages, the bridge's logout page,
// and (with JavaScript off,
// since with it on the page submits itself at once) the bridge's
// auto-POST page. Each check reads the lang attribute and a text of that
// language, and saves a screenshot named <page>.<lang>.png in the test's
// artifact directory (INTEROP_OUT with ./interop/run). With JavaScript
// off, the noscript button is reached with the keyboard, shows the focus
// outline, and submitting it logs in at the demo SP.
func TestChromiumPages(t *testing.T) {
	br := startBridge(t, t.TempDir())
	out := t.ArtifactDir()
	scenario(t, "chromium", chromiumVersion(), "pages in nl, fr, de, en", func(ctx context.Context) (string, error) {
		cctx, cancel := newChromium(ctx, t)
		defer cancel()
		for _, l := range i18n.Supported {
			// The bridge's error page: a request without SAMLRequest.
			if err := checkPage(cctx, br.Base+server.PathSSO+"?lang="+string(l), l, "#message", i18n.ErrorKey("malformed"),
				filepath.Join(out, "bridge-error."+string(l)+".png")); err != nil {
				return "", err
			}
			// The emulator's phone page, with the language the demo SP
			// passed as ui_locales (bridge → itsme).
			if err := checkPage(cctx, br.Base+demo.PathSPLogin+"?lang="+string(l), l, "button.approve", i18n.EmuConfirm,
				filepath.Join(out, "emulator-phone."+string(l)+".png")); err != nil {
				return "", err
			}
			phone, err := chromedp.Run(cctx, chromedp.Location())
			if err != nil {
				return "", err
			}
			// Confirming lands on the SP: the auto-POST page submitted
			// itself.
			if err := chromedp.Do(cctx, chromedp.Click(chromedp.CSS("button.approve")), chromedp.WaitVisible(chromedp.ID("attributes"))); err != nil {
				return "", fmt.Errorf("%s: confirming did not reach the SP: %w", l, err)
			}
			// The emulator's error page: an unknown client.
			u, err := url.Parse(phone)
			if err != nil {
				return "", err
			}
			u.RawQuery = url.Values{"client_id": {"nobody"}, "ui_locales": {string(l)}}.Encode()
			if err := checkPage(cctx, u.String(), l, "h1", i18n.EmuErrorHeading,
				filepath.Join(out, "emulator-error."+string(l)+".png")); err != nil {
				return "", err
			}
		}
		return "error, phone and emulator error pages in 4 languages; screenshots in " + out, nil
	})
	scenario(t, "chromium", chromiumVersion(), "auto-POST page without JavaScript", func(ctx context.Context) (string, error) {
		cctx, cancel := newChromium(ctx, t, chromedp.Flag("blink-settings", "scriptEnabled=false"))
		defer cancel()
		for _, l := range i18n.Supported {
			if err := chromedp.Do(cctx,
				chromedp.Navigate(br.Base+demo.PathSPLogin+"?lang="+string(l)),
				chromedp.WaitVisible(chromedp.CSS("button.approve")),
				chromedp.Click(chromedp.CSS("button.approve")),
			); err != nil {
				return "", fmt.Errorf("%s: reaching the auto-POST page: %w", l, err)
			}
			if err := checkPage(cctx, "", l, "noscript button", i18n.PostContinue,
				filepath.Join(out, "bridge-autopost-noscript."+string(l)+".png")); err != nil {
				return "", err
			}
			text, err := chromedp.Run(cctx, chromedp.Text(chromedp.CSS("noscript p")))
			if err != nil || strings.TrimSpace(text) != l.T(i18n.PostNoScript) { // no no-break spaces in this text
				return "", fmt.Errorf("%s: noscript explanation %q (%v)", l, text, err)
			}
			// Keyboard only: Tab reaches the button, which shows the
			// focus outline; Enter submits the form to the SP.
			if err := chromedp.Do(cctx, chromedp.KeyEvent("\t")); err != nil {
				return "", err
			}
			focus, err := chromedp.Run(cctx, chromedp.Evaluate[string](
				`document.activeElement.tagName + " " + getComputedStyle(document.activeElement).outlineStyle`))
			if err != nil || focus != "BUTTON solid" {
				return "", fmt.Errorf("%s: after Tab, focus is %q (%v), want the button with a solid outline", l, focus, err)
			}
			if err := chromedp.Do(cctx, chromedp.KeyEvent("\r"), chromedp.WaitVisible(chromedp.ID("attributes"))); err != nil {
				return "", fmt.Errorf("%s: the noscript button did not reach the SP: %w", l, err)
			}
			nin, err := chromedp.Run(cctx, chromedp.Text(chromedp.CSS(`td.attr-value[data-name="nin"]`)))
			if err != nil || strings.TrimSpace(nin) != wantAttrs["nin"] {
				return "", fmt.Errorf("%s: the SP shows nin %q (%v)", l, nin, err)
			}
		}
		return "noscript button in 4 languages, keyboard-submitted, SP logged in", nil
	})
	scenario(t, "chromium", chromiumVersion(), "logout page in nl, fr, de, en", func(ctx context.Context) (string, error) {
		// An SP whose metadata has no logout endpoint: the bridge ends its
		// signed LogoutRequest on its own page, in the hinted language.
		sp, key, md, err := logoutOnlySP(br)
		if err != nil {
			return "", err
		}
		br.use(t, phaseEncrypted, nil, md)
		cctx, cancel := newChromium(ctx, t)
		defer cancel()
		for _, l := range i18n.Supported {
			req, err := sp.MakeLogoutRequest(br.Base+server.PathSLO, "someone-"+string(l))
			if err != nil {
				return "", err
			}
			raw, err := samltest.ElementBytes(req.Element())
			if err != nil {
				return "", err
			}
			q, err := samltest.RedirectQuery(raw, "", key, samltest.RSASHA256)
			if err != nil {
				return "", err
			}
			// The hint rides next to the signed parameters, as for SSO.
			u := br.Base + server.PathSLO + "?" + q + "&ui_locales=" + string(l)
			if err := checkPage(cctx, u, l, "h1", i18n.LogoutHeading,
				filepath.Join(out, "bridge-logout."+string(l)+".png")); err != nil {
				return "", fmt.Errorf("%w; the bridge's log ends with: %s", err, lastLines(br.logs.String(), 3))
			}
		}
		return "logout page in 4 languages for an SP without a logout endpoint", nil
	})
}

// logoutOnlySP is an SP that signs its requests and has no logout
// endpoint in its metadata, and that metadata.
func logoutOnlySP(br *bridge) (*crewjam.ServiceProvider, *rsa.PrivateKey, []byte, error) {
	kp, err := certs.Generate(nil, 2048, "logout page SP (TEST KEY)", time.Now(), 24*time.Hour)
	if err != nil {
		return nil, nil, nil, err
	}
	key, cert := kp.Key, kp.Cert
	var idp crewjam.EntityDescriptor
	if err := xml.Unmarshal(br.IdPMetadata, &idp); err != nil {
		return nil, nil, nil, err
	}
	mdURL, _ := url.Parse("https://logout-page-sp.example/metadata")
	acs, _ := url.Parse("https://logout-page-sp.example/acs")
	// With a SignatureMethod, crewjam's metadata lists the signing key;
	// without one, MakeLogoutRequest adds no enveloped signature (the
	// Redirect binding signs the query instead).
	sp := &crewjam.ServiceProvider{EntityID: mdURL.String(), Key: key, Certificate: cert, MetadataURL: *mdURL, AcsURL: *acs, IDPMetadata: &idp,
		SignatureMethod: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"}
	md, err := xml.Marshal(sp.Metadata())
	if err != nil {
		return nil, nil, nil, err
	}
	sp.SignatureMethod = ""
	return sp, key, md, nil
}

// checkPage opens u (or stays on the current page when u is empty),
// waits for sel, checks the page's lang attribute is l and that the
// element's text contains the catalogue text key in l, and saves a
// screenshot at shot.
func checkPage(ctx context.Context, u string, l i18n.Lang, sel string, key i18n.Key, shot string) error {
	var steps []chromedp.Action[chromedp.Void]
	if u != "" {
		steps = append(steps, chromedp.Navigate(u))
	}
	steps = append(steps, chromedp.WaitVisible(chromedp.CSS(sel)))
	if err := chromedp.Do(ctx, steps...); err != nil {
		return fmt.Errorf("%s %s: %w", l, sel, err)
	}
	lang, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.documentElement.lang"))
	if err != nil || lang != string(l) {
		return fmt.Errorf("%s: <html lang=%q> (%v) at %s", l, lang, err, sel)
	}
	// innerText may turn the no-break spaces of French typography into
	// spaces.
	nbsp := strings.NewReplacer("\u00a0", " ")
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if want := l.T(key); err != nil || !strings.Contains(nbsp.Replace(text), nbsp.Replace(want)) {
		return fmt.Errorf("%s: %s shows %q (%v), want %q", l, sel, text, err, want)
	}
	return chromedp.Do(ctx, screenshot(shot))
}

// lastLines returns the last n lines of s, joined by " | ".
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
