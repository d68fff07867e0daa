// Package ratelimit is a per-key token-bucket limiter with a bounded
// table of keys (catalogue SES-08).
//
// Each key has a bucket of Burst tokens that refills at Rate tokens per
// second; an event takes one token or is refused with the time after which
// a token will be there. The bucket is kept as a single instant, the time
// at which it will be full again (the "generic cell rate algorithm" form of
// a token bucket), so refill is exact integer arithmetic on durations and
// no float error can make a client wait a nanosecond more than announced.
//
// Memory is bounded: at most MaxKeys buckets exist. Keys are kept in
// least-recently-used order; buckets unused for IdleTTL are dropped, and
// when the table is full the least recently used bucket is dropped to
// make room (see Limiter.Allow for why that is the safe choice).
//
// The clock is the caller's: every call passes now.
package ratelimit

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// Config configures a Limiter.
type Config struct {
	// Rate is the sustained rate in events (tokens) per second. Use
	// PerMinute to give it per minute. It must be positive and at most
	// one per nanosecond.
	Rate float64
	// Burst is the bucket size: how many events a fresh key may make at
	// once. At least 1.
	Burst int
	// MaxKeys bounds the number of buckets kept. At least 1.
	MaxKeys int
	// IdleTTL is how long an unused key is remembered. It is raised to
	// the time an empty bucket takes to refill (Burst/Rate), so that
	// forgetting a key never gives it more tokens than it would have had;
	// zero means exactly that refill time.
	IdleTTL time.Duration
}

// PerMinute converts n events per minute to a Config.Rate.
func PerMinute(n int) float64 { return float64(n) / 60 }

// Limiter is a set of token buckets, one per key. It is safe for
// concurrent use.
type Limiter struct {
	interval time.Duration // time to earn one token
	window   time.Duration // Burst × interval: time to refill from empty
	ttl      time.Duration
	maxKeys  int

	mu      sync.Mutex
	buckets map[string]*bucket
	lru     bucket // sentinel: lru.next is the most recent, lru.prev the least
}

// bucket is one key's state. full is the instant at which the bucket
// holds Burst tokens again; at time t it holds
// Burst - ceil((full - t) / interval) whole tokens (Burst when full ≤ t).
type bucket struct {
	key        string
	full       time.Time
	seen       time.Time
	prev, next *bucket
}

// New validates cfg and returns a Limiter.
func New(cfg Config) (*Limiter, error) {
	var errs []error
	if math.IsNaN(cfg.Rate) || math.IsInf(cfg.Rate, 0) || cfg.Rate <= 0 {
		errs = append(errs, fmt.Errorf("ratelimit: rate %v must be a positive number of events per second", cfg.Rate))
	}
	if cfg.Burst < 1 {
		errs = append(errs, fmt.Errorf("ratelimit: burst %d must be at least 1", cfg.Burst))
	}
	if cfg.MaxKeys < 1 {
		errs = append(errs, fmt.Errorf("ratelimit: max keys %d must be at least 1", cfg.MaxKeys))
	}
	if cfg.IdleTTL < 0 {
		errs = append(errs, fmt.Errorf("ratelimit: idle TTL %v must not be negative", cfg.IdleTTL))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	iv := math.Round(float64(time.Second) / cfg.Rate)
	if iv < 1 {
		return nil, fmt.Errorf("ratelimit: rate %v is above one event per nanosecond", cfg.Rate)
	}
	if iv*float64(cfg.Burst) > float64(math.MaxInt64/4) {
		return nil, errors.New("ratelimit: burst divided by rate is too long a time")
	}
	l := &Limiter{
		interval: time.Duration(iv),
		maxKeys:  cfg.MaxKeys,
		buckets:  make(map[string]*bucket),
	}
	l.window = l.interval * time.Duration(cfg.Burst)
	l.ttl = max(cfg.IdleTTL, l.window)
	l.lru.next, l.lru.prev = &l.lru, &l.lru
	return l, nil
}

// sweepPerCall bounds how many idle buckets one Allow drops, so that no
// single call pays for a long quiet period at once.
const sweepPerCall = 8

// Allow takes one token from key's bucket at time now. When the bucket is
// empty it returns false and how long until a token is available; the
// refusal takes no token, so a client that keeps knocking is not locked
// out longer than announced.
//
// A key seen for the first time starts with a full bucket. When MaxKeys
// buckets exist, the least recently used one is forgotten first. That
// bucket is the idlest, and forgetting it at worst gives that key a fresh
// burst; the alternatives are worse: refusing new keys would let anyone
// with MaxKeys addresses lock every other client out, and growing the
// table would let them exhaust memory.
//
// A clock that goes backwards earns no tokens; it never makes a wait
// longer than already announced beyond the backward step.
func (l *Limiter) Allow(key string, now time.Time) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= l.maxKeys {
			l.remove(l.lru.prev)
		}
		b = &bucket{key: key, full: now}
		l.buckets[key] = b
	} else {
		l.unlink(b)
	}
	l.pushFront(b)
	if now.After(b.seen) {
		b.seen = now
	}
	full := b.full
	if full.Before(now) {
		full = now
	}
	// Taking a token moves the full instant one interval later; that is
	// allowed while it stays within one window of now.
	next := full.Add(l.interval)
	if over := next.Sub(now) - l.window; over > 0 {
		return false, over
	}
	b.full = next
	return true, 0
}

// Len returns the number of buckets currently kept.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// sweep drops up to sweepPerCall least recently used buckets that have
// been idle for the TTL. Because the TTL is at least one window, such a
// bucket is full, and forgetting it changes nothing for its key.
func (l *Limiter) sweep(now time.Time) {
	for range sweepPerCall {
		b := l.lru.prev
		if b == &l.lru || now.Sub(b.seen) < l.ttl {
			return
		}
		l.remove(b)
	}
}

func (l *Limiter) remove(b *bucket) {
	l.unlink(b)
	delete(l.buckets, b.key)
}

func (l *Limiter) unlink(b *bucket) {
	b.prev.next = b.next
	b.next.prev = b.prev
	b.prev, b.next = nil, nil
}

func (l *Limiter) pushFront(b *bucket) {
	b.prev = &l.lru
	b.next = l.lru.next
	l.lru.next.prev = b
	l.lru.next = b
}
