package remote

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samlbridge/samlbridge/metadata"
	"github.com/samlbridge/samlbridge/metadata/remote/remotetest"
)

// mdqResponder answers MDQ queries from a map of entity ID to document;
// unknown entities get a 404. It records the raw request paths.
type mdqResponder struct {
	t *testing.T
	*mdServer

	mu    sync.Mutex
	docs  map[string][]byte
	paths []string
}

func newMDQResponder(t *testing.T) *mdqResponder {
	r := &mdqResponder{t: t, mdServer: newMDServer(t), docs: map[string][]byte{}}
	r.handle(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.paths = append(r.paths, req.URL.EscapedPath())
		r.mu.Unlock()
		if req.Header.Get("Accept") != "application/samlmetadata+xml" {
			http.Error(w, "bad Accept", http.StatusNotAcceptable)
			return
		}
		enc, ok := strings.CutPrefix(req.URL.EscapedPath(), "/mdq/entities/")
		if !ok {
			http.NotFound(w, req)
			return
		}
		id, err := url.PathUnescape(enc)
		if err != nil {
			http.Error(w, "bad path", http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		doc, ok := r.docs[id]
		r.mu.Unlock()
		if !ok {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", mediaType)
		_, _ = w.Write(doc)
	})
	return r
}

func (r *mdqResponder) set(id string, doc []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.docs[id] = doc
}

func newTestMDQ(t *testing.T, r *mdqResponder, clk *clock, mutate func(*MDQConfig)) *MDQ {
	t.Helper()
	log, _ := testLogger()
	cfg := MDQConfig{BaseURL: r.URL + "/mdq/", Trust: pinned(t), Logger: log, Now: clk.Now}
	if mutate != nil {
		mutate(&cfg)
	}
	m, err := NewMDQ(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func signedEntity(t *testing.T, o docOpts, n int) []byte {
	return sign(t, single(t, o, spID(n), acsURL(n)), "fed", remotetest.Options{})
}

func TestMDQHitAndCache(t *testing.T) {
	t.Parallel()
	clk := newClock()
	r := newMDQResponder(t)
	r.set(spID(1), signedEntity(t, docOpts{}, 1))
	m := newTestMDQ(t, r, clk, nil)
	for i := range 3 {
		sp, err := m.ServiceProvider(context.Background(), spID(1))
		if err != nil {
			t.Fatalf("lookup %d: %v", i, err)
		}
		if sp.EntityID != spID(1) || sp.DefaultACS.Location != acsURL(1) {
			t.Fatalf("lookup %d: got %s at %s", i, sp.EntityID, sp.DefaultACS.Location)
		}
	}
	if n := r.hits.Load(); n != 1 {
		t.Errorf("%d requests for 3 lookups, want 1 (cached)", n)
	}
	if want := "/mdq/entities/https%3A%2F%2Fsp1.example.org%2Fsaml"; len(r.paths) != 1 || r.paths[0] != want {
		t.Errorf("request paths %q, want [%q]", r.paths, want)
	}
	if got := ids(m.List()); got != spID(1)+"="+acsURL(1) {
		t.Errorf("List() = %q", got)
	}
}

func TestMDQNotFoundIsCachedBriefly(t *testing.T) {
	t.Parallel()
	clk := newClock()
	r := newMDQResponder(t)
	m := newTestMDQ(t, r, clk, func(c *MDQConfig) { c.NegativeTTL = 30 * time.Second })
	lookup := func() error {
		_, err := m.ServiceProvider(context.Background(), spID(7))
		return err
	}
	if err := lookup(); !errors.Is(err, metadata.ErrUnknownServiceProvider) {
		t.Fatalf("err = %v, want ErrUnknownServiceProvider", err)
	}
	clk.Advance(29 * time.Second)
	if err := lookup(); !errors.Is(err, metadata.ErrUnknownServiceProvider) {
		t.Fatalf("cached: err = %v", err)
	}
	if n := r.hits.Load(); n != 1 {
		t.Fatalf("%d requests within the negative TTL, want 1", n)
	}
	r.set(spID(7), signedEntity(t, docOpts{}, 7))
	clk.Advance(2 * time.Second)
	if err := lookup(); err != nil {
		t.Fatalf("after the negative TTL the new entity is not found: %v", err)
	}
	if n := r.hits.Load(); n != 2 {
		t.Fatalf("%d requests, want 2", n)
	}
}

func TestMDQRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  func(t *testing.T) []byte
		want string
	}{
		{"another entity than the one asked for", func(t *testing.T) []byte {
			return sign(t, single(t, docOpts{}, spID(2), acsURL(2)), "fed", remotetest.Options{})
		}, "not exactly"},
		{"an aggregate with the entity and another", func(t *testing.T) []byte {
			return sign(t, aggregate(docOpts{}, entity(t, spID(1), acsURL(1)), entity(t, spID(2), acsURL(2))), "fed", remotetest.Options{})
		}, "2 entities"},
		{"unsigned", func(t *testing.T) []byte { return single(t, docOpts{}, spID(1), acsURL(1)) }, "ds:Signature"},
		{"wrong key", func(t *testing.T) []byte {
			return sign(t, single(t, docOpts{}, spID(1), acsURL(1)), "other", remotetest.Options{})
		}, "does not verify"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			r := newMDQResponder(t)
			r.set(spID(1), tt.doc(t))
			m := newTestMDQ(t, r, clk, nil)
			sp, err := m.ServiceProvider(context.Background(), spID(1))
			if err == nil {
				t.Fatalf("accepted %s", sp.EntityID)
			}
			if errors.Is(err, metadata.ErrUnknownServiceProvider) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want a registry failure mentioning %q", err, tt.want)
			}
			if len(m.List()) != 0 {
				t.Error("a refused answer was cached")
			}
		})
	}
}

func TestMDQSingleFlight(t *testing.T) {
	t.Parallel()
	const callers = 8
	clk := newClock()
	r := newMDQResponder(t)
	doc := signedEntity(t, docOpts{}, 1)
	release := make(chan struct{})
	arrived := make(chan struct{}, callers)
	r.handle(func(w http.ResponseWriter, _ *http.Request) {
		arrived <- struct{}{}
		<-release
		_, _ = w.Write(doc)
	})
	m := newTestMDQ(t, r, clk, nil)
	joined := make(chan struct{}, callers)
	m.joined = func() { joined <- struct{}{} }

	var wg sync.WaitGroup
	results := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			sp, err := m.ServiceProvider(context.Background(), spID(1))
			if err == nil && sp.EntityID != spID(1) {
				err = errors.New("wrong entity " + sp.EntityID)
			}
			results <- err
		})
	}
	<-arrived
	// Every other caller must join the query in flight; a second request
	// reaching the responder instead fails the test at once.
	for range callers - 1 {
		select {
		case <-joined:
		case <-arrived:
			t.Error("a second request was sent while the first was in flight")
		}
	}
	close(release)
	wg.Wait()
	close(results)
	for err := range results {
		if err != nil {
			t.Error(err)
		}
	}
	if n := r.hits.Load(); n != 1 {
		t.Fatalf("%d requests for %d concurrent lookups, want 1", n, callers)
	}
}

func TestMDQTTL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		opts       docOpts
		cfg        func(*MDQConfig)
		fresh      time.Duration // still cached after this long
		stale      time.Duration // refetched after this long
		goneAfter  bool          // unknown after stale, with the responder down
		errAtStale bool
	}{
		{"cacheDuration", docOpts{cacheDuration: "PT10M"}, nil, 9 * time.Minute, 11 * time.Minute, false, false},
		{"no cacheDuration: TTL", docOpts{}, func(c *MDQConfig) { c.TTL = 20 * time.Minute }, 19 * time.Minute, 21 * time.Minute, false, false},
		{"cacheDuration capped by MaxTTL", docOpts{cacheDuration: "P7D"}, func(c *MDQConfig) { c.MaxTTL = 2 * time.Hour }, 119 * time.Minute, 121 * time.Minute, false, false},
		{"cacheDuration raised to MinTTL", docOpts{cacheDuration: "PT1S"}, func(c *MDQConfig) { c.MinTTL = 5 * time.Minute }, 4 * time.Minute, 6 * time.Minute, false, false},
		{"validUntil before the TTL", docOpts{validUntil: t0.Add(30 * time.Minute)}, nil, 29 * time.Minute, 31 * time.Minute, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			r := newMDQResponder(t)
			r.set(spID(1), signedEntity(t, tt.opts, 1))
			m := newTestMDQ(t, r, clk, tt.cfg)
			ctx := context.Background()
			if _, err := m.ServiceProvider(ctx, spID(1)); err != nil {
				t.Fatal(err)
			}
			clk.Advance(tt.fresh)
			if _, err := m.ServiceProvider(ctx, spID(1)); err != nil {
				t.Fatal(err)
			}
			if n := r.hits.Load(); n != 1 {
				t.Fatalf("refetched after %s (%d requests)", tt.fresh, n)
			}
			if tt.goneAfter {
				r.set(spID(1), []byte("garbage"))
			}
			clk.Advance(tt.stale - tt.fresh)
			_, err := m.ServiceProvider(ctx, spID(1))
			if n := r.hits.Load(); n != 2 {
				t.Fatalf("not refetched after %s (%d requests)", tt.stale, n)
			}
			if (err != nil) != tt.errAtStale {
				t.Fatalf("after %s: err = %v", tt.stale, err)
			}
		})
	}
}

func TestMDQServesStaleCopyWhenResponderFails(t *testing.T) {
	t.Parallel()
	clk := newClock()
	r := newMDQResponder(t)
	r.set(spID(1), signedEntity(t, docOpts{cacheDuration: "PT10M", validUntil: t0.Add(24 * time.Hour)}, 1))
	log, buf := testLogger()
	m := newTestMDQ(t, r, clk, func(c *MDQConfig) { c.Logger = log; c.NegativeTTL = time.Minute })
	ctx := context.Background()
	if _, err := m.ServiceProvider(ctx, spID(1)); err != nil {
		t.Fatal(err)
	}
	r.handle(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusInternalServerError) })
	clk.Advance(11 * time.Minute)
	for range 2 {
		sp, err := m.ServiceProvider(ctx, spID(1))
		if err != nil || sp.EntityID != spID(1) {
			t.Fatalf("stale copy not served: %v", err)
		}
	}
	if n := r.hits.Load(); n != 2 {
		t.Errorf("%d requests, want 2 (no retry within the negative TTL)", n)
	}
	if !strings.Contains(buf.String(), "MDQ lookup failed") {
		t.Errorf("failure not logged:\n%s", buf.String())
	}
	clk.Advance(25 * time.Hour)
	if _, err := m.ServiceProvider(ctx, spID(1)); err == nil {
		t.Fatal("served past validUntil")
	}
}

func TestMDQCacheIsBounded(t *testing.T) {
	t.Parallel()
	clk := newClock()
	r := newMDQResponder(t)
	for n := 1; n <= 3; n++ {
		r.set(spID(n), signedEntity(t, docOpts{}, n))
	}
	m := newTestMDQ(t, r, clk, func(c *MDQConfig) { c.MaxEntries = 2 })
	ctx := context.Background()
	for n := 1; n <= 3; n++ {
		if _, err := m.ServiceProvider(ctx, spID(n)); err != nil {
			t.Fatal(err)
		}
	}
	for n := 10; n < 20; n++ {
		_, _ = m.ServiceProvider(ctx, spID(n)) // 404s
	}
	if m.pos.len() != 2 || m.neg.len() != 2 {
		t.Fatalf("cache sizes %d positive, %d negative; want 2 and 2", m.pos.len(), m.neg.len())
	}
	if got := ids(m.List()); got != spID(3)+"="+acsURL(3)+" "+spID(2)+"="+acsURL(2) {
		t.Errorf("kept %q, want the two most recent", got)
	}
}

func TestMDQRefusesBadEntityIDs(t *testing.T) {
	t.Parallel()
	r := newMDQResponder(t)
	m := newTestMDQ(t, r, newClock(), nil)
	for _, id := range []string{"", strings.Repeat("a", maxEntityIDLen+1), "\xff"} {
		if _, err := m.ServiceProvider(context.Background(), id); !errors.Is(err, metadata.ErrUnknownServiceProvider) {
			t.Errorf("%.20q: err = %v", id, err)
		}
	}
	if n := r.hits.Load(); n != 0 {
		t.Errorf("%d requests for invalid entity IDs", n)
	}
}

func TestEscapeEntityID(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"https://sp.example.org/saml?x=1&y=2": "https%3A%2F%2Fsp.example.org%2Fsaml%3Fx%3D1%26y%3D2",
		"urn:mace:example.org:sp":             "urn%3Amace%3Aexample.org%3Asp",
		"a b+c~d_e-f.g":                       "a%20b%2Bc~d_e-f.g",
		"é":                                   "%C3%A9",
		"../../admin":                         "..%2F..%2Fadmin",
	}
	for in, want := range tests {
		if got := escapeEntityID(in); got != want {
			t.Errorf("escapeEntityID(%q) = %q, want %q", in, got, want)
		}
	}
}
