package itsme

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// tokenResponse is the successful token endpoint answer.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	IDToken     string `json:"id_token"`
}

// oauthError is an OAuth error body; itsme puts its text in "detail".
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	Detail      string `json:"detail"`
}

// redeemCode posts the authorization code to the token endpoint with a
// private_key_jwt client assertion. It is never retried: codes are single
// use (OIDC-17).
func (c *Client) redeemCode(ctx context.Context, meta *providerMetadata, code string, req AuthRequest) (*tokenResponse, error) {
	assertion, err := c.clientAssertion(meta.TokenEndpoint)
	if err != nil {
		return nil, newError(StageToken, CodeProtocol, err)
	}
	form := url.Values{
		"grant_type":            {"authorization_code"},
		"code":                  {code},
		"redirect_uri":          {c.cfg.RedirectURI},
		"code_verifier":         {req.CodeVerifier},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion},
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, meta.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, newError(StageToken, CodeProtocol, fmt.Errorf("itsme: token request: %w", err))
	}
	hreq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hreq.Header.Set("Accept", "application/json")
	resp, err := c.do(hreq, StageToken)
	if err != nil {
		return nil, err
	}
	if resp.status != http.StatusOK {
		return nil, oauthFailure(StageToken, resp)
	}
	var tr tokenResponse
	if err := json.Unmarshal(resp.body, &tr); err != nil {
		return nil, newError(StageToken, CodeProtocol, fmt.Errorf("%w: token response: %w", ErrMalformedResponse, err))
	}
	switch {
	case !strings.EqualFold(tr.TokenType, "Bearer"):
		return nil, newError(StageToken, CodeProtocol, fmt.Errorf("%w: token_type %.32q", ErrMalformedResponse, tr.TokenType))
	case tr.AccessToken == "":
		return nil, newError(StageToken, CodeProtocol, fmt.Errorf("%w: access_token missing", ErrMalformedResponse))
	case tr.IDToken == "":
		return nil, newError(StageToken, CodeProtocol, fmt.Errorf("%w: id_token missing", ErrMalformedResponse))
	}
	return &tr, nil
}

// oauthFailure turns a non-200 answer into an *Error: itsme's error code
// and text for 4xx answers with an OAuth error body, CodeUnavailable for
// 5xx and 429, CodeProtocol otherwise.
func oauthFailure(stage string, resp *response) *Error {
	e := statusError(stage, resp.status)
	var body oauthError
	if json.Unmarshal(resp.body, &body) != nil {
		return e
	}
	desc := body.Detail
	if desc == "" {
		desc = body.Description
	}
	e.Description = cleanDescription(desc)
	if e.Code != CodeUnavailable && validErrorCode(body.Error) {
		e.Code = body.Error
	}
	return e
}

// validErrorCode reports whether s is a plausible OAuth error code (RFC
// 6749 §5.2 character set, at most 64 characters).
func validErrorCode(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\' {
			return false
		}
	}
	return true
}

// cleanDescription bounds itsme's free text; it stays attacker-influenced
// and must be escaped when shown.
func cleanDescription(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	const max = 300
	if len(s) > max {
		s = s[:max]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}
