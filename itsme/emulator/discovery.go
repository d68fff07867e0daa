package emulator

import (
	"encoding/json"
	"net/http"
	"sort"

	jose "github.com/go-jose/go-jose/v4"
)

// jwksMaxAge is the Cache-Control max-age of the discovery document and
// the JWK Set.
const jwksMaxAge = "public, max-age=3600"

// Discovery returns the discovery document (itsme-oidc.md §1.3, adapted
// to the issuer). The real document is not published; this one lists what
// the emulator supports.
func (e *Emulator) Discovery() map[string]any {
	algs := []string{string(jose.RSA_OAEP), string(jose.RSA_OAEP_256)}
	encs := []string{string(jose.A128CBC_HS256), string(jose.A256GCM)}
	rs256 := []string{string(jose.RS256)}
	return map[string]any{
		"issuer":                                e.cfg.Issuer,
		"authorization_endpoint":                e.endpoint(PathAuthorization),
		"token_endpoint":                        e.endpoint(PathToken),
		"userinfo_endpoint":                     e.endpoint(PathUserInfo),
		"jwks_uri":                              e.endpoint(PathJWKS),
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query"},
		"grant_types_supported":                 []string{"authorization_code"},
		"subject_types_supported":               []string{"pairwise"},
		"scopes_supported":                      []string{"openid", "profile", "email", "address", "phone", "eid", "idDocument"},
		"acr_values_supported":                  []string{acrBasic, acrAdvanced},
		"token_endpoint_auth_methods_supported": []string{"private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": rs256,
		"id_token_signing_alg_values_supported":            rs256,
		"id_token_encryption_alg_values_supported":         algs,
		"id_token_encryption_enc_values_supported":         encs,
		"userinfo_signing_alg_values_supported":            rs256,
		"userinfo_encryption_alg_values_supported":         algs,
		"userinfo_encryption_enc_values_supported":         encs,
		"request_object_signing_alg_values_supported":      rs256,
		"request_object_encryption_alg_values_supported":   algs,
		"request_object_encryption_enc_values_supported":   encs,
		"request_parameter_supported":                      true,
		"request_uri_parameter_supported":                  true,
		"require_request_uri_registration":                 true,
		"claims_parameter_supported":                       true,
		"code_challenge_methods_supported":                 []string{"S256"},
		"ui_locales_supported":                             []string{"fr", "nl", "de", "en"},
		"display_values_supported":                         []string{"page"},
		"claim_types_supported":                            []string{"normal"},
		"claims_supported":                                 supportedClaims(),
	}
}

// supportedClaims lists sub and every claim a scope or persona may give.
func supportedClaims() []string {
	set := map[string]bool{"sub": true}
	for _, names := range scopeClaims {
		for _, n := range names {
			set[n] = true
		}
	}
	for _, n := range extraClaims {
		set[n] = true
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (e *Emulator) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, http.MethodGet, http.MethodHead)
		return
	}
	w.Header().Set("Cache-Control", jwksMaxAge)
	writeJSON(w, http.StatusOK, e.Discovery())
}

func (e *Emulator) handleJWKS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		methodNotAllowed(w, http.MethodGet, http.MethodHead)
		return
	}
	w.Header().Set("Cache-Control", jwksMaxAge)
	writeJSON(w, http.StatusOK, e.PublicJWKS())
}

// writeJSON answers v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
