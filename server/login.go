package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"

	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/attributes"
	"github.com/samlbridge/samlbridge/audit"
	"github.com/samlbridge/samlbridge/authncontext"
	"github.com/samlbridge/samlbridge/internal/i18n"
	"github.com/samlbridge/samlbridge/itsme"
	"github.com/samlbridge/samlbridge/metadata"
	"github.com/samlbridge/samlbridge/saml"
	"github.com/samlbridge/samlbridge/session"
)

// login is one SAML login to serve: from a validated AuthnRequest, or
// unsolicited (IdP-initiated) for an SP that allows it. Its ACS always
// comes from the SP's metadata.
type login struct {
	stage         audit.Stage // StageSSO or StageUnsolicited
	sp            *metadata.ServiceProvider
	requestID     string // empty when unsolicited
	unsolicited   bool
	acs           crewjam.IndexedEndpoint
	relayState    string
	hasRelayState bool
	forceAuthn    bool
	isPassive     bool
	acsIndex      string // AttributeConsumingServiceIndex, as received
	requested     []saml.RequestedAttribute
	rac           *authncontext.Requested
	nameIDPolicy  attributes.NameIDPolicy
	scoping       *saml.Scoping
	hasSubject    bool // the request names a Subject (CheckSubject)
	// lang is the language of the user's pages, from the request's hint
	// or the browser (pageLang); it is stored with the transaction and
	// sent to itsme as ui_locales.
	lang i18n.Lang
}

// CheckSubject returns the status the bridge answers an AuthnRequest
// that names a Subject with, or nil when it names none. saml-core §3.4.1
// requires the assertion to be about that principal, but who confirms at
// itsme is known only after the login, and the bridge's NameIDs are its
// own pairwise values: it cannot honour the request, so it refuses it
// before any login (catalogue REQ-15) rather than assert someone else.
// The mint tool applies the same rule to captured requests.
func CheckSubject(hasSubject bool) *saml.StatusError {
	if !hasSubject {
		return nil
	}
	return &saml.StatusError{Status: saml.StatusResponder, SubStatus: saml.StatusUnknownPrincipal,
		Message: "The identity provider does not log in a principal named in the request: send the AuthnRequest without a Subject."}
}

// CheckScoping returns the status the bridge answers a request's Scoping
// with (saml-core §3.4.1.2, §3.4.1.5.1), or nil when it can be served.
// The bridge never authenticates anyone itself: every login is proxied to
// itsme, so ProxyCount="0" cannot be honoured, and an IDPList must name
// the bridge (idpEntityID) or itsme (upstreamIssuer, when known). The
// mint tool applies the same rule to captured requests.
func CheckScoping(sc *saml.Scoping, idpEntityID, upstreamIssuer string) *saml.StatusError {
	if sc == nil {
		return nil
	}
	if sc.ProxyCount != nil && *sc.ProxyCount == 0 {
		return &saml.StatusError{Status: saml.StatusResponder, SubStatus: saml.StatusProxyCountExceeded,
			Message: "The identity provider authenticates users through itsme and may not proxy this request."}
	}
	if len(sc.IDPEntries) > 0 && !slices.Contains(sc.IDPEntries, idpEntityID) &&
		(upstreamIssuer == "" || !slices.Contains(sc.IDPEntries, upstreamIssuer)) {
		return &saml.StatusError{Status: saml.StatusResponder, SubStatus: saml.StatusNoSupportedIDP,
			Message: "None of the identity providers in the request's IDPList is available here."}
	}
	return nil
}

// serveLogin decides how to answer l (steps 2–4 of the flow, see doc.go):
// every check that can fail is done before anything is stored or sent to
// itsme; then the bridge's SSO session serves it when it can, else the
// browser goes to itsme.
func (s *Server) serveLogin(w http.ResponseWriter, r *http.Request, l *login, log *slog.Logger) {
	ctx := r.Context()
	sp := l.sp
	now := s.cfg.Now()
	// From here on the ACS is known to be in the SP's metadata, so errors
	// are answered to it as SAML statuses.
	lang := l.lang.OrDefault()
	target := acsTarget{sp: sp, url: l.acs.Location, binding: l.acs.Binding, relayState: l.relayState, hasRelayState: l.hasRelayState, lang: lang}
	answer := func(se *saml.StatusError) { s.postError(ctx, w, log, l.stage, target, l.requestID, se) }

	if se := CheckScoping(l.scoping, s.cfg.IDP.EntityID, s.cfg.UpstreamIssuer); se != nil {
		answer(se)
		return
	}
	if se := CheckSubject(l.hasSubject); se != nil {
		answer(se)
		return
	}

	var index *int
	if v := l.acsIndex; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 65535 {
			answer(&saml.StatusError{Status: saml.StatusRequester, SubStatus: saml.StatusRequestUnsupported,
				Message: "AttributeConsumingServiceIndex is not a valid index.", Err: fmt.Errorf("index %.20q", v)})
			return
		}
		index = &n
	}
	release, wanted, se := Release(sp, l.requested, index, s.cfg.DefaultRelease)
	if se != nil {
		answer(se)
		return
	}
	if withheld := wanted.Withheld(release); len(withheld) > 0 {
		log.Info("required attributes withheld: the SP is not allowed them", "attributes", withheld)
	}
	if len(wanted.Unknown) > 0 {
		log.Debug("requested attributes unknown to the contract ignored", "count", len(wanted.Unknown))
	}

	// RequestedAuthnContext (saml-core §3.3.2.2.1) through the policy table.
	class, err := s.cfg.AuthnContexts.Resolve(l.rac)
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
	nameIDFormat, err := attributes.ChooseNameIDFormat(l.nameIDPolicy, sp.EntityID, sp.NameIDFormats, sp.AllowedAttributes)
	if err != nil {
		answer(&saml.StatusError{Status: saml.StatusRequester, SubStatus: saml.StatusInvalidNameIDPolicy,
			Message: "The requested NameID format cannot be provided.", Err: err})
		return
	}
	names := planNames(release, nameIDFormat)
	service, claims, err := attributes.Plan(names)
	if err != nil {
		answer(&saml.StatusError{Status: saml.StatusResponder, Message: "The identity provider could not plan the login.", Err: err})
		return
	}

	g := grant{
		to: target, requestID: l.requestID, unsolicited: l.unsolicited,
		nameIDFormat: nameIDFormat, attributes: release, classRef: class.Ref,
	}
	// The bridge's SSO session (off by default) serves the login without
	// itsme when it already proves everything asked: same or stronger
	// acr, every claim needed, and no ForceAuthn.
	if !l.forceAuthn {
		if sess, sid := s.loadSSOSession(r, now); sess != nil && sess.serves(class.ACR, names) {
			g.id = sess.identity()
			log.Info("login served from the SSO session", "authn_context", class.Ref)
			s.issue(w, r, l.stage, g, sid, sess, log)
			return
		}
	}
	if l.isPassive {
		// itsme always needs the user to confirm on the phone, and no
		// bridge SSO session can serve this request.
		answer(&saml.StatusError{Status: saml.StatusResponder, SubStatus: saml.StatusNoPassive,
			Message: "The login needs the user to confirm with itsme."})
		return
	}

	bindingValue, err := randomToken(s.cfg.Rand)
	if err != nil {
		answer(&saml.StatusError{Status: saml.StatusResponder, Err: err})
		return
	}
	// itsme's client makes the state, nonce and PKCE verifier, with the
	// request object that carries them signed ahead when it can.
	acrValues := []string{class.ACR}
	authReq, authURL, err := s.cfg.Upstream.BeginAuth(ctx, itsme.AuthRequest{Service: service, Claims: claims,
		ACRValues: acrValues, ForceLogin: l.forceAuthn, UILocales: []string{string(lang)}})
	if err != nil {
		answer(statusFromUpstream(err))
		return
	}
	state := authReq.State
	tx := session.Transaction{
		State: state, Nonce: authReq.Nonce, CodeVerifier: authReq.CodeVerifier,
		BrowserBinding: hashBinding(bindingValue),
		SPEntityID:     sp.EntityID, RequestID: l.requestID, Unsolicited: l.unsolicited,
		ACSURL: l.acs.Location, ACSBinding: l.acs.Binding,
		RelayState: l.relayState, HasRelayState: l.hasRelayState,
		NameIDFormat: nameIDFormat,
		Service:      string(service), Attributes: release,
		ACRValues: acrValues, AuthnContextClassRef: class.Ref,
		ForceAuthn: l.forceAuthn,
		Lang:       string(lang),
		Created:    now, Expires: now.Add(s.cfg.FlowTTL),
	}
	if err := s.cfg.Store.Put(ctx, tx); err != nil {
		log.Error("storing the transaction failed", "err", err)
		answer(&saml.StatusError{Status: saml.StatusResponder, Message: "The identity provider is temporarily unavailable.", Err: err})
		return
	}
	s.setFlowCookie(w, state, bindingValue)
	s.cfg.Metrics.FlowStarted(sp.EntityID)
	log = log.With("flow_id", flowID(state))
	log.Info("login started", "service", string(service), "attributes", len(release), "authn_context", class.Ref,
		"force_authn", l.forceAuthn, "unsolicited", l.unsolicited)
	// A bare 302 like the artifact binding's: http.Redirect would also
	// write a body with the URL HTML-escaped, and this URL carries the
	// encrypted request object (kilobytes, escaped for nothing: browsers
	// follow Location).
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Location", authURL)
	w.WriteHeader(http.StatusFound)
}
