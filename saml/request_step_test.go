package saml

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	crewjam "github.com/crewjam/saml"
)

// TestRequestErrorStep checks that a rejection names the validation step
// that failed, one case per step, so that tools (samlbridge decode) can
// report each step of the bridge's own validation.
func TestRequestErrorStep(t *testing.T) {
	t.Parallel()
	f := fixture(t)
	tests := []struct {
		name   string
		req    func(t *testing.T) *http.Request
		parser func(p *RequestParser)
		want   Step
	}{
		{name: "not base64", req: func(t *testing.T) *http.Request {
			return httptest.NewRequest(http.MethodGet, testSSOURL+"?SAMLRequest=%21%21%21", nil)
		}, want: StepBinding},
		{name: "DOCTYPE", req: func(t *testing.T) *http.Request {
			return postRequest(append([]byte(`<!DOCTYPE r>`), postXML(t, f.plain, nil)...), nil)
		}, want: StepXML},
		{name: "unknown SP", req: func(t *testing.T) *http.Request {
			return redirectRequest(t, f.plain, "", func(r *crewjam.AuthnRequest) { r.Issuer.Value += "/" })
		}, want: StepIssuer},
		{name: "signature required", req: func(t *testing.T) *http.Request {
			return redirectRequest(t, withMethod(f.signed, ""), "", nil)
		}, want: StepSignature},
		{name: "bad ProxyCount", req: func(t *testing.T) *http.Request {
			x := strings.Replace(string(postXML(t, f.plain, nil)), "</samlp:AuthnRequest>", `<samlp:Scoping ProxyCount="x"/></samlp:AuthnRequest>`, 1)
			return postRequest([]byte(x), nil)
		}, want: StepContent},
		{name: "wrong Destination", req: func(t *testing.T) *http.Request {
			return redirectRequest(t, f.signed, "", func(r *crewjam.AuthnRequest) { r.Destination = "https://elsewhere.example/sso" })
		}, want: StepDestination},
		{name: "stale", req: func(t *testing.T) *http.Request {
			return redirectRequest(t, f.signed, "", nil)
		}, parser: func(p *RequestParser) { p.Now = func() time.Time { return time.Now().Add(time.Hour) } }, want: StepIssueInstant},
		{name: "ACS not in metadata", req: func(t *testing.T) *http.Request {
			return redirectRequest(t, f.signed, "", func(r *crewjam.AuthnRequest) { r.AssertionConsumerServiceURL = "https://evil.example/acs" })
		}, want: StepACS},
		{name: "RelayState with CRLF", req: func(t *testing.T) *http.Request {
			return postRequest(postXML(t, f.plain, nil), ptr("x\r\ny"))
		}, want: StepRelayState},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := f.parser()
			if tt.parser != nil {
				tt.parser(p)
			}
			_, err := p.Parse(tt.req(t))
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want a *RequestError", err)
			}
			if re.Step != tt.want {
				t.Errorf("step %v, want %v (%v)", re.Step, tt.want, err)
			}
		})
	}
	if len(tests) != len(Steps) {
		t.Errorf("%d cases for %d steps: one case per step", len(tests), len(Steps))
	}
}
