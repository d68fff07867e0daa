package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/samlbridge/samlbridge/internal/htmlform"
)

// startDemo runs "samlbridge demo" as the README does (on a free port,
// with args added), waits for it to print its URLs, and returns the demo
// SP's URL and a stop function that cancels it, as Ctrl-C does, and checks
// that it exits cleanly.
func startDemo(t *testing.T, stateDir string, args ...string) (spURL string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"demo", "--addr", "127.0.0.1:0", "--state-dir", stateDir, "--log-level", "warn"}, args...), pw, io.Discard)
		_ = pw.Close()
	}()
	urlRe := regexp.MustCompile(`demo SP\s+(http://\S+)`)
	sc := bufio.NewScanner(pr)
	found := make(chan string, 1)
	go func() {
		for sc.Scan() {
			if m := urlRe.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case spURL = <-found:
	case code := <-done:
		cancel()
		t.Fatalf("demo exited early with %d", code)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatal("demo did not print its URLs within 60 s")
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	return spURL, func() {
		t.Helper()
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("demo exited with %d after shutdown", code)
			}
		case <-time.After(35 * time.Second):
			t.Fatal("demo did not stop after cancellation")
		}
	}
}

// getBody GETs u with client and returns the final page.
func getBody(t *testing.T, client *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := client.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

// TestDemoCommandServes fetches the demo SP page and the IdP metadata
// from "samlbridge demo" with its defaults: no SSO session, no Artifact
// binding.
func TestDemoCommandServes(t *testing.T) {
	stateDir := t.TempDir()
	spURL, stop := startDemo(t, stateDir)
	defer stop()

	resp, body := getBody(t, http.DefaultClient, spURL)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Log in with itsme") {
		t.Errorf("demo SP page: %d\n%s", resp.StatusCode, body)
	}
	base := strings.TrimSuffix(spURL, "/demo/")
	_, md := getBody(t, http.DefaultClient, base+"/saml/metadata")
	if !strings.Contains(md, "IDPSSODescriptor") || !strings.Contains(md, base+"/saml/sso") {
		t.Errorf("IdP metadata:\n%s", md)
	}
	if strings.Contains(md, "ArtifactResolutionService") {
		t.Error("the IdP metadata advertises artifact resolution, which is off by default")
	}
	// Test keys were generated into the state directory, private ones 0600.
	fi, err := os.Stat(filepath.Join(stateDir, "idp-signing.key"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
}

// TestDemoCommandSwitches: --artifact advertises and serves artifact
// resolution; --sso-session lets a second login from the same browser
// skip itsme, where without it the emulator's phone page comes again.
func TestDemoCommandSwitches(t *testing.T) {
	for _, withSession := range []bool{false, true} {
		args := []string{"--artifact"}
		if withSession {
			args = append(args, "--sso-session", "1h")
		}
		spURL, stop := startDemo(t, t.TempDir(), args...)
		base := strings.TrimSuffix(spURL, "/demo/")
		_, md := getBody(t, http.DefaultClient, base+"/saml/metadata")
		if !strings.Contains(md, "ArtifactResolutionService") || !strings.Contains(md, base+"/saml/artifact") {
			t.Errorf("--artifact: the IdP metadata does not advertise %s/saml/artifact:\n%s", base, md)
		}

		jar, err := cookiejar.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		browser := &http.Client{Jar: jar}
		// First login: the emulator's phone page, approved.
		resp, body := getBody(t, browser, base+"/demo/login")
		if !strings.HasPrefix(resp.Request.URL.Path, "/v2/") {
			t.Fatalf("first login: landed on %s, want the emulator's phone page", resp.Request.URL)
		}
		action, vals, ok := htmlform.AsFound(body)
		if !ok {
			t.Fatalf("no form on the phone page:\n%s", body)
		}
		target, _ := resp.Request.URL.Parse(action)
		resp, err = browser.PostForm(target.String(), vals)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if action, _, ok := htmlform.AsFound(string(page)); !ok || !strings.HasSuffix(action, "/demo/acs") {
			t.Fatalf("first login: no auto-POST form to the demo SP (%d at %s)", resp.StatusCode, resp.Request.URL)
		}
		// Second login from the same browser.
		resp, body = getBody(t, browser, base+"/demo/login")
		toItsme := strings.HasPrefix(resp.Request.URL.Path, "/v2/")
		switch {
		case withSession && toItsme:
			t.Errorf("--sso-session: the second login went to itsme again (%s)", resp.Request.URL)
		case withSession:
			if action, _, ok := htmlform.AsFound(body); !ok || !strings.HasSuffix(action, "/demo/acs") {
				t.Errorf("--sso-session: the second login gave no auto-POST form to the demo SP (%d at %s)", resp.StatusCode, resp.Request.URL)
			}
		case !toItsme:
			t.Errorf("without --sso-session the second login skipped itsme (%s)", resp.Request.URL)
		}
		stop()
	}
}
