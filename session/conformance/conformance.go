// Package conformance is the test suite every session.Store backend must
// pass unchanged. A backend's test calls RunTests with a constructor that
// returns a fresh, empty store.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/samlbridge/samlbridge/session"
)

var base = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// RunTests runs the conformance suite against stores made by newStore.
// newStore is called once per sub-test; the store is closed afterwards.
func RunTests(t *testing.T, newStore func(t *testing.T) session.Store) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, s session.Store)
	}{
		{"PutTake", testPutTake},
		{"TakeIsSingleUse", testTakeSingleUse},
		{"PutDuplicate", testPutDuplicate},
		{"TakeExpired", testTakeExpired},
		{"TakeUnknown", testTakeUnknown},
		{"ConcurrentTakeOneWinner", testConcurrentTake},
		{"MarkSeen", testMarkSeen},
		{"MarkSeenExpires", testMarkSeenExpires},
		{"ConcurrentMarkSeenOneWinner", testConcurrentMarkSeen},
		{"ClosedStoreFails", testClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			tc.run(t, s)
			_ = s.Close()
		})
	}
}

func tx(state string) session.Transaction {
	return session.Transaction{
		State: state, Nonce: "n-" + state, CodeVerifier: "v-" + state,
		SPEntityID: "https://sp.example/", RequestID: "id-" + state,
		ACSURL: "https://sp.example/acs", RelayState: "", HasRelayState: true,
		Service: "identification", Attributes: []string{"name", "nin"},
		Created: base, Expires: base.Add(10 * time.Minute),
	}
}

func testPutTake(t *testing.T, s session.Store) {
	ctx := t.Context()
	want := tx("a")
	if err := s.Put(ctx, want); err != nil {
		t.Fatalf("Put: %v", err)
	}
	got, err := s.Take(ctx, "a", base.Add(time.Minute))
	if err != nil {
		t.Fatalf("Take: %v", err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || !got.Created.Equal(want.Created) || !got.Expires.Equal(want.Expires) {
		t.Errorf("Take returned %+v, want %+v", got, want)
	}
}

func testTakeSingleUse(t *testing.T, s session.Store) {
	ctx := t.Context()
	if err := s.Put(ctx, tx("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Take(ctx, "a", base); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Take(ctx, "a", base); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("second Take: got %v, want ErrNotFound", err)
	}
}

func testPutDuplicate(t *testing.T, s session.Store) {
	ctx := t.Context()
	if err := s.Put(ctx, tx("a")); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, tx("a")); !errors.Is(err, session.ErrAlreadyExists) {
		t.Errorf("duplicate Put: got %v, want ErrAlreadyExists", err)
	}
}

func testTakeExpired(t *testing.T, s session.Store) {
	ctx := t.Context()
	if err := s.Put(ctx, tx("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Take(ctx, "a", base.Add(10*time.Minute)); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Take at expiry: got %v, want ErrNotFound", err)
	}
}

func testTakeUnknown(t *testing.T, s session.Store) {
	if _, err := s.Take(t.Context(), "nope", base); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("got %v, want ErrNotFound", err)
	}
}

func testConcurrentTake(t *testing.T, s session.Store) {
	ctx := t.Context()
	for round := range 20 {
		state := fmt.Sprintf("c%d", round)
		if err := s.Put(ctx, tx(state)); err != nil {
			t.Fatal(err)
		}
		var wins, notFound atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.Take(ctx, state, base)
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, session.ErrNotFound):
					notFound.Add(1)
				default:
					t.Errorf("Take: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 || notFound.Load() != 7 {
			t.Fatalf("round %d: %d winners, %d not found; want 1 and 7", round, wins.Load(), notFound.Load())
		}
	}
}

func testMarkSeen(t *testing.T, s session.Store) {
	ctx := t.Context()
	if err := s.MarkSeen(ctx, "k", base, base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSeen(ctx, "k", base.Add(30*time.Second), base.Add(2*time.Minute)); !errors.Is(err, session.ErrReplay) {
		t.Errorf("second MarkSeen: got %v, want ErrReplay", err)
	}
	if err := s.MarkSeen(ctx, "other", base, base.Add(time.Minute)); err != nil {
		t.Errorf("other key: %v", err)
	}
}

func testMarkSeenExpires(t *testing.T, s session.Store) {
	ctx := t.Context()
	if err := s.MarkSeen(ctx, "k", base, base.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSeen(ctx, "k", base.Add(time.Minute), base.Add(2*time.Minute)); err != nil {
		t.Errorf("MarkSeen after deadline: got %v, want nil", err)
	}
}

func testConcurrentMarkSeen(t *testing.T, s session.Store) {
	ctx := context.Background()
	var wins, replays atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.MarkSeen(ctx, "race", base, base.Add(time.Minute))
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, session.ErrReplay):
				replays.Add(1)
			default:
				t.Errorf("MarkSeen: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 || replays.Load() != 15 {
		t.Errorf("%d winners, %d replays; want 1 and 15", wins.Load(), replays.Load())
	}
}

func testClosed(t *testing.T, s session.Store) {
	ctx := t.Context()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, tx("a")); !errors.Is(err, session.ErrUnavailable) {
		t.Errorf("Put on closed store: got %v, want ErrUnavailable", err)
	}
	if _, err := s.Take(ctx, "a", base); !errors.Is(err, session.ErrUnavailable) {
		t.Errorf("Take on closed store: got %v, want ErrUnavailable", err)
	}
	if err := s.MarkSeen(ctx, "k", base, base.Add(time.Minute)); !errors.Is(err, session.ErrUnavailable) {
		t.Errorf("MarkSeen on closed store: got %v, want ErrUnavailable", err)
	}
}
