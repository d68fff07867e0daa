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
	// ArtifactACS lists the SP's HTTP-Artifact assertion consumer
	// services, in document order. They are used only when a request asks
	// for one (its ProtocolBinding, index or URL), never as the default,
	// and only for SPs with a signing key to verify their ArtifactResolve
	// with (see ResolveACS).
	ArtifactACS []saml.IndexedEndpoint
	// SingleLogoutServices are the SP's HTTP-Redirect and HTTP-POST
	// SingleLogoutService endpoints, validated like the ACS.
	SingleLogoutServices []saml.Endpoint
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
	// nil means none: the SP gets a NameID and no attributes, whatever it
	// asks for (DefaultRelease is limited by this list too). Set by
	// configuration, never from metadata.
	AllowedAttributes []string
	// DefaultRelease is what this SP gets when neither its request nor its
	// metadata asks for attributes (many SPs, Shibboleth's and mellon's
	// among them, never do); still limited by AllowedAttributes. Nil means
	// the server's default, the Authentication set. Set by configuration.
	DefaultRelease []string
	// Signing says what the bridge signs in a successful Response:
	// "assertion" (the default when empty), "response" or "both". Error
	// responses carry no assertion and always have the Response signed.
	// Set by configuration.
	Signing string
	// SignatureAlgorithm is the XML signature method URI the bridge signs
	// this SP's responses with; empty means RSA-SHA256. RSA-SHA1 is only
	// accepted together with LegacySHA1. Set by configuration.
	SignatureAlgorithm string
	// LegacySHA1 marks an SP that cannot verify anything but RSA-SHA1
	// (security catalogue G6): only then may SignatureAlgorithm be
	// RSA-SHA1. Set by configuration.
	LegacySHA1 bool
	// AllowUnsolicited lets the bridge send this SP unsolicited
	// (IdP-initiated) responses, for legacy portals that cannot send an
	// AuthnRequest. Off by default: an unsolicited response is a login
	// CSRF vector. Set by configuration.
	AllowUnsolicited bool
	// AttributeProfile names the vocabulary this SP's attributes are sent
	// and requested in, for attributes.ParseProfile: "default", "oid" or
	// "microsoft"; empty means default. Set by configuration.
	AttributeProfile string
}

// ResolveACS chooses the ACS to answer a request at, following SAML core
// §3.4.1 with the SP's metadata as the only source of endpoints (profiles
// §4.1.4.1, catalogue REQ-03/04/05):
//
//   - protocolBinding, when given, must be HTTP-POST or HTTP-Artifact;
//   - acsURL and index are mutually exclusive; giving both is an error;
//   - an index must be the index of one of the SP's POST or Artifact
//     endpoints, of the binding asked for if one is;
//   - a URL must equal, byte for byte, the Location of one of the SP's POST
//     or Artifact endpoints (no normalisation: near misses are attacks); an
//     SP may list one URL with both bindings, and then the one asked for
//     is chosen, HTTP-POST when none is;
//   - neither means DefaultACS, or the default Artifact endpoint when
//     protocolBinding is HTTP-Artifact;
//   - an Artifact endpoint needs a signing key in the SP's metadata, since
//     the SP's ArtifactResolve must be signed.
//
// Errors wrap ErrACSNotFound or ErrBindingNotSupported.
func (sp *ServiceProvider) ResolveACS(acsURL string, index *int, protocolBinding string) (saml.IndexedEndpoint, error) {
	switch protocolBinding {
	case "", saml.HTTPPostBinding, saml.HTTPArtifactBinding:
	default:
		return saml.IndexedEndpoint{}, fmt.Errorf("%w: %.100q (only HTTP-POST and HTTP-Artifact)", ErrBindingNotSupported, protocolBinding)
	}
	var (
		e   saml.IndexedEndpoint
		err error
	)
	switch {
	case index != nil && acsURL != "":
		err = fmt.Errorf("%w: both AssertionConsumerServiceURL and AssertionConsumerServiceIndex given (SAML core §3.4.1)", ErrACSNotFound)
	case index != nil:
		e, err = sp.acsByIndex(*index, protocolBinding)
	case acsURL != "":
		e, err = sp.acsByURL(acsURL, protocolBinding)
	case protocolBinding == saml.HTTPArtifactBinding:
		if len(sp.ArtifactACS) == 0 {
			err = fmt.Errorf("%w: the SP has no HTTP-Artifact endpoint", ErrACSNotFound)
		} else {
			e = defaultEndpoint(sp.ArtifactACS)
		}
	case sp.DefaultACS.Location == "":
		err = fmt.Errorf("%w: the SP has no HTTP-POST endpoint", ErrACSNotFound)
	default:
		e = sp.DefaultACS
	}
	if err != nil {
		return saml.IndexedEndpoint{}, err
	}
	if e.Binding == saml.HTTPArtifactBinding && len(sp.SigningCerts) == 0 {
		return saml.IndexedEndpoint{}, fmt.Errorf("%w: HTTP-Artifact needs a signing key in the SP's metadata to verify its ArtifactResolve", ErrBindingNotSupported)
	}
	return e, nil
}

// acsByIndex finds the POST or Artifact endpoint with index i, of binding
// when binding is not empty.
func (sp *ServiceProvider) acsByIndex(i int, binding string) (saml.IndexedEndpoint, error) {
	for _, list := range [][]saml.IndexedEndpoint{sp.ACS, sp.ArtifactACS} {
		for _, e := range list {
			if e.Index != i {
				continue
			}
			if binding != "" && e.Binding != binding {
				return saml.IndexedEndpoint{}, fmt.Errorf("%w: endpoint %d is not bound to %.100q", ErrACSNotFound, i, binding)
			}
			return e, nil
		}
	}
	return saml.IndexedEndpoint{}, fmt.Errorf("%w: no HTTP-POST or HTTP-Artifact endpoint with index %d", ErrACSNotFound, i)
}

// acsByURL finds the endpoint at exactly acsURL: of binding when binding
// is not empty, else the POST one, else the Artifact one.
func (sp *ServiceProvider) acsByURL(acsURL, binding string) (saml.IndexedEndpoint, error) {
	for _, list := range [][]saml.IndexedEndpoint{sp.ACS, sp.ArtifactACS} {
		for _, e := range list {
			if e.Location == acsURL && (binding == "" || e.Binding == binding) {
				return e, nil
			}
		}
	}
	return saml.IndexedEndpoint{}, fmt.Errorf("%w: %.200q is not an HTTP-POST or HTTP-Artifact endpoint in the metadata", ErrACSNotFound, acsURL)
}

// HasACS reports whether location is, for binding, one of the SP's
// assertion consumer services (HTTP-POST or HTTP-Artifact).
func (sp *ServiceProvider) HasACS(location, binding string) bool {
	for _, list := range [][]saml.IndexedEndpoint{sp.ACS, sp.ArtifactACS} {
		for _, e := range list {
			if e.Location == location && e.Binding == binding {
				return true
			}
		}
	}
	return false
}
