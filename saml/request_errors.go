package saml

import (
	"errors"
	"net/http"
)

// Sentinel errors for rejected AuthnRequests. A *RequestError unwraps to one
// of them, so callers test with errors.Is.
var (
	// ErrMalformedRequest: wrong encoding, not well-formed or not a SAML 2.0
	// AuthnRequest, bad RelayState.
	ErrMalformedRequest = errors.New("saml: malformed request")
	// ErrRequestTooLarge: the body, query or inflated message is too big.
	ErrRequestTooLarge = errors.New("saml: request too large")
	// ErrUnknownSP: the Issuer is not a registered service provider.
	ErrUnknownSP = errors.New("saml: unknown service provider")
	// ErrSignatureRequired: the request is unsigned but must be signed.
	ErrSignatureRequired = errors.New("saml: signature required")
	// ErrBadSignature: a signature is present but does not verify, uses a
	// refused algorithm or has a refused shape.
	ErrBadSignature = errors.New("saml: bad signature")
	// ErrDestination: Destination is missing on a signed request, or is
	// not the bridge's SSO URL.
	ErrDestination = errors.New("saml: wrong destination")
	// ErrStaleRequest: IssueInstant is too old or in the future.
	ErrStaleRequest = errors.New("saml: stale request")
	// ErrACS: the requested assertion consumer service is not in the SP's
	// metadata.
	ErrACS = errors.New("saml: assertion consumer service not allowed")
	// ErrUnsupportedBinding: wrong HTTP method, or a response binding
	// other than HTTP-POST was asked for.
	ErrUnsupportedBinding = errors.New("saml: unsupported binding")
	// ErrDuplicateParameter: a binding parameter appears more than once
	// (catalogue X-11).
	ErrDuplicateParameter = errors.New("saml: duplicate parameter")
	// ErrRegistryUnavailable: the SP registry failed (not an unknown SP).
	ErrRegistryUnavailable = errors.New("saml: service provider registry unavailable")
)

// Messages shown to the user on the bridge's error page. They are
// constants: they never contain anything taken from the request.
const (
	msgMalformed          = "The login request could not be read. Ask the administrator of the application you came from to check its SAML configuration."
	msgRelayState         = "The login request carries an invalid or too long RelayState (at most 1024 bytes of printable UTF-8). Ask the administrator of the application you came from to fix it."
	msgTooLarge           = "The login request is too large. Ask the administrator of the application you came from to check its SAML configuration."
	msgUnknownSP          = "The application that sent you here is not registered with this identity provider. Ask its administrator to register its SAML metadata."
	msgSignatureRequired  = "The login request was not signed, but this application must sign its requests. Check the SP's signing key configuration."
	msgBadSignature       = "The signature on the login request is not valid. Check that the SP signs with RSA-SHA256 or stronger, with a key published in its registered metadata."
	msgDestination        = "The login request was addressed to another endpoint than this identity provider's SSO URL. Check the identity provider metadata configured in the application."
	msgStale              = "The login request has expired or is dated in the future. Go back to the application and log in again; if this keeps happening, check the clocks of both servers."
	msgACS                = "The application asked for the answer to be sent to an address that is not in its registered metadata. Ask its administrator to update the SAML metadata or the application's ACS URL."
	msgUnsupportedBinding = "This kind of login request is not supported. The application must send it with HTTP-Redirect or HTTP-POST and accept the answer by HTTP-POST (or HTTP-Artifact where this identity provider enables it)."
	msgMethod             = "Login requests must be sent with GET (HTTP-Redirect binding) or POST (HTTP-POST binding)."
	msgDuplicate          = "The login request contains a SAML parameter more than once. Ask the administrator of the application you came from to check its SAML configuration."
	msgRegistry           = "The identity provider cannot check the application right now. Please try again in a few minutes."
)

// RequestError is a rejected AuthnRequest. It is shown as a local error
// page: nothing is sent to any ACS, since the request could not be
// trusted.
type RequestError struct {
	// Reason is one of the sentinel errors above.
	Reason error
	// Message is safe, actionable text for the user or administrator. It
	// never echoes attacker input.
	Message string
	// Err is the detailed cause, for logs. Values from the request in it
	// are quoted and truncated.
	Err error
	// Step is the validation step that failed (zero when the parser
	// did not say), for tools that report each step.
	Step Step

	status int // HTTP status when it is not implied by Reason
}

// Error returns the reason and the cause.
func (e *RequestError) Error() string {
	s := "saml: rejected request"
	if e.Reason != nil {
		s = e.Reason.Error()
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns Reason, so that errors.Is(err, ErrX) works.
func (e *RequestError) Unwrap() error { return e.Reason }

// Cause returns the detailed cause (Err).
func (e *RequestError) Cause() error { return e.Err }

// HTTPStatus returns the status code for the error page: 413 for a request
// too large, 405 for a wrong method, 503 when the registry failed, else 400.
func (e *RequestError) HTTPStatus() int {
	switch {
	case e.status != 0:
		return e.status
	case errors.Is(e.Reason, ErrRequestTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(e.Reason, ErrRegistryUnavailable):
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}

// Code is the stable code of the error page shown for e (the keys of
// the troubleshooting guide, docs/pages.md): one per message, so the
// page's translated text matches the English Message.
func (e *RequestError) Code() string {
	switch e.Message {
	case msgRelayState:
		return "relay_state"
	case msgMethod:
		return "method_not_allowed"
	}
	for _, c := range requestCodes {
		if errors.Is(e.Reason, c.reason) {
			return c.code
		}
	}
	return "malformed"
}

// requestCodes names each sentinel's default message.
var requestCodes = []struct {
	reason error
	code   string
}{
	{ErrRequestTooLarge, "too_large"},
	{ErrUnknownSP, "unknown_sp"},
	{ErrSignatureRequired, "signature_required"},
	{ErrBadSignature, "bad_signature"},
	{ErrDestination, "destination"},
	{ErrStaleRequest, "stale"},
	{ErrACS, "acs_not_in_metadata"},
	{ErrUnsupportedBinding, "unsupported_binding"},
	{ErrDuplicateParameter, "duplicate_parameter"},
	{ErrRegistryUnavailable, "registry_unavailable"},
	{ErrMalformedRequest, "malformed"},
}

// reject builds a *RequestError with the default message for reason.
func reject(reason error, cause error) *RequestError {
	return &RequestError{Reason: reason, Message: defaultMessage(reason), Err: cause}
}

func defaultMessage(reason error) string {
	switch reason {
	case ErrRequestTooLarge:
		return msgTooLarge
	case ErrUnknownSP:
		return msgUnknownSP
	case ErrSignatureRequired:
		return msgSignatureRequired
	case ErrBadSignature:
		return msgBadSignature
	case ErrDestination:
		return msgDestination
	case ErrStaleRequest:
		return msgStale
	case ErrACS:
		return msgACS
	case ErrUnsupportedBinding:
		return msgUnsupportedBinding
	case ErrDuplicateParameter:
		return msgDuplicate
	case ErrRegistryUnavailable:
		return msgRegistry
	}
	return msgMalformed
}

// Step names one step of inbound message validation, in the order Parse
// and ParseLogout run them. Validation stops at the first step that fails.
type Step int

// The steps of Parse and ParseLogout, in order.
const (
	// StepBinding: method, size caps, binding parameters, base64 and
	// (Redirect) a bounded inflate.
	StepBinding Step = iota + 1
	// StepXML: the xmlguard limits, well-formedness and the SAML shape
	// (root, Version, ID, IssueInstant, Issuer).
	StepXML
	// StepIssuer: the Issuer is a registered SP.
	StepIssuer
	// StepSignature: the signature policy and verification.
	StepSignature
	// StepContent: the message decodes from the verified bytes
	// (RequestedAuthnContext, Scoping, Extensions; a LogoutRequest's
	// NameID and NotOnOrAfter).
	StepContent
	// StepDestination: Destination is the bridge's endpoint.
	StepDestination
	// StepIssueInstant: IssueInstant within the window.
	StepIssueInstant
	// StepACS: the ACS and response binding come from the SP's metadata.
	StepACS
	// StepRelayState: RelayState can be returned as received.
	StepRelayState
)

// Steps lists every Step in the order they run.
var Steps = []Step{StepBinding, StepXML, StepIssuer, StepSignature, StepContent, StepDestination, StepIssueInstant, StepACS, StepRelayState}

// String names the step for people.
func (c Step) String() string {
	switch c {
	case StepBinding:
		return "binding"
	case StepXML:
		return "XML"
	case StepIssuer:
		return "Issuer"
	case StepSignature:
		return "signature"
	case StepContent:
		return "content"
	case StepDestination:
		return "Destination"
	case StepIssueInstant:
		return "IssueInstant"
	case StepACS:
		return "ACS"
	case StepRelayState:
		return "RelayState"
	}
	return "unknown"
}

// at records c as the failed step of err when err is a *RequestError that
// names none yet, and returns err.
func at(c Step, err error) error {
	var re *RequestError
	if errors.As(err, &re) && re.Step == 0 {
		re.Step = c
	}
	return err
}
