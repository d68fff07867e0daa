// Package breaker is a circuit breaker for calls to one upstream service.
//
// It counts consecutive failures. After Threshold of them the circuit
// opens and calls fail fast with ErrOpen for Cooldown. Then it half-opens:
// one probe call is let through at a time; its success closes the circuit,
// its failure opens it for another Cooldown. Callers decide what a failure
// is (a transport error or a 5xx, not a 4xx the caller caused).
package breaker

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrOpen is returned by Allow while the circuit is open.
var ErrOpen = errors.New("circuit breaker open: the upstream failed repeatedly, calls are paused")

// State is the state of a Breaker.
type State int

// The states. Their numeric values are exported as a metric.
const (
	// Closed lets every call through.
	Closed State = iota
	// HalfOpen lets one probe call through at a time.
	HalfOpen
	// Open refuses every call until the cooldown ends.
	Open
)

// String returns "closed", "half-open" or "open".
func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case HalfOpen:
		return "half-open"
	case Open:
		return "open"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Defaults for zero Config fields.
const (
	DefaultThreshold = 5
	DefaultCooldown  = 30 * time.Second
)

// Config configures a Breaker; zero values mean the defaults.
type Config struct {
	// Threshold is how many consecutive failures open the circuit.
	Threshold int
	// Cooldown is how long the circuit stays open before a probe.
	Cooldown time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// OnChange, when set, is called (outside the lock) after each state
	// change, for logs and metrics.
	OnChange func(from, to State)
}

// Breaker is a circuit breaker. It is safe for concurrent use.
type Breaker struct {
	cfg Config

	mu       sync.Mutex
	state    State
	failures int       // consecutive failures while closed
	openedAt time.Time // when the circuit last opened
	probing  bool      // a half-open probe is in flight
	refused  uint64    // calls refused while open
}

// New returns a closed Breaker. It rejects negative values.
func New(cfg Config) (*Breaker, error) {
	if cfg.Threshold < 0 || cfg.Cooldown < 0 {
		return nil, fmt.Errorf("breaker: threshold %d and cooldown %s must not be negative", cfg.Threshold, cfg.Cooldown)
	}
	if cfg.Threshold == 0 {
		cfg.Threshold = DefaultThreshold
	}
	if cfg.Cooldown == 0 {
		cfg.Cooldown = DefaultCooldown
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Breaker{cfg: cfg}, nil
}

// Allow asks to make one call. When the call is allowed it returns a done
// function that must be called exactly once with the call's outcome;
// otherwise it returns ErrOpen.
func (b *Breaker) Allow() (done func(ok bool), err error) {
	b.mu.Lock()
	from := b.state
	if b.state == Open && b.cfg.Now().Sub(b.openedAt) >= b.cfg.Cooldown {
		b.state = HalfOpen
	}
	switch b.state {
	case Open:
		b.refused++
		b.mu.Unlock()
		return nil, ErrOpen
	case HalfOpen:
		if b.probing {
			b.refused++
			b.mu.Unlock()
			b.notify(from, HalfOpen)
			return nil, ErrOpen
		}
		b.probing = true
		b.mu.Unlock()
		b.notify(from, HalfOpen)
		var once sync.Once
		return func(ok bool) { once.Do(func() { b.probeDone(ok) }) }, nil
	}
	b.mu.Unlock()
	var once sync.Once
	return func(ok bool) { once.Do(func() { b.callDone(ok) }) }, nil
}

func (b *Breaker) callDone(ok bool) {
	b.mu.Lock()
	from := b.state
	switch {
	case b.state != Closed:
		// The circuit changed while this call ran; the probe decides.
	case ok:
		b.failures = 0
	default:
		b.failures++
		if b.failures >= b.cfg.Threshold {
			b.open()
		}
	}
	to := b.state
	b.mu.Unlock()
	b.notify(from, to)
}

func (b *Breaker) probeDone(ok bool) {
	b.mu.Lock()
	from := b.state
	b.probing = false
	if ok {
		b.state, b.failures = Closed, 0
	} else {
		b.open()
	}
	to := b.state
	b.mu.Unlock()
	b.notify(from, to)
}

// open moves to Open; b.mu is held.
func (b *Breaker) open() {
	b.state = Open
	b.openedAt = b.cfg.Now()
	b.failures = 0
}

func (b *Breaker) notify(from, to State) {
	if from != to && b.cfg.OnChange != nil {
		b.cfg.OnChange(from, to)
	}
}

// State returns the current state, moving Open to HalfOpen when the
// cooldown has passed.
func (b *Breaker) State() State {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == Open && b.cfg.Now().Sub(b.openedAt) >= b.cfg.Cooldown {
		return HalfOpen
	}
	return b.state
}

// Refused returns how many calls were refused since New.
func (b *Breaker) Refused() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.refused
}
