package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// authParams are the authorization parameters a request object may carry
// (OIDC Core §6.1).
var authParams = []string{
	"client_id", "response_type", "scope", "redirect_uri", "state", "nonce",
	"code_challenge", "code_challenge_method", "claims", "acr_values", "ui_locales",
	"display", "prompt", "max_age", "login_hint", "response_mode", "id_token_hint", "claims_locales",
}

// Limits on authorization parameters.
const (
	maxQueryBytes      = 48 << 10
	maxParamLen        = 2048
	maxRequestedClaims = 100
	maxClaimNameLen    = 256
)

// queryParams returns the single-valued query parameters.
func queryParams(q url.Values) map[string]string {
	out := make(map[string]string, len(q))
	for k, v := range q {
		if len(v) > 0 {
			out[k] = v[0]
		}
	}
	return out
}

// objectParams returns the authorization parameters a request object
// carries, as strings (claims as JSON); a parameter of the wrong type is
// an ErrClaims.
func objectParams(obj map[string]any) (map[string]string, error) {
	out := map[string]string{}
	for _, name := range authParams {
		raw, ok := obj[name]
		if !ok || raw == nil {
			continue
		}
		switch x := raw.(type) {
		case string:
			out[name] = x
		case json.Number:
			if name != "max_age" {
				return nil, fmt.Errorf("%w: %s is not a string", ErrClaims, name)
			}
			out[name] = x.String()
		case map[string]any:
			if name != "claims" {
				return nil, fmt.Errorf("%w: %s is not a string", ErrClaims, name)
			}
			b, err := marshalJSON(x)
			if err != nil {
				return nil, err
			}
			out[name] = string(b)
		default:
			return nil, fmt.Errorf("%w: %s has the wrong type", ErrClaims, name)
		}
	}
	return out, nil
}

// mergeParams overlays the request object's parameters obj on the
// query's q (the object takes precedence, OIDC Core §6.3.3). A parameter
// given in both must have the same value (itsme-oidc.md §2.1): conflict
// names the first one that differs, and merged is then nil.
func mergeParams(q, obj map[string]string) (merged map[string]string, conflict string) {
	merged = make(map[string]string, len(q)+len(obj))
	for k, v := range q {
		merged[k] = v
	}
	for _, name := range authParams {
		v, ok := obj[name]
		if !ok {
			continue
		}
		if qv, inQuery := q[name]; inQuery && !sameParam(name, qv, v) {
			return nil, name
		}
		merged[name] = v
	}
	return merged, ""
}

// sameParam compares a query value with a request object value; claims
// are compared as JSON.
func sameParam(name, a, b string) bool {
	if name != "claims" {
		return a == b
	}
	x, err1 := decodeObject([]byte(a))
	y, err2 := decodeObject([]byte(b))
	if err1 != nil || err2 != nil {
		return false
	}
	bx, err1 := json.Marshal(x)
	by, err2 := json.Marshal(y)
	return err1 == nil && err2 == nil && bytes.Equal(bx, by)
}

// claimsRequest is the parsed "claims" parameter (OIDC Core §5.5).
type claimsRequest struct {
	idToken, userinfo []string
	// subHint is claims.userinfo.sub.value (Confirmation, itsme-oidc.md §6).
	subHint    string
	hasSubHint bool
	// approval holds the value of each WYSIWYS claim.
	approval map[string]any
}

// parseClaimsParam parses the claims parameter; s may be empty.
func parseClaimsParam(s string) (*claimsRequest, error) {
	cr := &claimsRequest{approval: map[string]any{}}
	if s == "" {
		return cr, nil
	}
	top, err := decodeObject([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("claims: %w", err)
	}
	count := 0
	for _, member := range []string{"id_token", "userinfo"} {
		raw, ok := top[member]
		if !ok || raw == nil {
			continue
		}
		obj, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("claims.%s is not an object", member)
		}
		for name, spec := range obj {
			count++
			if count > maxRequestedClaims || name == "" || len(name) > maxClaimNameLen {
				return nil, fmt.Errorf("claims.%s: too many claims or a bad claim name", member)
			}
			value, err := claimSpecValue(spec)
			if err != nil {
				return nil, fmt.Errorf("claims.%s: %w", member, err)
			}
			switch {
			case name == "sub":
				if member == "userinfo" && value != nil {
					s, ok := value.(string)
					if !ok {
						return nil, errors.New("claims.userinfo.sub value is not a string")
					}
					cr.subHint, cr.hasSubHint = s, true
				}
			case strings.HasPrefix(name, approvalPrefix):
				cr.approval[name] = value
			case !isUserClaim(name):
			case member == "id_token":
				cr.idToken = appendNew(cr.idToken, name)
			default:
				cr.userinfo = appendNew(cr.userinfo, name)
			}
		}
	}
	slices.Sort(cr.idToken)
	slices.Sort(cr.userinfo)
	return cr, nil
}

// claimSpecValue checks one claim request (null or an object with
// essential, value, values) and returns its value member.
func claimSpecValue(spec any) (any, error) {
	if spec == nil {
		return nil, nil
	}
	obj, ok := spec.(map[string]any)
	if !ok {
		return nil, errors.New("a claim request is neither null nor an object")
	}
	if e, ok := obj["essential"]; ok {
		if _, isBool := e.(bool); !isBool {
			return nil, errors.New("essential is not a boolean")
		}
	}
	if v, ok := obj["values"]; ok {
		if _, isArr := v.([]any); !isArr {
			return nil, errors.New("values is not an array")
		}
	}
	return obj["value"], nil
}

func appendNew(list []string, v string) []string {
	if slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}

// validVerifierChars reports whether s is 43-128 characters of
// [A-Za-z0-9-._~] (RFC 7636 §4.1); code challenges share the rule.
func validVerifierChars(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}
