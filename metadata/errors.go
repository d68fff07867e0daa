package metadata

import "errors"

// Sentinel errors. Check them with errors.Is; the returned errors wrap them
// with details.
var (
	// ErrUnknownServiceProvider means no SP with that entity ID is
	// registered (or its metadata expired).
	ErrUnknownServiceProvider = errors.New("metadata: unknown service provider")
	// ErrInvalidMetadata means metadata (or an IdP metadata configuration)
	// was rejected. The wrapping error names the entity, the element and
	// the reason.
	ErrInvalidMetadata = errors.New("metadata: invalid metadata")
	// ErrACSNotFound means the requested assertion consumer service is not
	// an HTTP-POST endpoint in the SP's metadata, or the request named it
	// ambiguously.
	ErrACSNotFound = errors.New("metadata: assertion consumer service not found")
	// ErrBindingNotSupported means the request asked for a response
	// binding other than HTTP-POST.
	ErrBindingNotSupported = errors.New("metadata: protocol binding not supported")
)
