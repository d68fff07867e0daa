package server

import (
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/samlbridge/samlbridge/audit"
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

const (
	msgLoggedOut      = "You are logged out."
	msgPartialLogout  = "You are logged out here, but some applications could not be reached. Close your browser to end every session."
	msgChainExpired   = "This logout has expired or was already completed. Close your browser to make sure every session has ended."
	msgChainMismatch  = "An application answered a logout it was not asked for. Close your browser to make sure every session has ended."
	msgLogoutNoAnswer = "You are logged out of the identity provider. The application that asked for the logout has no logout address registered, so you cannot be sent back to it."
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
	log := s.logger(r.Context()).With("sp", sp.EntityID, "message_id", truncate(msg.ID(), 64), "binding", shortBinding(msg.Binding))
	now := s.cfg.Now()
	// The parser accepts a message while now ≤ IssueInstant + MaxAge, so
	// a marker kept that long from now outlives every acceptable copy.
	if !s.firstUse(w, r, audit.StageLogout, "logout", sp.EntityID, msg.ID(), now, now.Add(s.cfg.Parser.MaxAge()+time.Minute), log) {
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
	chain := &logoutChain{Initiator: sp.EntityID, InitiatorRequestID: req.ID, RelayState: msg.RelayState, HasRelayState: msg.HasRelayState}
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
	if err := s.cfg.Store.DeleteRecord(ctx, ssoRecordPrefix+sid); err != nil {
		log.Error("ending the SSO session failed", "err", err)
		s.record(ctx, audit.Event{Stage: audit.StageLogout, Outcome: audit.Failure, Reason: reasonStoreUnavailable, SP: sp.EntityID, RequestID: req.ID})
		s.answerLogout(w, r, chain, &saml.StatusError{Status: saml.StatusResponder, Message: "The identity provider could not end the session."}, log)
		return
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
	reject := func(status int, page, reason string) {
		s.record(ctx, audit.Event{Stage: audit.StageLogout, Outcome: audit.Rejected, Reason: reason, SP: msg.SP.EntityID, RequestID: resp.ID})
		s.errorPage(w, status, page, "")
	}
	if !msg.HasRelayState || msg.RelayState == "" || len(msg.RelayState) > 64 {
		log.Warn("LogoutResponse without the bridge's RelayState")
		reject(http.StatusBadRequest, msgChainExpired, reasonChainExpired)
		return
	}
	raw, err := s.cfg.Store.TakeRecord(ctx, sloRecordPrefix+msg.RelayState, s.cfg.Now())
	if err != nil {
		if errors.Is(err, session.ErrNotFound) {
			log.Warn("LogoutResponse for an unknown or finished logout")
			reject(http.StatusBadRequest, msgChainExpired, reasonChainExpired)
			return
		}
		log.Error("session store unavailable", "err", err)
		reject(http.StatusServiceUnavailable, msgStoreDown, reasonStoreUnavailable)
		return
	}
	var chain logoutChain
	if err := json.Unmarshal(raw, &chain); err != nil {
		log.Error("decoding the logout chain failed", "err", err)
		reject(http.StatusInternalServerError, msgInternal, reasonInternal)
		return
	}
	if msg.SP.EntityID != chain.Current || resp.InResponseTo != chain.CurrentRequestID {
		log.Warn("LogoutResponse from another SP or for another request than the one pending")
		reject(http.StatusBadRequest, msgChainMismatch, reasonChainMismatch)
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
		page := msgLogoutNoAnswer
		if st == nil {
			page = msgLoggedOut
		} else if st.SubStatus == saml.StatusPartialLogout {
			page = msgPartialLogout
		}
		s.logoutPage(w, page)
		return
	}
	el, err := s.cfg.IDP.BuildLogoutResponse(saml.LogoutResponseParams{Destination: ep.location, InResponseTo: chain.InitiatorRequestID, Status: st,
		SignatureMethod: sp.SignatureAlgorithm, AllowSHA1: sp.LegacySHA1})
	if err == nil {
		var out *saml.Outbound
		out, err = s.cfg.IDP.Encode(el, ep.binding, ep.location, "SAMLResponse", chain.RelayState, chain.HasRelayState, sp.SignatureAlgorithm, sp.LegacySHA1)
		if err == nil {
			if err := out.Send(w, r, s.cfg.Rand); err != nil {
				log.Error("sending the LogoutResponse failed", "err", err)
			}
			return
		}
	}
	log.Error("building the LogoutResponse failed", "err", err)
	s.errorPage(w, http.StatusInternalServerError, msgInternal, "")
}

var logoutTemplate = template.Must(template.New("logout").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Logged out</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}p{line-height:1.5}</style>
</head><body>
<h1>Logout</h1>
<p>{{.}}</p>
</body></html>
`))

// logoutPage shows the end of a logout that has nowhere to return to.
func (s *Server) logoutPage(w http.ResponseWriter, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	w.WriteHeader(http.StatusOK)
	_ = logoutTemplate.Execute(w, msg)
}
