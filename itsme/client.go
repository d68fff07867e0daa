package itsme

import (
	"context"
	"log/slog"
	"sync"
)

// Client is the bridge's relying party towards itsme. It is safe for
// concurrent use. Discovery and the JWK Set are fetched lazily and cached.
type Client struct {
	cfg  Config
	log  *slog.Logger
	keys *keyCache

	discoverSem chan struct{} // one discovery at a time
	mu          sync.Mutex    // guards meta
	meta        *providerMetadata
}

// New validates cfg (reporting every problem at once, wrapped in
// ErrConfig) and returns a Client. It does no network I/O.
func New(cfg Config) (*Client, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	c := &Client{cfg: cfg, log: cfg.Logger, discoverSem: make(chan struct{}, 1)}
	c.keys = newKeyCache(c)
	return c, nil
}

// acquire takes a one-slot semaphore unless ctx ends first.
func acquire(ctx context.Context, sem chan struct{}) error {
	select {
	case sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
