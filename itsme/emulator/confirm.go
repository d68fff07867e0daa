package emulator

import (
	"mime"
	"net/http"
	"net/url"
	"time"
)

// grant is what an approved authorization gives the client: it travels
// from the code to the access token.
type grant struct {
	clientID       string
	redirectURI    string
	nonce          string
	challenge      string
	acr            string
	service        Service
	persona        *Persona
	idTokenClaims  []string
	userinfoClaims []string
	authTime       time.Time
}

// Answers the phone page accepts in its "action" field. An empty action
// (the form submitted without pressing a button) approves.
const (
	actionApprove     = "approve"
	actionRefuse      = "refuse"
	actionUnavailable = "temporary_unavailable" // not on the page: for tests
)

// handleConfirm takes the phone page's answer: approve as the chosen
// persona (a code, itsme-oidc.md §2), or refuse (access_denied, §6).
func (e *Emulator) handleConfirm(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, http.MethodPost)
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		e.errorPage(w, r, http.StatusBadRequest, oauthErr(codeInvalidRequest, nil, "the form must be application/x-www-form-urlencoded"))
		return
	}
	if err := r.ParseForm(); err != nil {
		e.errorPage(w, r, http.StatusBadRequest, oauthErr(codeInvalidRequest, err, "the form is malformed"))
		return
	}
	form := r.PostForm
	action := form.Get("action")
	switch action {
	case "", actionApprove, actionRefuse, actionUnavailable:
	default:
		e.errorPage(w, r, http.StatusBadRequest, oauthErr(codeInvalidRequest, nil, "unknown action"))
		return
	}
	now := e.cfg.Now()
	tx, err := e.store.peekPending(form.Get("tx"), now)
	if err != nil {
		e.errorPage(w, r, http.StatusBadRequest, oauthErr(codeInvalidRequest, err, "this request is unknown, expired or already answered"))
		return
	}
	persona := e.choosePersona(tx.req, form.Get("persona"))
	if persona == nil {
		e.errorPage(w, r, http.StatusBadRequest, oauthErr(codeInvalidRequest, nil, "that persona was not offered"))
		return
	}
	if tx, err = e.store.takePending(form.Get("tx"), now); err != nil {
		e.errorPage(w, r, http.StatusBadRequest, oauthErr(codeInvalidRequest, err, "this request is unknown, expired or already answered"))
		return
	}
	req := tx.req
	switch action {
	case actionRefuse:
		e.log.Info("emulator: user refused", "client_id", req.client.ID)
		e.redirect(w, req.back, url.Values{"error": {codeAccessDenied}, "error_description": {"The user refused the request"}})
		return
	case actionUnavailable:
		e.redirect(w, req.back, url.Values{"error": {codeTemporaryUnavailable}, "error_description": {"itsme is temporarily unavailable"}})
		return
	}
	code, err := e.newCode()
	if err == nil {
		err = e.store.putCode(code, &codeRecord{
			clientID: req.client.ID,
			expires:  now.Add(e.cfg.CodeTTL),
			retain:   now.Add(e.cfg.CodeTTL),
			grant: &grant{
				clientID:       req.client.ID,
				redirectURI:    req.back.uri,
				nonce:          req.nonce,
				challenge:      req.challenge,
				acr:            req.acr,
				service:        req.service,
				persona:        persona,
				idTokenClaims:  req.idTokenClaims,
				userinfoClaims: req.userinfoClaims,
				authTime:       now,
			},
		}, now)
	}
	if err != nil {
		e.log.Warn("emulator: cannot issue a code", "err", err)
		e.redirect(w, req.back, url.Values{"error": {codeTemporaryUnavailable}, "error_description": {"the emulator is busy"}})
		return
	}
	e.log.Info("emulator: user approved", "client_id", req.client.ID, "persona", persona.ID, "service", req.service.Code)
	e.redirect(w, req.back, url.Values{"code": {code}})
}

// choosePersona returns the persona chosen on the page: id among those
// offered, or the first one offered when id is empty.
func (e *Emulator) choosePersona(req *authzRequest, id string) *Persona {
	for _, idx := range req.personas {
		if id == "" || e.personas[idx].ID == id {
			return &e.personas[idx]
		}
	}
	return nil
}
