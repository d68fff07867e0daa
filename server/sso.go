package server

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/attributes"
	"github.com/samlbridge/samlbridge/audit"
	"github.com/samlbridge/samlbridge/authncontext"
	"github.com/samlbridge/samlbridge/itsme"
	"github.com/samlbridge/samlbridge/saml"
	"github.com/samlbridge/samlbridge/session"
)

// handleSSO is step 1–4 of the flow (see doc.go).
func (s *Server) handleSSO(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	req, err := s.cfg.Parser.Parse(r)
	if err != nil {
		s.rejectRequest(w, r, err)
		return
	}
	sp := req.SP
	log := s.log.With("sp", sp.EntityID, "request_id", truncate(req.Request.ID, 64), "binding", shortBinding(req.Binding))
	now := s.cfg.Now()

	// Replay (REQ-09): the parser accepts a request while now ≤
	// IssueInstant + MaxAge(), so the marker must live at least that long
	// (plus a margin).
	deadline := req.Request.IssueInstant.Add(s.cfg.Parser.MaxAge() + time.Minute)
	if err := s.cfg.Store.MarkSeen(ctx, "authnreq|"+sp.EntityID+"|"+req.Request.ID, now, deadline); err != nil {
		ev := audit.Event{Stage: audit.StageSSO, Outcome: audit.Rejected, SP: sp.EntityID, RequestID: req.Request.ID}
		if errors.Is(err, session.ErrReplay) {
			log.Warn("AuthnRequest replayed")
			ev.Reason = reasonReplay
			s.record(ctx, ev)
			s.errorPage(w, http.StatusBadRequest, msgReplay, "")
			return
		}
		log.Error("session store unavailable", "err", err)
		ev.Reason = reasonStoreUnavailable
		s.record(ctx, ev)
		s.errorPage(w, http.StatusServiceUnavailable, msgStoreDown, "")
		return
	}

	// From here on the ACS is known to be in the SP's metadata, so errors
	// are answered to it as SAML statuses.
	answer := func(se *saml.StatusError) {
		log.Warn("answering with an error status", "status", se)
		s.record(ctx, audit.Event{Stage: audit.StageSSO, Outcome: audit.Failure, Reason: se.Code(), SP: sp.EntityID, RequestID: req.Request.ID})
		s.postError(w, req.ACS.Location, sp.EntityID, req.Request.ID, req.RelayState, req.HasRelayState, se)
	}

	if req.Request.IsPassive != nil && *req.Request.IsPassive {
		// itsme always needs the user to confirm on the phone, and the
		// bridge keeps no SSO session yet, so it cannot act passively.
		answer(&saml.StatusError{Status: saml.StatusResponder, SubStatus: saml.StatusNoPassive,
			Message: "The login needs the user to confirm with itsme."})
		return
	}

	var index *int
	if v := req.Request.AttributeConsumingServiceIndex; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 65535 {
			answer(&saml.StatusError{Status: saml.StatusRequester, SubStatus: saml.StatusRequestUnsupported,
				Message: "AttributeConsumingServiceIndex is not a valid index.", Err: fmt.Errorf("index %.20q", v)})
			return
		}
		index = &n
	}
	requested, err := attributes.Requested(sp.AttributeConsumingServices, index)
	if err != nil {
		answer(&saml.StatusError{Status: saml.StatusRequester, SubStatus: saml.StatusRequestUnsupported,
			Message: "The requested AttributeConsumingService is not in the SP's metadata.", Err: err})
		return
	}
	if len(requested) == 0 {
		requested = sp.DefaultRelease
	}
	if len(requested) == 0 {
		requested = s.cfg.DefaultRelease
	}
	release := attributes.Release(requested, sp.AllowedAttributes)

	// RequestedAuthnContext (saml-core §3.3.2.2.1) through the policy table.
	var rac *authncontext.Requested
	if r := req.RequestedAuthnContext; r != nil {
		rac = &authncontext.Requested{Comparison: r.Comparison, ClassRefs: r.ClassRefs, DeclRefs: r.DeclRefs}
	}
	class, err := s.cfg.AuthnContexts.Resolve(rac)
	switch {
	case errors.Is(err, authncontext.ErrBadRequest):
		answer(&saml.StatusError{Status: saml.StatusRequester, SubStatus: saml.StatusRequestUnsupported,
			Message: "The RequestedAuthnContext is malformed.", Err: err})
		return
	case err != nil:
		answer(&saml.StatusError{Status: saml.StatusResponder, SubStatus: saml.StatusNoAuthnContext,
			Message: "The requested authentication context cannot be provided with itsme.", Err: err})
		return
	}

	// NameIDPolicy (saml-core §3.4.1.1, catalogue REQ-14).
	var policy attributes.NameIDPolicy
	if np := req.Request.NameIDPolicy; np != nil {
		if np.Format != nil {
			policy.Format = *np.Format
		}
		if np.SPNameQualifier != nil {
			policy.SPNameQualifier = *np.SPNameQualifier
		}
	}
	nameIDFormat, err := attributes.ChooseNameIDFormat(policy, sp.EntityID, sp.NameIDFormats, sp.AllowedAttributes)
	if err != nil {
		answer(&saml.StatusError{Status: saml.StatusRequester, SubStatus: saml.StatusInvalidNameIDPolicy,
			Message: "The requested NameID format cannot be provided.", Err: err})
		return
	}
	service, claims, err := attributes.Plan(planNames(release, nameIDFormat))
	if err != nil {
		answer(&saml.StatusError{Status: saml.StatusResponder, Message: "The identity provider could not plan the login.", Err: err})
		return
	}

	state, nonce, verifier, err := itsme.NewAuthRequestSecrets(s.cfg.Rand)
	if err != nil {
		answer(&saml.StatusError{Status: saml.StatusResponder, Err: err})
		return
	}
	binding := make([]byte, 32)
	if _, err := io.ReadFull(s.cfg.Rand, binding); err != nil {
		answer(&saml.StatusError{Status: saml.StatusResponder, Err: err})
		return
	}
	bindingValue := base64.RawURLEncoding.EncodeToString(binding)
	acrValues := []string{class.ACR}
	authReq := itsme.AuthRequest{State: state, Nonce: nonce, CodeVerifier: verifier, Service: service, Claims: claims, ACRValues: acrValues}
	tx := session.Transaction{
		State: state, Nonce: nonce, CodeVerifier: verifier,
		BrowserBinding: hashBinding(bindingValue),
		SPEntityID:     sp.EntityID, RequestID: req.Request.ID,
		ACSURL: req.ACS.Location, ACSBinding: req.ACS.Binding,
		RelayState: req.RelayState, HasRelayState: req.HasRelayState,
		NameIDFormat: nameIDFormat,
		Service:      string(service), Attributes: release,
		ACRValues: acrValues, AuthnContextClassRef: class.Ref,
		Created: now, Expires: now.Add(s.cfg.FlowTTL),
	}
	authURL, err := s.cfg.Upstream.AuthCodeURL(ctx, authReq)
	if err != nil {
		answer(statusFromUpstream(err))
		return
	}
	if err := s.cfg.Store.Put(ctx, tx); err != nil {
		log.Error("storing the transaction failed", "err", err)
		answer(&saml.StatusError{Status: saml.StatusResponder, Message: "The identity provider is temporarily unavailable.", Err: err})
		return
	}
	s.setFlowCookie(w, state, bindingValue)
	log.Info("login started", "service", string(service), "attributes", len(release), "signed", req.Signed, "authn_context", class.Ref)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, authURL, http.StatusFound)
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
func (s *Server) rejectRequest(w http.ResponseWriter, r *http.Request, err error) {
	s.record(r.Context(), audit.Event{Stage: audit.StageSSO, Outcome: audit.Rejected, Reason: requestReason(err)})
	var re *saml.RequestError
	if errors.As(err, &re) {
		s.log.Warn("AuthnRequest rejected", "reason", re.Reason, "cause", truncate(fmt.Sprint(re.Err), 300))
		s.errorPage(w, re.HTTPStatus(), re.Message, "")
		return
	}
	s.log.Warn("AuthnRequest rejected", "err", truncate(err.Error(), 300))
	s.errorPage(w, http.StatusBadRequest, msgBadRequest, "")
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
	return truncate(b, 80)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
