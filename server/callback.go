package server

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"time"

	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/attributes"
	"github.com/samlbridge/samlbridge/audit"
	"github.com/samlbridge/samlbridge/internal/i18n"
	"github.com/samlbridge/samlbridge/internal/logtext"
	"github.com/samlbridge/samlbridge/itsme"
	"github.com/samlbridge/samlbridge/metadata"
	"github.com/samlbridge/samlbridge/saml"
	"github.com/samlbridge/samlbridge/session"
)

// handleCallback is step 5–6 of the flow (see doc.go).
func (s *Server) handleCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	w.Header().Set("Referrer-Policy", "no-referrer")
	reject := func(status int, msg, reason string, tx *session.Transaction) {
		ev := audit.Event{Stage: audit.StageCallback, Outcome: audit.Rejected, Reason: reason}
		if tx != nil {
			ev.SP, ev.RequestID = tx.SPEntityID, tx.RequestID
		}
		s.record(ctx, ev)
		lang := pageLang(r)
		if tx != nil && tx.Lang != "" {
			lang = i18n.Lang(tx.Lang).OrDefault()
		}
		s.errorPage(w, lang, status, msg)
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		reject(http.StatusMethodNotAllowed, codeBadCallback, reasonBadCallback, nil)
		return
	}
	q := r.URL.Query()
	for _, p := range []string{"state", "code", "error", "error_description", "iss"} {
		if len(q[p]) > 1 { // OIDC-08: parameter pollution
			s.logger(r.Context()).Warn("callback rejected: duplicate parameter", "param", p)
			reject(http.StatusBadRequest, codeBadCallback, reasonBadCallback, nil)
			return
		}
	}
	state := q.Get("state")
	if state == "" || len(state) > 512 {
		reject(http.StatusBadRequest, codeBadCallback, reasonBadCallback, nil)
		return
	}
	// The transaction is read, checked against this browser, and only
	// then taken: a request from another browser (or from someone who
	// learnt the state) must not use up the user's login.
	storeFailed := func(err error) {
		if errors.Is(err, session.ErrNotFound) {
			s.logger(r.Context()).Warn("callback for an unknown, used or expired login")
			reject(http.StatusBadRequest, codeExpired, reasonUnknownState, nil)
			return
		}
		s.logger(r.Context()).Error("session store unavailable", "err", err)
		reject(http.StatusServiceUnavailable, codeStoreDown, reasonStoreUnavailable, nil)
	}
	tx, err := s.cfg.Store.Get(ctx, state, s.cfg.Now())
	if err != nil {
		storeFailed(err)
		return
	}
	log := s.logger(ctx).With("sp", tx.SPEntityID, "request_id", logtext.Cut(tx.RequestID, 64), "flow_id", flowID(state))
	cookieValue := s.takeFlowCookie(w, r, state)
	if cookieValue == "" || subtle.ConstantTimeCompare([]byte(hashBinding(cookieValue)), []byte(tx.BrowserBinding)) != 1 {
		// Login CSRF / session swapping (OIDC-01): the browser that
		// finishes the flow is not the one that started it.
		log.Warn("callback rejected: browser binding mismatch")
		reject(http.StatusBadRequest, codeBinding, reasonBrowserBinding, &tx)
		return
	}
	// Among concurrent callbacks of this browser exactly one takes it.
	if tx, err = s.cfg.Store.Take(ctx, state, s.cfg.Now()); err != nil {
		storeFailed(err)
		return
	}
	sp, err := s.cfg.Registry.ServiceProvider(ctx, tx.SPEntityID)
	if err != nil || !acsStillValid(sp, tx.ACSURL) {
		log.Warn("SP or its ACS disappeared during the login", "err", err)
		reject(http.StatusBadRequest, codeSPGone, reasonSPGone, &tx)
		return
	}
	target := acsTarget{sp: sp, url: tx.ACSURL, binding: tx.ACSBinding, relayState: tx.RelayState, hasRelayState: tx.HasRelayState,
		lang: i18n.Lang(tx.Lang).OrDefault()}
	answer := func(se *saml.StatusError) { s.postError(ctx, w, log, audit.StageCallback, target, tx.RequestID, se) }
	if iss, ok := q["iss"]; ok && s.cfg.UpstreamIssuer != "" && iss[0] != s.cfg.UpstreamIssuer {
		// RFC 9207 §2.4: an authorization response from another issuer
		// is a mix-up attack; its code must not be redeemed here.
		answer(&saml.StatusError{Status: saml.StatusResponder, SubStatus: saml.StatusAuthnFailed,
			Message: "itsme sent an invalid answer.", Err: fmt.Errorf("callback iss %.100q is not the configured issuer", iss[0])})
		return
	}
	if code := q.Get("error"); code != "" {
		if q.Get("code") != "" {
			answer(&saml.StatusError{Status: saml.StatusResponder, Message: "itsme sent an invalid answer."})
			return
		}
		answer(statusFromUpstream(&itsme.Error{Stage: "authorization", Code: logtext.Cut(code, 64), Description: q.Get("error_description")}))
		return
	}
	code := q.Get("code")
	if code == "" || len(code) > 1024 {
		answer(&saml.StatusError{Status: saml.StatusResponder, Message: "itsme sent an invalid answer."})
		return
	}
	authReq := itsme.AuthRequest{
		State: tx.State, Nonce: tx.Nonce, CodeVerifier: tx.CodeVerifier,
		Service: itsme.Service(tx.Service), ACRValues: tx.ACRValues,
	}
	// Rebuild the claims request so Exchange knows whether userinfo is
	// needed; the plan is a pure function of what the transaction holds.
	_, claims, err := attributes.Plan(planNames(tx.Attributes, tx.NameIDFormat))
	if err != nil {
		answer(&saml.StatusError{Status: saml.StatusResponder, Err: err})
		return
	}
	authReq.Claims = claims
	id, err := s.cfg.Upstream.Exchange(ctx, code, authReq)
	if err != nil {
		answer(statusFromUpstream(err))
		return
	}
	// Exchange proved the acr against tx.ACRValues (a weaker one is
	// acr_mismatch, answered NoAuthnContext above).
	if tx.ForceAuthn && !id.AuthTime.IsZero() && id.AuthTime.Before(tx.Created.Add(-forceAuthnSkew)) {
		// ForceAuthn (saml-core §3.4.1): the user must have confirmed
		// during this flow, not before it started.
		answer(&saml.StatusError{Status: saml.StatusResponder, SubStatus: saml.StatusAuthnFailed,
			Message: "itsme did not confirm a fresh login as requested.", Err: fmt.Errorf("auth_time %s is before the flow started at %s", id.AuthTime.UTC().Format(time.RFC3339), tx.Created.UTC().Format(time.RFC3339))})
		return
	}
	g := grant{
		to: target, requestID: tx.RequestID, unsolicited: tx.Unsolicited,
		nameIDFormat: tx.NameIDFormat, attributes: tx.Attributes, classRef: tx.AuthnContextClassRef,
		id: id,
	}
	ss, sid := s.loadSSOSession(r, s.cfg.Now())
	s.issue(w, r, audit.StageCallback, g, sid, ss, log)
}

// forceAuthnSkew absorbs clock skew between itsme and the bridge when
// checking auth_time for ForceAuthn.
const forceAuthnSkew = 30 * time.Second

// acsStillValid re-checks, just before answering, that the ACS chosen at
// the start of the flow is still a POST or Artifact endpoint in the SP's
// metadata (it may have been reloaded meanwhile); deliverResponse checks
// the binding of an Artifact one again.
func acsStillValid(sp *metadata.ServiceProvider, acs string) bool {
	return sp.HasACS(acs, crewjam.HTTPPostBinding) || sp.HasACS(acs, crewjam.HTTPArtifactBinding)
}
