package session

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Sentinel errors of the Store contract.
var (
	// ErrNotFound means no live transaction exists for the key: it never
	// existed, was already taken, or has expired.
	ErrNotFound = errors.New("session: not found")
	// ErrAlreadyExists means Put was called with a key already in use.
	ErrAlreadyExists = errors.New("session: already exists")
	// ErrReplay means MarkSeen found the key already marked.
	ErrReplay = errors.New("session: replay")
	// ErrUnavailable means the store could not be reached or failed. A
	// store never reports success when it could not do the work.
	ErrUnavailable = errors.New("session: store unavailable")
	// ErrConflict means UpdateRecord gave up because other writers kept
	// changing the record between its read and its write.
	ErrConflict = errors.New("session: record kept changing")
)

// UpdateFunc computes a record's next value from its current one (nil
// when there is none or it has expired). It returns the value to store
// and its expiry, or an error to store nothing. It must not have effects
// beyond its result: UpdateRecord may call it more than once.
type UpdateFunc func(cur []byte) (next []byte, expires time.Time, err error)

// Transaction is one login in flight: everything needed to finish the
// itsme flow and answer the SAML request that started it. It holds no
// identity data.
type Transaction struct {
	// State is the OAuth state value; it is the transaction's key.
	State string `json:"state"`
	// Nonce and CodeVerifier are the flow's OIDC nonce and PKCE verifier.
	Nonce        string `json:"nonce"`
	CodeVerifier string `json:"code_verifier"`
	// BrowserBinding is a hash of the secret held in the browser's flow
	// cookie; the callback must present the matching cookie.
	BrowserBinding string `json:"browser_binding"`

	// SPEntityID, RequestID, ACSURL, ACSIndex and ACSBinding identify the
	// SAML request and where the answer goes (resolved from metadata).
	SPEntityID string `json:"sp"`
	RequestID  string `json:"request_id"`
	ACSURL     string `json:"acs_url"`
	ACSBinding string `json:"acs_binding"`
	// RelayState is returned to the SP byte for byte; HasRelayState tells
	// an absent RelayState from an empty one.
	RelayState    string `json:"relay_state,omitempty"`
	HasRelayState bool   `json:"has_relay_state,omitempty"`

	// NameIDFormat is the NameID format chosen from the NameIDPolicy.
	NameIDFormat string `json:"name_id_format,omitempty"`

	// Service, Attributes and ACRValues describe what was asked of itsme.
	Service    string   `json:"service"`
	Attributes []string `json:"attributes,omitempty"`
	ACRValues  []string `json:"acr_values,omitempty"`
	// AuthnContextClassRef is the class the assertion will carry, chosen
	// from the policy table; the returned acr must prove it.
	AuthnContextClassRef string `json:"authn_context,omitempty"`

	// ForceAuthn records the request's ForceAuthn: the ID token's
	// auth_time must then not be older than Created.
	ForceAuthn bool `json:"force_authn,omitempty"`
	// Unsolicited marks an IdP-initiated login: the response carries no
	// InResponseTo.
	Unsolicited bool `json:"unsolicited,omitempty"`

	// Lang is the language of the user's pages chosen when the login
	// started (nl, fr, de or en); the callback's pages use it.
	Lang string `json:"lang,omitempty"`

	// Created and Expires bound the transaction's life.
	Created time.Time `json:"created"`
	Expires time.Time `json:"expires"`
}

// LogValue implements slog.LogValuer; it never reveals the secrets.
func (t Transaction) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("sp", t.SPEntityID),
		slog.String("request_id", t.RequestID),
		slog.String("service", t.Service),
	)
}

// Store keeps transactions and replay markers.
type Store interface {
	// Put stores tx under tx.State until tx.Expires. It returns
	// ErrAlreadyExists if the key is in use, ErrUnavailable on failure.
	Put(ctx context.Context, tx Transaction) error
	// Get returns the transaction for state without consuming it, so that
	// a request can be checked against it before it is taken. It returns
	// ErrNotFound when there is none or when it expired at now,
	// ErrUnavailable on failure.
	Get(ctx context.Context, state string, now time.Time) (Transaction, error)
	// Take atomically gets and deletes the transaction for state. Among
	// concurrent callers exactly one gets it. It returns ErrNotFound when
	// there is none or when it expired at now, ErrUnavailable on failure.
	Take(ctx context.Context, state string, now time.Time) (Transaction, error)
	// MarkSeen records key until deadline. It returns ErrReplay if key was
	// already recorded and its deadline is after now, ErrUnavailable on
	// failure. Among concurrent callers with one key exactly one succeeds.
	MarkSeen(ctx context.Context, key string, now, deadline time.Time) error
	// PutRecord stores value under key until expires, replacing any
	// earlier value. Records hold the optional SSO sessions and SAML
	// artifacts; the key's first segment (up to "|") names the kind.
	// It returns ErrUnavailable on failure.
	PutRecord(ctx context.Context, key string, value []byte, expires time.Time) error
	// GetRecord returns the value stored under key. It returns
	// ErrNotFound when there is none or it expired at now, ErrUnavailable
	// on failure.
	GetRecord(ctx context.Context, key string, now time.Time) ([]byte, error)
	// TakeRecord atomically gets and deletes the value stored under key:
	// among concurrent callers exactly one gets it. Errors as GetRecord.
	TakeRecord(ctx context.Context, key string, now time.Time) ([]byte, error)
	// UpdateRecord atomically replaces the value stored under key with
	// what update returns for the current one, so that concurrent updates
	// of one key, on any node, never overwrite each other unseen: when
	// the key changes between the read and the write, update is called
	// again on the newer value. An error from update stores nothing and is
	// returned as it is. It returns ErrConflict when the key kept changing,
	// ErrUnavailable on failure.
	UpdateRecord(ctx context.Context, key string, now time.Time, update UpdateFunc) error
	// DeleteRecord removes key; a missing key is not an error. It returns
	// ErrUnavailable on failure.
	DeleteRecord(ctx context.Context, key string) error
	// Close releases the store's resources.
	Close() error
}

// Pinger is a Store that can check it is reachable (the Redis store; the
// memory store always is). Readiness checks use it.
type Pinger interface {
	Ping(ctx context.Context) error
}
