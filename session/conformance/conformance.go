// Package conformance is the test suite every session.Store backend must
// pass unchanged. A backend's test calls RunTests with a constructor that
// returns a fresh, empty store.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
		{"GetDoesNotConsume", testGet},
		{"ConcurrentTakeOneWinner", testConcurrentTake},
		{"MarkSeen", testMarkSeen},
		{"MarkSeenExpires", testMarkSeenExpires},
		{"ConcurrentMarkSeenOneWinner", testConcurrentMarkSeen},
		{"RecordPutGet", testRecordPutGet},
		{"RecordPutReplaces", testRecordPutReplaces},
		{"RecordTakeIsSingleUse", testRecordTakeSingleUse},
		{"RecordExpiryByCallersClock", testRecordExpiry},
		{"RecordKeysAreDistinct", testRecordKeysDistinct},
		{"RecordDelete", testRecordDelete},
		{"RecordUnknown", testRecordUnknown},
		{"ConcurrentTakeRecordOneWinner", testConcurrentTakeRecord},
		{"RecordUpdate", testRecordUpdate},
		{"RecordUpdateDeclined", testRecordUpdateDeclined},
		{"ConcurrentUpdatesAllKept", testConcurrentUpdates},
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

func testGet(t *testing.T, s session.Store) {
	ctx := t.Context()
	want := tx("g")
	if err := s.Put(ctx, want); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		got, err := s.Get(ctx, "g", base)
		if err != nil || got.Nonce != want.Nonce || got.CodeVerifier != want.CodeVerifier || got.RequestID != want.RequestID {
			t.Fatalf("Get #%d = %+v, %v; want the stored transaction", i+1, got, err)
		}
	}
	if got, err := s.Take(ctx, "g", base); err != nil || got.Nonce != want.Nonce {
		t.Fatalf("Take after Get = %+v, %v; want the transaction, still there", got, err)
	}
	if _, err := s.Get(ctx, "g", base); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Get after Take: got %v, want ErrNotFound", err)
	}
	if _, err := s.Get(ctx, "never", base); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Get of an unknown state: got %v, want ErrNotFound", err)
	}
	if err := s.Put(ctx, tx("old")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "old", tx("old").Expires); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Get at expiry: got %v, want ErrNotFound", err)
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
	if _, err := s.Get(ctx, "a", base); !errors.Is(err, session.ErrUnavailable) {
		t.Errorf("Get on closed store: got %v, want ErrUnavailable", err)
	}
	if err := s.MarkSeen(ctx, "k", base, base.Add(time.Minute)); !errors.Is(err, session.ErrUnavailable) {
		t.Errorf("MarkSeen on closed store: got %v, want ErrUnavailable", err)
	}
	CheckRecordsUnavailable(t, s)
}

// CheckRecordsUnavailable checks that every record method of s fails with
// session.ErrUnavailable, as it must when s is closed or its backend is
// down. Backend tests call it with a store whose backend is unreachable.
func CheckRecordsUnavailable(t *testing.T, s session.Store) {
	t.Helper()
	ctx := t.Context()
	if err := s.PutRecord(ctx, "artifact|x", []byte("v"), base.Add(time.Minute)); !errors.Is(err, session.ErrUnavailable) {
		t.Errorf("PutRecord: got %v, want ErrUnavailable", err)
	}
	if _, err := s.GetRecord(ctx, "artifact|x", base); !errors.Is(err, session.ErrUnavailable) {
		t.Errorf("GetRecord: got %v, want ErrUnavailable", err)
	}
	if _, err := s.TakeRecord(ctx, "artifact|x", base); !errors.Is(err, session.ErrUnavailable) {
		t.Errorf("TakeRecord: got %v, want ErrUnavailable", err)
	}
	if err := s.DeleteRecord(ctx, "artifact|x"); !errors.Is(err, session.ErrUnavailable) {
		t.Errorf("DeleteRecord: got %v, want ErrUnavailable", err)
	}
	err := s.UpdateRecord(ctx, "sso|x", base, func([]byte) ([]byte, time.Time, error) {
		return []byte("v"), base.Add(time.Minute), nil
	})
	if !errors.Is(err, session.ErrUnavailable) {
		t.Errorf("UpdateRecord: got %v, want ErrUnavailable", err)
	}
}

func putRecord(t *testing.T, s session.Store, key, value string, expires time.Time) {
	t.Helper()
	if err := s.PutRecord(t.Context(), key, []byte(value), expires); err != nil {
		t.Fatalf("PutRecord(%q): %v", key, err)
	}
}

func wantRecord(t *testing.T, s session.Store, key string, now time.Time, want string) {
	t.Helper()
	got, err := s.GetRecord(t.Context(), key, now)
	if err != nil {
		t.Fatalf("GetRecord(%q) at %v: %v, want %q", key, now, err, want)
	}
	if string(got) != want {
		t.Errorf("GetRecord(%q) = %q, want %q", key, got, want)
	}
}

func wantNoRecord(t *testing.T, s session.Store, key string, now time.Time) {
	t.Helper()
	if got, err := s.GetRecord(t.Context(), key, now); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("GetRecord(%q) at %v = %q, %v; want ErrNotFound", key, now, got, err)
	}
}

// testRecordPutGet checks that GetRecord returns what was stored, does not
// consume it, and is not affected by the caller reusing its buffers.
func testRecordPutGet(t *testing.T, s session.Store) {
	ctx := t.Context()
	in := []byte("value \x00\xff binary")
	if err := s.PutRecord(ctx, "sso|a", in, base.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	in[0] = 'X'
	got, err := s.GetRecord(ctx, "sso|a", base)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "value \x00\xff binary" {
		t.Fatalf("GetRecord = %q", got)
	}
	got[0] = 'Y'
	wantRecord(t, s, "sso|a", base.Add(time.Minute), "value \x00\xff binary")
	putRecord(t, s, "sso|empty", "", base.Add(time.Hour))
	wantRecord(t, s, "sso|empty", base, "")
}

func testRecordPutReplaces(t *testing.T, s session.Store) {
	putRecord(t, s, "sso|a", "first", base.Add(time.Minute))
	putRecord(t, s, "sso|a", "second", base.Add(time.Hour))
	// The replacement's value and expiry both hold.
	wantRecord(t, s, "sso|a", base.Add(30*time.Minute), "second")
}

func testRecordTakeSingleUse(t *testing.T, s session.Store) {
	ctx := t.Context()
	putRecord(t, s, "artifact|a", "response", base.Add(time.Minute))
	got, err := s.TakeRecord(ctx, "artifact|a", base)
	if err != nil || string(got) != "response" {
		t.Fatalf("TakeRecord = %q, %v; want \"response\"", got, err)
	}
	if got, err := s.TakeRecord(ctx, "artifact|a", base); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("second TakeRecord = %q, %v; want ErrNotFound", got, err)
	}
	wantNoRecord(t, s, "artifact|a", base)
}

// testRecordExpiry checks that expiry is decided by the caller's clock,
// not the store's: a record whose expiry is long past by the wall clock is
// live for a caller whose clock is earlier, and one that the wall clock
// would keep for a year is gone for a caller whose clock has reached it.
func testRecordExpiry(t *testing.T, s session.Store) {
	ctx := t.Context()
	past := base.AddDate(-5, 0, 0)
	putRecord(t, s, "sso|old", "v", past)
	wantRecord(t, s, "sso|old", past.Add(-time.Nanosecond), "v")
	wantNoRecord(t, s, "sso|old", past)

	future := base.AddDate(1, 0, 0)
	putRecord(t, s, "sso|new", "v", future)
	wantRecord(t, s, "sso|new", future.Add(-time.Second), "v")
	wantNoRecord(t, s, "sso|new", future)
	wantNoRecord(t, s, "sso|new", future.Add(time.Hour))

	putRecord(t, s, "artifact|x", "v", base.Add(time.Minute))
	if _, err := s.TakeRecord(ctx, "artifact|x", base.Add(time.Minute)); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("TakeRecord at expiry: got %v, want ErrNotFound", err)
	}
}

func testRecordKeysDistinct(t *testing.T, s session.Store) {
	putRecord(t, s, "artifact|k", "artifact", base.Add(time.Minute))
	putRecord(t, s, "sso|k", "sso", base.Add(time.Minute))
	wantRecord(t, s, "artifact|k", base, "artifact")
	wantRecord(t, s, "sso|k", base, "sso")
	// Records and transactions do not share a key space either.
	if _, err := s.Take(t.Context(), "artifact|k", base); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Take of a record key: got %v, want ErrNotFound", err)
	}
	wantRecord(t, s, "artifact|k", base, "artifact")
}

func testRecordDelete(t *testing.T, s session.Store) {
	ctx := t.Context()
	if err := s.DeleteRecord(ctx, "sso|missing"); err != nil {
		t.Errorf("DeleteRecord of a missing key: %v", err)
	}
	putRecord(t, s, "sso|a", "v", base.Add(time.Hour))
	putRecord(t, s, "sso|b", "w", base.Add(time.Hour))
	if err := s.DeleteRecord(ctx, "sso|a"); err != nil {
		t.Fatal(err)
	}
	wantNoRecord(t, s, "sso|a", base)
	wantRecord(t, s, "sso|b", base, "w")
	if err := s.DeleteRecord(ctx, "sso|a"); err != nil {
		t.Errorf("second DeleteRecord: %v", err)
	}
}

func testRecordUnknown(t *testing.T, s session.Store) {
	wantNoRecord(t, s, "artifact|nope", base)
	if _, err := s.TakeRecord(t.Context(), "artifact|nope", base); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("TakeRecord: got %v, want ErrNotFound", err)
	}
}

func testConcurrentTakeRecord(t *testing.T, s session.Store) {
	ctx := t.Context()
	for round := range 20 {
		key := fmt.Sprintf("artifact|c%d", round)
		putRecord(t, s, key, key, base.Add(time.Minute))
		var wins, notFound atomic.Int32
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v, err := s.TakeRecord(ctx, key, base)
				switch {
				case err == nil && string(v) == key:
					wins.Add(1)
				case errors.Is(err, session.ErrNotFound):
					notFound.Add(1)
				default:
					t.Errorf("TakeRecord = %q, %v", v, err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 || notFound.Load() != 7 {
			t.Fatalf("round %d: %d winners, %d not found; want 1 and 7", round, wins.Load(), notFound.Load())
		}
	}
}

// appendTo is an update that appends "+word" to the current value and
// keeps the record until expires; it notes what it was called with.
func appendTo(word string, expires time.Time, seen *[]string) session.UpdateFunc {
	return func(cur []byte) ([]byte, time.Time, error) {
		if seen != nil {
			if cur == nil {
				*seen = append(*seen, "<nil>")
			} else {
				*seen = append(*seen, string(cur))
			}
		}
		return append(append([]byte(nil), cur...), "+"+word...), expires, nil
	}
}

func testRecordUpdate(t *testing.T, s session.Store) {
	ctx := t.Context()
	var seen []string
	// No record: the update starts one.
	if err := s.UpdateRecord(ctx, "sso|u", base, appendTo("a", base.Add(time.Minute), &seen)); err != nil {
		t.Fatal(err)
	}
	wantRecord(t, s, "sso|u", base, "+a")
	// A live record: the update sees it, and its value and expiry replace it.
	if err := s.UpdateRecord(ctx, "sso|u", base, appendTo("b", base.Add(time.Hour), &seen)); err != nil {
		t.Fatal(err)
	}
	wantRecord(t, s, "sso|u", base.Add(30*time.Minute), "+a+b")
	// An expired record, by the caller's clock, is no record.
	if err := s.UpdateRecord(ctx, "sso|u", base.Add(time.Hour), appendTo("c", base.Add(2*time.Hour), &seen)); err != nil {
		t.Fatal(err)
	}
	wantRecord(t, s, "sso|u", base.Add(time.Hour), "+c")
	if want := []string{"<nil>", "+a", "<nil>"}; fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Errorf("update saw %q, want %q", seen, want)
	}
	// Other keys are untouched.
	wantNoRecord(t, s, "artifact|u", base)
}

func testRecordUpdateDeclined(t *testing.T, s session.Store) {
	ctx := t.Context()
	putRecord(t, s, "sso|d", "kept", base.Add(time.Hour))
	no := errors.New("not this one")
	err := s.UpdateRecord(ctx, "sso|d", base, func(cur []byte) ([]byte, time.Time, error) {
		return []byte("lost"), base.Add(time.Hour), fmt.Errorf("declined %q: %w", cur, no)
	})
	if !errors.Is(err, no) {
		t.Fatalf("UpdateRecord = %v, want the update's own error", err)
	}
	wantRecord(t, s, "sso|d", base, "kept")
	err = s.UpdateRecord(ctx, "sso|none", base, func([]byte) ([]byte, time.Time, error) {
		return []byte("lost"), base.Add(time.Hour), no
	})
	if !errors.Is(err, no) {
		t.Fatalf("UpdateRecord of a missing key = %v, want the update's own error", err)
	}
	wantNoRecord(t, s, "sso|none", base)
}

// testConcurrentUpdates has writers update one record at once, as two
// logins in one browser save one SSO session: every writer's change must
// be in the result. A writer told ErrConflict tries again, as a caller
// would.
func testConcurrentUpdates(t *testing.T, s session.Store) {
	ctx := t.Context()
	const writers = 8
	for round := range 5 {
		key := fmt.Sprintf("sso|w%d", round)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					err := s.UpdateRecord(ctx, key, base, appendTo(fmt.Sprint(i), base.Add(time.Hour), nil))
					if errors.Is(err, session.ErrConflict) {
						continue
					}
					if err != nil {
						t.Errorf("UpdateRecord: %v", err)
					}
					return
				}
			}()
		}
		wg.Wait()
		got, err := s.GetRecord(ctx, key, base)
		if err != nil {
			t.Fatal(err)
		}
		for i := range writers {
			if !strings.Contains(string(got)+"+", fmt.Sprintf("+%d+", i)) {
				t.Errorf("round %d: writer %d's update lost: %q", round, i, got)
			}
		}
		if n := strings.Count(string(got), "+"); n != writers {
			t.Errorf("round %d: %d updates kept, want %d: %q", round, n, writers, got)
		}
	}
}
