// Package memory is the in-process session.Store, the embedded default. It
// is safe for concurrent use and bounded in size; it does not survive a
// restart and is not shared between nodes.
package memory

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/samlbridge/samlbridge/session"
)

// DefaultMaxEntries bounds the number of transactions and of replay
// markers each.
const DefaultMaxEntries = 1 << 20

// Store is an in-memory session.Store.
type Store struct {
	mu         sync.Mutex
	txs        map[string]session.Transaction
	seen       map[string]time.Time
	records    map[string]record
	maxEntries int
	closed     bool
}

var _ session.Store = (*Store)(nil)

// New returns an empty store holding at most maxEntries transactions and
// as many replay markers (0 means DefaultMaxEntries).
func New(maxEntries int) *Store {
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	return &Store{
		txs:        make(map[string]session.Transaction),
		seen:       make(map[string]time.Time),
		records:    make(map[string]record),
		maxEntries: maxEntries,
	}
}

// Put implements session.Store.
func (s *Store) Put(_ context.Context, tx session.Transaction) error {
	if tx.State == "" {
		return fmt.Errorf("memory: empty state: %w", session.ErrNotFound)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("memory: closed: %w", session.ErrUnavailable)
	}
	if _, ok := s.txs[tx.State]; ok {
		return session.ErrAlreadyExists
	}
	if len(s.txs) >= s.maxEntries {
		s.sweepLocked(tx.Created)
		if len(s.txs) >= s.maxEntries {
			return fmt.Errorf("memory: %d transactions in flight: %w", len(s.txs), session.ErrUnavailable)
		}
	}
	s.txs[tx.State] = tx
	return nil
}

// Take implements session.Store.
func (s *Store) Take(_ context.Context, state string, now time.Time) (session.Transaction, error) {
	return s.get(state, now, true)
}

// Get implements session.Store.
func (s *Store) Get(_ context.Context, state string, now time.Time) (session.Transaction, error) {
	return s.get(state, now, false)
}

func (s *Store) get(state string, now time.Time, take bool) (session.Transaction, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return session.Transaction{}, fmt.Errorf("memory: closed: %w", session.ErrUnavailable)
	}
	tx, ok := s.txs[state]
	if !ok {
		return session.Transaction{}, session.ErrNotFound
	}
	if take || !now.Before(tx.Expires) {
		delete(s.txs, state)
	}
	if !now.Before(tx.Expires) {
		return session.Transaction{}, session.ErrNotFound
	}
	return tx, nil
}

// MarkSeen implements session.Store.
func (s *Store) MarkSeen(_ context.Context, key string, now, deadline time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("memory: closed: %w", session.ErrUnavailable)
	}
	if d, ok := s.seen[key]; ok && d.After(now) {
		return session.ErrReplay
	}
	if len(s.seen) >= s.maxEntries {
		s.sweepLocked(now)
		if len(s.seen) >= s.maxEntries {
			return fmt.Errorf("memory: replay cache full: %w", session.ErrUnavailable)
		}
	}
	s.seen[key] = deadline
	return nil
}

// record is a stored record value and its expiry.
type record struct {
	value   []byte
	expires time.Time
}

// PutRecord implements session.Store.
func (s *Store) PutRecord(ctx context.Context, key string, value []byte, expires time.Time) error {
	return s.UpdateRecord(ctx, key, time.Time{}, func([]byte) ([]byte, time.Time, error) { return value, expires, nil })
}

// GetRecord implements session.Store.
func (s *Store) GetRecord(_ context.Context, key string, now time.Time) ([]byte, error) {
	return s.getRecord(key, now, false)
}

// TakeRecord implements session.Store.
func (s *Store) TakeRecord(_ context.Context, key string, now time.Time) ([]byte, error) {
	return s.getRecord(key, now, true)
}

func (s *Store) getRecord(key string, now time.Time, take bool) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("memory: closed: %w", session.ErrUnavailable)
	}
	r, ok := s.records[key]
	if !ok {
		return nil, session.ErrNotFound
	}
	if take || !now.Before(r.expires) {
		delete(s.records, key)
	}
	if !now.Before(r.expires) {
		return nil, session.ErrNotFound
	}
	return append([]byte(nil), r.value...), nil
}

// UpdateRecord implements session.Store: update runs once, under the
// store's lock.
func (s *Store) UpdateRecord(_ context.Context, key string, now time.Time, update session.UpdateFunc) error {
	if key == "" {
		return fmt.Errorf("memory: empty record key: %w", session.ErrNotFound)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("memory: closed: %w", session.ErrUnavailable)
	}
	var cur []byte
	r, ok := s.records[key]
	if ok && now.Before(r.expires) {
		cur = append([]byte(nil), r.value...)
	}
	next, expires, err := update(cur)
	if err != nil {
		return err
	}
	if !ok && len(s.records) >= s.maxEntries {
		s.sweepLocked(time.Now())
		if len(s.records) >= s.maxEntries {
			return fmt.Errorf("memory: %d records: %w", len(s.records), session.ErrUnavailable)
		}
	}
	s.records[key] = record{value: append([]byte(nil), next...), expires: expires}
	return nil
}

// DeleteRecord implements session.Store.
func (s *Store) DeleteRecord(_ context.Context, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("memory: closed: %w", session.ErrUnavailable)
	}
	delete(s.records, key)
	return nil
}

// sweepLocked drops expired entries. The caller holds s.mu.
func (s *Store) sweepLocked(now time.Time) {
	for k, tx := range s.txs {
		if !now.Before(tx.Expires) {
			delete(s.txs, k)
		}
	}
	for k, d := range s.seen {
		if !d.After(now) {
			delete(s.seen, k)
		}
	}
	for k, r := range s.records {
		if !now.Before(r.expires) {
			delete(s.records, k)
		}
	}
}

// Sweep removes expired entries; call it periodically to reclaim memory.
func (s *Store) Sweep(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(now)
}

// Close implements session.Store. Later calls fail with ErrUnavailable.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.txs = nil
	s.seen = nil
	s.records = nil
	return nil
}
