package itsme

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseIDToken feeds arbitrary strings to the token processor
// (size cap, JWE header checks, decryption, inner JWS checks, signature,
// strict JSON, claim decoding and validation). It must never panic, and
// only the valid seed may pass.
func FuzzParseIDToken(f *testing.F) {
	clk := newClock(testNow)
	op := newFakeOP(f, clk)
	c, err := New(Config{
		Issuer: op.issuer(), ClientID: testClientID, RedirectURI: testRedirectURI,
		ServiceCodes: testServiceCodes, Keys: op.keys.bridge, Now: clk.Now,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		f.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Discover(ctx); err != nil {
		f.Fatal(err)
	}
	const nonce = "fuzz-nonce-0123456789abcdef"
	now := testNow.Unix()
	valid := op.nested(map[string]any{
		"iss": op.issuer(), "sub": testSub, "aud": testClientID, "exp": now + 300, "iat": now,
		"nonce": nonce, "acr": ACRBasic, "address": `{"locality":"Bruxelles"}`,
	})
	if payload, err := c.openNestedJWT(ctx, valid); err != nil {
		f.Fatalf("the valid seed does not open: %v", err)
	} else if cl, err := parseClaims(payload); err != nil || c.validateIDToken(cl, nonce) != nil {
		f.Fatalf("the valid seed does not validate: %v", err)
	}
	f.Add(valid)
	for _, n := range []int{0, 1, len(valid) / 2, strings.LastIndexByte(valid, '.'), len(valid) - 1} {
		f.Add(valid[:n])
	}
	f.Add(strings.Repeat(".", 4))
	f.Add(strings.Repeat(".", 1000))
	f.Add(op.signed(map[string]any{"sub": "x"}))
	if golden, err := os.ReadFile(filepath.Join("testdata", "request_object.golden")); err == nil {
		f.Add(string(golden))
	}

	f.Fuzz(func(t *testing.T, raw string) {
		payload, err := c.openNestedJWT(ctx, raw)
		if err != nil {
			return
		}
		cl, err := parseClaims(payload)
		if err != nil {
			return
		}
		if err := c.validateIDToken(cl, nonce); err != nil {
			return
		}
		_ = userClaims(cl.all)
		if raw != valid {
			t.Errorf("a token other than the valid seed passed: %.200q", raw)
		}
	})
}
