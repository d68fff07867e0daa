package server

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/samlbridge/samlbridge/audit"
	"github.com/samlbridge/samlbridge/internal/logtext"
	"github.com/samlbridge/samlbridge/metadata"
	"github.com/samlbridge/samlbridge/saml"
)

// PathUnsolicited is the IdP-initiated SSO endpoint, following
// Shibboleth's convention: GET with providerId (the SP's entity ID),
// optional shire (an ACS URL from its metadata) and optional target (the
// RelayState).
const PathUnsolicited = "/saml/unsolicited"

// Reasons of unsolicited-login rejections in audit events.
const (
	reasonUnsolicitedBad       = "unsolicited_malformed"
	reasonUnsolicitedForbidden = "unsolicited_not_allowed"
)

// handleUnsolicited starts a login no SP asked for, for SPs whose
// configuration allows it (legacy portals). Everything is checked before
// the flow starts; nothing is ever sent to an ACS that is not in the SP's
// metadata.
func (s *Server) handleUnsolicited(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	reject := func(status int, msg, reason, sp string, err error) {
		s.logger(r.Context()).Warn("unsolicited login refused", "reason", reason, "cause", logtext.Cut(fmt.Sprint(err), 300))
		s.record(ctx, audit.Event{Stage: audit.StageUnsolicited, Outcome: audit.Rejected, Reason: reason, SP: sp})
		s.errorPage(w, pageLang(r), status, msg)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET")
		reject(http.StatusMethodNotAllowed, codeUnsolicitedBad, reasonUnsolicitedBad, "", errors.New("method "+r.Method))
		return
	}
	if len(r.URL.RawQuery) > 4096 {
		reject(http.StatusRequestURITooLong, codeUnsolicitedBad, reasonUnsolicitedBad, "", errors.New("query too long"))
		return
	}
	q := r.URL.Query()
	for _, p := range []string{"providerId", "shire", "target", "time"} {
		if len(q[p]) > 1 {
			reject(http.StatusBadRequest, codeUnsolicitedBad, reasonUnsolicitedBad, "", fmt.Errorf("parameter %s given more than once", p))
			return
		}
	}
	entityID := q.Get("providerId")
	if entityID == "" {
		reject(http.StatusBadRequest, codeUnsolicitedBad, reasonUnsolicitedBad, "", errors.New("no providerId"))
		return
	}
	sp, err := s.cfg.Registry.ServiceProvider(ctx, entityID)
	switch {
	case errors.Is(err, metadata.ErrUnknownServiceProvider):
		reject(http.StatusBadRequest, codeUnsolicitedBad, requestReason(saml.ErrUnknownSP), "", err)
		return
	case err != nil:
		reject(http.StatusServiceUnavailable, codeStoreDown, requestReason(saml.ErrRegistryUnavailable), "", err)
		return
	}
	if !sp.AllowUnsolicited {
		reject(http.StatusForbidden, codeUnsolicitedForbidden, reasonUnsolicitedForbidden, sp.EntityID, errors.New("the SP does not allow unsolicited responses"))
		return
	}
	acs, err := sp.ResolveACS(q.Get("shire"), nil, "")
	if err != nil {
		reject(http.StatusBadRequest, codeUnsolicitedBad, requestReason(saml.ErrACS), sp.EntityID, err)
		return
	}
	target, hasTarget := q.Get("target"), q.Has("target")
	if err := saml.CheckRelayState(target); err != nil {
		reject(http.StatusBadRequest, codeUnsolicitedBad, reasonUnsolicitedBad, sp.EntityID, err)
		return
	}
	log := s.logger(r.Context()).With("sp", sp.EntityID, "unsolicited", true)
	s.serveLogin(w, r, &login{stage: audit.StageUnsolicited, sp: sp, unsolicited: true, acs: acs, relayState: target, hasRelayState: hasTarget,
		lang: pageLang(r)}, log)
}
