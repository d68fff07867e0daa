package itsme

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// keyCache holds itsme's public keys from its JWK Set: RSA signing keys
// (use "sig" or no use) and RSA encryption keys (use "enc"). It keeps the
// last good set when a fetch fails and refetches on an unknown kid at most
// once per JWKSRefetchCooldown (OIDC-18).
type keyCache struct {
	c   *Client
	sem chan struct{} // one fetch at a time

	mu        sync.Mutex
	uri       string
	sig       []jose.JSONWebKey
	enc       []jose.JSONWebKey
	fetched   time.Time // last successful fetch
	lastMiss  time.Time // last fetch caused by an unknown kid
	haveFetch bool
}

func newKeyCache(c *Client) *keyCache {
	return &keyCache{c: c, sem: make(chan struct{}, 1)}
}

// refresh fetches the JWK Set at uri now. On failure the cached keys are
// kept and the error is returned.
func (k *keyCache) refresh(ctx context.Context, uri string) error {
	if err := acquire(ctx, k.sem); err != nil {
		return newError(StageJWKS, CodeUnavailable, err)
	}
	defer func() { <-k.sem }()
	return k.fetchLocked(ctx, uri)
}

// fetchLocked fetches and installs the set; the caller holds k.sem.
func (k *keyCache) fetchLocked(ctx context.Context, uri string) error {
	body, err := k.c.get(ctx, uri, StageJWKS)
	if err != nil {
		return err
	}
	sig, enc, skipped, err := parseJWKS(body)
	if err != nil {
		return newError(StageJWKS, CodeProtocol, err)
	}
	k.mu.Lock()
	k.uri, k.sig, k.enc, k.fetched, k.haveFetch = uri, sig, enc, k.c.cfg.Now(), true
	k.mu.Unlock()
	k.c.log.Debug("itsme: JWK set fetched", "sig_keys", len(sig), "enc_keys", len(enc), "skipped_keys", skipped)
	return nil
}

// refreshOnMiss refetches after an unknown kid unless another miss caused
// a fetch within the cooldown. Either way the caller looks again: a miss
// that waited here for another's fetch finds the keys it brought.
func (k *keyCache) refreshOnMiss(ctx context.Context) error {
	if err := acquire(ctx, k.sem); err != nil {
		return newError(StageJWKS, CodeUnavailable, err)
	}
	defer func() { <-k.sem }()
	now := k.c.cfg.Now()
	k.mu.Lock()
	uri, last := k.uri, k.lastMiss
	allowed := uri != "" && (last.IsZero() || now.Sub(last) >= JWKSRefetchCooldown || now.Before(last))
	if allowed {
		k.lastMiss = now
	}
	k.mu.Unlock()
	if !allowed {
		return nil
	}
	return k.fetchLocked(ctx, uri)
}

// refreshIfStale refetches a set older than MetadataTTL, keeping the old
// one on failure.
func (k *keyCache) refreshIfStale(ctx context.Context) {
	k.mu.Lock()
	stale := k.uri != "" && k.c.cfg.Now().Sub(k.fetched) >= MetadataTTL
	uri := k.uri
	k.mu.Unlock()
	if !stale {
		return
	}
	if err := k.refresh(ctx, uri); err != nil {
		k.c.log.Warn("itsme: JWK set refresh failed, keeping the last good set", "err", err)
	}
}

// signingKeys returns the signing keys for kid (every signing key when
// kid is empty), refetching once on an unknown kid.
func (k *keyCache) signingKeys(ctx context.Context, kid string) ([]*rsa.PublicKey, error) {
	k.refreshIfStale(ctx)
	if keys := k.lookupSig(kid); len(keys) > 0 {
		return keys, nil
	}
	if err := k.refreshOnMiss(ctx); err != nil {
		k.mu.Lock()
		have := k.haveFetch
		k.mu.Unlock()
		if !have {
			return nil, err
		}
		k.c.log.Warn("itsme: JWK set refetch for an unknown kid failed", "err", err)
	}
	if keys := k.lookupSig(kid); len(keys) > 0 {
		return keys, nil
	}
	return nil, fmt.Errorf("%w (kid %.64q)", ErrUnknownKey, kid)
}

func (k *keyCache) lookupSig(kid string) []*rsa.PublicKey {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []*rsa.PublicKey
	for _, key := range k.sig {
		if kid == "" || key.KeyID == kid {
			out = append(out, key.Key.(*rsa.PublicKey))
		}
	}
	return out
}

// encryptionKey returns itsme's first use=enc RSA key, for request
// objects.
func (k *keyCache) encryptionKey(ctx context.Context) (jose.JSONWebKey, error) {
	k.refreshIfStale(ctx)
	k.mu.Lock()
	enc := k.enc
	k.mu.Unlock()
	if len(enc) == 0 {
		if err := k.refreshOnMiss(ctx); err != nil {
			return jose.JSONWebKey{}, err
		}
		k.mu.Lock()
		enc = k.enc
		k.mu.Unlock()
	}
	if len(enc) == 0 {
		return jose.JSONWebKey{}, newError(StageJWKS, CodeProtocol, fmt.Errorf("%w: no use=enc RSA key with a kid", ErrJWKS))
	}
	return enc[0], nil
}

// minRSABits is the smallest itsme key accepted.
const minRSABits = 2048

// parseJWKS keeps the usable RSA public keys of a JWK Set. Keys that do
// not parse, are not RSA, are too small, carry private members or have a
// foreign alg are skipped (and counted), so one odd key does not break
// the set.
func parseJWKS(body []byte) (sig, enc []jose.JSONWebKey, skipped int, err error) {
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, nil, 0, fmt.Errorf("%w: %w", ErrJWKS, err)
	}
	for _, r := range raw.Keys {
		var key jose.JSONWebKey
		if err := key.UnmarshalJSON(r); err != nil {
			skipped++
			continue
		}
		pub, ok := key.Key.(*rsa.PublicKey)
		if !ok || pub.N.BitLen() < minRSABits {
			skipped++
			continue
		}
		switch {
		case (key.Use == "sig" || key.Use == "") && (key.Algorithm == "" || key.Algorithm == string(jose.RS256)):
			sig = append(sig, key)
		case key.Use == "enc" && key.KeyID != "" && (key.Algorithm == "" || key.Algorithm == string(jose.RSA_OAEP) || key.Algorithm == string(jose.RSA_OAEP_256)):
			enc = append(enc, key)
		default:
			skipped++
		}
	}
	if len(sig) == 0 {
		return nil, nil, skipped, fmt.Errorf("%w: no usable RSA signing key", ErrJWKS)
	}
	return sig, enc, skipped, nil
}
