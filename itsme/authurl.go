package itsme

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
)

// AuthCodeURL returns the itsme authorization URL for req (HTTP GET in the
// front channel). The query carries client_id, response_type, scope,
// redirect_uri, state, nonce, the S256 code challenge, claims, acr_values,
// ui_locales, prompt (for ForceLogin) and request, a signed (and, when configured, encrypted)
// request object repeating the same values. Errors are *Error.
func (c *Client) AuthCodeURL(ctx context.Context, req AuthRequest) (string, error) {
	claims, err := c.requestObjectClaims(req)
	if err != nil {
		return "", newError(StageAuthorization, CodeProtocol, err)
	}
	meta, err := c.provider(ctx)
	if err != nil {
		return "", err
	}
	ro, err := c.requestObject(ctx, meta, claims)
	if err != nil {
		return "", err
	}
	u, err := url.Parse(meta.AuthorizationEndpoint)
	if err != nil {
		return "", newError(StageDiscovery, CodeProtocol, fmt.Errorf("%w: authorization_endpoint: %w", ErrDiscovery, err))
	}
	q := u.Query()
	for _, name := range []string{"client_id", "response_type", "scope", "redirect_uri", "state", "nonce",
		"code_challenge", "code_challenge_method", "acr_values", "ui_locales", "prompt"} {
		if v, ok := claims[name].(string); ok {
			q.Set(name, v)
		}
	}
	if hasClaims(req.Claims) {
		b, err := marshalJSON(req.Claims)
		if err != nil {
			return "", newError(StageAuthorization, CodeProtocol, err)
		}
		q.Set("claims", string(b))
	}
	q.Set("request", ro)
	u.RawQuery = q.Encode()
	c.log.Debug("itsme: authorization request built",
		"service", string(req.Service),
		"encrypted_request_object", c.cfg.EncryptRequestObject,
		"id_token_claims", claimNames(req.Claims.IDToken),
		"userinfo_claims", claimNames(req.Claims.UserInfo),
		"acr_values", req.ACRValues)
	return u.String(), nil
}

// marshalJSON encodes v without HTML escaping.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("itsme: encoding JSON: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// claimNames returns the sorted keys of a claims map, for logging.
func claimNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
