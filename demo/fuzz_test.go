package demo

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samlbridge/samlbridge/internal/htmlform"
	"github.com/samlbridge/samlbridge/internal/syncbuf"
	"github.com/samlbridge/samlbridge/server"
	"github.com/samlbridge/samlbridge/session"
	"github.com/samlbridge/samlbridge/session/memory"
)

// Placeholders a FuzzCallback input may carry. Before each iteration they
// are replaced with the values of a real login in flight, so that the
// fuzzer gets past the state lookup, the browser binding and the code
// exchange instead of stopping at "unknown state".
const (
	phState      = "{state}"       // the live state (query)
	phCode       = "{code}"        // the live authorization code (query)
	phIssuer     = "{iss}"         // the emulator's issuer, form-encoded (query)
	phCookieName = "{cookie-name}" // the flow cookie's name (Cookie header)
	phCookie     = "{cookie}"      // the flow cookie's value (Cookie header)
	phEcho       = "{echo}"        // echoMarker (form-encoded in the query)
)

// echoMarker is markup that must never come back in a page or a response.
const echoMarker = `<fuzz-echo a='"'>&amp;`

// demoRelayState is the RelayState the demo SP sends with every login.
const demoRelayState = "demo-relay-state"

// maxErrorPages bounds how many different local error pages the callback
// may produce: the pages carry fixed messages only, so a growing number of
// them means request content is being echoed.
const maxErrorPages = 12

// liveLogin is a login the bridge holds a transaction for, stopped just
// before the browser returns to the callback.
type liveLogin struct {
	state, code, iss        string
	cookieName, cookieValue string
	started                 time.Time
}

// takeTap is the stack's store, noting which states were taken.
type takeTap struct {
	session.Store
	mu    sync.Mutex
	taken map[string]bool
}

func (s *takeTap) Take(ctx context.Context, state string, now time.Time) (session.Transaction, error) {
	tx, err := s.Store.Take(ctx, state, now)
	if err == nil {
		s.mu.Lock()
		s.taken[state] = true
		s.mu.Unlock()
	}
	return tx, err
}

// wasTaken reports (once) whether state was taken.
func (s *takeTap) wasTaken(state string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ok := s.taken[state]
	delete(s.taken, state)
	return ok
}

// callbackHarness is one demo stack on a loopback server (the bridge
// redeems codes at the emulator over HTTP) and the login in flight.
type callbackHarness struct {
	stack      *Stack
	base, acs  string
	logs       *syncbuf.Buffer
	store      *takeTap
	live       *liveLogin
	errorPages map[string]bool
}

func newCallbackHarness(tb testing.TB) *callbackHarness {
	tb.Helper()
	h := &callbackHarness{logs: &syncbuf.Buffer{}, store: &takeTap{Store: memory.New(0), taken: map[string]bool{}}, errorPages: map[string]bool{}}
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	h.base = "http://" + srv.Listener.Addr().String()
	logger := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// The fuzzer sends thousands of callbacks from one address; the
	// per-client rate limit would answer 429 to most of them (it has its
	// own tests in package server), so it is off here.
	stack, err := New(context.Background(), Options{BaseURL: h.base, Store: h.store, Logger: logger,
		RateLimit: server.RateLimit{Disabled: true}})
	if err != nil {
		tb.Fatal(err)
	}
	srv.Config.Handler = stack.Handler
	srv.Start()
	tb.Cleanup(srv.Close)
	h.stack = stack
	h.acs = stack.SP.SAML.AcsURL.String()
	if h.acs != h.base+PathSPACS {
		tb.Fatalf("demo SP ACS %q", h.acs)
	}
	return h
}

// startLogin runs a real login up to the emulator's redirect back to the
// callback, which it does not follow.
func (h *callbackHarness) startLogin(tb testing.TB) *liveLogin {
	tb.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		tb.Fatal(err)
	}
	client := &http.Client{Jar: jar, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if r.URL.Path == server.PathCallback {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	u, err := h.stack.SP.LoginURL(IndexIdentification, demoRelayState)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err := client.Get(u)
	if err != nil {
		tb.Fatal(err)
	}
	body := readBody(tb, resp)
	action, vals, ok := htmlform.AsFound(body)
	if resp.StatusCode != http.StatusOK || !ok {
		tb.Fatalf("no emulator page: %d at %s", resp.StatusCode, resp.Request.URL)
	}
	target, err := resp.Request.URL.Parse(action)
	if err != nil {
		tb.Fatal(err)
	}
	resp, err = client.PostForm(target.String(), vals)
	if err != nil {
		tb.Fatal(err)
	}
	readBody(tb, resp)
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound || back.Path != server.PathCallback {
		tb.Fatalf("emulator did not redirect to the callback: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	q := back.Query()
	// The emulator sends no iss; {iss} is the issuer the bridge expects.
	live := &liveLogin{state: q.Get("state"), code: q.Get("code"), iss: h.base + emulatorPathPrefix, started: time.Now()}
	base, _ := url.Parse(h.base + "/")
	for _, c := range jar.Cookies(base) {
		if strings.HasPrefix(c.Name, "samlbridge_flow_") {
			live.cookieName, live.cookieValue = c.Name, c.Value
		}
	}
	if live.state == "" || live.code == "" || live.cookieValue == "" {
		tb.Fatalf("incomplete login in flight: callback %q, flow cookie %q", back, live.cookieName)
	}
	h.logs.Take()
	return live
}

// callbackOutcome is what one callback request produced.
type callbackOutcome struct {
	status       int
	samlResponse []byte // decoded; nil unless a form was posted
	success      bool   // the posted response has a Success status
}

// run sends one callback request built from the fuzz input to the bridge
// and checks the invariants every answer must meet.
func (h *callbackHarness) run(t *testing.T, rawQuery, rawCookie string) callbackOutcome {
	t.Helper()
	// A login in flight is single use once its state is taken; a fresh
	// one is also started well before the emulator's code would expire.
	if h.live == nil || time.Since(h.live.started) > time.Minute {
		h.live = h.startLogin(t)
	}
	live := h.live
	query := strings.NewReplacer(phState, live.state, phCode, live.code,
		phIssuer, url.QueryEscape(live.iss), phEcho, url.QueryEscape(echoMarker)).Replace(rawQuery)
	cookie := strings.NewReplacer(phCookieName, live.cookieName, phCookie, live.cookieValue, phEcho, echoMarker).Replace(rawCookie)

	r := httptest.NewRequest(http.MethodGet, h.base+server.PathCallback, nil)
	r.URL.RawQuery = query
	if rawCookie != "" {
		r.Header.Set("Cookie", cookie)
	}
	rec := httptest.NewRecorder()
	h.stack.Handler.ServeHTTP(rec, r)
	taken := h.store.wasTaken(live.state)
	if taken {
		h.live = nil
	}
	logs := h.logs.Take()
	body := rec.Body.String()
	out := callbackOutcome{status: rec.Code}

	h.checkLogs(t, logs, live, query, cookie)
	if strings.Contains(body, "fuzz-echo") {
		t.Fatalf("the answer echoes request content:\n%s", body)
	}
	// What the handler saw: r.URL.Query keeps the well-formed pairs.
	seen := r.URL.Query()
	var inputs []string
	for k, vs := range seen {
		inputs = append(inputs, k)
		inputs = append(inputs, vs...)
	}
	for _, c := range r.Cookies() {
		inputs = append(inputs, c.Name, c.Value)
	}
	inputs = append(inputs, query, cookie)
	for _, in := range inputs {
		if len(in) >= 8 && strings.ContainsAny(in, `<>"'`) && strings.Contains(body, in) {
			t.Fatalf("the answer echoes %q:\n%s", in, body)
		}
	}

	switch rec.Code {
	case http.StatusBadRequest:
		if strings.Contains(body, "<form") || strings.Contains(body, "SAMLResponse") {
			t.Fatalf("a local error page carries a form:\n%s", body)
		}
		h.errorPages[body] = true
		if len(h.errorPages) > maxErrorPages {
			t.Fatalf("%d different error pages: they depend on the request:\n%s", len(h.errorPages), body)
		}
		return out
	case http.StatusOK:
	default:
		t.Fatalf("status %d; body:\n%s", rec.Code, body)
	}

	// 200 is the auto-POST form, for the login in flight only.
	action, vals, ok := htmlform.AsFound(body)
	if !ok {
		t.Fatalf("200 without a form:\n%s", body)
	}
	if action != h.acs {
		t.Fatalf("form posts to %q, not the SP's ACS from metadata %q", action, h.acs)
	}
	if len(vals) != 2 || len(vals["SAMLResponse"]) != 1 || vals.Get("RelayState") != demoRelayState {
		t.Fatalf("form fields %v, want a SAMLResponse and the SP's RelayState", vals)
	}
	if !taken {
		t.Fatal("a response was posted, but the login in flight was not taken from the store")
	}
	if got := seen.Get("state"); got != live.state {
		t.Fatalf("a response was posted for state %q", got)
	}
	if c, err := r.Cookie(live.cookieName); err != nil || c.Value != live.cookieValue {
		t.Fatal("a response was posted to a browser without the flow cookie")
	}
	xml, err := decodeStd(vals.Get("SAMLResponse"))
	if err != nil {
		t.Fatalf("SAMLResponse: %v", err)
	}
	if bytes.Contains(xml, []byte("fuzz-echo")) {
		t.Fatalf("the SAML response echoes request content:\n%s", xml)
	}
	out.samlResponse = xml
	out.success = bytes.Contains(xml, []byte(`:status:Success"`))
	if out.success && seen.Get("code") != live.code {
		t.Fatal("Success for a callback without the live code")
	}
	return out
}

// checkLogs fails on a recovered panic and on secrets in the bridge's log
// lines (the emulator is a test double and is not checked).
func (h *callbackHarness) checkLogs(t *testing.T, logs string, live *liveLogin, query, cookie string) {
	t.Helper()
	codeElsewhere := strings.Contains(strings.Replace(query, "code="+live.code, "", 1), live.code) || strings.Contains(cookie, live.code)
	for _, line := range strings.Split(logs, "\n") {
		switch {
		case strings.Contains(line, "component=itsme-emulator"):
		case strings.Contains(line, "panic while handling request"):
			t.Fatalf("the bridge panicked: %s", line)
		case strings.Contains(line, live.cookieValue) && !strings.Contains(query, live.cookieValue):
			t.Fatalf("the flow cookie is logged: %s", line)
		case strings.Contains(line, live.code) && !codeElsewhere:
			t.Fatalf("the authorization code is logged: %s", line)
		case strings.Contains(line, "81042419835") || strings.Contains(line, "810424 198 35"):
			t.Fatalf("the national number is logged: %s", line)
		}
	}
}

// FuzzCallback drives the bridge's real /oidc/callback with an arbitrary
// query string and Cookie header, around a real login in flight (see the
// placeholders above; the seeds are in testdata/fuzz/FuzzCallback). Every
// answer must be a local error page with a fixed message or the auto-POST
// form to the SP's ACS from metadata, for the live login only; nothing
// panics, nothing echoes the input, no secret reaches the bridge's logs.
func FuzzCallback(f *testing.F) {
	h := newCallbackHarness(f)
	f.Fuzz(func(t *testing.T, query, cookie string) {
		h.run(t, query, cookie)
	})
}

// readCallbackSeed reads one seed of testdata/fuzz/FuzzCallback.
func readCallbackSeed(t *testing.T, name string) (query, cookie string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzCallback", name))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 3 || lines[0] != "go test fuzz v1" {
		t.Fatalf("seed %s is not a two-string corpus file", name)
	}
	var vals [2]string
	for i, l := range lines[1:] {
		v, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(l, "string("), ")"))
		if err != nil {
			t.Fatalf("seed %s line %d: %v", name, i+2, err)
		}
		vals[i] = v
	}
	return vals[0], vals[1]
}

// TestCallbackSeeds pins what the main seeds reach, so that the fuzzer
// starts from the code exchange and not only from the state lookup.
func TestCallbackSeeds(t *testing.T) {
	h := newCallbackHarness(t)
	for _, tc := range []struct {
		seed    string
		status  int
		success bool
		subCode string // in the posted response
	}{
		{seed: "live", status: http.StatusOK, success: true},
		{seed: "malformed_extra", status: http.StatusOK, success: true},
		{seed: "access_denied", status: http.StatusOK, subCode: "status:AuthnFailed"},
		{seed: "echo_description", status: http.StatusOK, subCode: "status:Responder"},
		{seed: "wrong_code", status: http.StatusOK, subCode: "status:Responder"},
		{seed: "mixup_issuer", status: http.StatusOK, subCode: "status:AuthnFailed"},
		{seed: "no_cookie", status: http.StatusBadRequest},
		{seed: "wrong_cookie", status: http.StatusBadRequest},
		{seed: "unknown_state", status: http.StatusBadRequest},
		{seed: "duplicate_state", status: http.StatusBadRequest},
		// OIDC-08: parameter pollution. Without the refusal the first value
		// would be used: the live code, the configured issuer.
		{seed: "duplicate_code", status: http.StatusBadRequest},
		{seed: "duplicate_error", status: http.StatusBadRequest},
		{seed: "duplicate_error_description", status: http.StatusBadRequest},
		{seed: "duplicate_iss", status: http.StatusBadRequest},
	} {
		t.Run(tc.seed, func(t *testing.T) {
			query, cookie := readCallbackSeed(t, tc.seed)
			live := h.live
			if live == nil || time.Since(live.started) > time.Minute {
				live = h.startLogin(t)
				h.live = live
			}
			out := h.run(t, query, cookie)
			if out.status != tc.status || out.success != tc.success {
				t.Fatalf("status %d success %v, want %d %v", out.status, out.success, tc.status, tc.success)
			}
			if tc.subCode != "" && !bytes.Contains(out.samlResponse, []byte(tc.subCode+`"`)) {
				t.Fatalf("response lacks %s:\n%s", tc.subCode, out.samlResponse)
			}
			if tc.success {
				res, err := h.stack.SP.Parse(base64.StdEncoding.EncodeToString(out.samlResponse))
				if err != nil {
					t.Fatalf("the demo SP rejects the response: %v", err)
				}
				if res.Attributes["nin"][0] != "81042419835" {
					t.Errorf("attributes %v", res.Attributes)
				}
			}
		})
	}
}

func readBody(tb testing.TB, resp *http.Response) string {
	tb.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}
