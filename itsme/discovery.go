package itsme

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// providerMetadata is the part of itsme's discovery document the Client
// uses.
type providerMetadata struct {
	Issuer                string   `json:"issuer"`
	AuthorizationEndpoint string   `json:"authorization_endpoint"`
	TokenEndpoint         string   `json:"token_endpoint"`
	UserInfoEndpoint      string   `json:"userinfo_endpoint"`
	JWKSURI               string   `json:"jwks_uri"`
	IDTokenSigningAlgs    []string `json:"id_token_signing_alg_values_supported"`
	ROEncryptionAlgs      []string `json:"request_object_encryption_alg_values_supported"`
	ROEncryptionEncs      []string `json:"request_object_encryption_enc_values_supported"`

	fetched time.Time
}

// discoveryURL is where the discovery document of issuer lives.
func discoveryURL(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
}

// Discover fetches itsme's discovery document and JWK Set and caches them
// for MetadataTTL. AuthCodeURL and Exchange call it themselves when
// needed; calling it at startup only surfaces problems early. Errors are
// *Error with Stage "discovery" or "jwks".
func (c *Client) Discover(ctx context.Context) error {
	_, err := c.discover(ctx, true)
	return err
}

// provider returns the cached metadata, refreshing it when older than
// MetadataTTL. When a refresh fails the last good metadata is kept.
func (c *Client) provider(ctx context.Context) (*providerMetadata, error) {
	c.mu.Lock()
	meta := c.meta
	c.mu.Unlock()
	if meta != nil && c.cfg.Now().Sub(meta.fetched) < MetadataTTL {
		return meta, nil
	}
	fresh, err := c.discover(ctx, false)
	if err != nil {
		if meta != nil {
			c.log.Warn("itsme: discovery refresh failed, keeping the last good document", "err", err)
			return meta, nil
		}
		return nil, err
	}
	return fresh, nil
}

// discover fetches discovery and the JWK Set. Unless force is set, a
// concurrent caller's fresh result is reused.
func (c *Client) discover(ctx context.Context, force bool) (*providerMetadata, error) {
	if err := acquire(ctx, c.discoverSem); err != nil {
		return nil, newError(StageDiscovery, CodeUnavailable, err)
	}
	defer func() { <-c.discoverSem }()
	c.mu.Lock()
	meta := c.meta
	c.mu.Unlock()
	if !force && meta != nil && c.cfg.Now().Sub(meta.fetched) < MetadataTTL {
		return meta, nil
	}

	body, err := c.get(ctx, discoveryURL(c.cfg.Issuer), StageDiscovery)
	if err != nil {
		return nil, err
	}
	fresh, err := c.parseDiscovery(body)
	if err != nil {
		return nil, newError(StageDiscovery, CodeProtocol, err)
	}
	if err := c.keys.refresh(ctx, fresh.JWKSURI); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.meta = fresh
	c.mu.Unlock()
	c.log.Debug("itsme: discovery fetched", "issuer", fresh.Issuer)
	return fresh, nil
}

func (c *Client) parseDiscovery(body []byte) (*providerMetadata, error) {
	var m providerMetadata
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDiscovery, err)
	}
	if m.Issuer != c.cfg.Issuer {
		return nil, fmt.Errorf("%w: issuer %.100q, want %q", ErrDiscovery, m.Issuer, c.cfg.Issuer)
	}
	for _, ep := range []struct {
		name, value string
		required    bool
	}{
		{"authorization_endpoint", m.AuthorizationEndpoint, true},
		{"token_endpoint", m.TokenEndpoint, true},
		{"jwks_uri", m.JWKSURI, true},
		{"userinfo_endpoint", m.UserInfoEndpoint, false},
	} {
		if ep.value == "" && !ep.required {
			continue
		}
		if err := sameOrigin(c.cfg.Issuer, ep.value); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrDiscovery, ep.name, err)
		}
	}
	if len(m.IDTokenSigningAlgs) > 0 && !slices.Contains(m.IDTokenSigningAlgs, "RS256") {
		return nil, fmt.Errorf("%w: id_token_signing_alg_values_supported lacks RS256", ErrDiscovery)
	}
	m.fetched = c.cfg.Now()
	return &m, nil
}

// sameOrigin insists that an endpoint is on the issuer's scheme and host
// (OIDC-19: endpoints pinned to itsme's host).
func sameOrigin(issuer, endpoint string) error {
	if endpoint == "" {
		return errors.New("missing")
	}
	iu, err := url.Parse(issuer)
	if err != nil {
		return err
	}
	eu, err := url.Parse(endpoint)
	if err != nil {
		return fmt.Errorf("not a URL: %w", err)
	}
	if eu.Scheme != iu.Scheme || !strings.EqualFold(eu.Host, iu.Host) || eu.User != nil || eu.Fragment != "" {
		return fmt.Errorf("%.200q is not on the issuer's origin %s://%s", endpoint, iu.Scheme, iu.Host)
	}
	return nil
}

// Health is the Client's view of itsme, for readiness checks.
type Health struct {
	// DiscoveryFetched and JWKSFetched are when the discovery document and
	// the JWK Set in use were fetched; zero means never.
	DiscoveryFetched time.Time
	JWKSFetched      time.Time
	// Breaker is the circuit breaker's state.
	Breaker string
}

// Health refreshes discovery and the JWK Set when they are older than
// MetadataTTL (keeping the last good ones when that fails) and reports how
// old they are. The error is the refresh failure when there is nothing
// cached at all.
func (c *Client) Health(ctx context.Context) (Health, error) {
	meta, err := c.provider(ctx)
	h := Health{Breaker: c.breaker.State().String()}
	if meta != nil {
		h.DiscoveryFetched = meta.fetched
	}
	c.keys.mu.Lock()
	if c.keys.haveFetch {
		h.JWKSFetched = c.keys.fetched
	}
	c.keys.mu.Unlock()
	return h, err
}
