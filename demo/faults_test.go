package demo

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/samlbridge/samlbridge/internal/breaker"
	"github.com/samlbridge/samlbridge/internal/syncbuf"
	"github.com/samlbridge/samlbridge/itsme/emulator"
	"github.com/samlbridge/samlbridge/metrics"
	"github.com/samlbridge/samlbridge/saml"
)

// faultTimeout is the itsme call timeout of the fault tests. The bound
// each test asserts is generous (a login makes at most three calls after
// the user confirms, plus its RSA work): it proves that a fault cannot
// hold a login for the fault's own duration, not a speed.
const (
	faultTimeout = 400 * time.Millisecond
	faultBound   = 3*faultTimeout + 3*time.Second
	slowItsme    = 20 * time.Second
)

// faultStack is a demo stack with a short itsme timeout, a small circuit
// breaker, metrics and captured logs.
type faultStack struct {
	*Stack
	base    string
	logs    *syncbuf.Buffer
	metrics *metrics.Metrics
}

func newFaultStack(t *testing.T) *faultStack {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	fs := &faultStack{base: "http://" + srv.Listener.Addr().String(), logs: &syncbuf.Buffer{}, metrics: metrics.New()}
	stack, err := New(context.Background(), Options{
		BaseURL:         fs.base,
		Logger:          slog.New(slog.NewTextHandler(fs.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Metrics:         fs.metrics,
		UpstreamTimeout: faultTimeout,
		UpstreamBreaker: breaker.Config{Threshold: 3, Cooldown: time.Hour},
	})
	if err != nil {
		t.Fatal(err)
	}
	fs.Stack = stack
	srv.Config.Handler = stack.Handler
	srv.Start()
	t.Cleanup(srv.Close)
	return fs
}

// loginThrough runs one login (the user approves) and returns the
// bridge's last page and how long the steps after the phone page took:
// the confirmation, itsme's redirect and the bridge's callback.
func (fs *faultStack) loginThrough(t *testing.T) (*page, time.Duration) {
	t.Helper()
	b := newBrowser(t)
	b.client.Timeout = 2 * slowItsme // a hang would fail the bound below, not the test run
	phone := b.get(fs.base + PathSPLogin)
	start := time.Now()
	final := approve(t, b, phone)
	return final, time.Since(start)
}

// status returns the SAML top-level status code of the response on the
// auto-POST page (checking it goes to the demo SP's ACS), after checking
// that the SP accepts a Success with the persona's data and refuses
// anything else, which never carries an assertion.
func (fs *faultStack) status(t *testing.T, p *page) string {
	t.Helper()
	_, vals := samlResponseFrom(t, p, fs.base+PathSPACS)
	top, _, hasAssertion := statusOf(t, vals)
	res, err := fs.SP.Parse(vals.Get("SAMLResponse"))
	switch {
	case top == saml.StatusSuccess:
		if err != nil {
			t.Fatalf("the SP rejected a Success response: %v", err)
		}
		if got := res.Attributes["firstName"]; len(got) != 1 || got[0] != "Maxence" {
			t.Fatalf("firstName = %q", got)
		}
	case hasAssertion:
		t.Fatalf("an error response (%s) carries an assertion", top)
	case err == nil:
		t.Fatal("the SP accepted an error response")
	}
	return top
}

// TestUpstreamFaults drives every fault mode of itsme through the whole
// stack (demo SP, bridge, emulator) and asserts the SAML status the SP
// receives, the cause in the bridge's log, and that the login ended within
// a bound far below the fault's own duration.
func TestUpstreamFaults(t *testing.T) {
	tests := []struct {
		name   string
		inject func(t *testing.T, e *emulator.Emulator)
		want   string // SAML status
		cause  string // in the bridge's log
	}{
		{"token endpoint slow", fault(emulator.Fault{Endpoint: emulator.PathToken, Latency: slowItsme}), saml.StatusResponder, "context deadline exceeded"},
		{"token endpoint 503", fault(emulator.Fault{Endpoint: emulator.PathToken, Status: http.StatusServiceUnavailable}), saml.StatusResponder, "HTTP 503"},
		{"token endpoint 500 after a delay", fault(emulator.Fault{Endpoint: emulator.PathToken, Latency: faultTimeout / 2, Status: 500}), saml.StatusResponder, "HTTP 500"},
		{"token endpoint drops the connection", fault(emulator.Fault{Endpoint: emulator.PathToken, Drop: true}), saml.StatusResponder, "EOF"},
		{"token answer malformed", fault(emulator.Fault{Endpoint: emulator.PathToken, Malformed: true}), saml.StatusResponder, "itsme: token"},
		{"userinfo 502", fault(emulator.Fault{Endpoint: emulator.PathUserInfo, Status: http.StatusBadGateway}), saml.StatusResponder, "HTTP 502"},
		{"userinfo slow", fault(emulator.Fault{Endpoint: emulator.PathUserInfo, Latency: slowItsme}), saml.StatusResponder, "context deadline exceeded"},
		{"userinfo malformed", fault(emulator.Fault{Endpoint: emulator.PathUserInfo, Malformed: true}), saml.StatusResponder, "itsme: userinfo"},
		{"signing key rotated and published", rotate(true, emulator.DropOld), saml.StatusSuccess, "JWK set fetched"},
		{"signing key rotated, not published", rotate(true, emulator.Unpublished), saml.StatusResponder, "unknown signing key"},
		{"encryption key rotated, old one kept", rotate(false, emulator.KeepOld), saml.StatusSuccess, "login completed"},
		{"JWK set refetch answers 500 after a rotation", func(t *testing.T, e *emulator.Emulator) {
			rotate(true, emulator.DropOld)(t, e)
			fault(emulator.Fault{Endpoint: emulator.PathJWKS, Status: 500})(t, e)
		}, saml.StatusResponder, "HTTP 500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := newFaultStack(t)
			// A first login fetches discovery and the JWK set, as a
			// running bridge has.
			if p, _ := fs.loginThrough(t); fs.status(t, p) != saml.StatusSuccess {
				t.Fatal("the warm-up login failed")
			}
			tt.inject(t, fs.Emulator)
			p, took := fs.loginThrough(t)
			if got := fs.status(t, p); got != tt.want {
				t.Errorf("SAML status %q, want %q\nlogs:\n%s", got, tt.want, fs.logs.String())
			}
			if took > faultBound {
				t.Errorf("the login took %s with a %s itsme timeout, over the bound %s", took, faultTimeout, faultBound)
			}
			if !strings.Contains(fs.logs.String(), tt.cause) {
				t.Errorf("the log does not name the cause %q:\n%s", tt.cause, fs.logs.String())
			}
		})
	}
}

func fault(f emulator.Fault) func(*testing.T, *emulator.Emulator) {
	return func(t *testing.T, e *emulator.Emulator) {
		t.Helper()
		if err := e.InjectFault(f); err != nil {
			t.Fatal(err)
		}
	}
}

func rotate(sig bool, how emulator.Rotation) func(*testing.T, *emulator.Emulator) {
	return func(t *testing.T, e *emulator.Emulator) {
		t.Helper()
		var err error
		if sig {
			_, err = e.RotateSigningKey(how)
		} else {
			_, err = e.RotateEncryptionKey(how)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestItsmeDownAtTheStart: itsme's discovery cannot be fetched when the
// first login arrives. The SP still gets a Responder status at once,
// and /readyz says the node cannot serve logins.
func TestItsmeDownAtTheStart(t *testing.T) {
	fs := newFaultStack(t)
	fault(emulator.Fault{Endpoint: emulator.PathDiscovery, Status: http.StatusServiceUnavailable})(t, fs.Emulator)
	b := newBrowser(t)
	start := time.Now()
	p := b.get(fs.base + PathSPLogin)
	if took := time.Since(start); took > faultBound {
		t.Errorf("the SSO step took %s", took)
	}
	if got := fs.status(t, p); got != saml.StatusResponder {
		t.Errorf("SAML status %q, want Responder", got)
	}
	r := b.get(fs.base + "/readyz")
	if r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, "itsme's discovery document and keys could not be fetched") {
		t.Errorf("/readyz: %d %s", r.status, r.body)
	}
	fs.Emulator.ClearFaults()
	if r := b.get(fs.base + "/readyz"); r.status != http.StatusOK {
		t.Errorf("/readyz after itsme came back: %d %s", r.status, r.body)
	}
}

// TestCircuitBreakerStopsHammeringItsme: after three failed token calls
// the breaker opens; the next login fails at once without a call to
// itsme, and the metrics show the open circuit.
func TestCircuitBreakerStopsHammeringItsme(t *testing.T) {
	fs := newFaultStack(t)
	if p, _ := fs.loginThrough(t); fs.status(t, p) != saml.StatusSuccess {
		t.Fatal("the warm-up login failed")
	}
	fault(emulator.Fault{Endpoint: emulator.PathToken, Status: http.StatusInternalServerError})(t, fs.Emulator)
	for i := range 3 {
		if p, _ := fs.loginThrough(t); fs.status(t, p) != saml.StatusResponder {
			t.Fatalf("failing login %d did not get Responder", i)
		}
	}
	calls := fs.Emulator.Requests(emulator.PathToken)
	p, took := fs.loginThrough(t)
	if got := fs.status(t, p); got != saml.StatusResponder {
		t.Errorf("with the circuit open: %q, want Responder", got)
	}
	if after := fs.Emulator.Requests(emulator.PathToken); after != calls {
		t.Errorf("the token endpoint was called %d more times with the circuit open", after-calls)
	}
	if took > faultBound {
		t.Errorf("a refused login took %s", took)
	}
	if !strings.Contains(fs.logs.String(), "circuit breaker open") {
		t.Errorf("the log does not say the circuit is open:\n%s", fs.logs.String())
	}
	rec := httptest.NewRecorder()
	fs.metrics.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, want := range []string{
		"samlbridge_upstream_circuit_state 2",
		`samlbridge_upstream_request_duration_seconds_count{outcome="refused",step="token"} 1`,
		`samlbridge_upstream_request_duration_seconds_count{outcome="http_error",step="token"} 3`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if r := newBrowser(t).get(fs.base + "/readyz"); r.status != http.StatusOK || !strings.Contains(r.body, "circuit open") {
		t.Errorf("/readyz with the circuit open: %d %s (it stays ready and says so)", r.status, r.body)
	}
}
