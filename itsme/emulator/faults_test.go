package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// hangBound is the generous bound within which something that must not
// hang finishes.
const hangBound = 10 * time.Second

// mustInject injects f or fails the test.
func mustInject(t *testing.T, e *Emulator, f Fault) {
	t.Helper()
	if err := e.InjectFault(f); err != nil {
		t.Fatalf("InjectFault(%+v): %v", f, err)
	}
}

// call sends a request to an endpoint the way a client would (GET, or a
// form POST for the token endpoint) and returns the answer or the
// transport error.
func call(ctx context.Context, client *http.Client, issuer, endpoint string) (*http.Response, []byte, error) {
	method, body := http.MethodGet, io.Reader(nil)
	if endpoint == PathToken {
		method, body = http.MethodPost, strings.NewReader("grant_type=authorization_code")
	}
	req, err := http.NewRequestWithContext(ctx, method, issuer+endpoint, body)
	if err != nil {
		return nil, nil, err
	}
	if endpoint == PathToken {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// mustCall is call that fails the test on a transport error.
func (h *harness) mustCall(endpoint string) (*http.Response, []byte) {
	h.t.Helper()
	resp, body, err := call(context.Background(), h.client, h.issuer, endpoint)
	if err != nil {
		h.t.Fatalf("%s: %v", endpoint, err)
	}
	return resp, body
}

func TestInjectFaultValidation(t *testing.T) {
	t.Parallel()
	keys(t)
	e, err := New(validConfig())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		fault Fault
		want  []string // substrings of the error; none: valid
	}{
		{name: "status on every endpoint", fault: Fault{Status: 503}},
		{name: "latency then the real answer", fault: Fault{Endpoint: PathToken, Latency: time.Second}},
		{name: "latency then a status", fault: Fault{Endpoint: PathJWKS, Latency: time.Second, Status: 502, Times: 3}},
		{name: "latency then a drop", fault: Fault{Endpoint: PathUserInfo, Latency: time.Second, Drop: true}},
		{name: "malformed userinfo", fault: Fault{Endpoint: PathUserInfo, Malformed: true}},
		{name: "4xx status", fault: Fault{Endpoint: PathAuthorization, Status: 429}},
		{name: "unknown endpoint", fault: Fault{Endpoint: "/nope", Status: 500}, want: []string{"unknown Endpoint"}},
		{name: "full URL as endpoint", fault: Fault{Endpoint: "https://idp.example/v2/token", Status: 500}, want: []string{"unknown Endpoint"}},
		{name: "negative latency", fault: Fault{Latency: -time.Second}, want: []string{"negative Latency"}},
		{name: "negative times", fault: Fault{Status: 500, Times: -1}, want: []string{"negative Times"}},
		{name: "2xx status", fault: Fault{Status: 200}, want: []string{"want a 4xx or 5xx"}},
		{name: "3xx status", fault: Fault{Status: 302}, want: []string{"want a 4xx or 5xx"}},
		{name: "status 600", fault: Fault{Status: 600}, want: []string{"want a 4xx or 5xx"}},
		{name: "drop with a status", fault: Fault{Drop: true, Status: 500}, want: []string{"exclude each other"}},
		{name: "drop and malformed", fault: Fault{Endpoint: PathToken, Drop: true, Malformed: true}, want: []string{"exclude each other"}},
		{name: "malformed on every endpoint", fault: Fault{Malformed: true}, want: []string{"Malformed needs"}},
		{name: "malformed phone page", fault: Fault{Endpoint: PathAuthorization, Malformed: true}, want: []string{"Malformed needs"}},
		{name: "no effect", fault: Fault{Endpoint: PathToken, Times: 1}, want: []string{"does nothing"}},
		{name: "every problem at once", fault: Fault{Endpoint: "/x", Latency: -1, Times: -1, Status: 1, Drop: true},
			want: []string{"unknown Endpoint", "negative Latency", "negative Times", "want a 4xx or 5xx", "exclude each other"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.InjectFault(tt.fault)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("valid fault refused: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrFault) {
				t.Fatalf("err = %v, want ErrFault", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestFaultModes checks what one request gets under each fault, and that
// the request and the fault were counted.
func TestFaultModes(t *testing.T) {
	t.Parallel()
	const latency = 50 * time.Millisecond
	wantJSON := func(t *testing.T, resp *http.Response, body []byte) {
		t.Helper()
		if resp.StatusCode != http.StatusOK || !json.Valid(body) {
			t.Errorf("want the real JSON answer, got %d:\n%.200s", resp.StatusCode, body)
		}
	}
	wantInjected := func(status int) func(*testing.T, *http.Response, []byte) {
		return func(t *testing.T, resp *http.Response, body []byte) {
			t.Helper()
			if resp.StatusCode != status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") || !strings.Contains(string(body), "injected fault") {
				t.Errorf("want an injected %d, got %d %q:\n%.200s", status, resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
		}
	}
	wantBrokenJSON := func(t *testing.T, resp *http.Response, body []byte) {
		t.Helper()
		var v any
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" || len(body) == 0 {
			t.Errorf("want 200 application/json, got %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if err := json.Unmarshal(body, &v); err == nil {
			t.Errorf("the malformed body parses as JSON:\n%s", body)
		}
	}
	notAJWT := func(t *testing.T, what, raw string) {
		t.Helper()
		if _, err := jose.ParseEncryptedCompact(raw, []jose.KeyAlgorithm{jose.RSA_OAEP, jose.RSA_OAEP_256}, []jose.ContentEncryption{jose.A128CBC_HS256, jose.A256GCM}); err == nil {
			t.Errorf("%s %q parses as a JWE", what, raw)
		}
		if _, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256}); err == nil {
			t.Errorf("%s %q parses as a JWS", what, raw)
		}
	}
	tests := []struct {
		name     string
		fault    Fault
		endpoint string // where the request goes
		minTime  time.Duration
		hits     int // FaultHits(endpoint) after the request
		check    func(*testing.T, *http.Response, []byte)
	}{
		{name: "503 on the JWK Set", fault: Fault{Endpoint: PathJWKS, Status: 503}, endpoint: PathJWKS, hits: 1, check: wantInjected(503)},
		{name: "502 on the token endpoint", fault: Fault{Endpoint: PathToken, Status: 502}, endpoint: PathToken, hits: 1, check: wantInjected(502)},
		{name: "500 on every endpoint reaches discovery", fault: Fault{Status: 500}, endpoint: PathDiscovery, hits: 1, check: wantInjected(500)},
		{name: "429 on userinfo", fault: Fault{Endpoint: PathUserInfo, Status: 429}, endpoint: PathUserInfo, hits: 1, check: wantInjected(429)},
		{name: "fault on another endpoint", fault: Fault{Endpoint: PathToken, Status: 503}, endpoint: PathJWKS, hits: 0, check: wantJSON},
		{name: "latency then the real answer", fault: Fault{Endpoint: PathDiscovery, Latency: latency}, endpoint: PathDiscovery, minTime: latency, hits: 1,
			check: func(t *testing.T, resp *http.Response, body []byte) {
				wantJSON(t, resp, body)
				var d map[string]any
				if err := json.Unmarshal(body, &d); err != nil || d["token_endpoint"] == nil {
					t.Errorf("not the discovery document: %v", err)
				}
			}},
		{name: "latency then a status", fault: Fault{Endpoint: PathJWKS, Latency: latency, Status: 504}, endpoint: PathJWKS, minTime: latency, hits: 1, check: wantInjected(504)},
		{name: "malformed discovery", fault: Fault{Endpoint: PathDiscovery, Malformed: true}, endpoint: PathDiscovery, hits: 1, check: wantBrokenJSON},
		{name: "malformed JWK Set", fault: Fault{Endpoint: PathJWKS, Malformed: true}, endpoint: PathJWKS, hits: 1,
			check: func(t *testing.T, resp *http.Response, body []byte) {
				wantBrokenJSON(t, resp, body)
				var set jose.JSONWebKeySet
				if err := json.Unmarshal(body, &set); err == nil {
					t.Error("the malformed JWK Set parses")
				}
			}},
		{name: "malformed token answer", fault: Fault{Endpoint: PathToken, Malformed: true}, endpoint: PathToken, hits: 1,
			check: func(t *testing.T, resp *http.Response, body []byte) {
				var tr map[string]any
				if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
					t.Errorf("want 200 application/json, got %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
				}
				if err := json.Unmarshal(body, &tr); err != nil {
					t.Fatalf("the token answer is not JSON: %v", err)
				}
				idt, _ := tr["id_token"].(string)
				notAJWT(t, "id_token", idt)
			}},
		{name: "malformed userinfo", fault: Fault{Endpoint: PathUserInfo, Malformed: true}, endpoint: PathUserInfo, hits: 1,
			check: func(t *testing.T, resp *http.Response, body []byte) {
				if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/jwt" || len(body) == 0 {
					t.Errorf("want 200 application/jwt, got %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
				}
				notAJWT(t, "userinfo answer", string(body))
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			mustInject(t, h.emu, tt.fault)
			start := time.Now()
			resp, body := h.mustCall(tt.endpoint)
			if took := time.Since(start); took < tt.minTime {
				t.Errorf("answered after %s, want at least the %s latency", took, tt.minTime)
			}
			tt.check(t, resp, body)
			if got := h.emu.FaultHits(tt.endpoint); got != tt.hits {
				t.Errorf("FaultHits(%s) = %d, want %d", tt.endpoint, got, tt.hits)
			}
			if got := h.emu.Requests(tt.endpoint); got != 1 {
				t.Errorf("Requests(%s) = %d, want 1", tt.endpoint, got)
			}
		})
	}
}

// TestFaultSequences checks Times, the order of queued faults, endpoint
// filtering and ClearFaults over a series of JWK Set requests.
func TestFaultSequences(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		faults     []Fault
		clearAfter int   // ClearFaults after this many requests; 0: never
		want       []int // status of each request
		hits       int
	}{
		{name: "Times expires", faults: []Fault{{Endpoint: PathJWKS, Status: 503, Times: 2}}, want: []int{503, 503, 200, 200}, hits: 2},
		{name: "queued faults apply in order", faults: []Fault{{Endpoint: PathJWKS, Status: 502, Times: 1}, {Endpoint: PathJWKS, Status: 503, Times: 1}}, want: []int{502, 503, 200}, hits: 2},
		{name: "an earlier match on every endpoint goes first", faults: []Fault{{Status: 500, Times: 1}, {Endpoint: PathJWKS, Status: 503, Times: 1}}, want: []int{500, 503, 200}, hits: 2},
		{name: "until cleared", faults: []Fault{{Endpoint: PathJWKS, Status: 500}}, clearAfter: 3, want: []int{500, 500, 500, 200, 200}, hits: 3},
		{name: "cleared before expiry", faults: []Fault{{Endpoint: PathJWKS, Status: 500, Times: 5}}, clearAfter: 1, want: []int{500, 200}, hits: 1},
		{name: "another endpoint only", faults: []Fault{{Endpoint: PathDiscovery, Status: 500}, {Endpoint: PathToken, Status: 500}}, want: []int{200, 200}, hits: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			for _, f := range tt.faults {
				mustInject(t, h.emu, f)
			}
			for i, want := range tt.want {
				if i == tt.clearAfter && i > 0 {
					h.emu.ClearFaults()
				}
				if resp, body := h.mustCall(PathJWKS); resp.StatusCode != want {
					t.Errorf("request %d: status %d, want %d:\n%.200s", i+1, resp.StatusCode, want, body)
				}
			}
			if got := h.emu.FaultHits(PathJWKS); got != tt.hits {
				t.Errorf("FaultHits = %d, want %d", got, tt.hits)
			}
			if got := h.emu.FaultHits(""); got != tt.hits {
				t.Errorf(`FaultHits("") = %d, want %d`, got, tt.hits)
			}
			if got := h.emu.Requests(PathJWKS); got != len(tt.want) {
				t.Errorf("Requests = %d, want %d", got, len(tt.want))
			}
			if got := h.emu.Requests(PathDiscovery); got != 0 {
				t.Errorf("Requests(discovery) = %d, want 0", got)
			}
		})
	}
}

// TestFaultDrop: the client gets a transport error and no answer, on a
// GET and on the token POST; once cleared, the endpoint answers again.
func TestFaultDrop(t *testing.T) {
	t.Parallel()
	for _, endpoint := range []string{PathJWKS, PathToken, PathUserInfo} {
		t.Run(endpoint, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			// A fresh connection per request: Go's client would retry a
			// GET dropped on a reused connection.
			client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			mustInject(t, h.emu, Fault{Endpoint: endpoint, Drop: true})
			resp, _, err := call(context.Background(), client, h.issuer, endpoint)
			if err == nil {
				t.Fatalf("a dropped request got an answer: %d", resp.StatusCode)
			}
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("err = %v, want EOF or a connection reset", err)
			}
			if got := h.emu.FaultHits(endpoint); got != 1 {
				t.Errorf("FaultHits = %d, want 1", got)
			}
			h.emu.ClearFaults()
			resp, _, err = call(context.Background(), client, h.issuer, endpoint)
			if err != nil {
				t.Fatalf("after ClearFaults: %v", err)
			}
			if resp.StatusCode == http.StatusOK && endpoint != PathJWKS {
				t.Errorf("the unauthenticated request succeeded: %d", resp.StatusCode)
			}
			if h.emu.Requests(endpoint) != 2 || h.emu.FaultHits(endpoint) != 1 {
				t.Errorf("Requests = %d, FaultHits = %d, want 2 and 1", h.emu.Requests(endpoint), h.emu.FaultHits(endpoint))
			}
		})
	}
}

// TestFaultDropWithoutHijack: where the connection cannot be hijacked,
// Drop panics with http.ErrAbortHandler before writing anything; over
// HTTP/2 net/http turns that into a reset stream the client sees as an
// error.
func TestFaultDropWithoutHijack(t *testing.T) {
	t.Parallel()
	keys(t)
	e, err := New(validConfig())
	if err != nil {
		t.Fatal(err)
	}
	mustInject(t, e, Fault{Endpoint: PathJWKS, Drop: true})

	t.Run("recorder", func(t *testing.T) {
		rec := httptest.NewRecorder()
		var got any
		func() {
			defer func() { got = recover() }()
			e.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://idp.example/v2"+PathJWKS, nil))
		}()
		if got != http.ErrAbortHandler {
			t.Fatalf("recovered %v, want http.ErrAbortHandler", got)
		}
		if rec.Body.Len() != 0 || len(rec.Header()) != 0 {
			t.Errorf("something was written before the abort: %v %q", rec.Header(), rec.Body.String())
		}
	})

	t.Run("HTTP/2", func(t *testing.T) {
		srv := httptest.NewUnstartedServer(e.Handler())
		srv.EnableHTTP2 = true
		srv.StartTLS()
		defer srv.Close()
		client := srv.Client()
		base := srv.URL + "/v2"
		resp, _, err := call(context.Background(), client, base, PathDiscovery)
		if err != nil || resp.ProtoMajor != 2 || resp.TLS == nil || resp.TLS.NegotiatedProtocol != "h2" {
			t.Fatalf("the test server does not speak HTTP/2: %v", err)
		}
		resp, _, err = call(context.Background(), client, base, PathJWKS)
		if err == nil {
			t.Fatalf("a dropped HTTP/2 request got an answer: %d", resp.StatusCode)
		}
		if !strings.Contains(err.Error(), "INTERNAL_ERROR") {
			t.Errorf("err = %v, want the stream reset with INTERNAL_ERROR", err)
		}
	})
	if got := e.FaultHits(PathJWKS); got != 2 {
		t.Errorf("FaultHits = %d, want 2", got)
	}
}

// TestFaultLatencyAbandoned: a client that gives up ends the handler's
// wait at once, instead of holding it for the whole latency.
func TestFaultLatencyAbandoned(t *testing.T) {
	t.Parallel()
	// A GET, and a POST with a body the handler has not read yet (net/http
	// notices a client leaving only once the body is read).
	for _, endpoint := range []string{PathJWKS, PathToken} {
		t.Run(endpoint, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			// Long enough to tell, short enough that a failing run still ends.
			mustInject(t, h.emu, Fault{Endpoint: endpoint, Latency: 3 * hangBound, Status: 503})
			returned := make(chan struct{})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				defer close(returned)
				h.emu.Handler().ServeHTTP(w, r)
			}))
			defer srv.Close()

			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			errc := make(chan error, 1)
			go func() {
				if endpoint == PathJWKS {
					_, _, err := call(ctx, srv.Client(), srv.URL+"/v2", PathJWKS)
					errc <- err
					return
				}
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v2"+PathToken, strings.NewReader("grant_type=authorization_code&code=x"))
				if err != nil {
					errc <- err
					return
				}
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := srv.Client().Do(req)
				if err == nil {
					resp.Body.Close()
				}
				errc <- err
			}()
			deadline := time.Now().Add(hangBound)
			for h.emu.FaultHits(endpoint) == 0 {
				if time.Now().After(deadline) {
					t.Fatal("the request never reached the emulator")
				}
				time.Sleep(5 * time.Millisecond)
			}
			cancel()
			select {
			case err := <-errc:
				if !errors.Is(err, context.Canceled) {
					t.Errorf("client err = %v, want context.Canceled", err)
				}
			case <-time.After(hangBound):
				t.Fatal("the client did not give up")
			}
			select {
			case <-returned:
			case <-time.After(hangBound):
				t.Fatal("the handler still waits out the latency after the client left")
			}
		})
	}
}

// TestFaultTimesUnderConcurrency: exactly Times of many simultaneous
// requests get the fault.
func TestFaultTimesUnderConcurrency(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	const n, times = 24, 5
	mustInject(t, h.emu, Fault{Endpoint: PathJWKS, Status: 503, Times: times})
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			resp, _, err := call(context.Background(), h.client, h.issuer, PathJWKS)
			if err != nil {
				t.Error(err)
				statuses <- 0
				return
			}
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[503] != times || count[200] != n-times {
		t.Errorf("statuses %v, want %d × 503 and %d × 200", count, times, n-times)
	}
	if h.emu.FaultHits(PathJWKS) != times || h.emu.Requests(PathJWKS) != n {
		t.Errorf("FaultHits = %d, Requests = %d, want %d and %d", h.emu.FaultHits(PathJWKS), h.emu.Requests(PathJWKS), times, n)
	}
}

// TestFaultsConcurrent changes faults and keys while discovery, JWK Set
// and token requests are in flight (run it with -race). Every answer is
// either the real one or an injected 503, and each token is signed with a
// key the emulator had.
func TestFaultsConcurrent(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	const flows, fetches = 6, 40
	forms := make([]url.Values, flows)
	for i := range forms {
		seed := "concurrent-" + string(rune('a'+i))
		forms[i] = h.tokenForm(h.code(h.authParams(svcLogin, seed)), seed)
	}
	oldKID := h.emu.ownKeys().sigKID
	var newKID string
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range 20 {
			if err := h.emu.InjectFault(Fault{Endpoint: []string{PathJWKS, PathDiscovery}[i%2], Status: 503, Times: 2}); err != nil {
				t.Error(err)
			}
			if i%5 == 4 {
				h.emu.ClearFaults()
			}
		}
	})
	wg.Go(func() {
		kid, err := h.emu.RotateSigningKey(KeepOld)
		if err != nil {
			t.Error(err)
		}
		newKID = kid
	})
	for i := range fetches {
		wg.Go(func() {
			endpoint := []string{PathJWKS, PathDiscovery}[i%2]
			resp, body, err := call(context.Background(), h.client, h.issuer, endpoint)
			switch {
			case err != nil:
				t.Error(err)
			case resp.StatusCode == http.StatusServiceUnavailable && strings.Contains(string(body), "injected fault"):
			case resp.StatusCode != http.StatusOK || !json.Valid(body):
				t.Errorf("%s: %d %.200s", endpoint, resp.StatusCode, body)
			case endpoint == PathJWKS:
				var set jose.JSONWebKeySet
				if err := json.Unmarshal(body, &set); err != nil || len(set.Keys) < 2 || set.Keys[0].Use != "sig" || set.Keys[len(set.Keys)-1].Use != "enc" {
					t.Errorf("JWK Set %v: %.200s", err, body)
				}
			}
		})
	}
	kids := make(chan string, flows)
	for _, form := range forms {
		wg.Go(func() {
			req, err := http.NewRequest(http.MethodPost, h.issuer+PathToken, strings.NewReader(form.Encode()))
			if err != nil {
				t.Error(err)
				return
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := h.client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer func() { _ = resp.Body.Close() }()
			var tr tokenResponse
			if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("token: %d %v", resp.StatusCode, err)
				return
			}
			kids <- innerKID(t, tr.IDToken)
		})
	}
	wg.Wait()
	close(kids)
	for kid := range kids {
		if kid != oldKID && kid != newKID {
			t.Errorf("ID token signed with kid %q, neither the old %q nor the new %q", kid, oldKID, newKID)
		}
	}
	if got, want := h.emu.Requests(""), fetches+flows+2*flows; got != want {
		t.Errorf(`Requests("") = %d, want %d (fetches, token requests, and the authorization and phone page of each flow)`, got, want)
	}
}

// innerKID decrypts a nested JWT with the RP key and returns the kid of
// the inner JWS, without verifying it.
func innerKID(t *testing.T, raw string) string {
	t.Helper()
	jwe, err := jose.ParseEncryptedCompact(raw, []jose.KeyAlgorithm{jose.RSA_OAEP, jose.RSA_OAEP_256}, []jose.ContentEncryption{jose.A128CBC_HS256, jose.A256GCM})
	if err != nil {
		t.Errorf("not a JWE: %v", err)
		return ""
	}
	inner, err := jwe.Decrypt(tk.rpEnc)
	if err != nil {
		t.Errorf("decrypt: %v", err)
		return ""
	}
	jws, err := jose.ParseSignedCompact(string(inner), []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Errorf("inner JWS: %v", err)
		return ""
	}
	return jws.Signatures[0].Header.KeyID
}
