package server

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"

	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/attributes"
	"github.com/samlbridge/samlbridge/audit"
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
		s.errorPage(w, status, msg, "")
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		reject(http.StatusMethodNotAllowed, msgBadCallback, reasonBadCallback, nil)
		return
	}
	q := r.URL.Query()
	for _, p := range []string{"state", "code", "error", "error_description", "iss"} {
		if len(q[p]) > 1 { // OIDC-08: parameter pollution
			s.log.Warn("callback rejected: duplicate parameter", "param", p)
			reject(http.StatusBadRequest, msgBadCallback, reasonBadCallback, nil)
			return
		}
	}
	state := q.Get("state")
	if state == "" || len(state) > 512 {
		reject(http.StatusBadRequest, msgBadCallback, reasonBadCallback, nil)
		return
	}
	tx, err := s.cfg.Store.Take(ctx, state, s.cfg.Now())
	if err != nil {
		if errors.Is(err, session.ErrNotFound) {
			s.log.Warn("callback for an unknown, used or expired login")
			reject(http.StatusBadRequest, msgExpired, reasonUnknownState, nil)
			return
		}
		s.log.Error("session store unavailable", "err", err)
		reject(http.StatusServiceUnavailable, msgStoreDown, reasonStoreUnavailable, nil)
		return
	}
	log := s.log.With("sp", tx.SPEntityID, "request_id", truncate(tx.RequestID, 64))
	cookieValue := s.takeFlowCookie(w, r, state)
	if cookieValue == "" || subtle.ConstantTimeCompare([]byte(hashBinding(cookieValue)), []byte(tx.BrowserBinding)) != 1 {
		// Login CSRF / session swapping (OIDC-01): the browser that
		// finishes the flow is not the one that started it.
		log.Warn("callback rejected: browser binding mismatch")
		reject(http.StatusBadRequest, msgBinding, reasonBrowserBinding, &tx)
		return
	}
	sp, err := s.cfg.Registry.ServiceProvider(ctx, tx.SPEntityID)
	if err != nil || !acsStillValid(sp, tx.ACSURL) {
		log.Warn("SP or its ACS disappeared during the login", "err", err)
		reject(http.StatusBadRequest, msgSPGone, reasonSPGone, &tx)
		return
	}
	answer := func(se *saml.StatusError) {
		log.Warn("answering with an error status", "status", se)
		s.record(ctx, audit.Event{Stage: audit.StageCallback, Outcome: audit.Failure, Reason: se.Code(), SP: sp.EntityID, RequestID: tx.RequestID})
		s.postError(w, tx.ACSURL, sp.EntityID, tx.RequestID, tx.RelayState, tx.HasRelayState, se)
	}
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
		answer(statusFromUpstream(&itsme.Error{Stage: "authorization", Code: truncate(code, 64), Description: q.Get("error_description")}))
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
	classRef := tx.AuthnContextClassRef
	if classRef == "" {
		classRef = s.cfg.AuthnContexts.Default
	}
	format := tx.NameIDFormat
	if format == "" {
		format = attributes.FormatPersistent
	}
	nameID, err := attributes.NameIDValue(format, s.cfg.PairwiseSecret, id.Subject, sp.EntityID, id.Claims, s.cfg.Rand)
	if err != nil {
		answer(&saml.StatusError{Status: saml.StatusResponder, SubStatus: saml.StatusInvalidNameIDPolicy,
			Message: "The requested NameID cannot be provided for this user.", Err: err})
		return
	}
	attrs := attributes.Map(id.Subject, id.Claims, tx.Attributes)
	params := saml.ResponseParams{
		SPEntityID:   sp.EntityID,
		ACSURL:       tx.ACSURL,
		InResponseTo: tx.RequestID,
		NameID: saml.NameID{
			Value:           nameID,
			Format:          format,
			NameQualifier:   id.Issuer,
			SPNameQualifier: sp.EntityID,
		},
		Attributes:              attrs,
		AuthnContextClassRef:    classRef,
		AuthenticatingAuthority: id.Issuer,
		AuthnInstant:            id.AuthTime,
		SignResponse:            sp.SignResponse,
	}
	if len(sp.EncryptionCerts) > 0 {
		params.EncryptTo = sp.EncryptionCerts[0]
		params.EncryptionCipher = saml.ChooseCipher(sp.EncryptionMethods)
	}
	resp, err := s.cfg.IDP.BuildResponse(params)
	if err != nil {
		log.Error("building the response failed", "err", err)
		answer(&saml.StatusError{Status: saml.StatusResponder, Err: err})
		return
	}
	names := make([]string, len(attrs))
	for i, a := range attrs {
		names[i] = a.Name
	}
	log.Info("login completed", "upstream", id, "released", names, "encrypted", params.EncryptTo != nil)
	s.record(ctx, audit.Event{Stage: audit.StageCallback, Outcome: audit.Success, Reason: reasonOK, SP: sp.EntityID, RequestID: tx.RequestID,
		Subject: audit.Pseudonym(s.auditKey, id.Issuer, id.Subject), Attributes: names, AuthnContext: classRef, Encrypted: params.EncryptTo != nil})
	form := saml.PostForm{URL: tx.ACSURL, Field: "SAMLResponse", Message: resp, RelayState: tx.RelayState, HasRelayState: tx.HasRelayState}
	if err := form.Write(w, s.cfg.Rand); err != nil {
		log.Error("writing the POST form failed", "err", err)
	}
}

// acsStillValid re-checks, just before posting, that the ACS chosen at the
// start of the flow is still a POST endpoint in the SP's metadata (it may
// have been reloaded meanwhile).
func acsStillValid(sp *metadata.ServiceProvider, acs string) bool {
	return slices.ContainsFunc(sp.ACS, func(e crewjam.IndexedEndpoint) bool {
		return e.Location == acs && e.Binding == crewjam.HTTPPostBinding
	})
}
