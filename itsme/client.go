package itsme

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/samlbridge/samlbridge/internal/breaker"
)

// Client is the bridge's relying party towards itsme. It is safe for
// concurrent use. Discovery and the JWK Set are fetched lazily and cached.
type Client struct {
	cfg        Config
	log        *slog.Logger
	keys       *keyCache
	breaker    *breaker.Breaker
	assertions *stock[string]
	// requestObjects holds request objects signed ahead, by kind.
	requestObjects *stock[signedRequest]

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
	c := &Client{cfg: cfg, log: cfg.Logger, discoverSem: make(chan struct{}, 1), assertions: newStock[string](cfg.AssertionStock, 1, maxStockedAssertionAge),
		requestObjects: newStock[signedRequest](cfg.RequestObjectStock, requestKinds, maxStockedRequestAge)}
	c.keys = newKeyCache(c)
	bc := cfg.Breaker
	bc.Now = cfg.Now
	bc.OnChange = func(from, to breaker.State) {
		c.log.Warn("itsme: circuit breaker changed state", "from", from.String(), "to", to.String())
		if cfg.Observer != nil {
			cfg.Observer.ObserveBreaker(from, to)
		}
	}
	b, err := breaker.New(bc)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	c.breaker = b
	return c, nil
}

// BreakerState returns the state of the circuit breaker in front of
// itsme.
func (c *Client) BreakerState() breaker.State { return c.breaker.State() }

// acquire takes a one-slot semaphore unless ctx ends first.
func acquire(ctx context.Context, sem chan struct{}) error {
	select {
	case sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
