package metrics

import (
	"context"
	"errors"
	"time"

	"github.com/samlbridge/samlbridge/session"
)

// Store wraps s so that each operation is timed in
// store_operation_duration_seconds. The wrapper passes Ping through when s
// has one.
func (m *Metrics) Store(s session.Store) session.Store {
	if m == nil {
		return s
	}
	return &store{m: m, s: s}
}

type store struct {
	m *Metrics
	s session.Store
}

func (st *store) observe(op string, start time.Time, err error) {
	outcome := "ok"
	switch {
	case err == nil:
	case errors.Is(err, session.ErrNotFound):
		outcome = "not_found"
	case errors.Is(err, session.ErrReplay):
		outcome = "replay"
	case errors.Is(err, session.ErrAlreadyExists):
		outcome = "exists"
	case errors.Is(err, session.ErrConflict):
		outcome = "conflict"
	default:
		outcome = "unavailable"
	}
	st.m.store.WithLabelValues(op, outcome).Observe(time.Since(start).Seconds())
}

// Put implements session.Store.
func (st *store) Put(ctx context.Context, tx session.Transaction) error {
	start := time.Now()
	err := st.s.Put(ctx, tx)
	st.observe("put", start, err)
	return err
}

// Take implements session.Store.
func (st *store) Take(ctx context.Context, state string, now time.Time) (session.Transaction, error) {
	start := time.Now()
	tx, err := st.s.Take(ctx, state, now)
	st.observe("take", start, err)
	return tx, err
}

// Get implements session.Store.
func (st *store) Get(ctx context.Context, state string, now time.Time) (session.Transaction, error) {
	start := time.Now()
	tx, err := st.s.Get(ctx, state, now)
	st.observe("get", start, err)
	return tx, err
}

// MarkSeen implements session.Store.
func (st *store) MarkSeen(ctx context.Context, key string, now, deadline time.Time) error {
	start := time.Now()
	err := st.s.MarkSeen(ctx, key, now, deadline)
	st.observe("mark_seen", start, err)
	return err
}

// PutRecord implements session.Store.
func (st *store) PutRecord(ctx context.Context, key string, value []byte, expires time.Time) error {
	start := time.Now()
	err := st.s.PutRecord(ctx, key, value, expires)
	st.observe("put_record", start, err)
	return err
}

// GetRecord implements session.Store.
func (st *store) GetRecord(ctx context.Context, key string, now time.Time) ([]byte, error) {
	start := time.Now()
	v, err := st.s.GetRecord(ctx, key, now)
	st.observe("get_record", start, err)
	return v, err
}

// TakeRecord implements session.Store.
func (st *store) TakeRecord(ctx context.Context, key string, now time.Time) ([]byte, error) {
	start := time.Now()
	v, err := st.s.TakeRecord(ctx, key, now)
	st.observe("take_record", start, err)
	return v, err
}

// UpdateRecord implements session.Store.
// An error of update's own is counted as "declined": the store worked.
func (st *store) UpdateRecord(ctx context.Context, key string, now time.Time, update session.UpdateFunc) error {
	start := time.Now()
	var declined error
	err := st.s.UpdateRecord(ctx, key, now, func(cur []byte) ([]byte, time.Time, error) {
		next, expires, err := update(cur)
		declined = err
		return next, expires, err
	})
	if err != nil && declined != nil && errors.Is(err, declined) {
		st.m.store.WithLabelValues("update_record", "declined").Observe(time.Since(start).Seconds())
		return err
	}
	st.observe("update_record", start, err)
	return err
}

// DeleteRecord implements session.Store.
func (st *store) DeleteRecord(ctx context.Context, key string) error {
	start := time.Now()
	err := st.s.DeleteRecord(ctx, key)
	st.observe("delete_record", start, err)
	return err
}

// Ping checks the wrapped store when it can be checked.
func (st *store) Ping(ctx context.Context) error {
	p, ok := st.s.(session.Pinger)
	if !ok {
		return nil
	}
	start := time.Now()
	err := p.Ping(ctx)
	st.observe("ping", start, err)
	return err
}

// Close implements session.Store.
func (st *store) Close() error { return st.s.Close() }
