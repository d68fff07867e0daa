package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
)

// Outcome is how one login attempt ended.
type Outcome string

// The outcomes. Every request to the SSO or callback endpoint that ends
// an attempt produces exactly one event with one of them.
const (
	// Success: a signed assertion was posted to the SP.
	Success Outcome = "success"
	// Failure: a signed error Response (no assertion) was posted to the SP.
	Failure Outcome = "failure"
	// Rejected: the request was refused with the bridge's own page and
	// nothing was posted anywhere.
	Rejected Outcome = "rejected"
)

// Stage says which endpoint ended the attempt.
type Stage string

// The stages.
const (
	// StageSSO is the SAML SSO endpoint (the AuthnRequest).
	StageSSO Stage = "sso"
	// StageCallback is the OIDC callback (itsme's answer).
	StageCallback Stage = "callback"
	// StageUnsolicited is the IdP-initiated SSO endpoint.
	StageUnsolicited Stage = "unsolicited"
	// StageLogout is the Single Logout endpoint.
	StageLogout Stage = "logout"
)

// Event is one audit record. Every field is safe to store: no value
// identifies a person except through the keyed Subject pseudonym.
type Event struct {
	Time    time.Time `json:"time"`
	Stage   Stage     `json:"stage"`
	Outcome Outcome   `json:"outcome"`
	// Reason is a short machine-readable cause: a SAML status
	// ("Responder/NoPassive"), a rejection reason ("bad_signature") or
	// "ok".
	Reason string `json:"reason"`
	// SP is the service provider's entityID, when known.
	SP string `json:"sp,omitempty"`
	// RequestID is the AuthnRequest's ID (chosen by the SP), truncated.
	RequestID string `json:"request_id,omitempty"`
	// Subject is the pseudonym of the upstream subject (see Pseudonym),
	// set only when the user was identified.
	Subject string `json:"subject,omitempty"`
	// Attributes are the names of the attributes released.
	Attributes []string `json:"attributes,omitempty"`
	// AuthnContext is the AuthnContextClassRef asserted.
	AuthnContext string `json:"authn_context,omitempty"`
	// Encrypted tells whether the assertion was encrypted.
	Encrypted bool `json:"encrypted,omitempty"`
}

// Sink receives audit events. Record must not block for long; a sink that
// fails reports it through its own means (it cannot fail the login).
type Sink interface {
	Record(ctx context.Context, e Event)
}

// Discard is a Sink that drops every event.
type Discard struct{}

// Record implements Sink.
func (Discard) Record(context.Context, Event) {}

// JSONSink writes each event as one JSON line to W. It is safe for
// concurrent use.
type JSONSink struct {
	mu  sync.Mutex
	w   io.Writer
	err error
}

// NewJSONSink returns a sink writing JSON lines to w.
func NewJSONSink(w io.Writer) *JSONSink { return &JSONSink{w: w} }

// Record implements Sink.
func (s *JSONSink) Record(_ context.Context, e Event) {
	line, err := json.Marshal(e)
	if err != nil {
		s.fail(fmt.Errorf("audit: encoding event: %w", err))
		return
	}
	line = append(line, '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.w.Write(line); err != nil && s.err == nil {
		s.err = fmt.Errorf("audit: writing event: %w", err)
	}
}

func (s *JSONSink) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

// Err returns the first write or encoding error, if any.
func (s *JSONSink) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Pseudonym derives the audit pseudonym of an upstream subject: the first
// 128 bits of HMAC-SHA256 keyed with key over the issuer and subject,
// base64url. The same person has the same pseudonym at every SP; without
// key it cannot be linked back to the subject.
func Pseudonym(key []byte, issuer, subject string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("samlbridge-audit-v1\x00"))
	m.Write([]byte(issuer))
	m.Write([]byte{0})
	m.Write([]byte(subject))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}
