package itsme

import (
	"testing"
	"time"
)

func TestStockTake(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	const maxAge = 20 * time.Second
	type put struct {
		v  string
		at time.Time
		ok bool
	}
	tests := []struct {
		name   string
		puts   []put
		takeAt time.Time
		want   string // "" means nothing taken
		left   int    // still on the shelf after the take
	}{
		{name: "empty", takeAt: t0},
		{name: "the oldest fresh one first", puts: []put{{"a", t0, true}, {"b", t0.Add(time.Second), true}}, takeAt: t0.Add(2 * time.Second), want: "a", left: 1},
		{name: "stale ones dropped", puts: []put{{"old", t0, true}, {"new", t0.Add(10 * time.Second), true}}, takeAt: t0.Add(25 * time.Second), want: "new"},
		{name: "maxAge old is still fresh", puts: []put{{"a", t0, true}}, takeAt: t0.Add(maxAge), want: "a"},
		{name: "all stale", puts: []put{{"a", t0, true}, {"b", t0, true}}, takeAt: t0.Add(maxAge + time.Second)},
		{name: "made after now (clock went back)", puts: []put{{"a", t0.Add(time.Minute), true}}, takeAt: t0},
		{name: "failed one not stocked", puts: []put{{"", t0, false}}, takeAt: t0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStock[string](4, 2, maxAge)
			s.take("k", t0) // two takes: steady demand
			s.take("k", t0)
			for _, p := range tt.puts {
				r, ok := s.reserve("k")
				if !ok {
					t.Fatal("reserve refused below the stock's size")
				}
				s.put(r, p.v, p.at, p.ok)
			}
			got, ok := s.take("k", tt.takeAt)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("take = %q, %v; want %q", got, ok, tt.want)
			}
			if n := s.ready("k"); n != tt.left || s.byKey["k"].signing != 0 {
				t.Errorf("after take: %d ready, %d signing; want %d, 0", n, s.byKey["k"].signing, tt.left)
			}
			if _, ok := s.take("other", tt.takeAt); ok {
				t.Error("another key's take got a value")
			}
		})
	}
}

// TestStockReservesOnlyUnderSteadyDemand: a key taken once, or twice more
// than maxAge apart, gets nothing made ahead, so a rarely used kind wastes
// no signature; two takes within maxAge reserve, up to size.
func TestStockReservesOnlyUnderSteadyDemand(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	const maxAge = 20 * time.Second
	for _, size := range []int{-1, 0, 1, 4} {
		s := newStock[string](size, 4, maxAge)
		if _, ok := s.reserve("k"); ok {
			t.Errorf("size %d: reserved for a key never taken", size)
		}
		s.take("k", t0)
		if _, ok := s.reserve("k"); ok {
			t.Errorf("size %d: reserved after one take", size)
		}
		s.take("k", t0.Add(maxAge+time.Second))
		if _, ok := s.reserve("k"); ok {
			t.Errorf("size %d: reserved after two takes %v apart", size, maxAge+time.Second)
		}
		s.take("k", t0.Add(2*maxAge))
		n := 0
		var last reservation[string]
		for {
			r, ok := s.reserve("k")
			if !ok || n > max(size, 0) {
				break
			}
			last = r
			n++
		}
		if n != max(size, 0) {
			t.Errorf("size %d: %d reservations under demand, want %d", size, n, max(size, 0))
		}
		if n == 0 {
			continue
		}
		s.put(last, "v", t0.Add(2*maxAge), true) // one made: still full
		if _, ok := s.reserve("k"); ok {
			t.Errorf("size %d: reserve succeeded with the shelf full", size)
		}
		if _, ok := s.take("k", t0.Add(2*maxAge)); !ok {
			t.Errorf("size %d: the value made was not taken", size)
		}
		if _, ok := s.reserve("k"); !ok {
			t.Errorf("size %d: reserve refused after a take", size)
		}
	}
}

// TestStockShelvesAreBounded: a new key beyond the number of shelves
// pushes out the one least recently taken from, and a value made for a
// pushed-out shelf is dropped.
func TestStockShelvesAreBounded(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	s := newStock[string](2, 2, time.Minute)
	for _, k := range []string{"a", "a", "b", "b"} {
		s.take(k, t0)
	}
	ra, _ := s.reserve("a")
	rb, ok := s.reserve("b")
	if !ok {
		t.Fatal("reserve refused")
	}
	s.put(ra, "a1", t0, true)
	s.take("a", t0) // "a" is now the more recently used; its value is gone
	s.take("c", t0) // pushes out "b"
	if len(s.byKey) != 2 || s.byKey["b"] != nil || s.byKey["a"] == nil || s.byKey["c"] == nil {
		t.Fatalf("shelves after a third key: %v, want a and c", keys(s))
	}
	s.put(rb, "b1", t0, true)
	s.take("a", t0) // "c" is now the least recently used
	s.take("b", t0) // pushes out "c", and finds nothing
	if got, ok := s.take("b", t0); ok {
		t.Errorf("a value made for a pushed-out shelf was kept: %q", got)
	}
	if s.byKey["c"] != nil || s.byKey["a"] == nil {
		t.Errorf("shelves: %v, want a and b", keys(s))
	}
}

// keys returns the keys of s's shelves.
func keys[T any](s *stock[T]) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for k := range s.byKey {
		out = append(out, k)
	}
	return out
}

// ready returns how many values are ready for key.
func (s *stock[T]) ready(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sh := s.byKey[key]; sh != nil {
		return len(sh.ready)
	}
	return 0
}
