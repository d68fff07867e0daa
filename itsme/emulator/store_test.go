package emulator

import (
	"errors"
	"testing"
	"time"
)

// TestStoreLimit checks that each map holds at most Config.StoreLimit live
// entries, that a full map makes room by dropping expired ones, and that
// New passes the limit (and its default) to the store.
func TestStoreLimit(t *testing.T) {
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	s := newStore(2)
	for i, h := range []string{"a", "b"} {
		if err := s.putPending(h, &pendingTx{expires: now.Add(time.Duration(i+1) * time.Minute)}, now); err != nil {
			t.Fatalf("put %q under the limit: %v", h, err)
		}
	}
	if err := s.putPending("c", &pendingTx{expires: now.Add(time.Hour)}, now); !errors.Is(err, ErrStoreFull) {
		t.Fatalf("third live entry with a limit of 2: err = %v, want ErrStoreFull", err)
	}
	// One minute later "a" has expired: the full map drops it for "c".
	later := now.Add(time.Minute)
	if err := s.putPending("c", &pendingTx{expires: now.Add(time.Hour)}, later); err != nil {
		t.Fatalf("put after an entry expired: %v", err)
	}
	if _, err := s.peekPending("a", later); err == nil {
		t.Fatal("the expired entry is still there")
	}
	if _, err := s.peekPending("b", later); err != nil {
		t.Fatalf("the live entry was dropped: %v", err)
	}

	keys(t)
	for _, tt := range []struct{ limit, want int }{{0, DefaultStoreLimit}, {250000, 250000}} {
		cfg := validConfig()
		cfg.StoreLimit = tt.limit
		e, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if e.store.max != tt.want {
			t.Errorf("StoreLimit %d: store bound %d, want %d", tt.limit, e.store.max, tt.want)
		}
	}
}
