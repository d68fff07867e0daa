package itsme

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"regexp"
)

// errNoUserInfoEndpoint is returned when userinfo claims were requested
// but discovery has no userinfo_endpoint.
var errNoUserInfoEndpoint = fmt.Errorf("%w: no userinfo_endpoint", ErrDiscovery)

// fetchUserInfo calls the userinfo endpoint and returns its decoded
// claims, which Exchange validates once the ID token's subject is known.
// The body must be a nested JWT (signed by itsme, encrypted to the bridge)
// served as application/jwt or application/json; plain JSON is refused
// (OIDC-16).
func (c *Client) fetchUserInfo(ctx context.Context, meta *providerMetadata, accessToken string) (*jwtClaims, error) {
	if meta.UserInfoEndpoint == "" {
		return nil, newError(StageUserInfo, CodeProtocol, errNoUserInfoEndpoint)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, meta.UserInfoEndpoint, nil)
	if err != nil {
		return nil, newError(StageUserInfo, CodeProtocol, fmt.Errorf("itsme: userinfo request: %w", err))
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/jwt")
	resp, err := c.do(req, StageUserInfo)
	if err != nil {
		return nil, err
	}
	if resp.status != http.StatusOK {
		return nil, userInfoFailure(resp)
	}
	if resp.contentType != "application/jwt" && resp.contentType != "application/json" {
		return nil, newError(StageUserInfo, CodeProtocol, fmt.Errorf("%w: content type %.64q", ErrMalformedResponse, resp.contentType))
	}
	body := bytes.TrimSpace(resp.body)
	if bytes.HasPrefix(body, []byte("{")) {
		return nil, newError(StageUserInfo, CodeInvalidToken, fmt.Errorf("%w: plain JSON userinfo", ErrNotEncrypted))
	}
	payload, err := c.openNestedJWT(ctx, string(body))
	if err != nil {
		return nil, tokenError(StageUserInfo, err)
	}
	cl, err := parseClaims(payload)
	if err != nil {
		return nil, tokenError(StageUserInfo, err)
	}
	return cl, nil
}

var bearerErrorRE = regexp.MustCompile(`error="([\x20-\x21\x23-\x5B\x5D-\x7E]{1,64})"`)

// userInfoFailure classifies a non-200 userinfo answer; 401 and 403 carry
// the WWW-Authenticate error code when there is one (RFC 6750 §3).
func userInfoFailure(resp *response) *Error {
	if resp.status != http.StatusUnauthorized && resp.status != http.StatusForbidden {
		return oauthFailure(StageUserInfo, resp)
	}
	e := newError(StageUserInfo, CodeInvalidToken, fmt.Errorf("%w: HTTP %d", ErrHTTPStatus, resp.status))
	if m := bearerErrorRE.FindStringSubmatch(resp.header.Get("WWW-Authenticate")); m != nil {
		e.Code = m[1]
	}
	return e
}
