package server

import (
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/samlbridge/samlbridge/audit"
	"github.com/samlbridge/samlbridge/internal/i18n"
	"github.com/samlbridge/samlbridge/internal/logtext"
	"github.com/samlbridge/samlbridge/internal/pagestyle"
	"github.com/samlbridge/samlbridge/metadata"
	"github.com/samlbridge/samlbridge/saml"
	"github.com/samlbridge/samlbridge/session"
)

// PathSLO is the Single Logout endpoint (HTTP-Redirect and HTTP-POST).
const PathSLO = "/saml/slo"

// sloRecordPrefix is the store record kind of logout chains in progress.
const sloRecordPrefix = "slo|"

// sloChainTTL bounds how long each SP in a logout chain may take.
const sloChainTTL = 5 * time.Minute

// Audit reasons of logout outcomes.
const (
	reasonLoggedOut      = "logged_out"
	reasonPartialLogout  = "partial_logout"
	reasonNoSession      = "no_session"
	reasonUnknownSubject = "unknown_principal"
	reasonChainExpired   = "logout_chain_unknown"
	reasonChainMismatch  = "logout_chain_mismatch"
)

// logoutChain is a front-channel logout in progress: the SP that asked
// for it and the participants still to log out, one after another
// through the browser.
type logoutChain struct {
	Initiator          string        `json:"initiator"`
	InitiatorRequestID string        `json:"initiator_request_id"`
	RelayState         string        `json:"relay_state,omitempty"`
	HasRelayState      bool          `json:"has_relay_state,omitempty"`
	Pending            []participant `json:"pending,omitempty"`
	Current            string        `json:"current,omitempty"`
	CurrentRequestID   string        `json:"current_request_id,omitempty"`
	Partial            bool          `json:"partial,omitempty"`
	// Lang is the language of the pages of the logout, chosen from the
	// initiator's request (pageLang).
	Lang i18n.Lang `json:"lang,omitempty"`
}

// handleSLO receives SP-initiated LogoutRequests and the LogoutResponses
// of the participants the bridge asked to log out.
func (s *Server) handleSLO(w http.ResponseWriter, r *http.Request) {
	msg, err := s.cfg.Parser.ParseLogout(r)
	if err != nil {
		s.rejectRequest(w, r, audit.StageLogout, err)
		return
	}
	sp := msg.SP
	log := s.logger(r.Context()).With("sp", sp.EntityID, "message_id", logtext.Cut(msg.ID(), 64), "binding", shortBinding(msg.Binding))
	now := s.cfg.Now()
	// Replay (REQ-09): the marker outlives every copy the parser accepts.
	if !s.firstUse(w, r, audit.StageLogout, "logout", sp.EntityID, msg.ID(), now, s.cfg.Parser.ReplayDeadline(msg.IssueInstant()), log) {
		return
	}
	if msg.Request != nil {
		s.startLogout(w, r, msg, log)
		return
	}
	s.continueLogout(w, r, msg, log)
}

// startLogout handles an SP's LogoutRequest: it ends the bridge's session
// for this browser and logs the other participants out in turn, then
// answers the initiator.
func (s *Server) startLogout(w http.ResponseWriter, r *http.Request, msg *saml.LogoutMessage, log *slog.Logger) {
	ctx := r.Context()
	sp, req := msg.SP, msg.Request
	chain := &logoutChain{Initiator: sp.EntityID, InitiatorRequestID: req.ID, RelayState: msg.RelayState, HasRelayState: msg.HasRelayState,
		Lang: pageLang(r)}
	ss, sid := s.loadSSOSession(r, s.cfg.Now())
	if ss == nil {
		// Nothing to end here (sessions off, expired, or another
		// browser): the SP's own logout may go on.
		log.Info("logout without a bridge session")
		s.finishLogout(w, r, chain, reasonNoSession, log)
		return
	}
	var self *participant
	for i := range ss.Participants {
		if ss.Participants[i].SP == sp.EntityID {
			self = &ss.Participants[i]
		}
	}
	sessionIndexOK := req.SessionIndex == nil || self != nil && req.SessionIndex.Value == self.SessionIndex
	if self == nil || req.NameID.Value != self.NameID || !sessionIndexOK {
		// saml-core §3.7.3.2: the principal is not the one of this
		// browser's session; nothing is ended.
		log.Warn("LogoutRequest names another principal or session than this browser's")
		s.record(ctx, audit.Event{Stage: audit.StageLogout, Outcome: audit.Failure, Reason: reasonUnknownSubject, SP: sp.EntityID, RequestID: req.ID})
		s.answerLogout(w, r, chain, &saml.StatusError{Status: saml.StatusRequester, SubStatus: saml.StatusUnknownPrincipal,
			Message: "The principal is not logged in here."}, log)
		return
	}
	// The session is taken, not deleted: a login that finished since it
	// was read above is then in it, and its SP is logged out too.
	now := s.cfg.Now()
	raw, err := s.cfg.Store.TakeRecord(ctx, ssoRecordPrefix+sid, now)
	switch {
	case errors.Is(err, session.ErrNotFound):
		// Ended meanwhile (another logout, or expiry): the participants
		// read above are still this browser's.
	case err != nil:
		log.Error("ending the SSO session failed", "err", err)
		s.record(ctx, audit.Event{Stage: audit.StageLogout, Outcome: audit.Failure, Reason: reasonStoreUnavailable, SP: sp.EntityID, RequestID: req.ID})
		s.answerLogout(w, r, chain, &saml.StatusError{Status: saml.StatusResponder, Message: "The identity provider could not end the session."}, log)
		return
	default:
		if taken := parseSSOSession(raw, now); taken.belongsTo(ss.Issuer, ss.Subject) {
			ss = taken
		}
	}
	s.setSSOCookie(w, "", -1)
	for _, p := range ss.Participants {
		if p.SP != sp.EntityID {
			chain.Pending = append(chain.Pending, p)
		}
	}
	log.Info("SSO session ended", "other_participants", len(chain.Pending))
	s.nextLogout(w, r, chain, log)
}

// continueLogout handles a participant's LogoutResponse and moves the
// chain on.
func (s *Server) continueLogout(w http.ResponseWriter, r *http.Request, msg *saml.LogoutMessage, log *slog.Logger) {
	ctx := r.Context()
	resp := msg.Response
	lang := pageLang(r)
	reject := func(status int, code, reason string) {
		s.record(ctx, audit.Event{Stage: audit.StageLogout, Outcome: audit.Rejected, Reason: reason, SP: msg.SP.EntityID, RequestID: resp.ID})
		s.errorPage(w, lang, status, code)
	}
	if !msg.HasRelayState || msg.RelayState == "" || len(msg.RelayState) > 64 {
		log.Warn("LogoutResponse without the bridge's RelayState")
		reject(http.StatusBadRequest, codeChainExpired, reasonChainExpired)
		return
	}
	raw, err := s.cfg.Store.TakeRecord(ctx, sloRecordPrefix+msg.RelayState, s.cfg.Now())
	if err != nil {
		if errors.Is(err, session.ErrNotFound) {
			log.Warn("LogoutResponse for an unknown or finished logout")
			reject(http.StatusBadRequest, codeChainExpired, reasonChainExpired)
			return
		}
		log.Error("session store unavailable", "err", err)
		reject(http.StatusServiceUnavailable, codeStoreDown, reasonStoreUnavailable)
		return
	}
	var chain logoutChain
	if err := json.Unmarshal(raw, &chain); err != nil {
		log.Error("decoding the logout chain failed", "err", err)
		reject(http.StatusInternalServerError, codeInternal, reasonInternal)
		return
	}
	if chain.Lang != "" {
		lang = chain.Lang.OrDefault()
	}
	if msg.SP.EntityID != chain.Current || resp.InResponseTo != chain.CurrentRequestID {
		log.Warn("LogoutResponse from another SP or for another request than the one pending")
		reject(http.StatusBadRequest, codeChainMismatch, reasonChainMismatch)
		return
	}
	if resp.Status.StatusCode.Value != saml.StatusSuccess {
		log.Warn("a participant could not log out", "status", resp.Status.StatusCode.Value)
		chain.Partial = true
	}
	s.nextLogout(w, r, &chain, log)
}

// nextLogout sends a LogoutRequest to the next participant that has a
// logout endpoint, or finishes the chain.
func (s *Server) nextLogout(w http.ResponseWriter, r *http.Request, chain *logoutChain, log *slog.Logger) {
	ctx := r.Context()
	for len(chain.Pending) > 0 {
		p := chain.Pending[0]
		chain.Pending = chain.Pending[1:]
		sp, err := s.cfg.Registry.ServiceProvider(ctx, p.SP)
		if err != nil {
			log.Warn("a session participant is no longer registered", "participant", p.SP, "err", err)
			chain.Partial = true
			continue
		}
		ep, ok := sp.LogoutEndpoint()
		if !ok {
			log.Info("a session participant has no logout endpoint", "participant", p.SP)
			chain.Partial = true
			continue
		}
		el, id, err := s.cfg.IDP.BuildLogoutRequest(saml.LogoutRequestParams{
			Destination: ep.Location,
			NameID: saml.NameID{Value: p.NameID, Format: p.NameIDFormat, NameQualifier: p.NameQualifier,
				SPNameQualifier: p.SP},
			SessionIndex:    p.SessionIndex,
			Reason:          saml.LogoutReasonUser,
			SignatureMethod: sp.SignatureAlgorithm, AllowSHA1: sp.LegacySHA1,
		})
		if err != nil {
			log.Error("building a LogoutRequest failed", "participant", p.SP, "err", err)
			chain.Partial = true
			continue
		}
		chainID, err := randomToken(s.cfg.Rand)
		if err != nil {
			log.Error("random chain ID failed", "err", err)
			chain.Partial = true
			break
		}
		chain.Current, chain.CurrentRequestID = p.SP, id
		raw, err := json.Marshal(chain)
		if err == nil {
			err = s.cfg.Store.PutRecord(ctx, sloRecordPrefix+chainID, raw, s.cfg.Now().Add(sloChainTTL))
		}
		if err != nil {
			log.Error("storing the logout chain failed", "err", err)
			chain.Partial = true
			break
		}
		out, err := s.cfg.IDP.Encode(el, ep.Binding, ep.Location, "SAMLRequest", chainID, true, sp.SignatureAlgorithm, sp.LegacySHA1)
		if err != nil {
			log.Error("encoding a LogoutRequest failed", "participant", p.SP, "err", err)
			_ = s.cfg.Store.DeleteRecord(ctx, sloRecordPrefix+chainID)
			chain.Partial = true
			continue
		}
		log.Info("logging a session participant out", "participant", p.SP)
		if out.Form != nil {
			out.Form.Lang = chain.Lang.OrDefault()
		}
		if err := out.Send(w, r, s.cfg.Rand); err != nil {
			log.Error("sending the LogoutRequest failed", "err", err)
		}
		return
	}
	reason := reasonLoggedOut
	if chain.Partial {
		reason = reasonPartialLogout
	}
	s.finishLogout(w, r, chain, reason, log)
}

// finishLogout records the outcome and answers the initiator.
func (s *Server) finishLogout(w http.ResponseWriter, r *http.Request, chain *logoutChain, reason string, log *slog.Logger) {
	s.record(r.Context(), audit.Event{Stage: audit.StageLogout, Outcome: audit.Success, Reason: reason, SP: chain.Initiator, RequestID: chain.InitiatorRequestID})
	var st *saml.StatusError
	if chain.Partial {
		st = &saml.StatusError{Status: saml.StatusSuccess, SubStatus: saml.StatusPartialLogout,
			Message: "Some session participants could not be logged out."}
	}
	s.answerLogout(w, r, chain, st, log)
}

// answerLogout sends the initiator its signed LogoutResponse at the
// logout endpoint from its metadata, or shows a local page when it has
// none.
func (s *Server) answerLogout(w http.ResponseWriter, r *http.Request, chain *logoutChain, st *saml.StatusError, log *slog.Logger) {
	ctx := r.Context()
	var sp *metadata.ServiceProvider
	var err error
	if chain.Initiator != "" {
		sp, err = s.cfg.Registry.ServiceProvider(ctx, chain.Initiator)
	}
	var ep struct{ binding, location string }
	if sp != nil && err == nil {
		if e, ok := sp.LogoutEndpoint(); ok {
			ep.binding, ep.location = e.Binding, e.Location
			if e.ResponseLocation != "" {
				ep.location = e.ResponseLocation
			}
		}
	}
	if ep.location == "" {
		page := i18n.LogoutNoReturn
		if st == nil {
			page = i18n.LoggedOut
		} else if st.SubStatus == saml.StatusPartialLogout {
			page = i18n.PartialLogout
		}
		s.logoutPage(w, chain.Lang, page)
		return
	}
	el, err := s.cfg.IDP.BuildLogoutResponse(saml.LogoutResponseParams{Destination: ep.location, InResponseTo: chain.InitiatorRequestID, Status: st,
		SignatureMethod: sp.SignatureAlgorithm, AllowSHA1: sp.LegacySHA1})
	if err == nil {
		var out *saml.Outbound
		out, err = s.cfg.IDP.Encode(el, ep.binding, ep.location, "SAMLResponse", chain.RelayState, chain.HasRelayState, sp.SignatureAlgorithm, sp.LegacySHA1)
		if err == nil {
			if out.Form != nil {
				out.Form.Lang = chain.Lang.OrDefault()
			}
			if err := out.Send(w, r, s.cfg.Rand); err != nil {
				log.Error("sending the LogoutResponse failed", "err", err)
			}
			return
		}
	}
	log.Error("building the LogoutResponse failed", "err", err)
	s.errorPage(w, chain.Lang.OrDefault(), http.StatusInternalServerError, codeInternal)
}

var logoutTemplate = template.Must(template.New("logout").Parse(`<!DOCTYPE html>
<html lang="{{.L}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.L.T "page.logout.title"}}</title>
<style>{{.Style}}</style>
</head><body><main>
<h1>{{.L.T "page.logout.heading"}}</h1>
<p id="message">{{.Message}}</p>
</main></body></html>
`))

// logoutPage shows, in lang, the end of a logout that has nowhere to
// return to; msg is i18n.LoggedOut, PartialLogout or LogoutNoReturn.
func (s *Server) logoutPage(w http.ResponseWriter, lang i18n.Lang, msg i18n.Key) {
	lang = lang.OrDefault()
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", string(lang))
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	w.WriteHeader(http.StatusOK)
	_ = logoutTemplate.Execute(w, struct {
		L       i18n.Lang
		Style   template.CSS
		Message string
	}{lang, pagestyle.CSS, lang.T(msg)})
}
