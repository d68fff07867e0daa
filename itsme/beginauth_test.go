package itsme

import (
	"context"
	"errors"
	"net/url"
	"testing"
	"time"
)

// TestBeginAuthUsesRequestObjectSignedAhead: BeginAuth makes the secrets
// itself and returns them with a URL whose query and request object carry
// them. A kind asked for twice within 20 s gets one signed in the
// background, which the next request of that kind uses (its iat is the
// earlier time) with secrets no other login got; another kind, or a stock
// older than 20 s, signs on the spot.
func TestBeginAuthUsesRequestObjectSignedAhead(t *testing.T) {
	for _, tt := range []struct {
		name    string
		stock   int
		encrypt bool
		ahead   bool
	}{
		{"default stock, encrypted", 0, true, true},
		{"default stock, signed only", 0, false, true},
		{"no stock", -1, true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock(testNow)
			op, c, tmpl := setup(t, func(cfg *Config) {
				cfg.Now, cfg.RequestObjectStock, cfg.EncryptRequestObject = clk.Now, tt.stock, tt.encrypt
			})
			tmpl.State, tmpl.Nonce, tmpl.CodeVerifier = "", "", ""
			kind, err := requestKind(tmpl)
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			// begin runs BeginAuth for req and returns its request
			// object's iat, after checking that the URL, the request
			// object and the returned request agree on fresh secrets.
			begin := func(req AuthRequest) int64 {
				t.Helper()
				got, raw, err := c.BeginAuth(context.Background(), req)
				if err != nil {
					t.Fatalf("BeginAuth: %v", err)
				}
				if got.Service != req.Service || got.UILocales[0] != req.UILocales[0] {
					t.Errorf("BeginAuth changed what was asked: %+v", got)
				}
				for _, v := range []string{got.State, got.Nonce, got.CodeVerifier} {
					if seen[v] || len(v) < 32 {
						t.Errorf("secret %q reused or short", v)
					}
					seen[v] = true
				}
				u, err := url.Parse(raw)
				if err != nil {
					t.Fatal(err)
				}
				q := u.Query()
				cl := requestObjectOf(t, op, q.Get("request"), tt.encrypt)
				want := map[string]string{"state": got.State, "nonce": got.Nonce, "code_challenge": s256(got.CodeVerifier), "ui_locales": req.UILocales[0]}
				for k, v := range want {
					if q.Get(k) != v || cl[k] != v {
						t.Errorf("%s: query %q, request object %v; want %q", k, q.Get(k), cl[k], v)
					}
				}
				iat, _ := cl["iat"].(float64)
				return int64(iat)
			}

			if got := begin(tmpl); got != testNow.Unix() {
				t.Errorf("first iat = %d, want now", got)
			}
			waitStocked(t, c.requestObjects, kind, 0)
			clk.Advance(5 * time.Second)
			signedAhead := clk.Now().Unix()
			if got := begin(tmpl); got != signedAhead {
				t.Errorf("second iat = %d, want now (%d)", got, signedAhead)
			}
			if tt.ahead {
				waitStocked(t, c.requestObjects, kind, 1)
			}
			clk.Advance(5 * time.Second)
			other := tmpl
			other.UILocales = []string{"nl"}
			if got := begin(other); got != clk.Now().Unix() {
				t.Errorf("another kind's iat = %d, want now (%d): it used a request object made for %q", got, clk.Now().Unix(), tmpl.UILocales)
			}
			want := clk.Now().Unix()
			if tt.ahead {
				want = signedAhead
			}
			if got := begin(tmpl); got != want {
				t.Errorf("third iat = %d, want %d", got, want)
			}
			if tt.ahead {
				waitStocked(t, c.requestObjects, kind, 1)
			}
			clk.Advance(maxStockedRequestAge + time.Second)
			if got := begin(tmpl); got != clk.Now().Unix() {
				t.Errorf("iat after the stock went stale = %d, want now (%d)", got, clk.Now().Unix())
			}
			if !tt.ahead && c.requestObjects.ready(kind) != 0 {
				t.Errorf("%d request objects stocked with the stock off", c.requestObjects.ready(kind))
			}
		})
	}
}

func TestBeginAuthRefuses(t *testing.T) {
	_, c, tmpl := setup(t, nil)
	unknown := tmpl
	unknown.State, unknown.Nonce, unknown.CodeVerifier = "", "", ""
	unknown.Service = "shopping"
	for _, tt := range []struct {
		name string
		req  AuthRequest
		want error
	}{
		{"secrets given", tmpl, ErrInvalidRequest},
		{"unknown service", unknown, ErrUnknownService},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, u, err := c.BeginAuth(context.Background(), tt.req)
			if !errors.Is(err, tt.want) || u != "" {
				t.Fatalf("BeginAuth = %q, %v; want %v", u, err, tt.want)
			}
			if asError(t, err).Stage != StageAuthorization {
				t.Errorf("stage = %q", asError(t, err).Stage)
			}
			if got.State != tt.req.State {
				t.Errorf("the request came back with other secrets")
			}
		})
	}
	if n := len(keys(c.requestObjects)); n != 0 {
		t.Errorf("%d stock shelves made for refused requests", n)
	}
}
