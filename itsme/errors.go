package itsme

import (
	"errors"

	"github.com/samlbridge/samlbridge/internal/breaker"
)

// Sentinel errors wrapped in the Err field of the *Error values returned by
// the Client. Check them with errors.Is.
var (
	// ErrConfig is returned by New for an invalid Config.
	ErrConfig = errors.New("itsme: invalid configuration")
	// ErrInvalidRequest means the AuthRequest or the code given to the
	// Client is unusable (missing state, nonce or verifier, bad verifier).
	ErrInvalidRequest = errors.New("itsme: invalid request")
	// ErrUnknownService means the AuthRequest names a service without a
	// configured service code.
	ErrUnknownService = errors.New("itsme: no service code for the service")
	// ErrDiscovery means the discovery document is unusable.
	ErrDiscovery = errors.New("itsme: invalid discovery document")
	// ErrJWKS means itsme's JWK Set is unusable or lacks a needed key.
	ErrJWKS = errors.New("itsme: invalid JWK set")
	// ErrRedirect means an endpoint answered with a redirect, which is
	// never followed.
	ErrRedirect = errors.New("itsme: unexpected redirect")
	// ErrHTTPStatus means an endpoint answered with an unexpected status.
	ErrHTTPStatus = errors.New("itsme: unexpected HTTP status")
	// ErrBodyTooLarge means a response body exceeded Config.MaxBodyBytes.
	ErrBodyTooLarge = errors.New("itsme: response body too large")
	// ErrMalformedResponse means a response could not be parsed or lacks
	// a required member.
	ErrMalformedResponse = errors.New("itsme: malformed response")

	// ErrTokenTooLarge means a token exceeded MaxTokenBytes.
	ErrTokenTooLarge = errors.New("itsme: token too large")
	// ErrNotEncrypted means a token was not a compact JWE.
	ErrNotEncrypted = errors.New("itsme: token is not a compact JWE")
	// ErrAlgorithm means a JWE or JWS header names an algorithm outside the
	// allow-lists, or carries a forbidden header parameter (zip, crit,
	// jku, x5u, jwk, x5c).
	ErrAlgorithm = errors.New("itsme: algorithm or header not allowed")
	// ErrDecrypt means the JWE could not be decrypted with the bridge's
	// keys.
	ErrDecrypt = errors.New("itsme: cannot decrypt token")
	// ErrNotSigned means the JWE plaintext is not a compact JWS.
	ErrNotSigned = errors.New("itsme: inner token is not a compact JWS")
	// ErrUnknownKey means no itsme signing key matches the JWS kid, even
	// after a JWK Set refresh.
	ErrUnknownKey = errors.New("itsme: unknown signing key")
	// ErrSignature means the JWS signature did not verify.
	ErrSignature = errors.New("itsme: invalid signature")
	// ErrMalformedClaims means the payload is not a single JSON object or
	// a claim has the wrong type.
	ErrMalformedClaims = errors.New("itsme: malformed claims")
	// ErrDuplicateClaim means a JSON object repeats a member name.
	ErrDuplicateClaim = errors.New("itsme: duplicate JSON member name")
	// ErrIssuer means iss differs from the configured issuer.
	ErrIssuer = errors.New("itsme: wrong issuer")
	// ErrAudience means aud does not name the client or azp is wrong.
	ErrAudience = errors.New("itsme: wrong audience")
	// ErrExpired means exp has passed (beyond the leeway).
	ErrExpired = errors.New("itsme: token expired")
	// ErrIssuedAt means iat is missing, in the future or too old.
	ErrIssuedAt = errors.New("itsme: bad iat")
	// ErrNotYetValid means nbf is in the future (beyond the leeway).
	ErrNotYetValid = errors.New("itsme: token not yet valid")
	// ErrNonce means the nonce is missing or differs from the request's.
	ErrNonce = errors.New("itsme: nonce mismatch")
	// ErrSubject means sub is missing, empty or longer than 255 chars.
	ErrSubject = errors.New("itsme: bad sub")
	// ErrSubjectMismatch means the userinfo sub differs from the ID
	// token's.
	ErrSubjectMismatch = errors.New("itsme: userinfo sub differs from ID token sub")
	// ErrACR means the ID token's acr is weaker than requested.
	ErrACR = errors.New("itsme: acr mismatch")
	// ErrCircuitOpen means the circuit breaker refused the call because
	// itsme failed repeatedly; no request was sent (Code is
	// CodeUnavailable).
	ErrCircuitOpen = breaker.ErrOpen
)

// Codes set by the Client in addition to itsme.Code* values.
const (
	// CodeACRMismatch is the Error Code when ACRAdvanced was requested
	// but the ID token does not carry it.
	CodeACRMismatch = "acr_mismatch"
)

// Stages used in Error.Stage.
const (
	StageAuthorization = "authorization"
	StageDiscovery     = "discovery"
	StageJWKS          = "jwks"
	StageToken         = "token"
	StageIDToken       = "id_token"
	StageUserInfo      = "userinfo"
)

func newError(stage, code string, err error) *Error {
	return &Error{Stage: stage, Code: code, Err: err}
}
