//go:build interop

package interop

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/samlbridge/samlbridge/demo"
)

// chromiumPath is Debian's Chromium, installed by ./interop/run.
const chromiumPath = "/usr/bin/chromium"

// TestChromium clicks through the demo in a real headless browser: the
// demo SP's login button, the emulator's Confirm button, and the auto-POST
// back to the SP (which Chromium submits by itself, with JavaScript on).
// It checks the attributes the page shows and keeps a screenshot of each
// step in the test's artifact directory.
func TestChromium(t *testing.T) {
	br := startBridge(t, t.TempDir())
	scenario(t, "chromium", chromiumVersion(), "demo login, real browser", func(ctx context.Context) (string, error) {
		cctx, cancel := newChromium(ctx, t)
		defer cancel()

		out := t.ArtifactDir()
		shot := func(name string) chromedp.Action[chromedp.Void] { return screenshot(filepath.Join(out, name+".png")) }
		if err := chromedp.Do(cctx,
			chromedp.Navigate(br.Base+demo.PathSPHome),
			chromedp.WaitVisible(chromedp.ID("login")),
			shot("1-sp-home"),
			chromedp.Click(chromedp.ID("login")),
			chromedp.WaitVisible(chromedp.CSS("button.approve")),
			shot("2-emulator-phone"),
			chromedp.Click(chromedp.CSS("button.approve")),
			chromedp.WaitVisible(chromedp.ID("attributes")),
			shot("3-sp-attributes"),
		); err != nil {
			return "", fmt.Errorf("driving Chromium: %w", err)
		}
		text := func(sel chromedp.CSS) string {
			v, err := chromedp.Run(cctx, chromedp.Text(sel))
			if err != nil {
				return "error: " + err.Error()
			}
			return strings.TrimSpace(v)
		}
		nin, first, last := text(`td.attr-value[data-name="nin"]`), text(`td.attr-value[data-name="firstName"]`), text(`td.attr-value[data-name="lastName"]`)
		authn, nameID := text("#authncontext"), text("#nameid")
		got := map[string]string{"nin": nin, "firstName": first, "lastName": last}
		for k, v := range got {
			if strings.TrimSpace(v) != wantAttrs[k] {
				return "", fmt.Errorf("the page shows %s = %q, want %q", k, v, wantAttrs[k])
			}
		}
		if !strings.HasSuffix(strings.TrimSpace(authn), "SmartcardPKI") || strings.TrimSpace(nameID) == "" {
			return "", fmt.Errorf("the page shows AuthnContextClassRef %q and NameID %q", authn, nameID)
		}
		return "SP page shows nin, firstName, lastName, SmartcardPKI; screenshots in " + out, nil
	})
}

// newChromium starts a headless Chromium for one test, with its own
// profile, and returns its context; cancel stops the browser process.
// extra adds command-line options (such as JavaScript off).
func newChromium(ctx context.Context, t *testing.T, extra ...chromedp.ExecAllocatorOption) (context.Context, context.CancelFunc) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, append(opts, extra...)...)
	cctx, cancelCtx := chromedp.NewContext(actx)
	return cctx, func() { cancelCtx(); cancelAlloc() }
}

// screenshot saves a PNG of the whole page at path.
func screenshot(path string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		png, err := chromedp.FullScreenshot(100)(ctx, tg)
		if err != nil {
			return err
		}
		return os.WriteFile(path, png, 0o644)
	})
}

// chromiumVersion is the version Chromium reports, or "?".
func chromiumVersion() string {
	out, err := exec.Command(chromiumPath, "--version").Output()
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(out)); len(f) > 1 {
		return f[1]
	}
	return "?"
}
