package metadata

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Registry finds the SPs the bridge trusts.
type Registry interface {
	// ServiceProvider returns the SP registered under entityID (compared
	// byte for byte). An unknown entity ID, or one whose metadata has
	// expired, gives an error wrapping ErrUnknownServiceProvider; any
	// other error means the registry itself failed.
	ServiceProvider(ctx context.Context, entityID string) (*ServiceProvider, error)
}

// StaticRegistry is a fixed, in-memory Registry. It is safe for concurrent
// use.
type StaticRegistry struct {
	// Now returns the current time, to stop serving SPs whose metadata
	// validUntil has passed (MD-02); nil means time.Now. Set it before
	// first use.
	Now func() time.Time

	byID map[string]*ServiceProvider
	list []*ServiceProvider
}

var _ Registry = (*StaticRegistry)(nil)

// NewStaticRegistry indexes sps by entity ID. Two SPs with the same entity
// ID, or with entity IDs that differ only in case, are an error (MD-03):
// nothing is silently overridden.
func NewStaticRegistry(sps ...*ServiceProvider) (*StaticRegistry, error) {
	r := &StaticRegistry{byID: make(map[string]*ServiceProvider, len(sps))}
	folded := make(map[string]string, len(sps))
	var errs []error
	for i, sp := range sps {
		if sp == nil || sp.EntityID == "" {
			errs = append(errs, fmt.Errorf("service provider #%d has no entity ID", i+1))
			continue
		}
		if _, dup := r.byID[sp.EntityID]; dup {
			errs = append(errs, fmt.Errorf("entity %.200q is registered twice (MD-03)", sp.EntityID))
			continue
		}
		key := strings.ToLower(sp.EntityID)
		if other, dup := folded[key]; dup {
			errs = append(errs, fmt.Errorf("entities %.200q and %.200q differ only in case (MD-03)", other, sp.EntityID))
			continue
		}
		folded[key] = sp.EntityID
		r.byID[sp.EntityID] = sp
		r.list = append(r.list, sp)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalidMetadata, errors.Join(errs...))
	}
	return r, nil
}

// ServiceProvider implements Registry.
func (r *StaticRegistry) ServiceProvider(_ context.Context, entityID string) (*ServiceProvider, error) {
	sp, ok := r.byID[entityID]
	if !ok {
		return nil, fmt.Errorf("%w: %.200q", ErrUnknownServiceProvider, entityID)
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	if !sp.ValidUntil.IsZero() && !sp.ValidUntil.After(now()) {
		return nil, fmt.Errorf("%w: metadata of %.200q expired at %s (MD-02)", ErrUnknownServiceProvider, entityID, sp.ValidUntil.UTC().Format(time.RFC3339))
	}
	return sp, nil
}

// List returns the registered SPs in registration order.
func (r *StaticRegistry) List() []*ServiceProvider {
	return append([]*ServiceProvider(nil), r.list...)
}
