package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/samlbridge/samlbridge/internal/syncbuf"
)

// emulatorArgs are valid flags for "samlbridge emulator", before any
// test's own.
func emulatorArgs(extra ...string) []string {
	return append([]string{"emulator",
		"--client-id", "samlbridge-cluster",
		"--redirect-uri", "http://127.0.0.1:8440/oidc/callback",
		"--jwks-url", "http://127.0.0.1:8440/jwks",
		"--service-code", "SAMLBRIDGE_LOGIN=authentication",
		"--service-code", "SAMLBRIDGE_IDENTIFY=identification",
	}, extra...)
}

// TestEmulatorRefusesBadFlags checks that every bad invocation exits 2
// with a message naming the problem, without listening anywhere.
func TestEmulatorRefusesBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"every address", emulatorArgs("--addr", "0.0.0.0:0"), []string{"--addr", `"0.0.0.0:0" is not a loopback address`}},
		{"empty host", emulatorArgs("--addr", ":8090"), []string{"--addr", "is not a loopback address"}},
		{"public address", emulatorArgs("--addr", "192.0.2.1:8090"), []string{"is not a loopback address"}},
		{"host name", emulatorArgs("--addr", "itsme.example:8090"), []string{"is not a loopback address"}},
		{"no port", emulatorArgs("--addr", "127.0.0.1"), []string{"--addr", "is not host:port"}},
		{"public issuer", emulatorArgs("--issuer", "https://idp.e2e.itsme.services/v2"), []string{"--issuer", "is not on a loopback host"}},
		{"relative issuer", emulatorArgs("--issuer", "/v2"), []string{"--issuer", "must be an absolute http URL"}},
		{"service without type", emulatorArgs("--service-code", "LOGIN"), []string{`"LOGIN" is not CODE=TYPE`}},
		{"unknown service type", emulatorArgs("--service-code", "LOGIN=payment"), []string{`unknown service type "payment"`}},
		{"stray argument", emulatorArgs("extra"), []string{`unexpected argument "extra"`}},
		{"nothing given", []string{"emulator"}, []string{
			"--client-id is required", "--redirect-uri is required", "--jwks-url is required", "--service-code is required",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb syncbuf.Buffer
			if code := run(context.Background(), tt.args, &out, &errb); code != 2 {
				t.Fatalf("exit %d, want 2; stderr:\n%s", code, errb.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(errb.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, errb.String())
				}
			}
			if strings.Contains(out.String(), "ready") {
				t.Errorf("announced readiness after refusing its flags: %q", out.String())
			}
		})
	}
}

// TestEmulatorServesAndStops runs the subcommand on a free loopback port:
// it announces its issuer, derived from the address it listens on, serves
// discovery there with the security headers, refuses an unregistered
// client, and returns 0 once its context is cancelled (as on SIGTERM).
func TestEmulatorServesAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var errb syncbuf.Buffer
	done := make(chan int, 1)
	go func() {
		code := run(ctx, emulatorArgs("--addr", "127.0.0.1:0", "--log-level", "debug"), pw, &errb)
		_ = pw.Close()
		done <- code
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no ready line (%v); stderr:\n%s", err, errb.String())
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	const prefix = "itsme emulator ready: issuer "
	if !strings.HasPrefix(line, prefix) {
		t.Fatalf("ready line %q, want it to start with %q", line, prefix)
	}
	issuer, _, _ := strings.Cut(strings.TrimPrefix(line, prefix), " ")
	if !strings.HasPrefix(issuer, "http://127.0.0.1:") || !strings.HasSuffix(issuer, "/v2") || strings.HasSuffix(issuer, ":0/v2") {
		t.Fatalf("issuer %q, want http://127.0.0.1:<the port listened on>/v2", issuer)
	}

	resp, err := http.Get(issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var disc struct {
		Issuer                string `json:"issuer"`
		AuthorizationEndpoint string `json:"authorization_endpoint"`
	}
	err = json.NewDecoder(resp.Body).Decode(&disc)
	_ = resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("discovery: status %d, %v", resp.StatusCode, err)
	}
	if disc.Issuer != issuer || disc.AuthorizationEndpoint != issuer+"/authorization" {
		t.Errorf("discovery names issuer %q and authorization endpoint %q, want them under %q", disc.Issuer, disc.AuthorizationEndpoint, issuer)
	}
	for h, want := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}

	// An unregistered client gets the emulator's error page, not a redirect.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noRedirect.Get(issuer + "/authorization?client_id=stranger&response_type=code&scope=openid&redirect_uri=http%3A%2F%2F127.0.0.1%3A8440%2Foidc%2Fcallback")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("unregistered client: status %d, want 400", resp.StatusCode)
	}

	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d after cancellation, want 0; stderr:\n%s", code, errb.String())
	}
	if _, err := http.Get(issuer + "/.well-known/openid-configuration"); err == nil {
		t.Error("the emulator still answers after it stopped")
	}
}
