package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDemoCommandServes runs "samlbridge demo" as the README does (on a
// free port), waits for it to print its URLs, and fetches the demo SP page
// and the IdP metadata; then it stops it with the context, as Ctrl-C does.
func TestDemoCommandServes(t *testing.T) {
	stateDir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--addr", "127.0.0.1:0", "--state-dir", stateDir, "--log-level", "warn"}, pw, io.Discard)
		_ = pw.Close()
	}()
	urlRe := regexp.MustCompile(`demo SP\s+(http://\S+)`)
	var spURL string
	sc := bufio.NewScanner(pr)
	deadline := time.After(60 * time.Second)
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
		t.Fatalf("demo exited early with %d", code)
	case <-deadline:
		t.Fatal("demo did not print its URLs within 60 s")
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()

	resp, err := http.Get(spURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Log in with itsme") {
		t.Errorf("demo SP page: %d\n%s", resp.StatusCode, body)
	}
	base := strings.TrimSuffix(spURL, "/demo/")
	resp, err = http.Get(base + "/saml/metadata")
	if err != nil {
		t.Fatal(err)
	}
	md, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(md), "IDPSSODescriptor") || !strings.Contains(string(md), base+"/saml/sso") {
		t.Errorf("IdP metadata:\n%s", md)
	}
	// Test keys were generated into the state directory, private ones 0600.
	fi, err := os.Stat(filepath.Join(stateDir, "idp-signing.key"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}

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
