package server

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/audit"
	"github.com/samlbridge/samlbridge/certs"
	"github.com/samlbridge/samlbridge/internal/samltest"
	"github.com/samlbridge/samlbridge/itsme"
	"github.com/samlbridge/samlbridge/metadata"
	"github.com/samlbridge/samlbridge/saml"
	"github.com/samlbridge/samlbridge/session"
	"github.com/samlbridge/samlbridge/session/memory"
)

// hygieneSP is the one SP of the hygiene test bridge.
const hygieneSP = "https://sp.example/"

var (
	hygieneKeyOnce sync.Once
	hygieneKey     *certs.KeyPair
	hygieneKeyErr  error
)

// hygieneUpstream stands in for itsme. Calls are counted; when forbid is
// set, any call fails the test (the request should never have got there).
type hygieneUpstream struct {
	t        *testing.T
	forbid   bool
	authURLs int
	exchange int
	last     itsme.AuthRequest // the last request BeginAuth returned
}

func (u *hygieneUpstream) BeginAuth(_ context.Context, req itsme.AuthRequest) (itsme.AuthRequest, string, error) {
	u.authURLs++
	if u.forbid {
		u.t.Error("BeginAuth called: the request should not have reached itsme")
	}
	var err error
	if req.State, req.Nonce, req.CodeVerifier, err = itsme.NewAuthRequestSecrets(nil); err != nil {
		return req, "", err
	}
	u.last = req
	return req, "https://itsme.example/authorize?request=x", nil
}

func (u *hygieneUpstream) Exchange(context.Context, string, itsme.AuthRequest) (*itsme.Identity, error) {
	u.exchange++
	if u.forbid {
		u.t.Error("Exchange called: the request should not have reached itsme")
	}
	return nil, &itsme.Error{Stage: "token", Code: itsme.CodeUnavailable}
}

// countingStore counts the store's transaction and replay calls.
type countingStore struct {
	session.Store
	calls int
}

func (c *countingStore) Put(ctx context.Context, tx session.Transaction) error {
	c.calls++
	return c.Store.Put(ctx, tx)
}

func (c *countingStore) Get(ctx context.Context, state string, now time.Time) (session.Transaction, error) {
	c.calls++
	return c.Store.Get(ctx, state, now)
}

func (c *countingStore) Take(ctx context.Context, state string, now time.Time) (session.Transaction, error) {
	c.calls++
	return c.Store.Take(ctx, state, now)
}

func (c *countingStore) MarkSeen(ctx context.Context, key string, now, deadline time.Time) error {
	c.calls++
	return c.Store.MarkSeen(ctx, key, now, deadline)
}

// auditLog keeps the audit events.
type auditLog struct{ events []audit.Event }

func (a *auditLog) Record(_ context.Context, e audit.Event) { a.events = append(a.events, e) }

// hygieneBridge is a Server built from real parts, with a settable clock.
type hygieneBridge struct {
	srv   *Server
	now   time.Time
	up    *hygieneUpstream
	store *countingStore
	audit *auditLog
	logs  *bytes.Buffer
}

func newHygieneBridge(t *testing.T, externalURL string, mutate func(*Config)) *hygieneBridge {
	t.Helper()
	hygieneKeyOnce.Do(func() {
		hygieneKey, hygieneKeyErr = certs.Generate(nil, 2048, "hygiene test IdP (TEST KEY)", time.Now(), time.Hour)
	})
	if hygieneKeyErr != nil {
		t.Fatal(hygieneKeyErr)
	}
	acs := crewjam.IndexedEndpoint{Binding: crewjam.HTTPPostBinding, Location: "https://sp.example/acs", Index: 0}
	reg, err := metadata.NewStaticRegistry(&metadata.ServiceProvider{EntityID: hygieneSP, ACS: []crewjam.IndexedEndpoint{acs}, DefaultACS: acs})
	if err != nil {
		t.Fatal(err)
	}
	b := &hygieneBridge{
		now:   time.Now().UTC().Truncate(time.Second),
		up:    &hygieneUpstream{t: t},
		store: &countingStore{Store: memory.New(0)},
		audit: &auditLog{},
		logs:  &bytes.Buffer{},
	}
	now := func() time.Time { return b.now }
	cfg := Config{
		ExternalURL:    externalURL,
		Registry:       reg,
		Parser:         &saml.RequestParser{Registry: reg, SSOURL: externalURL + PathSSO, Now: now},
		IDP:            &saml.IDP{EntityID: externalURL + PathMetadata, Signer: &saml.Signer{Key: hygieneKey.Key, Certs: []*x509.Certificate{hygieneKey.Cert}}, Now: now},
		IDPMetadata:    []byte(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>`),
		Upstream:       b.up,
		Store:          b.store,
		PairwiseSecret: bytes.Repeat([]byte{7}, 32),
		Audit:          b.audit,
		Now:            now,
		Logger:         slog.New(slog.NewTextHandler(b.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	b.srv, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// do sends one request from remoteAddr with the given X-Forwarded-For
// values.
func (b *hygieneBridge) do(method, target, remoteAddr string, xff ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	r.RemoteAddr = remoteAddr
	for _, v := range xff {
		r.Header.Add("X-Forwarded-For", v)
	}
	rec := httptest.NewRecorder()
	b.srv.ServeHTTP(rec, r)
	return rec
}

// ssoRequest is the path and Redirect-binding query of a valid, unsigned
// AuthnRequest. A passive one is answered at once with a SAML error on
// the auto-POST page, without calling itsme; another one is sent on to
// itsme.
func ssoRequest(t *testing.T, externalURL string, now time.Time, id string, passive bool) string {
	t.Helper()
	attr := ""
	if passive {
		attr = ` IsPassive="true"`
	}
	xml := fmt.Sprintf(`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="%s" Version="2.0" IssueInstant="%s" Destination="%s"%s><saml:Issuer>%s</saml:Issuer></samlp:AuthnRequest>`,
		id, now.Format(time.RFC3339), externalURL+PathSSO, attr, hygieneSP)
	q, err := samltest.RedirectQuery([]byte(xml), "", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	return PathSSO + "?" + q
}

// TestRateLimitThroughHandler drives the real handler: a client over the
// limit gets 429 with Retry-After and the bridge's error page, touches
// neither the store nor itsme, is audited and logged without its address;
// other clients are unaffected; the clock frees it again.
func TestRateLimitThroughHandler(t *testing.T) {
	const ext = "https://idp.example"
	b := newHygieneBridge(t, ext, func(c *Config) { c.RateLimit = RateLimit{PerMinute: 6, Burst: 3} }) // one per 10 s
	b.up.forbid = true
	const client = "192.0.2.44:51000"
	// A callback with some state reads the store (Get) and fails with
	// 400: the store call count shows whether the handler ran.
	callback := PathCallback + "?state=unknown-state&code=c"
	for i := range 3 {
		if rec := b.do(http.MethodGet, callback, client); rec.Code != http.StatusBadRequest {
			t.Fatalf("request %d: status %d, want 400 from the handler", i+1, rec.Code)
		}
	}
	if b.store.calls != 3 {
		t.Fatalf("%d store calls for 3 callbacks, want 3", b.store.calls)
	}
	events := len(b.audit.events)

	rec := b.do(http.MethodGet, callback, client)
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("4th request: status %d, want 429", rec.Code)
	}
	if got := rec.Header().Get("Retry-After"); got != "10" {
		t.Errorf("Retry-After %q, want 10", got)
	}
	if body := rec.Body.String(); !strings.Contains(body, "Too many login attempts from your network. Wait a minute and try again.") ||
		!strings.Contains(body, "We could not log you in") || !strings.Contains(body, `data-code="rate_limited"`) {
		t.Errorf("429 body is not the bridge's error page with the rate-limit message:\n%s", body)
	}
	if got := rec.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("429 Cache-Control %q", got)
	}
	if b.store.calls != 3 {
		t.Errorf("the limited request reached the store (%d calls)", b.store.calls)
	}
	if len(b.audit.events) != events+1 {
		t.Fatalf("%d audit events for the limited request, want 1", len(b.audit.events)-events)
	}
	if e := b.audit.events[events]; e.Stage != audit.StageCallback || e.Outcome != audit.Rejected || e.Reason != reasonRateLimited {
		t.Errorf("audit event %+v, want callback/rejected/%s", e, reasonRateLimited)
	}
	logs := b.logs.String()
	if !strings.Contains(logs, "client over the rate limit") {
		t.Errorf("no warning logged:\n%s", logs)
	}
	if strings.Contains(logs, "192.0.2.44") {
		t.Errorf("the client's address is in the logs:\n%s", logs)
	}

	// The SSO endpoint shares the client's bucket; nothing reaches itsme.
	if rec := b.do(http.MethodGet, ssoRequest(t, ext, b.now, "_sso1", true), client); rec.Code != http.StatusTooManyRequests {
		t.Errorf("SSO over the limit: status %d, want 429", rec.Code)
	}
	if e := b.audit.events[len(b.audit.events)-1]; e.Stage != audit.StageSSO || e.Reason != reasonRateLimited {
		t.Errorf("audit event %+v, want sso/%s", e, reasonRateLimited)
	}
	// Public documents are not limited.
	for _, p := range []string{PathMetadata, PathJWKS, PathHealthz} {
		if rec := b.do(http.MethodGet, p, client); rec.Code != http.StatusOK {
			t.Errorf("%s: status %d for a limited client, want 200", p, rec.Code)
		}
	}
	// Another client is unaffected, and reaches the handler.
	if rec := b.do(http.MethodGet, ssoRequest(t, ext, b.now, "_sso2", true), "198.51.100.7:40000"); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "SAMLResponse") {
		t.Errorf("another client: status %d, want 200 with the auto-POST page", rec.Code)
	}

	// Half the wait is not enough; the whole wait is.
	b.now = b.now.Add(5 * time.Second)
	if rec := b.do(http.MethodGet, callback, client); rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "5" {
		t.Errorf("after 5 s: status %d, Retry-After %q; want 429, 5", rec.Code, rec.Header().Get("Retry-After"))
	}
	b.now = b.now.Add(5 * time.Second)
	if rec := b.do(http.MethodGet, callback, client); rec.Code != http.StatusBadRequest {
		t.Errorf("after 10 s: status %d, want 400 from the handler", rec.Code)
	}
	if rec := b.do(http.MethodGet, callback, client); rec.Code != http.StatusTooManyRequests {
		t.Errorf("second request after 10 s: status %d, want 429", rec.Code)
	}
	if b.up.authURLs != 0 || b.up.exchange != 0 {
		t.Errorf("itsme was called (%d, %d)", b.up.authURLs, b.up.exchange)
	}
}

// TestRateLimitForwardedFor checks whose address is limited (SES-10):
// X-Forwarded-For from an untrusted peer is ignored; from a trusted proxy
// its right-most untrusted entry is the client.
func TestRateLimitForwardedFor(t *testing.T) {
	b := newHygieneBridge(t, "https://idp.example", func(c *Config) {
		c.RateLimit = RateLimit{PerMinute: 1, Burst: 1}
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	})
	b.up.forbid = true
	cb := PathCallback + "?state=s"
	steps := []struct {
		name   string
		remote string
		xff    []string
		want   int
	}{
		{"attacker's first request", "192.0.2.1:1000", nil, http.StatusBadRequest},
		{"attacker is limited", "192.0.2.1:1001", nil, http.StatusTooManyRequests},
		{"spoofed X-Forwarded-For from an untrusted peer changes nothing", "192.0.2.1:1002", []string{"203.0.113.50"}, http.StatusTooManyRequests},
		{"spoofed header listing a trusted address changes nothing", "192.0.2.1:1003", []string{"10.1.2.3"}, http.StatusTooManyRequests},
		{"via the proxy, the attacker is the same client", "10.0.0.5:2000", []string{"192.0.2.1"}, http.StatusTooManyRequests},
		{"a forged left-most entry is ignored", "10.0.0.5:2001", []string{"203.0.113.60, 192.0.2.1"}, http.StatusTooManyRequests},
		{"trusted hops are skipped", "10.0.0.5:2002", []string{"192.0.2.1, 10.9.9.9"}, http.StatusTooManyRequests},
		{"across header lines", "10.0.0.5:2003", []string{"192.0.2.1", "10.9.9.9"}, http.StatusTooManyRequests},
		{"another client via the proxy", "10.0.0.5:2004", []string{"192.0.2.1, 203.0.113.7"}, http.StatusBadRequest},
		{"that client is now limited", "10.0.0.5:2005", []string{"203.0.113.7"}, http.StatusTooManyRequests},
		{"proxy with no header is its own client", "10.0.0.5:2006", nil, http.StatusBadRequest},
		{"IPv6 client", "[2001:db8:1:2::1]:443", nil, http.StatusBadRequest},
		{"same /64 is the same client", "[2001:db8:1:2:ffff::9]:443", nil, http.StatusTooManyRequests},
		{"another /64 is another client", "[2001:db8:1:3::1]:443", nil, http.StatusBadRequest},
		{"IPv4-mapped address is the IPv4 client", "[::ffff:192.0.2.1]:1004", nil, http.StatusTooManyRequests},
		{"IPv6 proxy forwarding a port-qualified entry", "[fd00::1]:80", []string{"[2001:db8:1:2::77]:5555"}, http.StatusTooManyRequests},
	}
	for _, s := range steps {
		if rec := b.do(http.MethodGet, cb, s.remote, s.xff...); rec.Code != s.want {
			t.Errorf("%s: status %d, want %d", s.name, rec.Code, s.want)
		}
	}
}

func TestClientAddr(t *testing.T) {
	c := &clientLimiter{trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ff::/48")}}
	tests := []struct {
		name   string
		remote string
		xff    []string
		want   string // "" means the zero Addr
	}{
		{"plain peer", "192.0.2.1:443", nil, "192.0.2.1"},
		{"peer without port", "192.0.2.1", nil, "192.0.2.1"},
		{"unparseable peer", "@", nil, ""},
		{"untrusted peer's header ignored", "192.0.2.1:443", []string{"198.51.100.1"}, "192.0.2.1"},
		{"trusted peer, one hop", "10.0.0.1:443", []string{"198.51.100.1"}, "198.51.100.1"},
		{"right-most untrusted wins", "10.0.0.1:443", []string{"1.1.1.1, 198.51.100.1, 10.0.0.2"}, "198.51.100.1"},
		{"spaces and ports", "10.0.0.1:443", []string{" 198.51.100.1:8080 ,10.0.0.2 "}, "198.51.100.1"},
		{"all hops trusted: left-most", "10.0.0.1:443", []string{"10.0.0.3, 10.0.0.2"}, "10.0.0.3"},
		{"garbage stops at the last trusted hop", "10.0.0.1:443", []string{"198.51.100.1, unknown, 10.0.0.2"}, "10.0.0.2"},
		{"garbage right away: the proxy", "10.0.0.1:443", []string{"nonsense"}, "10.0.0.1"},
		{"empty header: the proxy", "10.0.0.1:443", []string{""}, "10.0.0.1"},
		{"IPv6 trusted proxy", "[2001:db8:ff:1::1]:443", []string{"2001:db8:1::5"}, "2001:db8:1::5"},
		{"zone dropped", "[fe80::1%eth0]:443", nil, "fe80::1"},
		{"mapped IPv4 unmapped", "10.0.0.1:443", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
		{"mapped trusted proxy", "[::ffff:10.0.0.1]:443", []string{"198.51.100.1"}, "198.51.100.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tc.remote
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			got := c.clientAddr(r)
			if (tc.want == "" && got.IsValid()) || (tc.want != "" && got.String() != tc.want) {
				t.Errorf("got %v, want %q", got, tc.want)
			}
		})
	}
}

func TestClientKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":            "192.0.2.1",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"":                     "unknown",
	} {
		var a netip.Addr
		if in != "" {
			a = netip.MustParseAddr(in)
		}
		if got := clientKey(a); got != want {
			t.Errorf("clientKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "1", time.Nanosecond: "1", time.Second: "1", time.Second + time.Millisecond: "2", 90 * time.Second: "90",
	} {
		if got := retryAfterSeconds(d); got != want {
			t.Errorf("retryAfterSeconds(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestRateLimitConfig checks the zero value, Disabled, and bad values.
func TestRateLimitConfig(t *testing.T) {
	t.Run("zero value is the default limit", func(t *testing.T) {
		b := newHygieneBridge(t, "https://idp.example", nil)
		for i := range DefaultRateBurst {
			if rec := b.do(http.MethodGet, PathCallback, "192.0.2.9:1"); rec.Code != http.StatusBadRequest {
				t.Fatalf("request %d: status %d", i+1, rec.Code)
			}
		}
		rec := b.do(http.MethodGet, PathCallback, "192.0.2.9:1")
		if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != fmt.Sprint(60/DefaultRatePerMinute) {
			t.Errorf("request %d: status %d, Retry-After %q", DefaultRateBurst+1, rec.Code, rec.Header().Get("Retry-After"))
		}
	})
	t.Run("disabled", func(t *testing.T) {
		b := newHygieneBridge(t, "https://idp.example", func(c *Config) { c.RateLimit = RateLimit{PerMinute: 1, Burst: 1, Disabled: true} })
		for i := range 50 {
			if rec := b.do(http.MethodGet, PathCallback, "192.0.2.9:1"); rec.Code != http.StatusBadRequest {
				t.Fatalf("request %d: status %d with the limit disabled", i+1, rec.Code)
			}
		}
	})
	t.Run("invalid", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			cfg  func(*Config)
			want string
		}{
			{"negative rate", func(c *Config) { c.RateLimit.PerMinute = -1 }, "must not be negative"},
			{"negative burst", func(c *Config) { c.RateLimit.Burst = -5 }, "must not be negative"},
			{"invalid trusted proxy", func(c *Config) { c.TrustedProxies = []netip.Prefix{{}} }, "trusted proxy #1 is not a valid prefix"},
			{"everyone trusted", func(c *Config) {
				c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::/0")}
			}, "trusted proxy #2 (::/0) trusts every address"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				cfg := Config{ExternalURL: "https://idp.example", PairwiseSecret: make([]byte, 32)}
				tc.cfg(&cfg)
				if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("New: %v, want an error containing %q", err, tc.want)
				}
			})
		}
	})
}

// TestRateLimitWarningsAreBounded checks that a flood of limited requests
// does not become a flood of log lines.
func TestRateLimitWarningsAreBounded(t *testing.T) {
	b := newHygieneBridge(t, "https://idp.example", func(c *Config) { c.RateLimit = RateLimit{PerMinute: 1, Burst: 1} })
	for range 200 {
		b.do(http.MethodGet, PathCallback, "192.0.2.10:1")
	}
	if n := strings.Count(b.logs.String(), "client over the rate limit"); n < 1 || n > 10 {
		t.Errorf("%d warnings for 199 limited requests at one instant, want 1–10", n)
	}
	b.now = b.now.Add(time.Second)
	b.do(http.MethodGet, PathCallback, "192.0.2.10:1")
	if !strings.Contains(b.logs.String(), "unlogged_before=189") {
		t.Errorf("the next warning does not count the unlogged ones:\n%s", b.logs.String())
	}
}

// panickingStore panics on every transaction read.
type panickingStore struct{ session.Store }

func (panickingStore) Get(context.Context, string, time.Time) (session.Transaction, error) {
	panic("test: the store panicked")
}

// TestPanicRecovered: a panic while handling a request is answered with
// the internal-error page, not a dropped connection, and logged with its
// value and the stack of where it happened.
func TestPanicRecovered(t *testing.T) {
	b := newHygieneBridge(t, "https://idp.example", func(c *Config) { c.Store = panickingStore{c.Store} })
	rec := b.do(http.MethodGet, PathCallback+"?state=some-state&code=c", "192.0.2.1:4000")
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), `data-code="`+codeInternal+`"`) {
		t.Fatalf("status %d, want 500 with the internal-error page:\n%.400s", rec.Code, rec.Body.String())
	}
	logs := b.logs.String()
	for _, want := range []string{"panic while handling request", "test: the store panicked", "panickingStore.Get", "handleCallback"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %q:\n%s", want, logs)
		}
	}
	// The attempt is audited (and so counted) as ended by an internal
	// error; a panic elsewhere is not a login attempt.
	if n := len(b.audit.events); n != 1 || b.audit.events[0].Stage != audit.StageCallback ||
		b.audit.events[0].Outcome != audit.Rejected || b.audit.events[0].Reason != reasonInternal {
		t.Errorf("audit events %+v; want one rejected callback with reason %s", b.audit.events, reasonInternal)
	}
}

// panicAfterRecord keeps each event, and panics after the first.
type panicAfterRecord struct {
	log      *auditLog
	panicked bool
}

func (p *panicAfterRecord) Record(ctx context.Context, e audit.Event) {
	p.log.Record(ctx, e)
	if !p.panicked {
		p.panicked = true
		panic("test: panic after the audit event")
	}
}

// TestPanicAfterAuditEvent: a request that had recorded its audit event
// before panicking gets no second one.
func TestPanicAfterAuditEvent(t *testing.T) {
	b := newHygieneBridge(t, "https://idp.example", nil)
	b.srv.cfg.Audit = &panicAfterRecord{log: b.audit}
	rec := b.do(http.MethodGet, PathCallback+"?state=unknown-state&code=c", "192.0.2.1:4000")
	if rec.Code != http.StatusBadRequest && rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d", rec.Code)
	}
	if n := len(b.audit.events); n != 1 || b.audit.events[0].Reason != reasonUnknownState {
		t.Errorf("audit events %+v; want only the unknown_state one", b.audit.events)
	}
}
