package server

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/attributes"
	"github.com/samlbridge/samlbridge/audit"
	"github.com/samlbridge/samlbridge/authncontext"
	"github.com/samlbridge/samlbridge/internal/logtext"
	"github.com/samlbridge/samlbridge/saml"
	"github.com/samlbridge/samlbridge/session"
)

// handleSSO is step 1–4 of the flow (see doc.go).
func (s *Server) handleSSO(w http.ResponseWriter, r *http.Request) {
	req, err := s.cfg.Parser.Parse(r)
	if err != nil {
		s.rejectRequest(w, r, audit.StageSSO, err)
		return
	}
	sp := req.SP
	log := s.logger(r.Context()).With("sp", sp.EntityID, "request_id", logtext.Cut(req.Request.ID, 64), "binding", shortBinding(req.Binding))
	now := s.cfg.Now()

	// Replay (REQ-09): the marker outlives every copy the parser accepts.
	if !s.firstUse(w, r, audit.StageSSO, "authnreq", sp.EntityID, req.Request.ID, now, s.cfg.Parser.ReplayDeadline(req.Request.IssueInstant), log) {
		return
	}

	l := &login{
		stage: audit.StageSSO, sp: sp, requestID: req.Request.ID, acs: req.ACS,
		relayState: req.RelayState, hasRelayState: req.HasRelayState,
		forceAuthn: req.Request.ForceAuthn != nil && *req.Request.ForceAuthn,
		isPassive:  req.Request.IsPassive != nil && *req.Request.IsPassive,
		acsIndex:   req.Request.AttributeConsumingServiceIndex,
		requested:  req.RequestedAttributes,
		scoping:    req.Scoping,
		hasSubject: req.Request.Subject != nil,
		lang:       pageLang(r),
	}
	if r := req.RequestedAuthnContext; r != nil {
		l.rac = &authncontext.Requested{Comparison: r.Comparison, ClassRefs: r.ClassRefs, DeclRefs: r.DeclRefs}
	}
	if np := req.Request.NameIDPolicy; np != nil {
		if np.Format != nil {
			l.nameIDPolicy.Format = *np.Format
		}
		if np.SPNameQualifier != nil {
			l.nameIDPolicy.SPNameQualifier = *np.SPNameQualifier
		}
	}
	log.Debug("AuthnRequest accepted", "signed", req.Signed)
	s.serveLogin(w, r, l, log)
}

// firstUse marks message id from sp as seen until deadline (catalogue
// REQ-09: replay across nodes). A replay, or a store that cannot tell,
// gets a local error page and an audit event, and false.
func (s *Server) firstUse(w http.ResponseWriter, r *http.Request, stage audit.Stage, kind, sp, id string, now, deadline time.Time, log *slog.Logger) bool {
	ctx := r.Context()
	err := s.cfg.Store.MarkSeen(ctx, kind+"|"+sp+"|"+id, now, deadline)
	if err == nil {
		return true
	}
	ev := audit.Event{Stage: stage, Outcome: audit.Rejected, SP: sp, RequestID: id}
	if errors.Is(err, session.ErrReplay) {
		log.Warn("message replayed", "kind", kind)
		ev.Reason = reasonReplay
		s.record(ctx, ev)
		s.errorPage(w, pageLang(r), http.StatusBadRequest, codeReplay)
		return false
	}
	log.Error("session store unavailable", "err", err)
	ev.Reason = reasonStoreUnavailable
	s.record(ctx, ev)
	s.errorPage(w, pageLang(r), http.StatusServiceUnavailable, codeStoreDown)
	return false
}

// planNames is what must be asked of itsme: the released attributes and
// what the NameID format needs (the e-mail address for emailAddress).
func planNames(release []string, nameIDFormat string) []string {
	names := slices.Clone(release)
	for _, n := range attributes.NeedsClaims(nameIDFormat) {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names
}

// rejectRequest shows the local error page for a request that failed
// validation. Nothing is sent to any ACS.
func (s *Server) rejectRequest(w http.ResponseWriter, r *http.Request, stage audit.Stage, err error) {
	s.record(r.Context(), audit.Event{Stage: stage, Outcome: audit.Rejected, Reason: requestReason(err)})
	var re *saml.RequestError
	if errors.As(err, &re) {
		s.logger(r.Context()).Warn("SAML message rejected", "stage", stage, "reason", re.Reason, "cause", logtext.Cut(fmt.Sprint(re.Err), 300))
		s.errorPage(w, pageLang(r), re.HTTPStatus(), re.Code())
		return
	}
	s.logger(r.Context()).Warn("SAML message rejected", "stage", stage, "err", logtext.Cut(err.Error(), 300))
	s.errorPage(w, pageLang(r), http.StatusBadRequest, codeBadRequest)
}

func hashBinding(v string) string {
	sum := sha256.Sum256([]byte("samlbridge-flow-binding|" + v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func shortBinding(b string) string {
	switch b {
	case crewjam.HTTPRedirectBinding:
		return "redirect"
	case crewjam.HTTPPostBinding:
		return "post"
	}
	return logtext.Cut(b, 80)
}
