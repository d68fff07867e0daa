package itsme

import (
	"fmt"
	"runtime/debug"
	"sync"
	"time"
)

// clientAssertion returns a private_key_jwt client assertion for the token
// endpoint tokenEndpoint: one signed ahead of need when the stock has a
// fresh one, otherwise one signed now. Either way one is then signed in
// the background for the next caller, so under load the token request
// does not wait for an RSA signature.
func (c *Client) clientAssertion(tokenEndpoint string) (string, error) {
	now := c.cfg.Now()
	jwt, ok := c.assertions.take(tokenEndpoint, now)
	if c.assertions.reserve() {
		go c.stockAssertion(tokenEndpoint)
	}
	if ok {
		return jwt, nil
	}
	return c.signClientAssertion(tokenEndpoint, now)
}

// stockAssertion signs one client assertion and puts it in the stock; on
// failure it only gives back its reservation, and the next caller signs
// its own and sees the error. It runs on its own goroutine, so a panic is
// logged rather than taking the process down.
func (c *Client) stockAssertion(tokenEndpoint string) {
	now := c.cfg.Now()
	var jwt string
	ok := false
	defer func() {
		if v := recover(); v != nil {
			c.log.Error("itsme: signing a client assertion ahead panicked", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		}
		c.assertions.put(tokenEndpoint, jwt, now.Truncate(time.Second), ok)
	}()
	jwt, err := c.signClientAssertion(tokenEndpoint, now)
	ok = err == nil
}

// signClientAssertion returns a fresh private_key_jwt client assertion
// (RFC 7523 §3, OIDC-10): iss = sub = client_id, aud = the token endpoint
// URL, a new random jti on every call, iat = now, and exp 60 s later,
// signed RS256 with the bridge's kid.
func (c *Client) signClientAssertion(tokenEndpoint string, now time.Time) (string, error) {
	jti, err := randomString(c.cfg.Rand, jtiBytes)
	if err != nil {
		return "", err
	}
	now = now.Truncate(time.Second)
	return c.signJWT(map[string]any{
		"iss": c.cfg.ClientID,
		"sub": c.cfg.ClientID,
		"aud": tokenEndpoint,
		"jti": jti,
		"iat": now.Unix(),
		"exp": now.Add(ClientAssertionLifetime).Unix(),
	})
}

// maxStockedAssertionAge is how old a client assertion signed ahead may be
// when it is used: it then has at least 40 of its 60 s left, for the token
// request and for a clock at itsme that runs ahead of ours.
const maxStockedAssertionAge = 20 * time.Second

// assertionStock holds up to size client assertions signed ahead of need.
// Each one is handed out once and is never older than
// maxStockedAssertionAge; its jti is as fresh as one signed on the spot.
// It never signs on its own: one is signed for each one taken, so an idle
// bridge signs nothing. The zero size keeps nothing in stock.
type assertionStock struct {
	size int

	mu      sync.Mutex
	ready   []stockedAssertion // oldest first
	signing int                // reservations: signatures under way
}

// stockedAssertion is one client assertion signed ahead.
type stockedAssertion struct {
	aud    string
	jwt    string
	signed time.Time // its iat
}

// take returns the oldest assertion for aud that is still fresh at now,
// and drops those before it: stale, or for another token endpoint.
func (s *assertionStock) take(aud string, now time.Time) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.ready) > 0 {
		a := s.ready[0]
		s.ready[0] = stockedAssertion{} // the slice's array keeps no signed token
		s.ready = s.ready[1:]
		if a.aud == aud && !a.signed.After(now) && now.Sub(a.signed) <= maxStockedAssertionAge {
			return a.jwt, true
		}
	}
	return "", false
}

// reserve reports whether one more assertion may be signed for the stock,
// and if so counts it as under way.
func (s *assertionStock) reserve() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ready)+s.signing >= s.size {
		return false
	}
	s.signing++
	return true
}

// put ends a reservation, adding its assertion when ok.
func (s *assertionStock) put(aud, jwt string, signed time.Time, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signing--
	if ok {
		s.ready = append(s.ready, stockedAssertion{aud: aud, jwt: jwt, signed: signed})
	}
}
