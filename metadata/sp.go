package metadata

import (
	"crypto/x509"
	"fmt"
	"time"

	"github.com/crewjam/saml"
)

// ServiceProvider is one SP the bridge trusts, as validated from its
// metadata plus the policy configured for it. Values are shared between
// requests; treat them as read-only.
type ServiceProvider struct {
	// EntityID is the SP's SAML entity ID.
	EntityID string
	// ACS lists the SP's HTTP-POST assertion consumer services, in
	// document order. Endpoints with other bindings are dropped: the
	// bridge only answers by POST.
	ACS []saml.IndexedEndpoint
	// DefaultACS is the POST ACS used when a request names none: the
	// first with isDefault="true", else the first not marked
	// isDefault="false", else the first (SAML metadata §2.2.3).
	DefaultACS saml.IndexedEndpoint
	// SigningCerts verify the SP's AuthnRequest signatures
	// (KeyDescriptor use="signing" or without use). Several are allowed
	// for key rollover; any of them may match.
	SigningCerts []*x509.Certificate
	// EncryptionCerts are the keys assertions may be encrypted to
	// (KeyDescriptor use="encryption" or without use).
	EncryptionCerts []*x509.Certificate
	// AuthnRequestsSigned is the SP's AuthnRequestsSigned attribute: when
	// true, unsigned requests from this SP are rejected.
	AuthnRequestsSigned bool
	// WantAssertionsSigned is the SP's WantAssertionsSigned attribute.
	WantAssertionsSigned bool
	// NameIDFormats lists the SP's NameIDFormat elements.
	NameIDFormats []string
	// AttributeConsumingServices are the SP's declared attribute sets. They
	// are requests, never entitlements (see AllowedAttributes).
	AttributeConsumingServices []saml.AttributeConsumingService
	// EncryptionMethods lists, without duplicates, the algorithms of the
	// EncryptionMethod elements of encryption KeyDescriptors (may be
	// empty).
	EncryptionMethods []string
	// ValidUntil is the earliest validUntil that applied to this SP in its
	// metadata (document, entity or role); zero when none was given. The
	// StaticRegistry stops serving the SP after it (MD-02).
	ValidUntil time.Time

	// AllowedAttributes are the SAML attribute names this SP may receive;
	// nil means none beyond the default set the server applies. Set by
	// configuration, never from metadata.
	AllowedAttributes []string
	// DefaultRelease is what this SP gets when neither its request nor its
	// metadata asks for attributes (many SPs, Shibboleth's and mellon's
	// among them, never do); still limited by AllowedAttributes. Nil means
	// the server's default, the Authentication set. Set by configuration.
	DefaultRelease []string
	// SignResponse makes the bridge also sign the <Response>. Set by
	// configuration.
	SignResponse bool
}

// ResolveACS chooses the ACS to answer a request at, following SAML core
// §3.4.1 with the SP's metadata as the only source of endpoints (profiles
// §4.1.4.1, catalogue REQ-03/04/05):
//
//   - acsURL and index are mutually exclusive; giving both is an error;
//   - an index must be the index of one of the SP's POST endpoints;
//   - a URL must equal, byte for byte, the Location of one of the SP's POST
//     endpoints (no normalisation: near misses are attacks);
//   - neither means DefaultACS;
//   - protocolBinding, when given, must be HTTP-POST.
//
// Errors wrap ErrACSNotFound or ErrBindingNotSupported.
func (sp *ServiceProvider) ResolveACS(acsURL string, index *int, protocolBinding string) (saml.IndexedEndpoint, error) {
	if protocolBinding != "" && protocolBinding != saml.HTTPPostBinding {
		return saml.IndexedEndpoint{}, fmt.Errorf("%w: %.100q (only HTTP-POST)", ErrBindingNotSupported, protocolBinding)
	}
	switch {
	case index != nil && acsURL != "":
		return saml.IndexedEndpoint{}, fmt.Errorf("%w: both AssertionConsumerServiceURL and AssertionConsumerServiceIndex given (SAML core §3.4.1)", ErrACSNotFound)
	case index != nil:
		for _, e := range sp.ACS {
			if e.Index == *index {
				return e, nil
			}
		}
		return saml.IndexedEndpoint{}, fmt.Errorf("%w: no HTTP-POST endpoint with index %d", ErrACSNotFound, *index)
	case acsURL != "":
		for _, e := range sp.ACS {
			if e.Location == acsURL {
				return e, nil
			}
		}
		return saml.IndexedEndpoint{}, fmt.Errorf("%w: %.200q is not an HTTP-POST endpoint in the metadata", ErrACSNotFound, acsURL)
	}
	if sp.DefaultACS.Location == "" {
		return saml.IndexedEndpoint{}, fmt.Errorf("%w: the SP has no HTTP-POST endpoint", ErrACSNotFound)
	}
	return sp.DefaultACS, nil
}
