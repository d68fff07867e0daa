package itsme

import (
	"fmt"
	"runtime/debug"
	"sync"
	"time"
)

// stock holds values made ahead of need (signed JWTs), on one shelf per
// key. Each value is handed out once and never when it is older than
// maxAge. A shelf holds at most size values, and at most shelves keys
// are kept: a new key pushes out the shelf least recently taken from.
// A stock never makes anything on its own: its user reserves a place and
// makes one value for each one taken, and only for a key in steady
// demand (taken twice within maxAge), so an idle bridge signs nothing and
// a key used once in a while costs no signature that goes stale unused.
// A size of zero keeps nothing.
type stock[T any] struct {
	size    int
	shelves int
	maxAge  time.Duration

	mu    sync.Mutex
	byKey map[string]*shelf[T]
	takes uint64 // counts takes, for recency
}

// shelf is one key's values and the reservations under way for it.
type shelf[T any] struct {
	ready      []stocked[T] // oldest first
	signing    int          // reservations: values being made
	used       uint64       // stock.takes at the last take
	last, prev time.Time    // the last two takes
}

// stocked is one value made ahead, and when it was made.
type stocked[T any] struct {
	v    T
	made time.Time
}

// newStock returns a stock of up to size values per key for up to
// shelves keys, none handed out older than maxAge. A negative size keeps
// nothing.
func newStock[T any](size, shelves int, maxAge time.Duration) *stock[T] {
	return &stock[T]{size: max(size, 0), shelves: max(shelves, 1), maxAge: maxAge, byKey: map[string]*shelf[T]{}}
}

// take returns the oldest value for key that is still fresh at now, and
// drops the stale ones before it. It records the take, for reserve.
func (s *stock[T]) take(key string, now time.Time) (T, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var zero T
	if s.size == 0 {
		return zero, false
	}
	sh := s.byKey[key]
	if sh == nil {
		if len(s.byKey) >= s.shelves {
			s.evictLocked()
		}
		sh = &shelf[T]{}
		s.byKey[key] = sh
	}
	s.takes++
	sh.used = s.takes
	sh.prev, sh.last = sh.last, now
	for len(sh.ready) > 0 {
		it := sh.ready[0]
		sh.ready[0] = stocked[T]{} // the slice's array keeps no signed token
		sh.ready = sh.ready[1:]
		if !it.made.After(now) && now.Sub(it.made) <= s.maxAge {
			return it.v, true
		}
	}
	return zero, false
}

// reservation is a place reserved on a shelf for one value being made.
type reservation[T any] struct {
	key string
	sh  *shelf[T]
}

// reserve reports whether one more value may be made for key, and if so
// counts it as under way until put is called with the reservation. It
// reserves only for a key whose last two takes were at most maxAge apart,
// and only while its ready values and reservations are fewer than size.
func (s *stock[T]) reserve(key string) (reservation[T], bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sh := s.byKey[key]
	if sh == nil || sh.prev.IsZero() || sh.last.Sub(sh.prev) > s.maxAge || len(sh.ready)+sh.signing >= s.size {
		return reservation[T]{}, false
	}
	sh.signing++
	return reservation[T]{key: key, sh: sh}, true
}

// evictLocked drops the shelf least recently taken from.
func (s *stock[T]) evictLocked() {
	var oldest string
	first := true
	for k, sh := range s.byKey {
		if first || sh.used < s.byKey[oldest].used {
			oldest, first = k, false
		}
	}
	delete(s.byKey, oldest)
}

// put ends reservation r, adding v made at made when ok. A value whose
// shelf was pushed out meanwhile is dropped.
func (s *stock[T]) put(r reservation[T], v T, made time.Time, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r.sh.signing--
	if ok && s.byKey[r.key] == r.sh {
		r.sh.ready = append(r.sh.ready, stocked[T]{v: v, made: made})
	}
}

// draw takes the oldest fresh value for key, as take does, and when key
// is in steady demand and its shelf has room (reserve), starts making one
// more with build on a goroutine of its own (restock). ok is false when
// none was fresh: the caller then makes its own.
func (s *stock[T]) draw(c *Client, key string, now time.Time, what string, build func(now time.Time) (T, error)) (v T, ok bool) {
	v, ok = s.take(key, now)
	if r, more := s.reserve(key); more {
		go restock(c, s, r, what, build)
	}
	return v, ok
}

// restock makes one value for reservation r on the calling goroutine with
// build and puts it. It is meant to run on a goroutine of its own, where a
// panic would end the process: a panic is logged with its stack as
// "itsme: signing <what> ahead panicked", and the reservation is given
// back either way.
func restock[T any](c *Client, s *stock[T], r reservation[T], what string, build func(now time.Time) (T, error)) {
	now := c.cfg.Now()
	var v T
	ok := false
	defer func() {
		if p := recover(); p != nil {
			c.log.Error("itsme: signing "+what+" ahead panicked", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		}
		s.put(r, v, now.Truncate(time.Second), ok)
	}()
	v, err := build(now)
	ok = err == nil
}
