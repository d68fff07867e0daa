package itsme

import (
	"context"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
)

// maxCodeLen bounds the authorization code taken from the callback; itsme
// codes are 36 characters.
const maxCodeLen = 2048

// Exchange redeems code at the token endpoint (private_key_jwt, PKCE
// verifier from req), decrypts and validates the ID token against req
// (nonce, acr), fetches the userinfo when req asks for userinfo claims,
// and returns the verified Identity. Errors are *Error; Code is itsme's
// OAuth error code when itsme sent one.
func (c *Client) Exchange(ctx context.Context, code string, req AuthRequest) (*Identity, error) {
	if code == "" || len(code) > maxCodeLen {
		return nil, newError(StageToken, CodeProtocol, fmt.Errorf("%w: code missing or too long", ErrInvalidRequest))
	}
	if _, err := c.checkAuthRequest(req); err != nil {
		return nil, newError(StageToken, CodeProtocol, err)
	}
	meta, err := c.provider(ctx)
	if err != nil {
		return nil, err
	}
	tr, err := c.redeemCode(ctx, meta, code, req)
	if err != nil {
		c.log.Info("itsme: token request failed", "err", err)
		return nil, err
	}
	c.log.Debug("itsme: code redeemed")

	// The userinfo call needs only the access token, so it runs while the
	// ID token is decrypted and checked: the two RSA decryptions overlap
	// on separate cores instead of adding up on the user's wait. Userinfo
	// is validated only once the ID token is valid (its sub must be the
	// ID token's), and Exchange waits for the call either way, so no
	// goroutine outlives it (a cancelled call would count against the
	// circuit breaker as if itsme had failed). A panic in the call is
	// raised again here, where the server's recovery sees it, instead of
	// taking the process down.
	var userinfo chan userInfoResult
	if len(req.Claims.UserInfo) > 0 {
		userinfo = make(chan userInfoResult, 1)
		go func() {
			defer func() {
				if v := recover(); v != nil {
					userinfo <- userInfoResult{panicked: &goroutinePanic{value: v, stack: debug.Stack()}}
				}
			}()
			cl, err := c.fetchUserInfo(ctx, meta, tr.AccessToken)
			userinfo <- userInfoResult{claims: cl, err: err}
		}()
	}
	idClaims, err := c.idToken(ctx, tr.IDToken, req)
	if err != nil {
		if userinfo != nil {
			(<-userinfo).check()
		}
		c.log.Info("itsme: ID token rejected", "err", err)
		return nil, err
	}
	c.log.Debug("itsme: ID token validated", "claim_names", claimNames(idClaims.all), "acr", idClaims.acr)

	claims := userClaims(idClaims.all)
	if userinfo != nil {
		ui := <-userinfo
		ui.check()
		if ui.err == nil {
			if err := c.validateUserInfo(ui.claims, idClaims.sub); err != nil {
				ui.err = tokenError(StageUserInfo, err)
			}
		}
		if ui.err != nil {
			c.log.Info("itsme: userinfo rejected", "err", ui.err)
			return nil, ui.err
		}
		c.log.Debug("itsme: userinfo validated", "claim_names", claimNames(ui.claims.all))
		for k, v := range userClaims(ui.claims.all) {
			if _, ok := claims[k]; !ok {
				claims[k] = v
			}
		}
	}
	id := &Identity{
		Issuer:  idClaims.iss,
		Subject: idClaims.sub,
		ACR:     idClaims.acr,
		Claims:  claims,
	}
	if !idClaims.authTime.IsZero() {
		id.AuthTime = idClaims.authTime
	}
	c.log.Info("itsme: identity verified", "identity", id)
	return id, nil
}

// idToken decrypts, verifies and validates the ID token, including its
// acr against what req asked for (acrProves).
func (c *Client) idToken(ctx context.Context, raw string, req AuthRequest) (*jwtClaims, error) {
	payload, err := c.openNestedJWT(ctx, raw)
	if err != nil {
		return nil, tokenError(StageIDToken, err)
	}
	cl, err := parseClaims(payload)
	if err != nil {
		return nil, tokenError(StageIDToken, err)
	}
	if err := c.validateIDToken(cl, req.Nonce); err != nil {
		return nil, tokenError(StageIDToken, err)
	}
	cl.acr = canonicalACR(cl.acr)
	if !acrProves(cl.acr, req.ACRValues) {
		return nil, &Error{Stage: StageIDToken, Code: CodeACRMismatch, Err: fmt.Errorf("%w: got %.80q for %q", ErrACR, cl.acr, req.ACRValues)}
	}
	return cl, nil
}

// userInfoResult is the outcome of the userinfo call made beside the ID
// token's validation.
type userInfoResult struct {
	claims   *jwtClaims
	err      error
	panicked any // what the call panicked with, if it did
}

// goroutinePanic is a panic raised again in another goroutine than the
// one it happened on; it keeps where it happened, which the new panic's
// stack would not show.
type goroutinePanic struct {
	value any
	stack []byte
}

// String is the panic's value and its original stack, which is what the
// server's recovery logs.
func (p *goroutinePanic) String() string {
	return fmt.Sprintf("%v\n\nraised first on the userinfo call's goroutine:\n%s", p.value, p.stack)
}

// check raises again a panic of the userinfo call, in the goroutine that
// waits for it.
func (r userInfoResult) check() {
	if r.panicked != nil {
		panic(r.panicked)
	}
}

// canonicalACR returns ACRBasic or ACRAdvanced for an acr that is one of
// them but for letter case, and any other acr as it is. itsme's older
// documentation writes "http://itsme.services/V2/claim/acr_basic" with a
// capital V, and the case itsme sends today is not confirmed; the value
// comes from an ID token whose signature was checked, so reading it
// without regard to case widens nothing an attacker controls.
func canonicalACR(acr string) string {
	for _, known := range []string{ACRBasic, ACRAdvanced} {
		if strings.EqualFold(acr, known) {
			return known
		}
	}
	return acr
}

// acrProves reports whether an ID token's acr proves the login asked for:
// only itsme's two values count (absent means acr_basic, itsme's default),
// and when acr_advanced was asked for, as the most constraining of
// several, only acr_advanced does.
func acrProves(got string, asked []string) bool {
	if got == "" {
		got = ACRBasic
	}
	if got != ACRBasic && got != ACRAdvanced {
		return false
	}
	return !slices.Contains(asked, ACRAdvanced) || got == ACRAdvanced
}
