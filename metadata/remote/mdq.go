package remote

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/samlbridge/samlbridge/metadata"
)

// Defaults for the zero values of MDQConfig.
const (
	// DefaultMDQTTL is how long an entity is cached when its document has
	// no cacheDuration.
	DefaultMDQTTL = time.Hour
	// DefaultMDQMaxTTL caps every entity's cache lifetime.
	DefaultMDQMaxTTL = 24 * time.Hour
	// DefaultMDQMinTTL is the floor under a cacheDuration.
	DefaultMDQMinTTL = time.Minute
	// DefaultMDQNegativeTTL is how long a 404, or a failed lookup, is
	// remembered.
	DefaultMDQNegativeTTL = time.Minute
	// DefaultMDQMaxEntries bounds the positive and the negative cache,
	// each.
	DefaultMDQMaxEntries = 10000
	// maxEntityIDLen bounds the entity IDs that are looked up at all.
	maxEntityIDLen = 1024
)

// MDQConfig configures an MDQ client.
type MDQConfig struct {
	// BaseURL is the MDQ responder's base URL; entities are fetched from
	// BaseURL + "/entities/" + the percent-encoded entity ID. Required;
	// see Trust for the schemes allowed.
	BaseURL string
	// Trust says how responses are authenticated. With pinned
	// certificates, every response must carry a root signature.
	Trust Trust
	// TTL is the cache lifetime of an entity whose document has no
	// cacheDuration; 0 means DefaultMDQTTL.
	TTL time.Duration
	// MinTTL and MaxTTL bound the cache lifetime taken from a
	// cacheDuration; 0 means DefaultMDQMinTTL and DefaultMDQMaxTTL. An
	// entity is never cached past its validUntil.
	MinTTL, MaxTTL time.Duration
	// NegativeTTL is how long a 404 (unknown entity) or a failed lookup
	// is remembered; 0 means DefaultMDQNegativeTTL.
	NegativeTTL time.Duration
	// MaxEntries bounds each of the positive and negative caches (least
	// recently used entries go first); 0 means DefaultMDQMaxEntries.
	MaxEntries int
	// Timeout bounds one request; 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxBytes caps one response; 0 means metadata.DefaultMaxBytes.
	MaxBytes int64
	// Policy is applied to every SP fetched; an SP it refuses is unknown.
	Policy Policy
	// Client is the HTTP client; nil means a default one. Redirects are
	// always refused.
	Client *http.Client
	// Logger receives lookup failures; nil means slog.Default().
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// MDQ looks SPs up one at a time with the Metadata Query Protocol
// (draft-young-md-query, SAML MDQ profile), caching the answers. It
// implements metadata.Registry and is safe for concurrent use; concurrent
// lookups of one entity make one request.
type MDQ struct {
	base                        string
	ttl, minTTL, maxTTL, negTTL time.Duration
	f                           *fetcher
	log                         *slog.Logger
	now                         func() time.Time

	mu    sync.Mutex
	pos   *lru[*mdqEntry]
	neg   *lru[*mdqMiss]
	calls map[string]*mdqCall

	// joined, when set by a test, is called each time a lookup joins a
	// query already in flight.
	joined func()
}

var _ metadata.Registry = (*MDQ)(nil)

type mdqEntry struct {
	sp         *metadata.ServiceProvider
	expires    time.Time // refetch after this
	retryAfter time.Time // a refetch failed: serve the stale copy until then
}

type mdqMiss struct {
	expires time.Time
	err     error
}

type mdqCall struct {
	done chan struct{}
	sp   *metadata.ServiceProvider
	err  error
}

// NewMDQ checks cfg and returns a client with empty caches.
func NewMDQ(cfg MDQConfig) (*MDQ, error) {
	if _, err := checkURL(cfg.BaseURL, cfg.Trust); err != nil {
		return nil, fmt.Errorf("MDQ: %w", err)
	}
	m := &MDQ{
		base:   strings.TrimRight(cfg.BaseURL, "/"),
		ttl:    orDefault(cfg.TTL, DefaultMDQTTL),
		minTTL: orDefault(cfg.MinTTL, DefaultMDQMinTTL),
		maxTTL: orDefault(cfg.MaxTTL, DefaultMDQMaxTTL),
		negTTL: orDefault(cfg.NegativeTTL, DefaultMDQNegativeTTL),
		log:    cfg.Logger,
		now:    cfg.Now,
		calls:  map[string]*mdqCall{},
	}
	if m.minTTL > m.maxTTL || m.ttl > m.maxTTL {
		return nil, fmt.Errorf("MDQ: TTL %s and minimum TTL %s must not exceed the maximum TTL %s", m.ttl, m.minTTL, m.maxTTL)
	}
	maxEntries := cfg.MaxEntries
	if maxEntries <= 0 {
		maxEntries = DefaultMDQMaxEntries
	}
	m.pos = newLRU[*mdqEntry](maxEntries)
	m.neg = newLRU[*mdqMiss](maxEntries)
	if m.log == nil {
		m.log = slog.Default()
	}
	if m.now == nil {
		m.now = time.Now
	}
	if len(cfg.Trust.Certificates) == 0 {
		m.log.Warn("metadata: unsigned MDQ responses accepted by configuration", "url", m.base)
	}
	m.f = newFetcher(cfg.Client, cfg.Timeout, cfg.MaxBytes, cfg.Trust, cfg.Policy, m.log)
	return m, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// ServiceProvider implements metadata.Registry: it answers from the cache,
// or queries the responder. A 404, or an SP the policy refuses, gives an
// error wrapping metadata.ErrUnknownServiceProvider; a responder that
// fails or answers with a bad document gives another error, unless a
// cached copy that has not reached its validUntil can still be served.
func (m *MDQ) ServiceProvider(ctx context.Context, entityID string) (*metadata.ServiceProvider, error) {
	if entityID == "" || len(entityID) > maxEntityIDLen || !utf8.ValidString(entityID) {
		return nil, fmt.Errorf("%w: entity ID is empty, not UTF-8 or longer than %d bytes", metadata.ErrUnknownServiceProvider, maxEntityIDLen)
	}
	now := m.now()
	m.mu.Lock()
	stale, useStale := m.cached(entityID, now)
	if useStale {
		m.mu.Unlock()
		return stale.sp, nil
	}
	if miss, ok := m.neg.get(entityID); ok && now.Before(miss.expires) {
		m.mu.Unlock()
		return nil, miss.err
	}
	c, inFlight := m.calls[entityID]
	if !inFlight {
		c = &mdqCall{done: make(chan struct{})}
		m.calls[entityID] = c
	}
	m.mu.Unlock()
	if inFlight && m.joined != nil {
		m.joined()
	}

	if !inFlight {
		// The query outlives a caller that gives up: others may be
		// waiting for it. It is bounded by the fetcher's timeout.
		c.sp, c.err = m.query(context.WithoutCancel(ctx), entityID, stale)
		m.mu.Lock()
		delete(m.calls, entityID)
		m.mu.Unlock()
		close(c.done)
		return c.sp, c.err
	}
	select {
	case <-c.done:
		return c.sp, c.err
	case <-ctx.Done():
		return nil, fmt.Errorf("MDQ lookup of %.200q: %w", entityID, ctx.Err())
	}
}

// cached returns the cached entry for entityID (nil if none, or if its
// validUntil passed) and whether it can be served without a query. m.mu
// must be held.
func (m *MDQ) cached(entityID string, now time.Time) (*mdqEntry, bool) {
	e, ok := m.pos.get(entityID)
	if !ok {
		return nil, false
	}
	if expired(e.sp, now) {
		m.pos.remove(entityID)
		return nil, false
	}
	return e, now.Before(e.expires) || now.Before(e.retryAfter)
}

// query asks the responder for entityID and updates the caches. stale is
// the cached entry to fall back on when the query fails (nil if none).
func (m *MDQ) query(ctx context.Context, entityID string, stale *mdqEntry) (*metadata.ServiceProvider, error) {
	u := m.base + "/entities/" + escapeEntityID(entityID)
	sp, ttl, err := m.fetch(ctx, u, entityID)
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case err == nil:
		expires := now.Add(ttl)
		if !sp.ValidUntil.IsZero() && sp.ValidUntil.Before(expires) {
			expires = sp.ValidUntil
		}
		m.pos.put(entityID, &mdqEntry{sp: sp, expires: expires})
		m.neg.remove(entityID)
		return sp, nil
	case errors.Is(err, metadata.ErrUnknownServiceProvider):
		m.pos.remove(entityID)
		m.neg.put(entityID, &mdqMiss{expires: now.Add(m.negTTL), err: err})
		return nil, err
	}
	m.log.Warn("metadata: MDQ lookup failed", "url", m.base, "entity_id", entityID, "reason", err.Error())
	err = fmt.Errorf("MDQ lookup of %.200q: %w", entityID, err)
	if stale != nil && !expired(stale.sp, now) {
		if cur, ok := m.pos.get(entityID); ok && cur == stale {
			stale.retryAfter = now.Add(m.negTTL)
		}
		return stale.sp, nil
	}
	m.neg.put(entityID, &mdqMiss{expires: now.Add(m.negTTL), err: err})
	return nil, err
}

// fetch GETs one entity and checks that the answer is exactly that entity.
func (m *MDQ) fetch(ctx context.Context, u, entityID string) (*metadata.ServiceProvider, time.Duration, error) {
	resp, err := m.f.get(ctx, u, mediaType, "", "")
	if err != nil {
		return nil, 0, err
	}
	if resp.status == http.StatusNotFound {
		return nil, 0, fmt.Errorf("%w: %.200q (MDQ 404)", metadata.ErrUnknownServiceProvider, entityID)
	}
	if resp.status != http.StatusOK {
		return nil, 0, fmt.Errorf("HTTP status %d", resp.status)
	}
	doc, err := m.f.load(resp.body, m.now(), m.base)
	if err != nil {
		return nil, 0, err
	}
	if len(doc.sps) == 0 {
		return nil, 0, fmt.Errorf("%w: %.200q refused by policy", metadata.ErrUnknownServiceProvider, entityID)
	}
	if len(doc.sps) != 1 || doc.sps[0].EntityID != entityID {
		return nil, 0, fmt.Errorf("the response describes %d entities, not exactly %.200q", len(doc.sps), entityID)
	}
	ttl := m.ttl
	if d := doc.info.cacheDuration; d > 0 {
		ttl = d
	}
	return doc.sps[0], min(max(ttl, m.minTTL), m.maxTTL), nil
}

// List returns the SPs in the positive cache whose validUntil has not
// passed, most recently used first.
func (m *MDQ) List() []*metadata.ServiceProvider {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*metadata.ServiceProvider
	for _, e := range m.pos.values() {
		if !expired(e.sp, now) {
			out = append(out, e.sp)
		}
	}
	return out
}

// escapeEntityID percent-encodes every byte of id except RFC 3986
// unreserved characters, as the MDQ protocol asks (so "/" and ":" are
// encoded too).
func escapeEntityID(id string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// lru is a size-bounded map that drops its least recently used entry.
// Not safe for concurrent use.
type lru[V any] struct {
	max   int
	order *list.List // front: most recently used; values are *lruItem[V]
	items map[string]*list.Element
}

type lruItem[V any] struct {
	key string
	val V
}

func newLRU[V any](max int) *lru[V] {
	return &lru[V]{max: max, order: list.New(), items: map[string]*list.Element{}}
}

func (c *lru[V]) get(key string) (V, bool) {
	el, ok := c.items[key]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*lruItem[V]).val, true
}

func (c *lru[V]) put(key string, val V) {
	if el, ok := c.items[key]; ok {
		el.Value.(*lruItem[V]).val = val
		c.order.MoveToFront(el)
		return
	}
	c.items[key] = c.order.PushFront(&lruItem[V]{key: key, val: val})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(*lruItem[V]).key)
	}
}

func (c *lru[V]) remove(key string) {
	if el, ok := c.items[key]; ok {
		c.order.Remove(el)
		delete(c.items, key)
	}
}

func (c *lru[V]) len() int { return c.order.Len() }

func (c *lru[V]) values() []V {
	out := make([]V, 0, c.order.Len())
	for el := c.order.Front(); el != nil; el = el.Next() {
		out = append(out, el.Value.(*lruItem[V]).val)
	}
	return out
}
