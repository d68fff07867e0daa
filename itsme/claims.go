package itsme

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// maxSubjectLen is the longest sub accepted (OIDC Core §2).
const maxSubjectLen = 255

// protocolClaims are dropped from Identity.Claims.
var protocolClaims = []string{"iss", "aud", "exp", "iat", "nbf", "nonce", "azp", "at_hash", "jti", "sid", "auth_time", "acr", "amr"}

// jwtClaims are the decoded claims of an ID token or userinfo JWT.
type jwtClaims struct {
	all map[string]any

	iss, sub, azp, nonce, acr string
	hasIss, hasSub, hasNonce  bool
	aud                       []string
	hasAud                    bool
	exp, iat, nbf, authTime   time.Time
}

// parseClaims decodes a payload already checked by checkStrictJSON,
// insisting on the JSON types of the registered claims.
func parseClaims(payload []byte) (*jwtClaims, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(payload, &raw); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedClaims, err)
	}
	cl := &jwtClaims{}
	if err := json.Unmarshal(payload, &cl.all); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedClaims, err)
	}
	strs := []struct {
		name string
		dst  *string
		has  *bool
	}{
		{"iss", &cl.iss, &cl.hasIss}, {"sub", &cl.sub, &cl.hasSub}, {"nonce", &cl.nonce, &cl.hasNonce},
		{"azp", &cl.azp, nil}, {"acr", &cl.acr, nil},
	}
	for _, s := range strs {
		v, ok := raw[s.name]
		if !ok {
			continue
		}
		if err := json.Unmarshal(v, s.dst); err != nil || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			return nil, fmt.Errorf("%w: %s is not a string", ErrMalformedClaims, s.name)
		}
		if s.has != nil {
			*s.has = true
		}
	}
	dates := []struct {
		name string
		dst  *time.Time
	}{{"exp", &cl.exp}, {"iat", &cl.iat}, {"nbf", &cl.nbf}, {"auth_time", &cl.authTime}}
	for _, d := range dates {
		v, ok := raw[d.name]
		if !ok {
			continue
		}
		t, err := numericDate(v)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrMalformedClaims, d.name, err)
		}
		*d.dst = t
	}
	if v, ok := raw["aud"]; ok {
		aud, err := audience(v)
		if err != nil {
			return nil, fmt.Errorf("%w: aud: %w", ErrMalformedClaims, err)
		}
		cl.aud, cl.hasAud = aud, true
	}
	return cl, nil
}

// numericDate decodes a JSON number of seconds since the epoch.
func numericDate(v json.RawMessage) (time.Time, error) {
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return time.Time{}, err
	}
	n, ok := x.(json.Number)
	if !ok {
		return time.Time{}, errors.New("not a number")
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || f < 0 || f > 1e11 {
		return time.Time{}, errors.New("out of range")
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

// audience decodes aud: a string or a non-empty array of strings.
func audience(v json.RawMessage) ([]string, error) {
	var one string
	if err := json.Unmarshal(v, &one); err == nil && !bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(v, &many); err != nil || len(many) == 0 {
		return nil, errors.New("not a string or a non-empty array of strings")
	}
	return many, nil
}

// checkAudience applies OIDC Core §3.1.3.7 steps 3–5.
func (c *Client) checkAudience(cl *jwtClaims) error {
	if !slices.Contains(cl.aud, c.cfg.ClientID) {
		return fmt.Errorf("%w: client is not an audience", ErrAudience)
	}
	if (len(cl.aud) > 1 || cl.azp != "") && cl.azp != c.cfg.ClientID {
		return fmt.Errorf("%w: azp missing or not the client", ErrAudience)
	}
	return nil
}

// checkTimes checks exp, iat and nbf. With required set, exp and iat must
// be present.
func (c *Client) checkTimes(cl *jwtClaims, required bool) error {
	now, leeway := c.cfg.Now(), c.cfg.Leeway
	switch {
	case cl.exp.IsZero() && required:
		return fmt.Errorf("%w: exp missing", ErrExpired)
	case !cl.exp.IsZero() && !cl.exp.After(now.Add(-leeway)):
		return ErrExpired
	case cl.iat.IsZero() && required:
		return fmt.Errorf("%w: missing", ErrIssuedAt)
	case !cl.iat.IsZero() && cl.iat.After(now.Add(leeway)):
		return fmt.Errorf("%w: in the future", ErrIssuedAt)
	case !cl.iat.IsZero() && cl.iat.Before(now.Add(-MaxIssuedAtAge-leeway)):
		return fmt.Errorf("%w: older than %s", ErrIssuedAt, MaxIssuedAtAge)
	case !cl.nbf.IsZero() && cl.nbf.After(now.Add(leeway)):
		return ErrNotYetValid
	}
	return nil
}

func checkSubject(cl *jwtClaims) error {
	if !cl.hasSub || cl.sub == "" || len(cl.sub) > maxSubjectLen {
		return ErrSubject
	}
	return nil
}

// validateIDToken applies OIDC Core §3.1.3.7 to decoded ID token claims.
func (c *Client) validateIDToken(cl *jwtClaims, nonce string) error {
	if !cl.hasIss || cl.iss != c.cfg.Issuer {
		return fmt.Errorf("%w: %.100q", ErrIssuer, cl.iss)
	}
	if err := checkSubject(cl); err != nil {
		return err
	}
	if !cl.hasAud {
		return fmt.Errorf("%w: aud missing", ErrAudience)
	}
	if err := c.checkAudience(cl); err != nil {
		return err
	}
	if err := c.checkTimes(cl, true); err != nil {
		return err
	}
	if !cl.hasNonce || subtle.ConstantTimeCompare([]byte(cl.nonce), []byte(nonce)) != 1 {
		return ErrNonce
	}
	return nil
}

// validateUserInfo applies OIDC Core §5.3.2 to decoded userinfo claims:
// sub equal to the ID token's, iss equal to the issuer, aud (when
// present) naming the client, and the times when present.
func (c *Client) validateUserInfo(cl *jwtClaims, idSub string) error {
	if err := checkSubject(cl); err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(cl.sub), []byte(idSub)) != 1 {
		return ErrSubjectMismatch
	}
	if !cl.hasIss || cl.iss != c.cfg.Issuer {
		return fmt.Errorf("%w: %.100q", ErrIssuer, cl.iss)
	}
	if cl.hasAud {
		if err := c.checkAudience(cl); err != nil {
			return err
		}
	}
	return c.checkTimes(cl, false)
}

// userClaims returns the claims minus the protocol claims, with itsme's
// quirks normalised (itsme-oidc.md §8).
func userClaims(all map[string]any) map[string]any {
	out := make(map[string]any, len(all))
	for k, v := range all {
		if slices.Contains(protocolClaims, k) {
			continue
		}
		out[k] = v
	}
	// address may arrive as a JSON-encoded string holding an object.
	if s, ok := out["address"].(string); ok && strings.HasPrefix(strings.TrimSpace(s), "{") {
		var obj map[string]any
		if checkStrictJSON([]byte(s)) == nil && json.Unmarshal([]byte(s), &obj) == nil {
			out["address"] = obj
		}
	}
	return out
}
