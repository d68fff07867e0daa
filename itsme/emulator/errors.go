package emulator

import (
	"errors"
	"fmt"
)

// Sentinel errors, checked with errors.Is.
var (
	// ErrConfig marks every problem New finds in a Config.
	ErrConfig = errors.New("emulator: invalid configuration")
	// ErrMalformedJWT is a JWT that is not a compact JWS or JWE, or whose
	// payload is not one JSON object.
	ErrMalformedJWT = errors.New("emulator: malformed JWT")
	// ErrUnsigned is a JWT not signed with RS256 (including alg "none").
	ErrUnsigned = errors.New("emulator: JWT is not signed with RS256")
	// ErrUnknownKey is a JWT whose kid names none of the expected keys.
	ErrUnknownKey = errors.New("emulator: no key matches the JWT kid")
	// ErrSignature is a JWT whose signature does not verify.
	ErrSignature = errors.New("emulator: JWT signature does not verify")
	// ErrDecrypt is a JWE that is refused or does not decrypt.
	ErrDecrypt = errors.New("emulator: JWE refused or undecryptable")
	// ErrNotEncrypted is a request object that is signed but not
	// encrypted (a bare JWS) from a client that must sign then encrypt it.
	ErrNotEncrypted = errors.New("emulator: request object is not encrypted")
	// ErrClaims is a verified JWT whose claims are wrong (iss, aud, exp...).
	ErrClaims = errors.New("emulator: JWT claims invalid")
	// ErrReplay is a client assertion jti seen before.
	ErrReplay = errors.New("emulator: jti replayed")
	// ErrFetch is a failed fetch of a client's JWK Set or request_uri.
	ErrFetch = errors.New("emulator: fetch failed")
	// ErrFault marks every problem InjectFault finds in a Fault.
	ErrFault = errors.New("emulator: invalid fault")
	// ErrStoreFull is returned when the in-memory state is at its bound.
	ErrStoreFull = errors.New("emulator: state store full")
)

// OAuth error codes the emulator answers with (itsme-oidc.md §2.2, §3).
const (
	codeInvalidRequest          = "invalid_request"
	codeInvalidRequestObject    = "invalid_request_object"
	codeInvalidRequestURI       = "invalid_request_uri"
	codeUnsupportedResponseType = "unsupported_response_type"
	codeInvalidScope            = "invalid_scope"
	codeUnsupportedDisplay      = "unsupported_display"
	codeAccessDenied            = "access_denied"
	codeLoginRequired           = "login_required"
	codeTemporaryUnavailable    = "temporary_unavailable"
	codeInvalidClientID         = "invalid_client_id"
	codeInvalidRedirectURI      = "invalid_redirect_uri"
	codeUnauthorizedClient      = "unauthorized_client"
	codeInvalidClient           = "invalid_client"
	codeInvalidGrant            = "invalid_grant"
	codeUnsupportedGrantType    = "unsupported_grant_type"
	codeInvalidToken            = "invalid_token"
	codeServerError             = "server_error"
)

// oauthError is an OAuth protocol error answered to the client: Code is
// the OAuth error code, Description the human-readable text (a constant
// chosen by the emulator, never echoing secrets), Err the cause.
type oauthError struct {
	Code        string
	Description string
	Err         error
}

func (e *oauthError) Error() string {
	msg := "emulator: " + e.Code + ": " + e.Description
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *oauthError) Unwrap() error { return e.Err }

// oauthErr builds an *oauthError; format and args make the description.
func oauthErr(code string, cause error, format string, args ...any) *oauthError {
	return &oauthError{Code: code, Description: fmt.Sprintf(format, args...), Err: cause}
}
