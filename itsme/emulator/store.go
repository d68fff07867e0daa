package emulator

import (
	"crypto/sha256"
	"errors"
	"sync"
	"time"
)

// Store errors.
var (
	errNotFound   = errors.New("emulator: unknown or expired")
	errUsed       = errors.New("emulator: already used")
	errWrongOwner = errors.New("emulator: issued to another client")
)

// pendingTx is an authorization request waiting on the phone page.
type pendingTx struct {
	req     *authzRequest
	expires time.Time
}

// codeRecord is an issued authorization code.
type codeRecord struct {
	grant    *grant
	expires  time.Time // end of the code's validity
	retain   time.Time // when the record may be forgotten
	used     bool
	revoked  bool
	tokens   []string // keys of the access tokens issued from it
	clientID string
}

// tokenRecord is an issued access token.
type tokenRecord struct {
	grant   *grant
	expires time.Time
}

// store is the emulator's in-memory state, guarded by one mutex. Keys are
// SHA-256 hashes of the secrets (handles, codes, tokens), so a map lookup
// leaks no timing about the secret itself.
type store struct {
	mu      sync.Mutex
	pending map[string]*pendingTx
	codes   map[string]*codeRecord
	tokens  map[string]*tokenRecord
	jtis    map[string]time.Time
	max     int
}

func newStore(max int) *store {
	return &store{
		pending: map[string]*pendingTx{},
		codes:   map[string]*codeRecord{},
		tokens:  map[string]*tokenRecord{},
		jtis:    map[string]time.Time{},
		max:     max,
	}
}

func key(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return string(sum[:])
}

// room makes room in m by dropping expired entries when m is full.
func room[V any](m map[string]V, max int, expired func(V) bool) error {
	if len(m) < max {
		return nil
	}
	for k, v := range m {
		if expired(v) {
			delete(m, k)
		}
	}
	if len(m) >= max {
		return ErrStoreFull
	}
	return nil
}

func (s *store) putPending(handle string, tx *pendingTx, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := room(s.pending, s.max, func(p *pendingTx) bool { return !now.Before(p.expires) }); err != nil {
		return err
	}
	s.pending[key(handle)] = tx
	return nil
}

// peekPending returns a pending transaction without consuming it.
func (s *store) peekPending(handle string, now time.Time) (*pendingTx, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, ok := s.pending[key(handle)]
	if !ok || !now.Before(tx.expires) {
		return nil, errNotFound
	}
	return tx, nil
}

// takePending consumes a pending transaction (single use).
func (s *store) takePending(handle string, now time.Time) (*pendingTx, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(handle)
	tx, ok := s.pending[k]
	delete(s.pending, k)
	if !ok || !now.Before(tx.expires) {
		return nil, errNotFound
	}
	return tx, nil
}

func (s *store) putCode(code string, rec *codeRecord, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := room(s.codes, s.max, func(c *codeRecord) bool { return !now.Before(c.retain) }); err != nil {
		return err
	}
	s.codes[key(code)] = rec
	return nil
}

// redeemCode marks the code used and returns its grant. A code issued to
// another client is left untouched (errWrongOwner). A code used before
// revokes the access tokens issued from it (RFC 6749 §4.1.2) and fails
// with errUsed.
func (s *store) redeemCode(code, clientID string, now, retain time.Time) (*grant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.codes[key(code)]
	switch {
	case !ok || !now.Before(rec.expires) && !rec.used:
		return nil, errNotFound
	case rec.clientID != clientID:
		return nil, errWrongOwner
	case rec.used:
		for _, t := range rec.tokens {
			delete(s.tokens, t)
		}
		rec.tokens, rec.revoked = nil, true
		return nil, errUsed
	}
	rec.used = true
	if retain.After(rec.retain) {
		rec.retain = retain
	}
	return rec.grant, nil
}

// putToken records an access token issued from code.
func (s *store) putToken(code, token string, rec *tokenRecord, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := room(s.tokens, s.max, func(t *tokenRecord) bool { return !now.Before(t.expires) }); err != nil {
		return err
	}
	c, ok := s.codes[key(code)]
	if !ok || c.revoked {
		// The code was reused (and its tokens revoked) meanwhile.
		return errUsed
	}
	tk := key(token)
	c.tokens = append(c.tokens, tk)
	s.tokens[tk] = rec
	return nil
}

func (s *store) token(token string, now time.Time) (*tokenRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.tokens[key(token)]
	if !ok || !now.Before(rec.expires) {
		return nil, errNotFound
	}
	return rec, nil
}

// markJTI records a client assertion jti until exp; a jti seen before
// fails with ErrReplay.
func (s *store) markJTI(clientID, jti string, exp, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := clientID + "\x00" + jti
	if until, ok := s.jtis[k]; ok && now.Before(until) {
		return ErrReplay
	}
	if err := room(s.jtis, s.max, func(t time.Time) bool { return !now.Before(t) }); err != nil {
		return err
	}
	s.jtis[k] = exp
	return nil
}
