package itsme

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestExchangeUsesAssertionSignedAhead: the first exchange signs its client
// assertion on the spot and none ahead (no steady demand yet); the second,
// 5 s later, signs its own and one more in the background; the third sends
// that one (its iat is the earlier time), and once it is older than 20 s an
// exchange signs its own again. itsme checks each assertion as usual
// (signature, claims, single-use jti).
func TestExchangeUsesAssertionSignedAhead(t *testing.T) {
	for _, tt := range []struct {
		name  string
		stock int
		ahead bool
	}{
		{"default stock", 0, true},
		{"no stock", -1, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock(testNow)
			op, c, req := setup(t, func(cfg *Config) { cfg.Now, cfg.AssertionStock = clk.Now, tt.stock })
			op.set(func(op *fakeOP) { op.clock = clk })
			req.Claims.UserInfo = nil
			ctx := context.Background()
			iat := func() int64 {
				t.Helper()
				if _, err := c.Exchange(ctx, testCode, req); err != nil {
					t.Fatalf("Exchange: %v", err)
				}
				op.mu.Lock()
				defer op.mu.Unlock()
				v, _ := op.assertionClaim["iat"].(float64)
				exp, _ := op.assertionClaim["exp"].(float64)
				if exp-v != ClientAssertionLifetime.Seconds() {
					t.Errorf("assertion exp-iat = %v", exp-v)
				}
				return int64(v)
			}
			tokenEndpoint := op.issuer() + "/token"

			if got := iat(); got != testNow.Unix() {
				t.Errorf("first assertion iat = %d, want now (%d)", got, testNow.Unix())
			}
			waitStocked(t, c.assertions, tokenEndpoint, 0)
			if n := c.assertions.ready(tokenEndpoint); n != 0 {
				t.Errorf("%d assertions signed ahead after one token request", n)
			}
			clk.Advance(5 * time.Second)
			signedAhead := clk.Now().Unix()
			if got := iat(); got != signedAhead {
				t.Errorf("second assertion iat = %d, want now (%d)", got, signedAhead)
			}
			if tt.ahead {
				waitStocked(t, c.assertions, tokenEndpoint, 1)
			}
			clk.Advance(5 * time.Second)
			want := clk.Now().Unix()
			if tt.ahead {
				want = signedAhead
			}
			if got := iat(); got != want {
				t.Errorf("third assertion iat = %d, want %d", got, want)
			}
			if tt.ahead {
				waitStocked(t, c.assertions, tokenEndpoint, 1)
			}
			clk.Advance(maxStockedAssertionAge + time.Second)
			if got, want := iat(), clk.Now().Unix(); got != want {
				t.Errorf("assertion after the stock went stale: iat = %d, want now (%d)", got, want)
			}
			if got := op.tokenCalls.Load(); got != 4 {
				t.Errorf("token calls = %d, want 4", got)
			}
			if !tt.ahead && c.assertions.ready(tokenEndpoint) != 0 {
				t.Errorf("%d assertions stocked with the stock off", c.assertions.ready(tokenEndpoint))
			}
		})
	}
}

// waitStocked waits up to 10 s for key's shelf in s to hold n values and
// no reservation, that is for the signing under way in the background to
// end.
func waitStocked[T any](t *testing.T, s *stock[T], key string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		sh := s.byKey[key]
		ready, signing := 0, 0
		if sh != nil {
			ready, signing = len(sh.ready), sh.signing
		}
		s.mu.Unlock()
		if ready == n && signing == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stock %q: %d ready and %d signing, want %d and 0", key, ready, signing, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// panicReader panics on every read.
type panicReader struct{}

func (panicReader) Read([]byte) (int, error) { panic("test: randomness failed") }

// TestRestockSurvivesPanic: signing ahead runs on a goroutine of its own,
// where a panic would end the process; it is logged instead, and the
// reservation is given back.
func TestRestockSurvivesPanic(t *testing.T) {
	var logs bytes.Buffer
	_, c, _ := setup(t, func(cfg *Config) {
		cfg.Rand = panicReader{}
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	const aud = "https://idp.example/v2/token"
	c.assertions.take(aud, testNow)
	c.assertions.take(aud, testNow)
	r, ok := c.assertions.reserve(aud)
	if !ok {
		t.Fatal("reserve refused on an empty stock in demand")
	}
	restock(c, c.assertions, r, "a client assertion", func(now time.Time) (string, error) {
		return c.signClientAssertion(aud, now)
	})
	waitStocked(t, c.assertions, aud, 0)
	if !strings.Contains(logs.String(), "signing a client assertion ahead panicked") || !strings.Contains(logs.String(), "randomness failed") {
		t.Errorf("the panic was not logged:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "panicReader.Read") {
		t.Errorf("the panic's log lacks the stack of where it happened:\n%s", logs.String())
	}
}
