package breaker

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newTest(t *testing.T, threshold int, cooldown time.Duration) (*Breaker, *clock, *[]string) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)}
	var changes []string
	var mu sync.Mutex
	b, err := New(Config{Threshold: threshold, Cooldown: cooldown, Now: clk.now, OnChange: func(from, to State) {
		mu.Lock()
		changes = append(changes, from.String()+">"+to.String())
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	return b, clk, &changes
}

func call(t *testing.T, b *Breaker, ok bool) error {
	t.Helper()
	done, err := b.Allow()
	if err != nil {
		return err
	}
	done(ok)
	return nil
}

func TestOpensAfterThresholdConsecutiveFailures(t *testing.T) {
	b, clk, changes := newTest(t, 3, 10*time.Second)
	// A success in between resets the count: failures must be consecutive.
	for _, ok := range []bool{false, false, true, false, false} {
		if err := call(t, b, ok); err != nil {
			t.Fatalf("refused while closed: %v", err)
		}
	}
	if b.State() != Closed {
		t.Fatalf("state %s after non-consecutive failures", b.State())
	}
	if err := call(t, b, false); err != nil {
		t.Fatal(err)
	}
	if b.State() != Open {
		t.Fatalf("state %s after 3 consecutive failures", b.State())
	}
	if err := call(t, b, true); !errors.Is(err, ErrOpen) {
		t.Fatalf("open circuit let a call through: %v", err)
	}
	if b.Refused() != 1 {
		t.Errorf("Refused = %d", b.Refused())
	}
	clk.advance(9 * time.Second)
	if err := call(t, b, true); !errors.Is(err, ErrOpen) {
		t.Fatalf("call allowed before the cooldown ended: %v", err)
	}
	clk.advance(time.Second)
	if b.State() != HalfOpen {
		t.Fatalf("state %s after the cooldown", b.State())
	}
	if err := call(t, b, true); err != nil {
		t.Fatalf("probe refused: %v", err)
	}
	if b.State() != Closed {
		t.Fatalf("state %s after a successful probe", b.State())
	}
	want := []string{"closed>open", "open>half-open", "half-open>closed"}
	if len(*changes) != len(want) {
		t.Fatalf("changes %v, want %v", *changes, want)
	}
	for i := range want {
		if (*changes)[i] != want[i] {
			t.Fatalf("changes %v, want %v", *changes, want)
		}
	}
}

func TestFailedProbeReopens(t *testing.T) {
	b, clk, _ := newTest(t, 1, time.Minute)
	_ = call(t, b, false)
	clk.advance(time.Minute)
	if err := call(t, b, false); err != nil {
		t.Fatalf("probe refused: %v", err)
	}
	if b.State() != Open {
		t.Fatalf("state %s after a failed probe", b.State())
	}
	clk.advance(59 * time.Second)
	if err := call(t, b, true); !errors.Is(err, ErrOpen) {
		t.Fatal("a failed probe must restart the cooldown")
	}
}

func TestOneProbeAtATime(t *testing.T) {
	b, clk, _ := newTest(t, 1, time.Second)
	_ = call(t, b, false)
	clk.advance(time.Second)
	done, err := b.Allow()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Allow(); !errors.Is(err, ErrOpen) {
		t.Fatal("a second call was let through while the probe runs")
	}
	done(true)
	done(false) // a second report is ignored
	if b.State() != Closed {
		t.Fatalf("state %s; the second done call must be ignored", b.State())
	}
}

func TestConcurrentCalls(t *testing.T) {
	b, _, _ := newTest(t, 5, time.Hour)
	var wg sync.WaitGroup
	var allowed atomic.Int64
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if done, err := b.Allow(); err == nil {
					allowed.Add(1)
					done(i%2 == 0)
				}
			}
		}()
	}
	wg.Wait()
	if allowed.Load() == 0 || b.Refused()+uint64(allowed.Load()) != 64*50 {
		t.Fatalf("allowed %d + refused %d != %d", allowed.Load(), b.Refused(), 64*50)
	}
}

func TestConfig(t *testing.T) {
	for _, c := range []Config{{Threshold: -1}, {Cooldown: -time.Second}} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) accepted", c)
		}
	}
	b, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if b.cfg.Threshold != DefaultThreshold || b.cfg.Cooldown != DefaultCooldown {
		t.Errorf("defaults %+v", b.cfg)
	}
}
