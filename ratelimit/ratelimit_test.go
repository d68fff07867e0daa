package ratelimit

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func mustNew(t testing.TB, cfg Config) *Limiter {
	t.Helper()
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"zero rate", Config{Rate: 0, Burst: 1, MaxKeys: 1}, "rate 0"},
		{"negative rate", Config{Rate: -1, Burst: 1, MaxKeys: 1}, "rate -1"},
		{"NaN rate", Config{Rate: math.NaN(), Burst: 1, MaxKeys: 1}, "rate NaN"},
		{"infinite rate", Config{Rate: math.Inf(1), Burst: 1, MaxKeys: 1}, "rate +Inf"},
		{"rate above 1/ns", Config{Rate: 5e9, Burst: 1, MaxKeys: 1}, "above one event per nanosecond"},
		{"zero burst", Config{Rate: 1, Burst: 0, MaxKeys: 1}, "burst 0"},
		{"zero keys", Config{Rate: 1, Burst: 1, MaxKeys: 0}, "max keys 0"},
		{"negative TTL", Config{Rate: 1, Burst: 1, MaxKeys: 1, IdleTTL: -time.Second}, "idle TTL"},
		{"window overflows", Config{Rate: 1e-9, Burst: math.MaxInt32, MaxKeys: 1}, "too long"},
		{"all at once", Config{}, "burst 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New(%+v) = %v, %v; want an error containing %q", tc.cfg, l, err, tc.want)
			}
		})
	}
}

// step is one Allow call at t0+at.
type step struct {
	key       string
	at        time.Duration
	wantOK    bool
	wantRetry time.Duration
}

func TestAllowSequences(t *testing.T) {
	tests := []struct {
		name  string
		cfg   Config
		steps []step
	}{
		{
			name: "burst then refusal with exact retry",
			cfg:  Config{Rate: PerMinute(30), Burst: 3, MaxKeys: 10}, // one token per 2 s
			steps: []step{
				{"a", 0, true, 0}, {"a", 0, true, 0}, {"a", 0, true, 0},
				{"a", 0, false, 2 * time.Second},
				{"a", 500 * time.Millisecond, false, 1500 * time.Millisecond},
				{"a", 2 * time.Second, true, 0},
				{"a", 2 * time.Second, false, 2 * time.Second},
			},
		},
		{
			name: "refusals take no token",
			cfg:  Config{Rate: 1, Burst: 1, MaxKeys: 10},
			steps: []step{
				{"a", 0, true, 0},
				{"a", 100 * time.Millisecond, false, 900 * time.Millisecond},
				{"a", 200 * time.Millisecond, false, 800 * time.Millisecond},
				{"a", 999 * time.Millisecond, false, time.Millisecond},
				{"a", time.Second, true, 0},
			},
		},
		{
			name: "keys are independent",
			cfg:  Config{Rate: 1, Burst: 1, MaxKeys: 10},
			steps: []step{
				{"a", 0, true, 0}, {"a", 0, false, time.Second},
				{"b", 0, true, 0}, {"b", 0, false, time.Second},
				{"", 0, true, 0}, {"", 0, false, time.Second},
			},
		},
		{
			name: "refill is capped at burst",
			cfg:  Config{Rate: 1, Burst: 2, MaxKeys: 10},
			steps: []step{
				{"a", 0, true, 0}, {"a", 0, true, 0}, {"a", 0, false, time.Second},
				{"a", time.Hour, true, 0}, {"a", time.Hour, true, 0},
				{"a", time.Hour, false, time.Second},
			},
		},
		{
			name: "partial refill",
			cfg:  Config{Rate: 10, Burst: 5, MaxKeys: 10}, // one token per 100 ms
			steps: []step{
				{"a", 0, true, 0}, {"a", 0, true, 0}, {"a", 0, true, 0}, {"a", 0, true, 0}, {"a", 0, true, 0},
				{"a", 0, false, 100 * time.Millisecond},
				{"a", 250 * time.Millisecond, true, 0}, {"a", 250 * time.Millisecond, true, 0},
				{"a", 250 * time.Millisecond, false, 50 * time.Millisecond},
			},
		},
		{
			name: "a clock going backwards earns nothing",
			cfg:  Config{Rate: 1, Burst: 1, MaxKeys: 10},
			steps: []step{
				{"a", 10 * time.Second, true, 0},
				{"a", 5 * time.Second, false, 6 * time.Second},
				{"a", 11 * time.Second, true, 0},
			},
		},
		{
			name: "an odd rate never leaves a nanosecond short",
			cfg:  Config{Rate: PerMinute(7), Burst: 1, MaxKeys: 10},
			steps: []step{
				{"a", 0, true, 0},
				{"a", 0, false, 8571428571},
				{"a", 8571428571, true, 0},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := mustNew(t, tc.cfg)
			for i, s := range tc.steps {
				ok, retry := l.Allow(s.key, t0.Add(s.at))
				if ok != s.wantOK || retry != s.wantRetry {
					t.Fatalf("step %d (%q at +%v): got %v, %v; want %v, %v", i, s.key, s.at, ok, retry, s.wantOK, s.wantRetry)
				}
			}
		})
	}
}

// TestMemoryBoundedUnderKeyFlood sends far more distinct keys than
// MaxKeys, all active, and checks that the table never grows past it.
func TestMemoryBoundedUnderKeyFlood(t *testing.T) {
	const maxKeys = 100
	l := mustNew(t, Config{Rate: PerMinute(1), Burst: 1, MaxKeys: maxKeys, IdleTTL: time.Hour})
	for i := range 10 * maxKeys {
		if ok, _ := l.Allow(fmt.Sprint("k", i), t0); !ok {
			t.Fatalf("a fresh key was refused at %d", i)
		}
		if n := l.Len(); n > maxKeys {
			t.Fatalf("%d buckets after %d keys; MaxKeys is %d", n, i+1, maxKeys)
		}
	}
	if n := l.Len(); n != maxKeys {
		t.Errorf("%d buckets, want the table full at %d", n, maxKeys)
	}
}

// TestEvictsLeastRecentlyUsed checks which key makes room: the one used
// longest ago, so a key in active use keeps its (empty) bucket.
func TestEvictsLeastRecentlyUsed(t *testing.T) {
	l := mustNew(t, Config{Rate: PerMinute(1), Burst: 1, MaxKeys: 2, IdleTTL: time.Hour})
	l.Allow("old", t0)
	l.Allow("hot", t0)
	// "old" is used again, so "hot" is now the least recently used.
	if ok, _ := l.Allow("old", t0.Add(time.Second)); ok {
		t.Fatal("old was allowed twice in a second")
	}
	l.Allow("new", t0.Add(2*time.Second)) // evicts "hot"
	if ok, _ := l.Allow("old", t0.Add(3*time.Second)); ok {
		t.Error("old lost its bucket although it was not the least recently used")
	}
	if ok, _ := l.Allow("hot", t0.Add(3*time.Second)); !ok {
		t.Error("hot was not evicted: it should have a fresh bucket")
	}
}

// TestIdleKeysAreForgotten checks that idle buckets are dropped without
// MaxKeys pressure, and that IdleTTL cannot be shorter than the refill
// time (forgetting a key must not reward it).
func TestIdleKeysAreForgotten(t *testing.T) {
	// Burst 2 at 1/s: refill takes 2 s, so an IdleTTL of 1 s is raised.
	l := mustNew(t, Config{Rate: 1, Burst: 2, MaxKeys: 100, IdleTTL: time.Second})
	for i := range 5 {
		l.Allow(fmt.Sprint("k", i), t0)
	}
	l.Allow("k0", t0)
	l.Allow("k0", t0.Add(1500*time.Millisecond))
	if n := l.Len(); n != 5 {
		t.Fatalf("%d buckets before any TTL passed, want 5", n)
	}
	// k0 took 2 tokens at t0 and earned 1.5 by t0+1.5 s, took one more:
	// half a token left; had it been forgotten after 1 s, it would
	// have had 2.
	if ok, retry := l.Allow("k0", t0.Add(1500*time.Millisecond)); ok || retry != 500*time.Millisecond {
		t.Fatalf("k0: got %v, %v; want refused for 500ms", ok, retry)
	}
	// At t0+2 s k1..k4 are idle for the (raised) TTL and get swept.
	l.Allow("other", t0.Add(2*time.Second))
	if n := l.Len(); n != 2 {
		t.Errorf("%d buckets after the TTL, want 2 (k0 and other)", n)
	}
}

// TestConcurrentAllowGrantsExactlyBurst runs many goroutines against one
// key at one instant (run with -race): exactly Burst events pass. Other
// goroutines meanwhile churn a second, small limiter through evictions,
// which must keep it within MaxKeys.
func TestConcurrentAllowGrantsExactlyBurst(t *testing.T) {
	const burst, goroutines, each, small = 50, 16, 200, 8
	l := mustNew(t, Config{Rate: PerMinute(1), Burst: burst, MaxKeys: 1024})
	churn := mustNew(t, Config{Rate: PerMinute(1), Burst: 1, MaxKeys: small})
	var granted atomic.Int64
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i := range each {
				if ok, _ := l.Allow("shared", t0); ok {
					granted.Add(1)
				}
				l.Allow(fmt.Sprint("g", g, "-", i%20), t0)
			}
		}()
		go func() {
			defer wg.Done()
			for i := range each {
				churn.Allow(fmt.Sprint("g", g, "-", i), t0.Add(time.Duration(i)*time.Millisecond))
				if n := churn.Len(); n > small {
					t.Errorf("%d buckets, MaxKeys is %d", n, small)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got := granted.Load(); got != burst {
		t.Errorf("%d events granted, want exactly %d", got, burst)
	}
	if n := l.Len(); n != 1+goroutines*20 {
		t.Errorf("%d buckets, want %d", n, 1+goroutines*20)
	}
}

func BenchmarkAllowOneKey(b *testing.B) {
	l := mustNew(b, Config{Rate: 1e6, Burst: 100, MaxKeys: 1024})
	now := t0
	for b.Loop() {
		now = now.Add(time.Microsecond)
		l.Allow("198.51.100.7", now)
	}
}

func BenchmarkAllowKeyFlood(b *testing.B) {
	const maxKeys = 10000
	l := mustNew(b, Config{Rate: 1, Burst: 10, MaxKeys: maxKeys})
	keys := make([]string, 4*maxKeys) // 4× the table: every call evicts
	for i := range keys {
		keys[i] = fmt.Sprintf("2001:db8:%x::/64", i)
	}
	i := 0
	for b.Loop() {
		l.Allow(keys[i%len(keys)], t0)
		i++
	}
}

func BenchmarkAllowParallel(b *testing.B) {
	l := mustNew(b, Config{Rate: 1e6, Burst: 100, MaxKeys: 1024})
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			l.Allow(fmt.Sprint(i%512), t0)
			i++
		}
	})
}
