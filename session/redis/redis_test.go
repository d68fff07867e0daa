package redis

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/samlbridge/samlbridge/internal/testenv"
	"github.com/samlbridge/samlbridge/session"
	"github.com/samlbridge/samlbridge/session/conformance"
)

var secret = bytes.Repeat([]byte{7}, 32)

func newStore(t *testing.T, addr string) *Store {
	t.Helper()
	p := make([]byte, 8)
	_, _ = rand.Read(p)
	s, err := Open(Config{URL: "redis://" + addr, Secret: secret, KeyPrefix: "test-" + hex.EncodeToString(p) + ":"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	addr := testenv.RedisAddr(t)
	conformance.RunTests(t, func(t *testing.T) session.Store { return newStore(t, addr) })
}

// TestNothingInClear checks that neither the keys nor the values in Redis
// reveal a transaction's secrets or the SP's RelayState.
func TestNothingInClear(t *testing.T) {
	addr := testenv.RedisAddr(t)
	s := newStore(t, addr)
	defer s.Close()
	now := time.Now()
	tx := session.Transaction{
		State: "state-canary-5f2a", Nonce: "nonce-canary-77c1", CodeVerifier: "verifier-canary-90ab",
		BrowserBinding: "binding-canary", SPEntityID: "https://sp.example/", RequestID: "req-canary",
		ACSURL: "https://sp.example/acs", RelayState: "relay-canary-secret", HasRelayState: true,
		Created: now, Expires: now.Add(time.Minute),
	}
	if err := s.Put(t.Context(), tx); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkSeen(t.Context(), "authnreq|https://sp.example/|req-canary", now, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	raw := goredis.NewClient(&goredis.Options{Addr: addr})
	defer raw.Close()
	keys, err := raw.Keys(t.Context(), s.prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Fatalf("want 2 keys, got %q", keys)
	}
	for _, k := range keys {
		v, _ := raw.Get(t.Context(), k).Result()
		for _, canary := range []string{"canary", "sp.example"} {
			if strings.Contains(k, canary) || strings.Contains(v, canary) {
				t.Errorf("Redis key %q or its value reveals %q", k, canary)
			}
		}
		if ttl := raw.PTTL(t.Context(), k).Val(); ttl <= 0 || ttl > 2*time.Minute {
			t.Errorf("key %q has TTL %v; every key must expire", k, ttl)
		}
	}
}

// TestTamperedValueIsNotFound checks that a value altered in Redis is
// refused rather than trusted.
func TestTamperedValueIsNotFound(t *testing.T) {
	addr := testenv.RedisAddr(t)
	s := newStore(t, addr)
	defer s.Close()
	now := time.Now()
	if err := s.Put(t.Context(), session.Transaction{State: "s", Created: now, Expires: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	raw := goredis.NewClient(&goredis.Options{Addr: addr})
	defer raw.Close()
	k := s.key("tx", "s")
	v, err := raw.Get(t.Context(), k).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	v[len(v)-1] ^= 1
	raw.Set(t.Context(), k, v, time.Minute)
	if _, err := s.Take(t.Context(), "s", now); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("tampered value: got %v, want ErrNotFound", err)
	}
}

// TestStoreDownIsAnError checks that an unreachable Redis gives
// ErrUnavailable quickly, never a silent success.
func TestStoreDownIsAnError(t *testing.T) {
	s, err := Open(Config{URL: "redis://127.0.0.1:1", Secret: secret, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	ctx := context.Background()
	if err := s.Put(ctx, session.Transaction{State: "x", Expires: now.Add(time.Minute)}); !errors.Is(err, session.ErrUnavailable) {
		t.Errorf("Put: %v", err)
	}
	if _, err := s.Take(ctx, "x", now); !errors.Is(err, session.ErrUnavailable) {
		t.Errorf("Take: %v", err)
	}
	if err := s.MarkSeen(ctx, "k", now, now.Add(time.Minute)); !errors.Is(err, session.ErrUnavailable) {
		t.Errorf("MarkSeen: %v", err)
	}
	if err := s.Ping(ctx); !errors.Is(err, session.ErrUnavailable) {
		t.Errorf("Ping: %v", err)
	}
	conformance.CheckRecordsUnavailable(t, s)
}

// TestRecordsSealedAndBound checks that a record's key and value reveal
// neither the record key nor its content, that its TTL tracks its expiry,
// and that a sealed value copied or altered in Redis is refused.
func TestRecordsSealedAndBound(t *testing.T) {
	addr := testenv.RedisAddr(t)
	s := newStore(t, addr)
	defer s.Close()
	ctx := t.Context()
	now := time.Now()
	if err := s.PutRecord(ctx, "artifact|handle-canary", []byte("response-canary for sp.example"), now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutRecord(ctx, "artifact|other", []byte("other response"), now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	raw := goredis.NewClient(&goredis.Options{Addr: addr})
	defer raw.Close()
	keys, err := raw.Keys(ctx, s.prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Fatalf("want 2 keys, got %q", keys)
	}
	for _, k := range keys {
		v, _ := raw.Get(ctx, k).Result()
		for _, canary := range []string{"canary", "sp.example", "artifact", "handle"} {
			if strings.Contains(k, canary) || strings.Contains(v, canary) {
				t.Errorf("Redis key %q or its value reveals %q", k, canary)
			}
		}
		// One minute of lifetime plus recordGrace.
		if ttl := raw.PTTL(ctx, k).Val(); ttl <= recordGrace || ttl > time.Minute+recordGrace {
			t.Errorf("key %q has TTL %v, want about %v", k, ttl, time.Minute+recordGrace)
		}
	}

	// A value moved to another record's key does not open there.
	k1, k2 := s.key("rec", "artifact|handle-canary"), s.key("rec", "artifact|other")
	v1, err := raw.Get(ctx, k1).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	raw.Set(ctx, k2, v1, time.Minute)
	if got, err := s.TakeRecord(ctx, "artifact|other", now); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("value moved between keys: got %q, %v; want ErrNotFound", got, err)
	}
	// An altered value is refused.
	v1[len(v1)-1] ^= 1
	raw.Set(ctx, k1, v1, time.Minute)
	if got, err := s.GetRecord(ctx, "artifact|handle-canary", now); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("tampered value: got %q, %v; want ErrNotFound", got, err)
	}
	// A value too short to hold a nonce is refused, not a panic.
	raw.Set(ctx, k1, "x", time.Minute)
	if _, err := s.GetRecord(ctx, "artifact|handle-canary", now); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("short value: got %v, want ErrNotFound", err)
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		url     string
		addrs   []string
		master  string
		cluster bool
		wantErr bool
	}{
		{url: "redis://127.0.0.1:6379/2", addrs: []string{"127.0.0.1:6379"}},
		{url: "redis+sentinel://u:p@10.0.0.1:26379,10.0.0.2:26379/mymaster", addrs: []string{"10.0.0.1:26379", "10.0.0.2:26379"}, master: "mymaster"},
		{url: "redis+cluster://h1:7000,h2:7001", addrs: []string{"h1:7000", "h2:7001"}, cluster: true},
		{url: "redis+sentinel://h1:26379", wantErr: true},
		{url: "redis+cluster://h1", wantErr: true},
		{url: "memcached://h:1", wantErr: true},
		{url: "127.0.0.1:6379", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			o, err := ParseURL(tc.url)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if strings.Join(o.Addrs, ",") != strings.Join(tc.addrs, ",") || o.MasterName != tc.master || o.IsClusterMode != tc.cluster {
				t.Errorf("got %+v", o)
			}
		})
	}
}

func TestOpenNeedsSecret(t *testing.T) {
	if _, err := Open(Config{URL: "redis://127.0.0.1:6379", Secret: []byte("short")}); err == nil {
		t.Error("a short secret was accepted")
	}
}
