package itsme

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"time"
)

// AuthCodeURL returns the itsme authorization URL for req (HTTP GET in the
// front channel), with the per-flow secrets req carries. The query
// carries client_id, response_type, scope, redirect_uri, state, nonce,
// the S256 code challenge, claims, acr_values, ui_locales, prompt (for
// ForceLogin) and request, a signed (and, when configured, encrypted)
// request object repeating the same values. The request object is signed
// on the spot; BeginAuth makes the secrets itself and can use one signed
// ahead. Errors are *Error.
func (c *Client) AuthCodeURL(ctx context.Context, req AuthRequest) (string, error) {
	claims, err := c.requestObjectClaims(req)
	if err != nil {
		return "", newError(StageAuthorization, CodeProtocol, err)
	}
	meta, err := c.provider(ctx)
	if err != nil {
		return "", err
	}
	signed, err := c.signJWT(claims)
	if err != nil {
		return "", newError(StageAuthorization, CodeProtocol, err)
	}
	return c.authURL(ctx, meta, req, claims, signed)
}

// BeginAuth starts one itsme authorization. req carries what is asked for;
// its State, Nonce and CodeVerifier must be empty. It returns req with
// fresh secrets filled in (as NewAuthRequestSecrets makes them, from
// Config.Rand), to be kept for Exchange, and the authorization URL
// AuthCodeURL would build for it.
//
// The secrets and the signed request object come from a stock made ahead
// of need when one of the same kind is fresh: the same service, claims,
// acr_values, ui_locales and prompt, signed at most 20 s before (it then
// has over 4m40s of its lifetime left). The login then does not wait for
// an RSA signature; it is encrypted to itsme's current key as usual.
// Each one used is replaced by one signed in the background, for kinds
// asked for at least twice within 20 s; an idle bridge signs nothing.
// Each stocked set of secrets is handed out once. Errors are *Error.
func (c *Client) BeginAuth(ctx context.Context, req AuthRequest) (AuthRequest, string, error) {
	if req.State != "" || req.Nonce != "" || req.CodeVerifier != "" {
		return req, "", newError(StageAuthorization, CodeProtocol,
			fmt.Errorf("%w: BeginAuth makes the state, nonce and code verifier itself", ErrInvalidRequest))
	}
	kind, err := requestKind(req)
	if err == nil {
		_, err = c.serviceScope(req.Service)
	}
	if err != nil {
		return req, "", newError(StageAuthorization, CodeProtocol, err)
	}
	meta, err := c.provider(ctx)
	if err != nil {
		return req, "", err
	}
	now := c.cfg.Now()
	ahead := req // a copy: req gets its secrets below
	ro, ok := c.requestObjects.draw(c, kind, now, "a request object", func(now time.Time) (signedRequest, error) {
		return c.signNewRequest(ahead, now)
	})
	if !ok {
		if ro, err = c.signNewRequest(req, now); err != nil {
			return req, "", newError(StageAuthorization, CodeProtocol, err)
		}
	}
	req.State, req.Nonce, req.CodeVerifier = ro.state, ro.nonce, ro.verifier
	u, err := c.authURL(ctx, meta, req, ro.claims, ro.signed)
	if err != nil {
		return req, "", err
	}
	return req, u, nil
}

// maxStockedRequestAge is how old a request object signed ahead may be
// when it is used: it then has over 4m40s of its 5 min left.
const maxStockedRequestAge = 20 * time.Second

// requestKinds is how many kinds of request the request object stock
// keeps shelves for: the kinds are the SPs' distinct attribute sets times
// the languages and authentication contexts in use.
const requestKinds = 32

// signedRequest is one authorization's secrets and its signed request
// object, made ahead of need or on the spot.
type signedRequest struct {
	state, nonce, verifier string
	claims                 map[string]any
	signed                 string
}

// signNewRequest makes fresh secrets for req and signs its request object
// at now.
func (c *Client) signNewRequest(req AuthRequest, now time.Time) (signedRequest, error) {
	state, nonce, verifier, err := NewAuthRequestSecrets(c.cfg.Rand)
	if err != nil {
		return signedRequest{}, err
	}
	req.State, req.Nonce, req.CodeVerifier = state, nonce, verifier
	claims, err := c.requestObjectClaimsAt(req, now)
	if err != nil {
		return signedRequest{}, err
	}
	signed, err := c.signJWT(claims)
	if err != nil {
		return signedRequest{}, err
	}
	return signedRequest{state: state, nonce: nonce, verifier: verifier, claims: claims, signed: signed}, nil
}

// requestKind returns the key of req's kind in the request object stock:
// everything its request object carries but the secrets and the times.
func requestKind(req AuthRequest) (string, error) {
	b, err := marshalJSON(struct {
		Service    Service
		Claims     ClaimsRequest
		ACRValues  []string
		UILocales  []string
		ForceLogin bool
	}{req.Service, req.Claims, req.ACRValues, req.UILocales, req.ForceLogin})
	return string(b), err
}

// authURL builds the authorization URL for req from its request object's
// claims and signed form, sealing the request object as configured.
func (c *Client) authURL(ctx context.Context, meta *providerMetadata, req AuthRequest, claims map[string]any, signed string) (string, error) {
	ro, err := c.sealRequestObject(ctx, meta, signed)
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
