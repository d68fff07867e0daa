package emulator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/samlbridge/samlbridge/internal/i18n"
)

// clockSkew is the leeway on times in client JWTs.
const clockSkew = 30 * time.Second

// authzRequest is a validated authorization request.
type authzRequest struct {
	client         *Client
	back           *replyTo
	nonce          string
	service        Service
	scopes         []string
	idTokenClaims  []string
	userinfoClaims []string
	challenge      string
	acr            string
	personas       []int // indexes into the emulator's personas
	approval       *approval
	uiLocales      string // as requested, unchecked
	// lang is the language of the phone page: the request's ui_locales
	// (itsme supports fr, nl, de, en), else the browser's.
	lang i18n.Lang
}

// replyTo is where authorization results go: a registered redirect URI
// and the client's state.
type replyTo struct {
	uri, state string
}

// handleAuthorization is the front-channel endpoint (itsme-oidc.md §2):
// errors before a registered redirect URI is known give an HTML page,
// later ones a redirect; a valid request gives the phone page.
func (e *Emulator) handleAuthorization(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, http.MethodGet)
		return
	}
	req, back, oerr := e.parseAuthorization(r.Context(), r.URL.RawQuery)
	if req != nil {
		req.lang = pageLang(r, req.uiLocales)
	}
	if oerr != nil {
		e.log.Info("emulator: authorization request refused", "error", oerr.Code, "detail", oerr.Description, "redirected", back != nil)
		if back == nil {
			e.errorPage(w, r, http.StatusBadRequest, oerr)
			return
		}
		e.redirect(w, back, url.Values{"error": {oerr.Code}, "error_description": {oerr.Description}})
		return
	}
	handle, err := e.randomString(32)
	if err == nil {
		err = e.store.putPending(handle, &pendingTx{req: req, expires: e.cfg.Now().Add(e.cfg.PendingTTL)}, e.cfg.Now())
	}
	if err != nil {
		e.log.Warn("emulator: cannot hold the authorization request", "err", err)
		e.redirect(w, req.back, url.Values{"error": {codeTemporaryUnavailable}, "error_description": {"the emulator is busy"}})
		return
	}
	e.log.Info("emulator: authorization request accepted", "client_id", req.client.ID, "service", req.service.Code,
		"id_token_claims", len(req.idTokenClaims), "userinfo_claims", len(req.userinfoClaims), "acr", req.acr)
	e.renderPhone(w, req, handle)
}

// parseAuthorization validates an authorization query. On failure, back
// is nil when the error must not be redirected (unknown client, redirect
// URI not registered).
func (e *Emulator) parseAuthorization(ctx context.Context, rawQuery string) (*authzRequest, *replyTo, *oauthError) {
	page := func(code, desc string) (*authzRequest, *replyTo, *oauthError) {
		return nil, nil, oauthErr(code, nil, "%s", desc)
	}
	if len(rawQuery) > maxQueryBytes {
		return page(codeInvalidRequest, "the query is too long")
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return page(codeInvalidRequest, "the query is malformed")
	}
	if len(q["client_id"]) > 1 || len(q["redirect_uri"]) > 1 {
		return page(codeInvalidRequest, "client_id or redirect_uri repeated")
	}
	c := e.clients[q.Get("client_id")]
	switch {
	case q.Get("client_id") == "":
		return page(codeInvalidRequest, "client_id is missing")
	case c == nil:
		return page(codeInvalidClientID, "unknown client_id")
	}
	var back *replyTo
	if ru := q.Get("redirect_uri"); ru != "" {
		if !slices.Contains(c.RedirectURIs, ru) {
			return page(codeInvalidRedirectURI, "redirect_uri is not registered for this client")
		}
		back = &replyTo{uri: ru, state: q.Get("state")}
	}
	fail := func(code, desc string) (*authzRequest, *replyTo, *oauthError) {
		return nil, back, oauthErr(code, nil, "%s", desc)
	}
	if back == nil && !q.Has("request") && !q.Has("request_uri") {
		return page(codeInvalidRequest, "redirect_uri is missing")
	}
	if q.Has("request") && q.Has("request_uri") {
		if back == nil {
			return page(codeInvalidRequest, "request and request_uri must not both be used")
		}
		return fail(codeInvalidRequest, "request and request_uri must not both be used")
	}
	params := queryParams(q)
	if !q.Has("request") && !q.Has("request_uri") {
		return e.checkParams(c, back, params, q, nil)
	}
	// With a request object too, the query must carry response_type,
	// client_id (checked above) and a scope containing openid
	// (itsme-oidc.md §2.1).
	if desc := missingFromQuery(q); desc != "" {
		if back == nil {
			return page(codeInvalidRequest, desc)
		}
		return fail(codeInvalidRequest, desc)
	}
	obj, oerr := e.requestObject(ctx, c, params)
	if oerr != nil {
		return nil, back, oerr
	}
	if back == nil {
		ru, _ := obj["redirect_uri"].(string)
		switch {
		case ru == "":
			return page(codeInvalidRequest, "redirect_uri is missing")
		case !slices.Contains(c.RedirectURIs, ru):
			return page(codeInvalidRedirectURI, "redirect_uri is not registered for this client")
		}
		st, _ := obj["state"].(string)
		back = &replyTo{uri: ru, state: st}
	}
	signed, err := objectParams(obj)
	if err != nil {
		return nil, back, oauthErr(codeInvalidRequestObject, err, "%s", describe(err))
	}
	merged, conflict := mergeParams(params, signed)
	if conflict != "" {
		// itsme's words (itsme-oidc.md §2.1, §2.2), and the parameter.
		return nil, back, oauthErr(codeInvalidRequest, nil, "Oauth2 parameters do not match Request object (%s)", conflict)
	}
	back.state = merged["state"]
	return e.checkParams(c, back, merged, q, signed)
}

// missingFromQuery describes what the query of a request with a request
// object lacks among response_type and a scope containing openid, or
// returns "".
func missingFromQuery(q url.Values) string {
	switch {
	case q.Get("response_type") == "":
		return "response_type is missing from the query (required with a request object too)"
	case !slices.Contains(strings.Fields(q.Get("scope")), "openid"):
		return "the query scope must contain openid (required with a request object too)"
	}
	return ""
}

// requestObject fetches (request_uri) and verifies the request object.
func (e *Emulator) requestObject(ctx context.Context, c *Client, params map[string]string) (map[string]any, *oauthError) {
	raw, isURI := params["request"], false
	if uri, ok := params["request_uri"]; ok {
		isURI = true
		if !slices.Contains(c.RequestURIs, uri) {
			return nil, oauthErr(codeInvalidRequestURI, nil, "request_uri is not registered for this client")
		}
		body, err := e.fetch(ctx, uri)
		if err != nil {
			return nil, oauthErr(codeInvalidRequestURI, err, "request_uri could not be fetched")
		}
		raw = strings.TrimSpace(string(body))
	}
	obj, err := e.verifyRequestObject(ctx, c, raw)
	if err != nil {
		code := codeInvalidRequestObject
		if isURI && errors.Is(err, ErrFetch) {
			code = codeInvalidRequestURI
		}
		return nil, oauthErr(code, err, "%s", describe(err))
	}
	return obj, nil
}

// verifyRequestObject checks a request object (itsme-oidc.md §2.1, OIDC
// Core §6.3): RS256-signed by the client then encrypted to the emulator
// (a nested JWT; a bare JWS only when the client has
// AllowUnencryptedRequestObject), iss = client_id, aud = the issuer (or,
// as older itsme docs said, the authorization endpoint, pitfall 5), not
// expired. Its client_id, like every parameter it shares with the query,
// is compared with the query's by mergeParams.
func (e *Emulator) verifyRequestObject(ctx context.Context, c *Client, raw string) (map[string]any, error) {
	if strings.Count(raw, ".") == 2 && !c.AllowUnencryptedRequestObject {
		return nil, fmt.Errorf("%w: a bare JWS, not signed then encrypted", ErrNotEncrypted)
	}
	claims, err := e.openClientJWT(ctx, c, raw)
	if err != nil {
		return nil, err
	}
	now := e.cfg.Now()
	if iss, _ := claims["iss"].(string); iss != c.ID {
		return nil, errClaim("iss is not the client_id")
	}
	if !audContains(claims["aud"], e.cfg.Issuer, e.endpoint(PathAuthorization)) {
		return nil, errClaim("aud is not the issuer")
	}
	if v, ok := claims["exp"]; ok {
		if t, ok := numericDate(v); !ok || !t.After(now.Add(-clockSkew)) {
			return nil, errClaim("the request object has expired")
		}
	}
	if v, ok := claims["nbf"]; ok {
		if t, ok := numericDate(v); !ok || t.After(now.Add(clockSkew)) {
			return nil, errClaim("the request object is not yet valid")
		}
	}
	if _, ok := claims["request"]; ok {
		return nil, errClaim("a request object must not contain request")
	}
	if _, ok := claims["request_uri"]; ok {
		return nil, errClaim("a request object must not contain request_uri")
	}
	return claims, nil
}

// claimError is an ErrClaims with a fixed description.
type claimError string

func (c claimError) Error() string { return string(c) }
func (c claimError) Unwrap() error { return ErrClaims }

func errClaim(desc string) error { return claimError(desc) }

// describe turns a JWT verification error into a description that
// reveals no input.
func describe(err error) string {
	var ce claimError
	switch {
	case errors.As(err, &ce):
		return string(ce)
	case errors.Is(err, ErrNotEncrypted):
		return "the request object must be signed then encrypted (nested JWT)"
	case errors.Is(err, ErrUnsigned):
		return "the JWT must be signed with RS256"
	case errors.Is(err, ErrUnknownKey):
		return "no registered key matches the JWT kid"
	case errors.Is(err, ErrSignature):
		return "the JWT signature is invalid"
	case errors.Is(err, ErrDecrypt):
		return "the JWE could not be decrypted"
	case errors.Is(err, ErrFetch):
		return "the client's keys could not be fetched"
	case errors.Is(err, ErrClaims):
		return "the JWT claims are invalid"
	default:
		return "the JWT is malformed"
	}
}

// checkParams validates the effective authorization parameters; errors
// are redirected to back. signed holds the parameters of the verified
// request object, nil when there is none.
func (e *Emulator) checkParams(c *Client, back *replyTo, params map[string]string, q url.Values, signed map[string]string) (*authzRequest, *replyTo, *oauthError) {
	fail := func(code, desc string) (*authzRequest, *replyTo, *oauthError) {
		return nil, back, oauthErr(code, nil, "%s", desc)
	}
	for _, v := range q {
		if len(v) > 1 {
			return fail(codeInvalidRequest, "a parameter is repeated")
		}
	}
	for name, v := range params {
		if len(v) > maxParamLen && name != "request" && name != "claims" {
			return fail(codeInvalidRequest, "a parameter is too long")
		}
	}
	switch rt := params["response_type"]; {
	case rt == "":
		return fail(codeInvalidRequest, "response_type is missing")
	case rt != "code":
		return fail(codeUnsupportedResponseType, "response_type must be code")
	}
	scopes := strings.Fields(params["scope"])
	if !slices.Contains(scopes, "openid") {
		return fail(codeInvalidScope, "scope must contain openid")
	}
	var codes []string
	for _, s := range scopes {
		if code, ok := strings.CutPrefix(s, "service:"); ok && !slices.Contains(codes, code) {
			codes = append(codes, code)
		}
	}
	if len(codes) != 1 {
		return fail(codeInvalidScope, "scope must contain exactly one service:<CODE>")
	}
	i := slices.IndexFunc(c.Services, func(s Service) bool { return s.Code == codes[0] })
	if i < 0 {
		return fail(codeInvalidScope, "unknown service code for this client")
	}
	svc := c.Services[i]
	if d, ok := params["display"]; ok && d != "page" {
		return fail(codeUnsupportedDisplay, "display must be page")
	}
	if slices.Contains(strings.Fields(params["prompt"]), "none") {
		return fail(codeLoginRequired, "itsme always requires an active authentication")
	}
	challenge, method := params["code_challenge"], params["code_challenge_method"]
	switch {
	case method != "" && method != "S256":
		return fail(codeInvalidRequest, "code_challenge_method must be S256")
	case method != "" && challenge == "":
		return fail(codeInvalidRequest, "code_challenge is missing")
	case challenge != "" && len(challenge) != 43:
		return fail(codeInvalidRequest, "code_challenge must be a base64url SHA-256 (43 characters)")
	case challenge != "" && !validVerifierChars(challenge):
		return fail(codeInvalidRequest, "code_challenge has invalid characters")
	case challenge == "" && c.RequirePKCE:
		return fail(codeInvalidRequest, "PKCE is required for this client (code_challenge)")
	}
	claims := params["claims"]
	if svc.Type == ServiceConfirmation {
		// What the user approves (the WYSIWYS template) comes from the
		// verified request object only, never from the unsigned query
		// (itsme-oidc.md §2.1, §6).
		claims = signed["claims"]
	}
	cr, err := parseClaimsParam(claims)
	if err != nil {
		return fail(codeInvalidRequest, "the claims parameter is malformed")
	}
	req := &authzRequest{
		client:        c,
		back:          back,
		nonce:         params["nonce"],
		service:       svc,
		scopes:        scopes,
		idTokenClaims: cr.idToken,
		challenge:     challenge,
		acr:           acrBasic,
		uiLocales:     params["ui_locales"],
	}
	if slices.Contains(strings.Fields(params["acr_values"]), acrAdvanced) {
		req.acr = acrAdvanced
	}
	req.userinfoClaims = scopeClaimNames(scopes)
	for _, n := range cr.userinfo {
		req.userinfoClaims = appendNew(req.userinfoClaims, n)
	}
	switch svc.Type {
	case ServiceConfirmation:
		if signed == nil {
			return fail(codeInvalidRequest, "a Confirmation requires a request object (request or request_uri)")
		}
		a, err := parseApproval(cr.approval)
		if err != nil {
			return fail(codeInvalidRequest, "invalid approval template: "+err.Error())
		}
		req.approval = a
	case ServiceIdentification, ServiceDataSharing:
		if len(req.idTokenClaims)+len(req.userinfoClaims) == 0 {
			return fail(codeInvalidRequest, "this service requires at least one user claim")
		}
	}
	for i := range e.personas {
		if !cr.hasSubHint || e.Subject(e.personas[i].ID, c.ID) == cr.subHint {
			req.personas = append(req.personas, i)
		}
	}
	if len(req.personas) == 0 {
		return fail(codeInvalidRequest, "claims.userinfo.sub matches no user")
	}
	return req, back, nil
}

// redirect sends the browser to back with vals and the state.
func (e *Emulator) redirect(w http.ResponseWriter, back *replyTo, vals url.Values) {
	if back.state != "" && len(back.state) <= maxParamLen {
		vals.Set("state", back.state)
	}
	sep := "?"
	if strings.Contains(back.uri, "?") {
		sep = "&"
	}
	w.Header().Set("Location", back.uri+sep+vals.Encode())
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}
