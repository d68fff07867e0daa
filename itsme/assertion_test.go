package itsme

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestAssertionStock(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	const aud, other = "https://idp.example/v2/token", "https://elsewhere.example/v2/token"
	type put struct {
		aud, jwt string
		at       time.Time
		ok       bool
	}
	tests := []struct {
		name   string
		size   int
		puts   []put
		takeAt time.Time
		want   string // "" means nothing taken
		left   int    // still in stock after the take
	}{
		{name: "empty", size: 4, takeAt: t0},
		{name: "the oldest fresh one first", size: 4, puts: []put{{aud, "a", t0, true}, {aud, "b", t0.Add(time.Second), true}}, takeAt: t0.Add(2 * time.Second), want: "a", left: 1},
		{name: "stale ones dropped", size: 4, puts: []put{{aud, "old", t0, true}, {aud, "new", t0.Add(10 * time.Second), true}}, takeAt: t0.Add(25 * time.Second), want: "new"},
		{name: "20 s old is still fresh", size: 4, puts: []put{{aud, "a", t0, true}}, takeAt: t0.Add(maxStockedAssertionAge), want: "a"},
		{name: "all stale", size: 4, puts: []put{{aud, "a", t0, true}, {aud, "b", t0, true}}, takeAt: t0.Add(maxStockedAssertionAge + time.Second)},
		{name: "another token endpoint's dropped", size: 4, puts: []put{{other, "x", t0, true}, {aud, "a", t0, true}}, takeAt: t0, want: "a"},
		{name: "signed after now (clock went back)", size: 4, puts: []put{{aud, "a", t0.Add(time.Minute), true}}, takeAt: t0},
		{name: "failed signature not stocked", size: 4, puts: []put{{aud, "", t0, false}}, takeAt: t0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &assertionStock{size: tt.size}
			for _, p := range tt.puts {
				if !s.reserve() {
					t.Fatal("reserve refused below the stock's size")
				}
				s.put(p.aud, p.jwt, p.at, p.ok)
			}
			got, ok := s.take(aud, tt.takeAt)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("take = %q, %v; want %q", got, ok, tt.want)
			}
			if len(s.ready) != tt.left || s.signing != 0 {
				t.Errorf("after take: %d ready, %d signing; want %d, 0", len(s.ready), s.signing, tt.left)
			}
		})
	}
}

func TestAssertionStockReservesUpToSize(t *testing.T) {
	for _, size := range []int{0, 1, 4} {
		s := &assertionStock{size: size}
		n := 0
		for s.reserve() {
			n++
			if n > size {
				break
			}
		}
		if n != size {
			t.Errorf("size %d: %d reservations, want %d", size, n, size)
		}
		if size > 0 {
			s.put("aud", "jwt", time.Now(), true) // one signed: still full
			if s.reserve() {
				t.Errorf("size %d: reserve succeeded with the stock full", size)
			}
			s.take("aud", time.Now())
			if !s.reserve() {
				t.Errorf("size %d: reserve refused after a take", size)
			}
		}
	}
}

// TestExchangeUsesAssertionSignedAhead: the first exchange signs its client
// assertion on the spot and one more in the background; the next exchange
// sends that one (its iat is the earlier time), and once it is older than
// 20 s an exchange signs its own again. itsme checks each assertion as
// usual (signature, claims, single-use jti).
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
			stocked := func() {
				t.Helper()
				deadline := time.Now().Add(10 * time.Second)
				for c.stocked() == 0 && tt.ahead {
					if time.Now().After(deadline) {
						t.Fatal("no assertion was signed ahead")
					}
					time.Sleep(time.Millisecond)
				}
			}

			if got := iat(); got != testNow.Unix() {
				t.Errorf("first assertion iat = %d, want now (%d)", got, testNow.Unix())
			}
			stocked()
			clk.Advance(5 * time.Second)
			want := testNow.Add(5 * time.Second).Unix()
			if tt.ahead {
				want = testNow.Unix()
			}
			if got := iat(); got != want {
				t.Errorf("second assertion iat = %d, want %d", got, want)
			}
			stocked()
			clk.Advance(maxStockedAssertionAge + time.Second)
			if got, want := iat(), clk.Now().Unix(); got != want {
				t.Errorf("assertion after the stock went stale: iat = %d, want now (%d)", got, want)
			}
			if got := op.tokenCalls.Load(); got != 3 {
				t.Errorf("token calls = %d, want 3", got)
			}
			if !tt.ahead && c.stocked() != 0 {
				t.Errorf("%d assertions stocked with the stock off", c.stocked())
			}
		})
	}
}

// stocked returns how many assertions are ready in c's stock.
func (c *Client) stocked() int {
	c.assertions.mu.Lock()
	defer c.assertions.mu.Unlock()
	return len(c.assertions.ready)
}

// panicReader panics on every read.
type panicReader struct{}

func (panicReader) Read([]byte) (int, error) { panic("test: randomness failed") }

// TestStockAssertionSurvivesPanic: signing ahead runs on a goroutine of
// its own, where a panic would end the process; it is logged instead, and
// the reservation is given back.
func TestStockAssertionSurvivesPanic(t *testing.T) {
	var logs bytes.Buffer
	_, c, _ := setup(t, func(cfg *Config) {
		cfg.Rand = panicReader{}
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	if !c.assertions.reserve() {
		t.Fatal("reserve refused on an empty stock")
	}
	c.stockAssertion("https://idp.example/v2/token")
	if c.stocked() != 0 || c.assertions.signing != 0 {
		t.Errorf("after a panic: %d ready, %d signing; want 0, 0", c.stocked(), c.assertions.signing)
	}
	if !strings.Contains(logs.String(), "panicked") || !strings.Contains(logs.String(), "randomness failed") {
		t.Errorf("the panic was not logged:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "panicReader.Read") {
		t.Errorf("the panic's log lacks the stack of where it happened:\n%s", logs.String())
	}
}
