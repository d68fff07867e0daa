package remote

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/samlbridge/samlbridge/metadata"
)

// RegistryConfig configures a Registry. The order of the layers is the
// precedence order: Static first, then Sources in order, then MDQ.
type RegistryConfig struct {
	// Static are SPs from local files. They follow the rules of
	// metadata.NewStaticRegistry: duplicates among them are an error.
	Static []*metadata.ServiceProvider
	// Sources are remote documents, refreshed by Run.
	Sources []*Source
	// MDQ, when set, is asked for entity IDs no other layer knows.
	MDQ *MDQ
	// Logger receives conflicts; nil means slog.Default().
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// After is time.After, injectable so that tests drive Run; nil means
	// time.After.
	After func(time.Duration) <-chan time.Time
}

// Registry is a metadata.Registry over static SPs, remote metadata Sources
// and an optional MDQ responder. An entity ID known to several layers, or
// entity IDs differing only in case, are a conflict (MD-03): the first
// configured layer wins, the conflict is logged, and a case variant that
// lost is unknown. It is safe for concurrent use.
type Registry struct {
	static  *layer
	sources []*Source
	mdq     *MDQ
	log     *slog.Logger
	now     func() time.Time
	after   func(time.Duration) <-chan time.Time

	mu     sync.Mutex
	logged map[string]bool // conflicts already logged
}

var _ metadata.Registry = (*Registry)(nil)

// layer is one source of SPs as the Registry sees it.
type layer struct {
	name string
	snap *snapshot
}

// NewRegistry checks cfg. Static SPs with duplicate (or case-variant)
// entity IDs are an error wrapping metadata.ErrInvalidMetadata.
func NewRegistry(cfg RegistryConfig) (*Registry, error) {
	if _, err := metadata.NewStaticRegistry(cfg.Static...); err != nil {
		return nil, err
	}
	for i, s := range cfg.Sources {
		if s == nil {
			return nil, fmt.Errorf("metadata source #%d is nil", i+1)
		}
	}
	r := &Registry{
		static:  &layer{name: "static", snap: newSnapshot(cfg.Static, rootInfo{})},
		sources: cfg.Sources,
		mdq:     cfg.MDQ,
		log:     cfg.Logger,
		now:     cfg.Now,
		after:   cfg.After,
		logged:  map[string]bool{},
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.after == nil {
		r.after = time.After
	}
	r.logConflicts()
	return r, nil
}

// layers returns the current snapshots in precedence order.
func (r *Registry) layers() []*layer {
	out := make([]*layer, 0, 1+len(r.sources))
	out = append(out, r.static)
	for _, s := range r.sources {
		out = append(out, &layer{name: s.url, snap: s.current.Load()})
	}
	return out
}

// ServiceProvider implements metadata.Registry.
func (r *Registry) ServiceProvider(ctx context.Context, entityID string) (*metadata.ServiceProvider, error) {
	key := strings.ToLower(entityID)
	for _, l := range r.layers() {
		owner, ok := l.snap.folded[key]
		if !ok {
			continue
		}
		if owner != entityID {
			return nil, fmt.Errorf("%w: %.200q conflicts with %.200q from %.200s, which differs only in case (MD-03)",
				metadata.ErrUnknownServiceProvider, entityID, owner, l.name)
		}
		sp := l.snap.byID[entityID]
		if expired(sp, r.now()) {
			return nil, fmt.Errorf("%w: metadata of %.200q expired at %s (MD-02)", metadata.ErrUnknownServiceProvider,
				entityID, sp.ValidUntil.UTC().Format(time.RFC3339))
		}
		return sp, nil
	}
	if r.mdq == nil {
		return nil, fmt.Errorf("%w: %.200q", metadata.ErrUnknownServiceProvider, entityID)
	}
	return r.mdq.ServiceProvider(ctx, entityID)
}

// List returns the SPs currently served, without the ones whose metadata
// expired or that lost a conflict: static ones, then each Source's, then
// those in the MDQ cache.
func (r *Registry) List() []*metadata.ServiceProvider {
	now := r.now()
	seen := map[string]bool{}
	var out []*metadata.ServiceProvider
	add := func(sp *metadata.ServiceProvider) {
		key := strings.ToLower(sp.EntityID)
		if seen[key] {
			return
		}
		seen[key] = true
		if !expired(sp, now) {
			out = append(out, sp)
		}
	}
	for _, l := range r.layers() {
		for _, sp := range l.snap.list {
			add(sp)
		}
	}
	if r.mdq != nil {
		for _, sp := range r.mdq.List() {
			add(sp)
		}
	}
	return out
}

// RefreshDue refreshes every Source whose NextRefresh has come, one after
// the other, then logs new conflicts. It returns the refresh errors
// joined; Sources that failed keep serving their last good copy.
func (r *Registry) RefreshDue(ctx context.Context) error {
	now := r.now()
	var errs []error
	for _, s := range r.sources {
		if next := s.NextRefresh(); next.After(now) {
			continue
		}
		if err := s.Refresh(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	r.logConflicts()
	return errors.Join(errs...)
}

// Run refreshes the Sources when they are due until ctx is done, and
// returns ctx's error. Refresh failures are logged by the Sources and do
// not stop it. Without Sources it just waits.
func (r *Registry) Run(ctx context.Context) error {
	for {
		_ = r.RefreshDue(ctx) // failures are logged by each Source
		var next time.Time
		for _, s := range r.sources {
			if n := s.NextRefresh(); next.IsZero() || n.Before(next) {
				next = n
			}
		}
		var wake <-chan time.Time
		if len(r.sources) > 0 {
			wake = r.after(max(next.Sub(r.now()), 0))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		}
	}
}

// logConflicts logs, once each, entity IDs that several layers define
// (MD-03).
func (r *Registry) logConflicts() {
	owners := map[string]string{} // folded ID → layer name
	firstID := map[string]string{}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range r.layers() {
		for _, sp := range l.snap.list {
			key := strings.ToLower(sp.EntityID)
			winner, dup := owners[key]
			if !dup {
				owners[key], firstID[key] = l.name, sp.EntityID
				continue
			}
			tag := key + "\x00" + l.name
			if r.logged[tag] {
				continue
			}
			r.logged[tag] = true
			r.log.Warn("metadata: entity defined by several sources, the first configured wins (MD-03)",
				"entity_id", sp.EntityID, "kept_entity_id", firstID[key], "kept_from", winner, "ignored_from", l.name)
		}
	}
}
