package server

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/samlbridge/samlbridge/itsme"
	"github.com/samlbridge/samlbridge/metrics"
	"github.com/samlbridge/samlbridge/session"
)

// TestRequestAndFlowIDsInLogs: every log line of a request carries its
// http_request_id, echoed as X-Request-Id; a login's lines carry a
// flow_id; neither the flow cookie nor the state appears in the log.
func TestRequestAndFlowIDsInLogs(t *testing.T) {
	const ext = "https://idp.example"
	b := newHygieneBridge(t, ext, nil)
	rec := b.do(http.MethodGet, ssoRequest(t, ext, b.now, "id-flow-1", false), "192.0.2.1:1234")
	if rec.Code != http.StatusFound {
		t.Fatalf("status %d", rec.Code)
	}
	id := rec.Header().Get("X-Request-Id")
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-z]+$`).MatchString(id) {
		t.Fatalf("X-Request-Id %q", id)
	}
	logs := b.logs.String()
	started := ""
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "login started") {
			started = line
		}
	}
	if !strings.Contains(started, "http_request_id="+id) || !regexp.MustCompile(`flow_id=[A-Za-z0-9_-]{12}(\s|$)`).MatchString(started) {
		t.Errorf("the login line lacks the request or flow ID: %s", started)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) == 0 {
		t.Fatal("no flow cookie")
	}
	for _, c := range cookies {
		if len(c.Value) < 16 || strings.Contains(logs, c.Value) {
			t.Errorf("cookie %s (value %d bytes) leaked into the log", c.Name, len(c.Value))
		}
	}
	if next := b.do(http.MethodGet, "/healthz", "192.0.2.1:1234").Header().Get("X-Request-Id"); next == id || next == "" {
		t.Errorf("second request ID %q after %q", next, id)
	}
}

// TestProxyRequestID: a trusted proxy's X-Request-Id is logged beside the
// bridge's own; a client's, a malformed one and a repeated one are not;
// the bridge always answers with its own ID.
func TestProxyRequestID(t *testing.T) {
	const ext = "https://idp.example"
	long := strings.Repeat("a", maxProxyRequestID+1)
	tests := []struct {
		name, peer string
		ids        []string
		logged     string // "" means no proxy_request_id
	}{
		{"trusted proxy", "10.1.2.3:4000", []string{"7f3c9e0a-2b4d-4e6f-8a1b-3c5d7e9f0a2b"}, "7f3c9e0a-2b4d-4e6f-8a1b-3c5d7e9f0a2b"},
		{"trusted proxy over IPv6", "[2001:db8::7]:443", []string{"nginx:0af7651916cd43dd"}, "nginx:0af7651916cd43dd"},
		{"client", "192.0.2.9:4000", []string{"chosen-by-the-client"}, ""},
		{"line break", "10.1.2.3:4000", []string{"abc\nlevel=ERROR msg=forged"}, ""},
		{"quote and space", "10.1.2.3:4000", []string{`a" b`}, ""},
		{"too long", "10.1.2.3:4000", []string{long}, ""},
		{"two of them", "10.1.2.3:4000", []string{"one", "two"}, ""},
		{"none", "10.1.2.3:4000", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newHygieneBridge(t, ext, func(c *Config) {
				c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}
			})
			r := httptest.NewRequest(http.MethodGet, ssoRequest(t, ext, b.now, "id-proxy", false), nil)
			r.RemoteAddr = tt.peer
			for _, v := range tt.ids {
				r.Header.Add("X-Request-Id", v)
			}
			rec := httptest.NewRecorder()
			b.srv.ServeHTTP(rec, r)
			own := rec.Header().Get("X-Request-Id")
			if own == "" || slices.Contains(tt.ids, own) {
				t.Errorf("answered with X-Request-Id %q, want the bridge's own", own)
			}
			logs := b.logs.String()
			if !strings.Contains(logs, "http_request_id="+own) {
				t.Errorf("the log lacks the bridge's own ID:\n%s", logs)
			}
			switch {
			case tt.logged != "" && !strings.Contains(logs, "proxy_request_id="+tt.logged):
				t.Errorf("the log lacks proxy_request_id=%s:\n%s", tt.logged, logs)
			case tt.logged == "" && strings.Contains(logs, "proxy_request_id"):
				t.Errorf("proxy_request_id logged although it must not be:\n%s", logs)
			}
		})
	}
}

// TestFlowIDIsAStableHash: the same state gives the same flow ID on every
// node, and the ID does not contain the state.
func TestFlowIDIsAStableHash(t *testing.T) {
	a, b := flowID("state-A"), flowID("state-B")
	if a != flowID("state-A") || a == b || strings.Contains(a, "state") || len(a) != 12 {
		t.Errorf("flowID: %q %q", a, b)
	}
}

type pingStore struct {
	session.Store
	err error
}

func (p pingStore) Ping(context.Context) error { return p.err }

type healthUpstream struct {
	hygieneUpstream
	h   itsme.Health
	err error
}

func (u *healthUpstream) Health(context.Context) (itsme.Health, error) { return u.h, u.err }

func TestReadyz(t *testing.T) {
	const ext = "https://idp.example"
	fresh := func(b *hygieneBridge) itsme.Health {
		return itsme.Health{DiscoveryFetched: b.now.Add(-time.Minute), JWKSFetched: b.now.Add(-time.Minute), Breaker: "closed"}
	}
	tests := []struct {
		name       string
		store      error
		health     func(b *hygieneBridge) itsme.Health
		healthErr  error
		clock      time.Duration // moves the bridge's clock (certificate validity)
		wantStatus int
		wantFailed string
		wantDetail string
	}{
		{name: "all good", health: fresh, wantStatus: 200},
		{name: "store down", store: errors.New("dial tcp 10.1.2.3:6379: connection refused"), health: fresh,
			wantStatus: 503, wantFailed: "store", wantDetail: "the session store does not answer"},
		{name: "itsme never reached", health: func(*hygieneBridge) itsme.Health { return itsme.Health{Breaker: "open"} },
			healthErr: errors.New("itsme: discovery: temporary_unavailable"), wantStatus: 503, wantFailed: "itsme",
			wantDetail: "could not be fetched"},
		{name: "itsme keys stale", health: func(b *hygieneBridge) itsme.Health {
			return itsme.Health{DiscoveryFetched: b.now.Add(-time.Minute), JWKSFetched: b.now.Add(-3 * time.Hour), Breaker: "open"}
		}, healthErr: errors.New("refresh failed"), wantStatus: 503, wantFailed: "itsme", wantDetail: "stale (fetched 3h0m0s ago)"},
		{name: "circuit open but keys fresh", health: func(b *hygieneBridge) itsme.Health {
			h := fresh(b)
			h.Breaker = "open"
			return h
		}, wantStatus: 200, wantDetail: "circuit open"},
		{name: "signing certificate expired", health: fresh, clock: 2 * time.Hour,
			wantStatus: 503, wantFailed: "signing_key", wantDetail: "the SAML signing certificate expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var up *healthUpstream
			b := newHygieneBridge(t, ext, func(c *Config) {
				c.Store = pingStore{Store: c.Store, err: tt.store}
				up = &healthUpstream{hygieneUpstream: hygieneUpstream{t: t}}
				c.Upstream = up
			})
			b.now = b.now.Add(tt.clock)
			up.h, up.err = tt.health(b), tt.healthErr
			rec := b.do(http.MethodGet, PathReadyz, "192.0.2.1:1")
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
			var body struct {
				Ready  bool
				Checks []readyCheck
			}
			raw, _ := io.ReadAll(rec.Body)
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatal(err)
			}
			if body.Ready != (tt.wantStatus == 200) || len(body.Checks) != 3 {
				t.Fatalf("body %s", raw)
			}
			for _, c := range body.Checks {
				if c.OK == (c.Name == tt.wantFailed) {
					t.Errorf("check %s ok=%v (want failed: %q)", c.Name, c.OK, tt.wantFailed)
				}
			}
			if !strings.Contains(string(raw), tt.wantDetail) {
				t.Errorf("body %s lacks %q", raw, tt.wantDetail)
			}
			if strings.Contains(string(raw), "10.1.2.3") {
				t.Error("the store's address leaked into /readyz")
			}
		})
	}
}

// TestMetricsCountFlows drives the real handler with metrics on: a login
// sent to itsme, a passive one answered NoPassive, and a refused one.
func TestMetricsCountFlows(t *testing.T) {
	const ext = "https://idp.example"
	m := metrics.New()
	b := newHygieneBridge(t, ext, func(c *Config) { c.Metrics = m })
	if rec := b.do(http.MethodGet, ssoRequest(t, ext, b.now, "id-m-1", false), "192.0.2.1:1"); rec.Code != http.StatusFound {
		t.Fatalf("status %d", rec.Code)
	}
	if rec := b.do(http.MethodGet, ssoRequest(t, ext, b.now, "id-m-2", true), "192.0.2.1:1"); rec.Code != http.StatusOK {
		t.Fatalf("passive: status %d", rec.Code)
	}
	if rec := b.do(http.MethodGet, PathSSO+"?SAMLRequest=%%%", "192.0.2.1:1"); rec.Code != http.StatusBadRequest {
		t.Fatalf("garbage: status %d", rec.Code)
	}
	if len(b.audit.events) != 2 {
		t.Fatalf("audit events %d, want 2 (the audit sink is still fed)", len(b.audit.events))
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	text := rec.Body.String()
	for _, want := range []string{
		`samlbridge_flows_started_total{sp="https://sp.example/"} 1`,
		`samlbridge_flows_total{outcome="failure",reason="Responder/NoPassive",sp="https://sp.example/",stage="sso"} 1`,
		`samlbridge_http_requests_total{code="302",route="sso"} 1`,
		`samlbridge_http_requests_total{code="400",route="sso"} 1`,
		`samlbridge_store_operation_duration_seconds_count{op="put",outcome="ok"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if !regexp.MustCompile(`samlbridge_flows_total\{outcome="rejected",reason="[a-z_]+",sp="-",stage="sso"\} 1`).MatchString(text) {
		t.Errorf("the refused request is not counted:\n%s", grepLines(text, "samlbridge_flows_total"))
	}
}

func grepLines(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
