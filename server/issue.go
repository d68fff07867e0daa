package server

import (
	"log/slog"
	"net/http"

	"github.com/samlbridge/samlbridge/audit"
	"github.com/samlbridge/samlbridge/itsme"
)

// grant is a login that succeeded: what the SP asked for and who itsme
// (or the bridge's SSO session) proved the user to be.
type grant struct {
	// to is the SP and the ACS (from its metadata) to answer at.
	to           acsTarget
	requestID    string
	unsolicited  bool
	nameIDFormat string
	attributes   []string
	classRef     string
	id           *itsme.Identity
}

// issue answers a successful login: it builds the signed (and, when the SP
// has an encryption key, encrypted) Response, readies its delivery to the
// metadata-validated ACS, and only when it can be delivered records the
// audit event, adds the SP to the bridge's SSO session when sessions are
// on, and delivers it.
func (s *Server) issue(w http.ResponseWriter, r *http.Request, stage audit.Stage, g grant, sid string, sess *ssoSession, log *slog.Logger) {
	ctx := r.Context()
	sp, id := g.to.sp, g.id
	a, se := s.responder().Build(Success{
		SP: sp, ACSURL: g.to.url, RequestID: g.requestID, Unsolicited: g.unsolicited,
		NameIDFormat: g.nameIDFormat, Attributes: g.attributes, ClassRef: g.classRef, Identity: id,
	})
	if se != nil {
		s.postError(ctx, w, log, stage, g.to, g.requestID, se)
		return
	}
	classRef := g.classRef
	if classRef == "" {
		classRef = s.cfg.AuthnContexts.Default
	}
	// Whatever can stop the Response reaching the SP is done first, so
	// that neither the audit nor the SSO session records a login the SP
	// never got.
	send, fail := s.prepareDelivery(ctx, g.to, a.Response, log)
	if fail != nil {
		s.record(ctx, audit.Event{Stage: stage, Outcome: audit.Rejected, Reason: fail.reason, SP: sp.EntityID, RequestID: g.requestID})
		s.errorPage(w, g.to.lang, fail.status, fail.code)
		return
	}
	if s.cfg.SSOSession.Enabled {
		s.saveSSOSession(w, r, sid, sess, g, participant{
			SP: sp.EntityID, NameID: a.NameID, NameIDFormat: a.NameIDFormat,
			NameQualifier: id.Issuer, SessionIndex: a.SessionIndex,
		}, log)
	}
	log.Info("login completed", "upstream", id, "released", a.Released, "encrypted", a.Encrypted, "from_session", stage != audit.StageCallback)
	s.record(ctx, audit.Event{Stage: stage, Outcome: audit.Success, Reason: reasonOK, SP: sp.EntityID, RequestID: g.requestID,
		Subject: audit.Pseudonym(s.auditKey, id.Issuer, id.Subject), Attributes: a.Released, AuthnContext: classRef, Encrypted: a.Encrypted})
	send(w)
}

// responder is the Responder of the server's configuration.
func (s *Server) responder() Responder {
	return Responder{IDP: s.cfg.IDP, PairwiseSecret: s.cfg.PairwiseSecret, DefaultClassRef: s.cfg.AuthnContexts.Default, Rand: s.cfg.Rand}
}
