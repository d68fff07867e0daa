package demo

// TestSoak is the bounded load run of issue 5: complete logins through one
// bridge node on the Redis store, over real HTTP on loopback, each one
// checked by the demo SP; then no flow lost, no goroutine or heap growth,
// nothing left in Redis but the replay cache.
//
// It needs a Redis (internal/testenv: SAMLBRIDGE_REDIS_ADDR; with CI set,
// a missing Redis fails it). By default it runs a short budget, as in
// .ci/run. To run it longer, set the number of flows and the number of
// concurrent browsers:
//
//	redis-server --port 6418 --bind 127.0.0.1 --save '' --appendonly no &
//	SAMLBRIDGE_REDIS_ADDR=127.0.0.1:6418 \
//	SAMLBRIDGE_SOAK_FLOWS=20000 SAMLBRIDGE_SOAK_CONCURRENCY=8 \
//	  go test -run '^TestSoak$' -count=1 -timeout 60m -v ./demo/
//
// SAMLBRIDGE_SOAK_HEAPPROFILE=/tmp/soak.heap also writes the live heap
// after the run, with the stack still in use, for go tool pprof.
//
// The figures (throughput, latency percentiles, goroutines, heap,
// allocations per flow, Redis keys left) are printed, never asserted.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	crewjam "github.com/crewjam/saml"
	goredis "github.com/redis/go-redis/v9"

	"github.com/samlbridge/samlbridge/internal/htmlform"
	"github.com/samlbridge/samlbridge/internal/testenv"
	"github.com/samlbridge/samlbridge/server"
	sessionredis "github.com/samlbridge/samlbridge/session/redis"
)

// soakDefaultFlows is the short budget of a normal go test and of .ci/run
// (smaller under the race detector: soak_helpers_test.go).
var soakDefaultFlows = 600

// Soak bounds and defaults.
const (
	soakDefaultConcurrency = 8
	// soakGoroutineSlack is how many more goroutines than the warm-up
	// baseline may remain once connections are closed: runtime and
	// net/http housekeeping, not per-flow state.
	soakGoroutineSlack = 8
	// soakHeapSlack is the live heap the run may add over the warm-up
	// baseline whatever its length: bounded caches filling up (JWKS and
	// discovery, go-redis connection buffers, the demo SP's pending
	// requests, allocator fragments).
	soakHeapSlack = 8 << 20
	// The itsme emulator is not part of the node: it stands in for itsme
	// and keeps every code, access token and client-assertion jti it
	// issued until one of its maps reaches 10,000 entries (DefaultStoreLimit in
	// itsme/emulator/config.go), then drops the expired ones. A heap
	// profile of the run (SAMLBRIDGE_SOAK_HEAPPROFILE) shows about
	// 1.5 KiB per flow there and nothing kept by the bridge, so the run
	// may add soakEmulatorBytes for each of the last soakEmulatorEntries
	// flows on top of soakHeapSlack. Bridge state kept per flow, even
	// 1 KiB, still exceeds the bound over 20,000 flows.
	soakEmulatorEntries = 10000
	soakEmulatorBytes   = 2 << 10
	// soakWarp is how far the stack's clock jumps ahead at each finished
	// flow, so that ten thousand flows span far more than the emulator's
	// three-minute code and token lifetimes: its maps then find expired
	// entries to drop when they fill up, as real itsme would never be
	// full. Without it, more than about 55 flows/s for three minutes
	// fill the emulator ("store full"), a limit of the test double.
	// Every party (bridge, emulator, demo SP) reads the same clock, which
	// never goes back, and one flow sees at most a few seconds of jumps.
	soakWarp = 100 * time.Millisecond
)

func TestSoak(t *testing.T) {
	addr := testenv.RedisAddr(t)
	flows := soakEnvInt(t, "SAMLBRIDGE_SOAK_FLOWS", soakDefaultFlows)
	workers := soakEnvInt(t, "SAMLBRIDGE_SOAK_CONCURRENCY", soakDefaultConcurrency)

	clock := &soakClock{}
	saveTimeNow := crewjam.TimeNow
	// crewjam reads its clock from a package variable: the demo SP's
	// clock. No other test in this package runs in parallel with this one.
	crewjam.TimeNow = func() time.Time { return clock.Now().UTC() }
	defer func() { crewjam.TimeNow = saveTimeNow }()

	prefix := fmt.Sprintf("soak-test-%d-%d:", os.Getpid(), time.Now().UnixNano())
	store, err := sessionredis.Open(sessionredis.Config{
		URL:       "redis://" + addr,
		Secret:    []byte(strings.Repeat("soak-test-store-secret!", 2)),
		KeyPrefix: prefix,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	rdb := goredis.NewClient(&goredis.Options{Addr: addr})
	defer rdb.Close()
	defer soakDeleteKeys(t, rdb, prefix)

	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	base := "http://" + srv.Listener.Addr().String()
	stack, err := New(context.Background(), Options{
		BaseURL:   base,
		Store:     store,
		RateLimit: server.RateLimit{Disabled: true},
		Now:       clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = stack.Handler
	srv.Start()
	defer srv.Close()
	persona := stack.Emulator.Personas()[0]

	transport := &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: 0}
	defer transport.CloseIdleConnections()
	firstName, _ := persona.Claims["given_name"].(string)
	run := &soakRun{base: base, stack: stack, transport: transport, firstName: firstName, clock: clock}
	if firstName == "" {
		t.Fatal("the emulator's first persona has no given name to check")
	}

	// Warm-up: caches filled, connection pools at their size; then the
	// baselines.
	warm := run.run(2*workers, workers)
	if warm.failed() {
		t.Fatalf("warm-up: %s", warm.errorSummary())
	}
	goBefore := soakSettledGoroutines(transport, srv, -1)
	heapBefore := soakHeap()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	allocBefore := ms.TotalAlloc

	res := run.run(flows, workers)

	runtime.ReadMemStats(&ms)
	allocPerFlow := (ms.TotalAlloc - allocBefore) / uint64(flows)
	goAfter := soakSettledGoroutines(transport, srv, goBefore+soakGoroutineSlack)
	heapAfter := soakHeap()
	keys := soakRedisKeys(t, rdb, prefix)
	if path := os.Getenv("SAMLBRIDGE_SOAK_HEAPPROFILE"); path != "" {
		soakHeapProfile(t, path)
	}
	runtime.KeepAlive(stack)

	lat := res.latencies()
	t.Logf("soak: %d flows, %d concurrent browsers, wall %s, %.1f flows/s",
		flows, workers, res.wall.Round(time.Millisecond), float64(res.completed.Load())/res.wall.Seconds())
	t.Logf("soak: flow latency p50 %s, p95 %s, p99 %s, max %s",
		soakPct(lat, 50), soakPct(lat, 95), soakPct(lat, 99), soakPct(lat, 100))
	t.Logf("soak: stack clock %s ahead of real time at the end (%s per flow)", time.Duration(clock.skew.Load()), soakWarp)
	t.Logf("soak: goroutines %d after warm-up, %d after the run", goBefore, goAfter)
	t.Logf("soak: live heap %.1f MiB after warm-up, %.1f MiB after the run (%+.0f B per flow); %.0f KiB allocated per flow",
		mib(heapBefore), mib(heapAfter), (float64(heapAfter)-float64(heapBefore))/float64(flows), float64(allocPerFlow)/1024)
	t.Logf("soak: Redis keys left under the prefix: %s", keys)

	if res.failed() {
		t.Errorf("%d of %d flows failed: %s", res.errors.Load(), flows, res.errorSummary())
	}
	if got := res.completed.Load(); got != int64(flows) {
		t.Errorf("%d flows completed, want exactly %d", got, flows)
	}
	for kind, want := range map[string]int64{"id": int64(flows+1) / 2, "auth": int64(flows) / 2} {
		if got := res.byKind[kind].Load(); got != want {
			t.Errorf("%d %s flows completed, want %d", got, kind, want)
		}
	}
	if goAfter > goBefore+soakGoroutineSlack {
		t.Errorf("goroutines grew from %d to %d (slack %d): a leak", goBefore, goAfter, soakGoroutineSlack)
		buf := make([]byte, 1<<20)
		t.Logf("goroutines:\n%s", buf[:runtime.Stack(buf, true)])
	}
	heapBound := uint64(soakHeapSlack + min(flows+2*workers, soakEmulatorEntries)*soakEmulatorBytes)
	if heapAfter > heapBefore+heapBound {
		t.Errorf("live heap grew from %.1f MiB to %.1f MiB, more than %.1f MiB: state kept per flow",
			mib(heapBefore), mib(heapAfter), mib(heapBound))
	}
	// In flight: nothing. Each AuthnRequest leaves exactly its replay
	// marker; no SSO session or artifact record was asked for.
	if keys.count["tx"] != 0 {
		t.Errorf("%d transactions still in flight in Redis after every flow completed", keys.count["tx"])
	}
	if want := int64(flows + 2*workers); keys.count["seen"] != want {
		t.Errorf("%d replay markers in Redis, want one per AuthnRequest (%d)", keys.count["seen"], want)
	}
	for kind, n := range keys.count {
		if kind != "tx" && kind != "seen" && n != 0 {
			t.Errorf("%d unexpected %q keys in Redis", n, kind)
		}
	}
	if keys.count["seen"] > 0 && keys.minTTL <= 0 {
		t.Errorf("a replay marker has no expiry (TTL %s)", keys.minTTL)
	}
}

// soakRun drives complete logins against one stack.
type soakRun struct {
	base      string
	stack     *Stack
	transport *http.Transport
	firstName string
	clock     *soakClock
}

// soakClock is the stack's clock: the real time plus a skew that only
// grows (see soakWarp).
type soakClock struct{ skew atomic.Int64 }

// Now returns the warped time.
func (c *soakClock) Now() time.Time { return time.Now().Add(time.Duration(c.skew.Load())) }

func (c *soakClock) advance(d time.Duration) { c.skew.Add(int64(d)) }

// soakResult is what one batch of flows gave.
type soakResult struct {
	completed atomic.Int64
	errors    atomic.Int64
	byKind    map[string]*atomic.Int64
	wall      time.Duration

	mu        sync.Mutex
	firstErrs []string
	lat       []time.Duration
}

func (r *soakResult) failed() bool { return r.errors.Load() > 0 }

func (r *soakResult) errorSummary() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmt.Sprintf("%d errors, the first %d:\n  %s", r.errors.Load(), len(r.firstErrs), strings.Join(r.firstErrs, "\n  "))
}

func (r *soakResult) latencies() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := slices.Clone(r.lat)
	slices.Sort(l)
	return l
}

// run performs n flows with c workers; even flows ask for the full
// identity, odd ones for the name only.
func (s *soakRun) run(n, c int) *soakResult {
	res := &soakResult{
		byKind: map[string]*atomic.Int64{"id": new(atomic.Int64), "auth": new(atomic.Int64)},
		lat:    make([]time.Duration, 0, n),
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, n/c+1)
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					break
				}
				identify := i%2 == 0
				t0 := time.Now()
				err := s.flow(identify)
				s.clock.advance(soakWarp)
				if err != nil {
					res.errors.Add(1)
					res.mu.Lock()
					if len(res.firstErrs) < 5 {
						res.firstErrs = append(res.firstErrs, fmt.Sprintf("flow %d: %v", i, err))
					}
					res.mu.Unlock()
					continue
				}
				lat = append(lat, time.Since(t0))
				res.completed.Add(1)
				if identify {
					res.byKind["id"].Add(1)
				} else {
					res.byKind["auth"].Add(1)
				}
			}
			res.mu.Lock()
			res.lat = append(res.lat, lat...)
			res.mu.Unlock()
		}()
	}
	wg.Wait()
	res.wall = time.Since(start)
	return res
}

// flow is one complete login in a fresh browser (its own cookie jar): the
// demo SP's AuthnRequest, the bridge, the emulator's phone page approved,
// the callback, and the SAML Response verified by the demo SP. It returns
// an error rather than failing the test, as it runs off the test's
// goroutine.
func (s *soakRun) flow(identify bool) error {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return err
	}
	client := &http.Client{Jar: jar, Transport: s.transport, Timeout: time.Minute}
	login := s.base + PathSPLogin
	if !identify {
		login += "?service=authentication"
	}
	phone, err := soakDo(client, http.MethodGet, login, nil)
	if err != nil {
		return err
	}
	if phone.status != http.StatusOK || !strings.HasPrefix(phone.url.Path, emulatorPathPrefix+"/") {
		return fmt.Errorf("expected the emulator's phone page, got %d at %s", phone.status, phone.url.Path)
	}
	action, vals, err := soakForm(phone)
	if err != nil {
		return err
	}
	final, err := soakDo(client, http.MethodPost, action, vals)
	if err != nil {
		return err
	}
	if final.status != http.StatusOK {
		return fmt.Errorf("bridge answered %d at %s", final.status, final.url.Path)
	}
	acs, form, err := soakForm(final)
	if err != nil {
		return err
	}
	if acs != s.base+PathSPACS {
		return fmt.Errorf("the response form posts to %q, not the demo SP's ACS", acs)
	}
	if rs := form.Get("RelayState"); rs != "demo-relay-state" {
		return fmt.Errorf("RelayState %q not returned as sent", rs)
	}
	got, err := s.stack.SP.Parse(form.Get("SAMLResponse"))
	if err != nil {
		return fmt.Errorf("the demo SP rejected the response: %w", err)
	}
	if fn := got.Attributes["firstName"]; len(fn) != 1 || fn[0] != s.firstName {
		return fmt.Errorf("firstName is not the approved persona's (%d values)", len(fn))
	}
	if _, hasNIN := got.Attributes["nin"]; hasNIN != identify {
		return fmt.Errorf("nin released = %v on an identification = %v login", hasNIN, identify)
	}
	if got.NameID == "" || !got.Encrypted {
		return errors.New("no NameID, or the assertion was not encrypted")
	}
	return nil
}

// soakDo sends a GET, or a POST of form, following redirects.
func soakDo(client *http.Client, method, u string, form url.Values) (*page, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading: %w", method, req.URL.Path, err)
	}
	return &page{status: resp.StatusCode, url: resp.Request.URL, body: string(b), header: resp.Header}, nil
}

// soakForm is page.form without the test: the first form's absolute
// action and the values submitted as found.
func soakForm(p *page) (string, url.Values, error) {
	action, vals, ok := htmlform.AsFound(p.body)
	if !ok {
		return "", nil, fmt.Errorf("no form on %s (status %d)", p.url.Path, p.status)
	}
	u, err := p.url.Parse(action)
	if err != nil {
		return "", nil, fmt.Errorf("form action: %w", err)
	}
	return u.String(), vals, nil
}

// soakSettledGoroutines closes idle keep-alive connections on both sides,
// collects garbage and returns the goroutine count; while it is above
// target it polls for a few seconds for exiting goroutines to finish
// (target < 0: one settled reading). It is a leak check, not a timing one.
func soakSettledGoroutines(tr *http.Transport, srv *httptest.Server, target int) int {
	var n int
	for range 50 {
		tr.CloseIdleConnections()
		srv.CloseClientConnections()
		runtime.GC()
		time.Sleep(100 * time.Millisecond)
		m := runtime.NumGoroutine()
		if target < 0 && m == n {
			return n
		}
		n = m
		if target >= 0 && n <= target {
			return n
		}
	}
	return n
}

// soakHeap is the live heap after a full collection.
func soakHeap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// soakHeapProfile writes the live heap, with the stack still in use, for
// go tool pprof -sample_index=inuse_space.
func soakHeapProfile(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		t.Fatalf("heap profile: %v", err)
	}
	t.Logf("soak: heap profile written to %s", path)
}

// soakKeys counts the Redis keys under a prefix by kind (the segment
// before the HMAC: tx, seen, rec) with their TTL range.
type soakKeys struct {
	count          map[string]int64
	minTTL, maxTTL time.Duration
}

func (k soakKeys) String() string {
	kinds := make([]string, 0, len(k.count))
	for kind, n := range k.count {
		kinds = append(kinds, fmt.Sprintf("%s=%d", kind, n))
	}
	slices.Sort(kinds)
	if len(kinds) == 0 {
		return "none"
	}
	return fmt.Sprintf("%s, TTL %s to %s", strings.Join(kinds, " "), k.minTTL.Round(time.Second), k.maxTTL.Round(time.Second))
}

func soakRedisKeys(t *testing.T, rdb *goredis.Client, prefix string) soakKeys {
	t.Helper()
	ctx := context.Background()
	keys := soakKeys{count: map[string]int64{}}
	first := true
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var batch []string
	flush := func() {
		pipe := rdb.Pipeline()
		cmds := make([]*goredis.DurationCmd, len(batch))
		for i, k := range batch {
			cmds[i] = pipe.PTTL(ctx, k)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatalf("reading TTLs from Redis: %v", err)
		}
		for _, c := range cmds {
			ttl := c.Val()
			if first || ttl < keys.minTTL {
				keys.minTTL = ttl
			}
			if first || ttl > keys.maxTTL {
				keys.maxTTL = ttl
			}
			first = false
		}
		batch = batch[:0]
	}
	for iter.Next(ctx) {
		k := iter.Val()
		kind, _, _ := strings.Cut(strings.TrimPrefix(k, prefix), ":")
		keys.count[kind]++
		if batch = append(batch, k); len(batch) == 1000 {
			flush()
		}
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("scanning Redis: %v", err)
	}
	if len(batch) > 0 {
		flush()
	}
	return keys
}

// soakDeleteKeys removes the run's keys so that repeated runs do not fill
// the shared Redis.
func soakDeleteKeys(t *testing.T, rdb *goredis.Client, prefix string) {
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		if batch = append(batch, iter.Val()); len(batch) == 1000 {
			if err := rdb.Unlink(ctx, batch...).Err(); err != nil {
				t.Errorf("cleaning Redis: %v", err)
				return
			}
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		if err := rdb.Unlink(ctx, batch...).Err(); err != nil {
			t.Errorf("cleaning Redis: %v", err)
		}
	}
	if err := iter.Err(); err != nil {
		t.Errorf("cleaning Redis: %v", err)
	}
}

// soakEnvInt reads a positive integer from the environment.
func soakEnvInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

// soakPct is the p-th percentile of sorted latencies.
func soakPct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p+99)/100 - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i].Round(100 * time.Microsecond)
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
