package memory_test

import (
	"errors"
	"testing"
	"time"

	"github.com/samlbridge/samlbridge/session"
	"github.com/samlbridge/samlbridge/session/conformance"
	"github.com/samlbridge/samlbridge/session/memory"
)

func TestConformance(t *testing.T) {
	conformance.RunTests(t, func(*testing.T) session.Store { return memory.New(0) })
}

func TestBounded(t *testing.T) {
	s := memory.New(2)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, st := range []string{"a", "b"} {
		if err := s.Put(t.Context(), session.Transaction{State: st, Created: now, Expires: now.Add(time.Duration(i+1) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	err := s.Put(t.Context(), session.Transaction{State: "c", Created: now, Expires: now.Add(time.Minute)})
	if !errors.Is(err, session.ErrUnavailable) {
		t.Fatalf("Put over the bound: got %v, want ErrUnavailable", err)
	}
	// Once "a" has expired, the sweep makes room.
	later := now.Add(90 * time.Second)
	if err := s.Put(t.Context(), session.Transaction{State: "c", Created: later, Expires: later.Add(time.Minute)}); err != nil {
		t.Fatalf("Put after expiry: %v", err)
	}
}
