package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"sync/atomic"

	"github.com/samlbridge/samlbridge/audit"
	"github.com/samlbridge/samlbridge/internal/logtext"
	"github.com/samlbridge/samlbridge/saml"
)

// auditedKey is the context key of a request's *atomic.Bool, set once an
// audit event has been recorded for it.
type auditedKey struct{}

// Reasons of audit events that are not SAML statuses or request errors.
const (
	reasonOK               = "ok"
	reasonReplay           = "replay"
	reasonStoreUnavailable = "store_unavailable"
	reasonBadCallback      = "bad_callback"
	reasonUnknownState     = "unknown_state"
	reasonBrowserBinding   = "browser_binding"
	reasonSPGone           = "sp_gone"
	reasonRateLimited      = "rate_limited"
	reasonInternal         = "internal_error"
	reasonArtifactOff      = "artifact_binding_off"
)

// requestReasons names each AuthnRequest rejection in audit events.
var requestReasons = []struct {
	err  error
	name string
}{
	{saml.ErrRequestTooLarge, "too_large"},
	{saml.ErrUnknownSP, "unknown_sp"},
	{saml.ErrSignatureRequired, "signature_required"},
	{saml.ErrBadSignature, "bad_signature"},
	{saml.ErrDestination, "destination"},
	{saml.ErrStaleRequest, "stale"},
	{saml.ErrACS, "acs_not_in_metadata"},
	{saml.ErrUnsupportedBinding, "unsupported_binding"},
	{saml.ErrDuplicateParameter, "duplicate_parameter"},
	{saml.ErrRegistryUnavailable, "registry_unavailable"},
	{saml.ErrMalformedRequest, "malformed"},
}

// requestReason is the audit reason of a rejected AuthnRequest.
func requestReason(err error) string {
	for _, r := range requestReasons {
		if errors.Is(err, r.err) {
			return r.name
		}
	}
	return "malformed"
}

// auditKey derives the audit pseudonym key from the pairwise secret, so
// that audit pseudonyms and NameIDs cannot be correlated without it.
func auditKey(pairwiseSecret []byte) []byte {
	m := hmac.New(sha256.New, pairwiseSecret)
	m.Write([]byte("samlbridge audit pseudonym key v1"))
	return m.Sum(nil)
}

// record completes e (time, truncated request ID) and sends it to the
// configured sink.
func (s *Server) record(ctx context.Context, e audit.Event) {
	if done, ok := ctx.Value(auditedKey{}).(*atomic.Bool); ok {
		done.Store(true)
	}
	e.Time = s.cfg.Now()
	e.RequestID = logtext.Cut(e.RequestID, 64)
	s.cfg.Audit.Record(ctx, e)
}
