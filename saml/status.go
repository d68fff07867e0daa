package saml

import (
	"errors"
	"log/slog"
)

// SAML 2.0 status codes (saml-core §3.2.2.2) used by the bridge.
const (
	StatusSuccess             = "urn:oasis:names:tc:SAML:2.0:status:Success"
	StatusRequester           = "urn:oasis:names:tc:SAML:2.0:status:Requester"
	StatusResponder           = "urn:oasis:names:tc:SAML:2.0:status:Responder"
	StatusAuthnFailed         = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"
	StatusRequestDenied       = "urn:oasis:names:tc:SAML:2.0:status:RequestDenied"
	StatusNoAuthnContext      = "urn:oasis:names:tc:SAML:2.0:status:NoAuthnContext"
	StatusNoPassive           = "urn:oasis:names:tc:SAML:2.0:status:NoPassive"
	StatusInvalidNameIDPolicy = "urn:oasis:names:tc:SAML:2.0:status:InvalidNameIDPolicy"
	StatusProxyCountExceeded  = "urn:oasis:names:tc:SAML:2.0:status:ProxyCountExceeded"
	StatusRequestUnsupported  = "urn:oasis:names:tc:SAML:2.0:status:RequestUnsupported"
	StatusNoSupportedIDP      = "urn:oasis:names:tc:SAML:2.0:status:NoSupportedIDP"
	StatusPartialLogout       = "urn:oasis:names:tc:SAML:2.0:status:PartialLogout"
	StatusUnknownPrincipal    = "urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal"
)

// StatusError is a failure that is answered to the SP as a SAML Response
// with a non-success status. It is only used once the AuthnRequest has been
// validated, so the ACS it goes to is known to be in the SP's metadata.
type StatusError struct {
	// Status is the top-level status code (Requester or Responder).
	Status string
	// SubStatus is the optional second-level status code.
	SubStatus string
	// Message is sent as StatusMessage. It must not contain internal
	// details; keep it short and generic.
	Message string
	// Err is the cause, for logs only.
	Err error
}

// Code is the status in short form, "Top" or "Top/Second" (for example
// "Responder/NoPassive"), as logs and audit events name it.
func (e *StatusError) Code() string {
	s := shortStatus(e.Status)
	if e.SubStatus != "" {
		s += "/" + shortStatus(e.SubStatus)
	}
	return s
}

// Error implements error.
func (e *StatusError) Error() string {
	s := "saml: status " + e.Code()
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *StatusError) Unwrap() error { return e.Err }

// LogValue implements slog.LogValuer.
func (e *StatusError) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("status", shortStatus(e.Status))}
	if e.SubStatus != "" {
		attrs = append(attrs, slog.String("sub_status", shortStatus(e.SubStatus)))
	}
	if e.Err != nil {
		attrs = append(attrs, slog.String("cause", e.Err.Error()))
	}
	return slog.GroupValue(attrs...)
}

// StatusFromError returns err as a *StatusError, or a generic Responder
// status wrapping err when it is some other error.
func StatusFromError(err error) *StatusError {
	var se *StatusError
	if errors.As(err, &se) {
		return se
	}
	return &StatusError{Status: StatusResponder, Message: "The identity provider could not complete the login.", Err: err}
}

func shortStatus(s string) string {
	const p = "urn:oasis:names:tc:SAML:2.0:status:"
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}
