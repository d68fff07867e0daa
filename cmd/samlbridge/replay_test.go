package main

import (
	"context"
	"encoding/base64"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/demo"
)

// startBridge runs the demo stack (bridge, itsme emulator, demo SP) in
// process on loopback, at a fixed clock, and returns it with its SSO URL.
func startBridge(t *testing.T) (*demo.Stack, string, *httptest.Server) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	start := time.Now()
	stack, err := demo.New(context.Background(), demo.Options{BaseURL: base, Now: func() time.Time { return start }})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = stack.Handler
	srv.Start()
	t.Cleanup(srv.Close)
	return stack, base + "/saml/sso", srv
}

// postForm is the HTTP-POST form body of a signed AuthnRequest from the
// demo SP.
func postForm(t *testing.T, stack *demo.Stack, sso string) string {
	t.Helper()
	sp := stack.SP.SAML
	req, err := sp.MakeAuthenticationRequest(sso, crewjam.HTTPPostBinding, crewjam.HTTPPostBinding)
	if err != nil {
		t.Fatal(err)
	}
	if req.Signature == nil { // crewjam signs POST requests itself
		t.Fatal("the demo SP did not sign its POST AuthnRequest")
	}
	doc := etree.NewDocument()
	doc.SetRoot(req.Element())
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return "SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString(b)) + "&RelayState=from-post"
}

// TestReplay sends captured AuthnRequests to a running bridge by each
// binding and checks each outcome: accepted (the redirect to the
// emulator's authorization endpoint, without the request object), the
// same request refused as a replay the second time, a SAML error Response
// to the SP, a refused signature, and input that is no AuthnRequest.
func TestReplay(t *testing.T) {
	stack, sso, srv := startBridge(t)
	env := toolEnv{HTTP: srv.Client(), Now: func() time.Time { return toolsNow }}
	login, err := stack.SP.LoginURL(0, "relay-1")
	if err != nil {
		t.Fatal(err)
	}
	passive, err := stack.SP.LoginURLWith(0, "", func(r *crewjam.AuthnRequest) { yes := true; r.IsPassive = &yes })
	if err != nil {
		t.Fatal(err)
	}
	tampered, err := stack.SP.LoginURL(0, "relay-2")
	if err != nil {
		t.Fatal(err)
	}
	tampered = strings.Replace(tampered, "RelayState=relay-2", "RelayState=relay-3", 1)
	host := strings.TrimPrefix(srv.URL, "http://")

	tests := []struct {
		name   string
		input  string
		code   int
		wants  []string
		denies []string
	}{
		{"Redirect accepted", login, 0, []string{"sent: GET " + sso + " (HTTP-Redirect)", "outcome: ACCEPTED", "host: " + host, "path: /v2/", "scope: openid", "request object: present (not shown)"}, []string{"request=", "eyJ"}},
		{"Redirect replayed", login, 1, []string{"outcome: REFUSED: the bridge's error page, HTTP 400", "message: This login request was already used."}, nil},
		{"POST accepted", postForm(t, stack, sso), 0, []string{"sent: POST " + sso + " (HTTP-POST)", "outcome: ACCEPTED"}, []string{"eyJ"}},
		{"IsPassive answered with an error Response", passive, 1, []string{"outcome: SAML ERROR RESPONSE to the SP's ACS " + srv.URL + "/demo/acs", "status: Responder / NoPassive"}, nil},
		{"bad signature refused", tampered, 1, []string{"HTTP 400", "The signature on the login request is not valid."}, nil},
	}
	for _, tt := range tests { // in order: the replay case needs the first
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := runTool(t, runReplay, env, "--url", sso, tt.input)
			t.Log(out)
			if code != tt.code {
				t.Fatalf("exit %d, want %d:\n%s%s", code, tt.code, out, stderr)
			}
			for _, w := range tt.wants {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, d := range tt.denies {
				if strings.Contains(out+stderr, d) {
					t.Errorf("output shows %q:\n%s%s", d, out, stderr)
				}
			}
		})
	}

	t.Run("usage errors", func(t *testing.T) {
		for _, args := range [][]string{
			{login},                                  // no --url
			{"--url", "ftp://x/sso", login},          // not http
			{"--url", sso, "hello"},                  // no SAML message
			{"--url", sso, "<samlp:LogoutRequest/>"}, // not an AuthnRequest
		} {
			if code, out, stderr := runTool(t, runReplay, env, args...); code != 2 {
				t.Errorf("%q: exit %d, want 2:\n%s%s", args, code, out, stderr)
			}
		}
	})
}
