package itsme

import (
	"fmt"
	"log/slog"
	"sort"
	"time"
)

// ClaimPrefix is the namespace of itsme's own claim names.
const ClaimPrefix = "http://itsme.services/v2/claim/"

// The acr values itsme understands.
const (
	ACRBasic    = ClaimPrefix + "acr_basic"
	ACRAdvanced = ClaimPrefix + "acr_advanced"
)

// Service is the kind of itsme service a flow runs. Each kind has its own
// service code, sent as the "service:<CODE>" scope.
type Service string

// The itsme services the bridge uses.
const (
	// ServiceAuthentication returns only who the user is (name claims).
	ServiceAuthentication Service = "authentication"
	// ServiceIdentification shares verified identity data.
	ServiceIdentification Service = "identification"
)

// ClaimSpec is one member of the OIDC "claims" request parameter (OIDC
// Core §5.5). A nil *ClaimSpec is encoded as JSON null ("requested, no
// constraints").
type ClaimSpec struct {
	Essential bool `json:"essential,omitempty"`
	Value     any  `json:"value,omitempty"`
}

// ClaimsRequest is the OIDC "claims" request parameter.
type ClaimsRequest struct {
	IDToken  map[string]*ClaimSpec `json:"id_token,omitempty"`
	UserInfo map[string]*ClaimSpec `json:"userinfo,omitempty"`
}

// AuthRequest carries the per-flow values of one itsme authorization: the
// secrets the bridge generated (state, nonce, PKCE verifier) and what it
// asks for. The same value is given to AuthCodeURL and later to Exchange.
type AuthRequest struct {
	State        string
	Nonce        string
	CodeVerifier string
	Service      Service
	Claims       ClaimsRequest
	ACRValues    []string
	UILocales    []string
	// ForceLogin asks itsme for a fresh confirmation (prompt=login), for
	// a SAML request with ForceAuthn. itsme keeps no session, so every
	// login is fresh anyway; the parameter states it, and the bridge
	// checks auth_time against the start of the flow.
	ForceLogin bool
}

// LogValue implements slog.LogValuer without revealing the secrets.
func (r AuthRequest) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("service", string(r.Service)),
		slog.Int("userinfo_claims", len(r.Claims.UserInfo)),
		slog.Int("id_token_claims", len(r.Claims.IDToken)),
		slog.Any("acr_values", r.ACRValues),
	)
}

// Identity is the verified outcome of an itsme flow.
type Identity struct {
	// Issuer is the itsme issuer that authenticated the user.
	Issuer string
	// Subject is itsme's pairwise subject identifier for the bridge.
	Subject string
	// ACR is the acr claim of the ID token, empty when absent.
	ACR string
	// AuthTime is the auth_time claim, zero when absent.
	AuthTime time.Time
	// Claims holds the validated claims of the ID token and the userinfo
	// response, by itsme claim name (full URIs for itsme's own claims).
	Claims map[string]any
}

// LogValue implements slog.LogValuer. It logs claim names only, never
// values, and never the subject.
func (id Identity) LogValue() slog.Value {
	names := make([]string, 0, len(id.Claims))
	for k := range id.Claims {
		names = append(names, k)
	}
	sort.Strings(names)
	return slog.GroupValue(
		slog.String("issuer", id.Issuer),
		slog.String("acr", id.ACR),
		slog.Any("claim_names", names),
	)
}

// Error is an error reported by itsme or met while talking to it. Code is
// the OAuth error code (for example "access_denied" or "invalid_grant")
// when itsme sent one, or one of the Code* values below for failures the
// bridge detected.
type Error struct {
	// Stage is where the error happened: "authorization", "token",
	// "userinfo", "discovery", "jwks", "id_token".
	Stage string
	// Code is the OAuth error code or a Code* value.
	Code string
	// Description is itsme's human-readable text, if any. It is
	// attacker-influenced and must be escaped when shown.
	Description string
	// Err is the underlying cause, if any.
	Err error
}

// Error codes for failures detected by the bridge itself.
const (
	CodeInvalidToken = "invalid_token"         // a token failed decryption or validation
	CodeUnavailable  = "temporary_unavailable" // transport failure, timeout or 5xx
	CodeProtocol     = "protocol_error"        // malformed response from itsme
)

// Error implements error; it never includes tokens or claim values.
func (e *Error) Error() string {
	msg := "itsme: " + e.Stage + ": " + e.Code
	if e.Description != "" {
		msg += fmt.Sprintf(" (%.200q)", e.Description)
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// UserCancelled reports whether the error means the user refused or
// cancelled the request in the app.
func (e *Error) UserCancelled() bool { return e.Code == "access_denied" }
