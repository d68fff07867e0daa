package itsme

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/samlbridge/samlbridge/internal/breaker"
)

// recorder is an Observer that keeps what it was told.
type recorder struct {
	mu      sync.Mutex
	calls   map[string]int // stage/outcome → count
	changes []string
}

func (r *recorder) ObserveCall(stage, outcome string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if d < 0 {
		panic("negative duration")
	}
	if r.calls == nil {
		r.calls = map[string]int{}
	}
	r.calls[stage+"/"+outcome]++
}

func (r *recorder) ObserveBreaker(from, to breaker.State) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changes = append(r.changes, from.String()+">"+to.String())
}

func (r *recorder) count(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[key]
}

// TestCircuitBreakerStopsCallingAFailingItsme: after Threshold failing
// token calls the next Exchange fails at once without a request; after the
// cooldown one probe goes through and its success closes the circuit.
func TestCircuitBreakerStopsCallingAFailingItsme(t *testing.T) {
	rec := &recorder{}
	op, c, req := setup(t, func(cfg *Config) {
		cfg.Breaker = breaker.Config{Threshold: 3, Cooldown: 20 * time.Second}
		cfg.Observer = rec
	})
	op.set(func(op *fakeOP) {
		op.tokenFn = func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) }
	})
	for i := range 3 {
		_, err := c.Exchange(context.Background(), testCode, req)
		if !errors.Is(err, ErrHTTPStatus) {
			t.Fatalf("call %d: %v, want the 502", i, err)
		}
	}
	if got := c.BreakerState(); got != breaker.Open {
		t.Fatalf("breaker %s after 3 failures", got)
	}
	_, err := c.Exchange(context.Background(), testCode, req)
	if ie := asError(t, err); ie.Code != CodeUnavailable || !errors.Is(err, ErrCircuitOpen) {
		t.Fatalf("with the circuit open: %v, want CodeUnavailable and ErrCircuitOpen", err)
	}
	if n := op.tokenCalls.Load(); n != 3 {
		t.Fatalf("token endpoint called %d times; the open circuit must not call it", n)
	}
	if rec.count(StageToken+"/"+OutcomeHTTPError) != 3 || rec.count(StageToken+"/"+OutcomeRefused) != 1 {
		t.Errorf("observed %v", rec.calls)
	}

	// itsme recovers; after the cooldown one probe closes the circuit.
	op.set(func(op *fakeOP) { op.tokenFn = nil })
	op.clock.Advance(20 * time.Second)
	if _, err := c.Exchange(context.Background(), testCode, req); err != nil {
		t.Fatalf("probe after the cooldown: %v", err)
	}
	if got := c.BreakerState(); got != breaker.Closed {
		t.Fatalf("breaker %s after a successful probe", got)
	}
	want := []string{"closed>open", "open>half-open", "half-open>closed"}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.changes) != len(want) {
		t.Fatalf("breaker changes %v, want %v", rec.changes, want)
	}
	for i := range want {
		if rec.changes[i] != want[i] {
			t.Fatalf("breaker changes %v, want %v", rec.changes, want)
		}
	}
}

// TestClientErrorsDoNotOpenTheCircuit: a 400 is itsme working (the bridge
// or the user caused it), so it never opens the circuit.
func TestClientErrorsDoNotOpenTheCircuit(t *testing.T) {
	op, c, req := setup(t, func(cfg *Config) { cfg.Breaker = breaker.Config{Threshold: 2} })
	op.set(func(op *fakeOP) {
		op.tokenFn = func(w http.ResponseWriter, _ *http.Request) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant"})
		}
	})
	for range 5 {
		if _, err := c.Exchange(context.Background(), testCode, req); errors.Is(err, ErrCircuitOpen) {
			t.Fatal("a 400 opened the circuit")
		}
	}
	if op.tokenCalls.Load() != 5 {
		t.Fatalf("token calls %d, want 5", op.tokenCalls.Load())
	}
}

// TestTimeoutBoundsEachCall: Config.Timeout bounds a call even with the
// default HTTP client, and the time out counts as a failure.
func TestTimeoutBoundsEachCall(t *testing.T) {
	rec := &recorder{}
	op, c, req := setup(t, func(cfg *Config) {
		cfg.Timeout = 200 * time.Millisecond
		cfg.Observer = rec
	})
	release := make(chan struct{})
	defer close(release)
	op.set(func(op *fakeOP) {
		op.tokenFn = func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}
	})
	start := time.Now()
	_, err := c.Exchange(context.Background(), testCode, req)
	if ie := asError(t, err); ie.Code != CodeUnavailable || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline", err)
	}
	// A generous bound: the point is that the call does not hang.
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Exchange took %s with a 200 ms timeout", d)
	}
	if rec.count(StageToken+"/"+OutcomeUnavailable) != 1 {
		t.Errorf("observed %v", rec.calls)
	}
}

func TestTimeoutAndBreakerConfig(t *testing.T) {
	for _, mod := range []func(*Config){
		func(c *Config) { c.Timeout = -time.Second },
		func(c *Config) { c.Timeout = time.Hour },
		func(c *Config) { c.Breaker.Threshold = -1 },
		func(c *Config) { c.Breaker.Cooldown = -time.Second },
	} {
		cfg := Config{
			Issuer: "https://idp.e2e.itsme.services/v2", ClientID: testClientID, RedirectURI: testRedirectURI,
			ServiceCodes: testServiceCodes, Keys: loadTestKeys(t).bridge,
		}
		if _, err := New(cfg); err != nil {
			t.Fatalf("the base config: %v", err)
		}
		mod(&cfg)
		if _, err := New(cfg); !errors.Is(err, ErrConfig) {
			t.Errorf("New accepted timeout %s breaker %+v: %v", cfg.Timeout, cfg.Breaker, err)
		}
	}
}

// TestDefaultClientFollowsTimeout: the default HTTP client has no
// deadline of its own, so Config.Timeout alone bounds a call and a
// configured timeout above 10 s is not cut short underneath.
func TestDefaultClientFollowsTimeout(t *testing.T) {
	_, c, _ := setup(t, func(cfg *Config) { cfg.Timeout = 45 * time.Second })
	hc := c.cfg.HTTPClient
	tr, ok := hc.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("default transport is a %T", hc.Transport)
	}
	if hc.Timeout != 0 || tr.ResponseHeaderTimeout != 0 {
		t.Errorf("default client timeout %s, response header timeout %s; want none (Config.Timeout bounds each call)", hc.Timeout, tr.ResponseHeaderTimeout)
	}
}
