package emulator

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
)

// tokenFailure answers a token endpoint error: HTTP 400 (503 when busy)
// with {"error", "detail"}, as itsme does (itsme-oidc.md §3).
func (e *Emulator) tokenFailure(w http.ResponseWriter, oerr *oauthError) {
	e.log.Info("emulator: token request refused", "error", oerr.Code, "detail", oerr.Description)
	status := http.StatusBadRequest
	if oerr.Code == codeTemporaryUnavailable {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, map[string]string{"error": oerr.Code, "detail": oerr.Description})
}

// handleToken redeems an authorization code (itsme-oidc.md §3).
func (e *Emulator) handleToken(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		methodNotAllowed(w, http.MethodPost)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	form, oerr := readForm(r)
	if oerr != nil {
		e.tokenFailure(w, oerr)
		return
	}
	c, oerr := e.authenticateClient(r.Context(), form)
	if oerr != nil {
		e.tokenFailure(w, oerr)
		return
	}
	tr, oerr := e.exchange(r, c, form)
	if oerr != nil {
		e.tokenFailure(w, oerr)
		return
	}
	e.log.Info("emulator: tokens issued", "client_id", c.ID)
	writeJSON(w, http.StatusOK, tr)
}

// readForm reads a token request: parameters only in an
// application/x-www-form-urlencoded body, none repeated.
func readForm(r *http.Request) (url.Values, *oauthError) {
	if r.URL.RawQuery != "" {
		return nil, oauthErr(codeInvalidRequest, nil, "parameters must be sent in the request body, not the query")
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, oauthErr(codeInvalidRequest, nil, "the body must be application/x-www-form-urlencoded")
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, oauthErr(codeInvalidRequest, err, "the body is too large or unreadable")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, oauthErr(codeInvalidRequest, err, "the body is malformed")
	}
	for _, v := range form {
		if len(v) > 1 {
			return nil, oauthErr(codeInvalidRequest, nil, "a parameter is repeated")
		}
	}
	return form, nil
}

// tokenResponse is the token endpoint's success body; there is no
// refresh token.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	IDToken     string `json:"id_token"`
}

// exchange checks the grant and issues the tokens.
func (e *Emulator) exchange(r *http.Request, c *Client, form url.Values) (*tokenResponse, *oauthError) {
	switch gt := form.Get("grant_type"); {
	case gt == "":
		return nil, oauthErr(codeInvalidRequest, nil, "grant_type is missing")
	case gt != "authorization_code":
		return nil, oauthErr(codeUnsupportedGrantType, nil, "only authorization_code is supported")
	}
	code, redirectURI, verifier := form.Get("code"), form.Get("redirect_uri"), form.Get("code_verifier")
	switch {
	case code == "" || len(code) > maxParamLen:
		return nil, oauthErr(codeInvalidRequest, nil, "code is missing")
	case redirectURI == "":
		return nil, oauthErr(codeInvalidRequest, nil, "redirect_uri is missing")
	}
	keys, err := e.keysFor(r.Context(), c, "")
	if err != nil || len(keys.enc) == 0 {
		return nil, oauthErr(codeInvalidClient, err, "the client has no usable use=enc key")
	}
	now := e.cfg.Now()
	g, err := e.store.redeemCode(code, c.ID, now, now.Add(e.cfg.AccessTokenTTL))
	switch {
	case errors.Is(err, errUsed):
		e.log.Warn("emulator: authorization code reused; its tokens are revoked", "client_id", c.ID)
		return nil, oauthErr(codeInvalidGrant, err, "the code was already used")
	case errors.Is(err, errWrongOwner):
		return nil, oauthErr(codeInvalidGrant, err, "the code was issued to another client")
	case err != nil:
		return nil, oauthErr(codeInvalidGrant, err, "the code is unknown or expired")
	}
	if redirectURI != g.redirectURI {
		return nil, oauthErr(codeInvalidGrant, nil, "redirect_uri differs from the authorization request")
	}
	if oerr := checkPKCE(g.challenge, verifier); oerr != nil {
		return nil, oerr
	}
	idToken, err := e.idToken(r, c, g, now)
	if err != nil {
		e.log.Error("emulator: building the ID token", "err", err)
		return nil, oauthErr(codeInvalidClient, err, "the ID token could not be encrypted to the client")
	}
	access, err := e.randomString(32)
	if err == nil {
		err = e.store.putToken(code, access, &tokenRecord{grant: g, expires: now.Add(e.cfg.AccessTokenTTL)}, now)
	}
	switch {
	case errors.Is(err, errUsed):
		return nil, oauthErr(codeInvalidGrant, err, "the code was already used")
	case err != nil:
		return nil, oauthErr(codeTemporaryUnavailable, err, "the emulator is busy")
	}
	return &tokenResponse{
		AccessToken: access,
		TokenType:   "Bearer",
		ExpiresIn:   int64(e.cfg.AccessTokenTTL.Seconds()),
		IDToken:     idToken,
	}, nil
}

// checkPKCE compares S256(verifier) with the challenge (RFC 7636 §4.6).
// A verifier without a challenge is refused too, against PKCE downgrade
// (OAuth 2.0 Security BCP §2.1.1).
func checkPKCE(challenge, verifier string) *oauthError {
	switch {
	case challenge == "" && verifier == "":
		return nil
	case challenge == "":
		return oauthErr(codeInvalidGrant, nil, "code_verifier sent but no code_challenge was")
	case verifier == "":
		return oauthErr(codeInvalidGrant, nil, "code_verifier is missing")
	case !validVerifierChars(verifier):
		return oauthErr(codeInvalidGrant, nil, "code_verifier must be 43-128 characters of [A-Za-z0-9-._~]")
	}
	sum := sha256.Sum256([]byte(verifier))
	if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) != 1 {
		return oauthErr(codeInvalidGrant, nil, "code_verifier does not match the code_challenge")
	}
	return nil
}
