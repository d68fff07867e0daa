package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Bounds of the fetches the emulator makes (client JWK Sets, request_uri).
const (
	fetchTimeout        = 5 * time.Second
	maxFetchBytes       = 64 << 10
	jwksCacheTTL        = 10 * time.Minute
	jwksRefetchCooldown = 10 * time.Second
)

// clientKeys are a client's usable public keys by use.
type clientKeys struct {
	sig, enc []jose.JSONWebKey
	fetched  time.Time
}

// hasSig reports whether a use=sig key has the kid.
func (k *clientKeys) hasSig(kid string) bool {
	for _, key := range k.sig {
		if key.KeyID == kid {
			return true
		}
	}
	return false
}

// keyCache caches the JWK Sets fetched from clients' JWKSURL.
type keyCache struct {
	mu      sync.Mutex
	entries map[string]*clientKeys
}

// keysFor returns c's keys: the static JWKS, or the JWK Set from JWKSURL,
// fetched when not cached, stale, or lacking kid (at most once per
// jwksRefetchCooldown). A failed refetch falls back to the cached set.
func (e *Emulator) keysFor(ctx context.Context, c *Client, kid string) (*clientKeys, error) {
	if c.JWKS != nil {
		sig, enc, _ := splitKeys(*c.JWKS)
		return &clientKeys{sig: sig, enc: enc}, nil
	}
	now := e.cfg.Now()
	e.keys.mu.Lock()
	cached := e.keys.entries[c.ID]
	e.keys.mu.Unlock()
	if cached != nil {
		age := now.Sub(cached.fetched)
		if age >= 0 && age < jwksCacheTTL && (kid == "" || cached.hasSig(kid) || age < jwksRefetchCooldown) {
			return cached, nil
		}
	}
	body, err := e.fetch(ctx, c.JWKSURL)
	var set jose.JSONWebKeySet
	if err == nil {
		if jerr := json.Unmarshal(body, &set); jerr != nil {
			err = fmt.Errorf("%w: client JWK Set: %w", ErrFetch, jerr)
		}
	}
	if err != nil {
		e.log.Warn("emulator: client JWK Set fetch failed", "client_id", c.ID, "err", err)
		if cached != nil {
			return cached, nil
		}
		return nil, err
	}
	sig, enc, _ := splitKeys(set)
	fresh := &clientKeys{sig: sig, enc: enc, fetched: now}
	e.keys.mu.Lock()
	e.keys.entries[c.ID] = fresh
	e.keys.mu.Unlock()
	return fresh, nil
}

// fetch GETs a client-registered URL with the size and time bounds.
func (e *Emulator) fetch(ctx context.Context, u string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFetch, err)
	}
	resp, err := e.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFetch, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: HTTP %d", ErrFetch, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxFetchBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFetch, err)
	}
	if len(body) > maxFetchBytes {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrFetch, maxFetchBytes)
	}
	return body, nil
}
