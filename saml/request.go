package saml

import (
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/internal/logtext"
	"github.com/samlbridge/samlbridge/metadata"
)

// Defaults for RequestParser's zero fields.
const (
	DefaultMaxClockSkew     = 3 * time.Minute
	DefaultMaxRequestAge    = 5 * time.Minute
	DefaultMaxBodyBytes     = 256 << 10
	DefaultMaxInflatedBytes = 256 << 10
	maxRelayStateBytes      = 1024 // the spec says 80 (saml-bindings §3.4.3); real SPs send more
)

// RequestParser reads and validates AuthnRequests arriving at the bridge's
// SSO endpoint by the HTTP-Redirect or HTTP-POST binding. Its fields must
// not change after first use; it is safe for concurrent use.
type RequestParser struct {
	// Registry finds the SP named by the Issuer. Required.
	Registry metadata.Registry
	// SSOURL is the bridge's configured (external) SSO endpoint URL. A
	// Destination must equal it exactly; it is never derived from the
	// Host header. Required.
	SSOURL string
	// ArtifactBinding allows an SP to ask for the Response by the
	// HTTP-Artifact binding; when false such requests are refused as
	// ErrUnsupportedBinding before any login starts.
	ArtifactBinding bool
	// SLOURL is the bridge's Single Logout endpoint URL, the Destination
	// logout messages must carry (see ParseLogout).
	SLOURL string
	// WantAuthnRequestsSigned requires a signature from every SP, not only
	// from those whose metadata says AuthnRequestsSigned.
	WantAuthnRequestsSigned bool
	// MaxClockSkew is how far in the future IssueInstant may be (default
	// 3 min).
	MaxClockSkew time.Duration
	// MaxRequestAge is how old IssueInstant may be, plus MaxClockSkew
	// (default 5 min).
	MaxRequestAge time.Duration
	// MaxBodyBytes caps a POST body or a Redirect query (default 256 KiB).
	MaxBodyBytes int64
	// MaxInflatedBytes caps a Redirect message after DEFLATE decompression
	// (default 256 KiB).
	MaxInflatedBytes int64
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Logger receives debug events; nil discards them. Messages are never
	// logged.
	Logger *slog.Logger
}

// AuthnRequest is an AuthnRequest that passed every check.
type AuthnRequest struct {
	// Binding is crewjam's HTTPRedirectBinding or HTTPPostBinding.
	Binding string
	// Request is decoded from the verified bytes only: for a signed POST
	// request, from the element the signature covers. Request.ID is the
	// ID to check for replay.
	Request *crewjam.AuthnRequest
	// RelayState is the RelayState, decoded; HasRelayState tells an absent
	// RelayState from an empty one (both must be returned as received).
	RelayState    string
	HasRelayState bool
	// SP is the registered SP named by the Issuer.
	SP *metadata.ServiceProvider
	// ACS is where to answer, chosen from the SP's metadata only.
	ACS crewjam.IndexedEndpoint
	// Signed is true when a signature was present and verified.
	Signed bool
	// RequestedAuthnContext is nil when the request has none. Unlike
	// crewjam's, it keeps every class reference, in order.
	RequestedAuthnContext *RequestedAuthnContext
	// Scoping is nil when the request has none (crewjam drops it).
	Scoping *Scoping
	// RequestedAttributes are the attributes asked for in the request's
	// Extensions by the protocol extension for requesting attributes
	// (urn:oasis:names:tc:SAML:protocol:ext:req-attr), in order. They are
	// a wish; the SP's allow-list decides.
	RequestedAttributes []RequestedAttribute
}

// Scoping is a request's Scoping element (saml-core §3.4.1.2).
type Scoping struct {
	// ProxyCount is nil when absent; 0 forbids proxying at all.
	ProxyCount *int
	// IDPEntries are the ProviderIDs of the IDPList, in order.
	IDPEntries []string
	// RequesterIDs are the RequesterID elements, in order.
	RequesterIDs []string
}

// RequestedAttribute is one md:RequestedAttribute of a request's req-attr
// extension.
type RequestedAttribute struct {
	Name         string
	NameFormat   string
	FriendlyName string
	IsRequired   bool
}

// RequestedAuthnContext is a request's RequestedAuthnContext.
type RequestedAuthnContext struct {
	Comparison string
	ClassRefs  []string
	DeclRefs   []string
}

// rawRequestedAuthnContext decodes what crewjam's AuthnRequest drops.
type rawRequestedAuthnContext struct {
	RAC *struct {
		Comparison string   `xml:"Comparison,attr"`
		ClassRefs  []string `xml:"urn:oasis:names:tc:SAML:2.0:assertion AuthnContextClassRef"`
		DeclRefs   []string `xml:"urn:oasis:names:tc:SAML:2.0:assertion AuthnContextDeclRef"`
	} `xml:"urn:oasis:names:tc:SAML:2.0:protocol RequestedAuthnContext"`
}

// rawScoping decodes the Scoping element, which crewjam does not model.
type rawScoping struct {
	Scoping *struct {
		ProxyCount *string `xml:"ProxyCount,attr"`
		IDPList    *struct {
			Entries []struct {
				ProviderID string `xml:"ProviderID,attr"`
			} `xml:"urn:oasis:names:tc:SAML:2.0:protocol IDPEntry"`
		} `xml:"urn:oasis:names:tc:SAML:2.0:protocol IDPList"`
		RequesterIDs []string `xml:"urn:oasis:names:tc:SAML:2.0:protocol RequesterID"`
	} `xml:"urn:oasis:names:tc:SAML:2.0:protocol Scoping"`
	Extensions *struct {
		RequestedAttributes []struct {
			Attributes []struct {
				Name         string `xml:"Name,attr"`
				NameFormat   string `xml:"NameFormat,attr"`
				FriendlyName string `xml:"FriendlyName,attr"`
				IsRequired   string `xml:"isRequired,attr"`
			} `xml:"urn:oasis:names:tc:SAML:2.0:metadata RequestedAttribute"`
		} `xml:"urn:oasis:names:tc:SAML:protocol:ext:req-attr RequestedAttributes"`
	} `xml:"urn:oasis:names:tc:SAML:2.0:protocol Extensions"`
}

// maxRequestedAttributes bounds the req-attr extension: the contract has
// far fewer attributes than this.
const maxRequestedAttributes = 100

// decodeScoping turns raw into the request's Scoping and requested
// attributes, refusing malformed values.
func decodeScoping(raw *rawScoping, out *AuthnRequest) error {
	if sc := raw.Scoping; sc != nil {
		s := &Scoping{RequesterIDs: sc.RequesterIDs}
		if sc.ProxyCount != nil {
			n, err := strconv.Atoi(strings.TrimSpace(*sc.ProxyCount))
			if err != nil || n < 0 {
				return fmt.Errorf("Scoping ProxyCount %s is not a non-negative integer", quote(*sc.ProxyCount))
			}
			s.ProxyCount = &n
		}
		if sc.IDPList != nil {
			for _, e := range sc.IDPList.Entries {
				s.IDPEntries = append(s.IDPEntries, e.ProviderID)
			}
		}
		out.Scoping = s
	}
	if ext := raw.Extensions; ext != nil {
		for _, ras := range ext.RequestedAttributes {
			for _, a := range ras.Attributes {
				if a.Name == "" {
					return errors.New("a requested attribute in Extensions has no Name")
				}
				if len(out.RequestedAttributes) == maxRequestedAttributes {
					return fmt.Errorf("more than %d requested attributes in Extensions", maxRequestedAttributes)
				}
				required, err := xsBoolean(a.IsRequired)
				if err != nil {
					return fmt.Errorf("requested attribute isRequired: %w", err)
				}
				out.RequestedAttributes = append(out.RequestedAttributes, RequestedAttribute{
					Name: a.Name, NameFormat: a.NameFormat, FriendlyName: a.FriendlyName, IsRequired: required})
			}
		}
	}
	return nil
}

// xsBoolean parses an optional xs:boolean attribute (absent is false).
func xsBoolean(v string) (bool, error) {
	switch strings.TrimSpace(v) {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, fmt.Errorf("%s is not an xs:boolean", quote(v))
}

// MaxAge returns how long after its IssueInstant a request may still be
// accepted (MaxRequestAge plus MaxClockSkew, with defaults applied): a
// replay cache entry for the request ID must live at least this long.
func (p *RequestParser) MaxAge() time.Duration { return p.window().maxAge() }

// ReplayDeadline is until when the replay marker of a message p accepted
// with this IssueInstant must be kept: past the last moment p would accept
// it again (catalogue REQ-09).
func (p *RequestParser) ReplayDeadline(issueInstant time.Time) time.Time {
	return p.window().replayDeadline(issueInstant)
}

// window is the IssueInstant window of p's messages.
func (p *RequestParser) window() issueWindow {
	return issueWindow{skew: p.MaxClockSkew, age: p.MaxRequestAge}
}

// Parse validates an AuthnRequest, in this order (architecture §3.3):
// method and size caps, duplicate parameters, base64 and (Redirect) a
// bounded inflate; XML pre-checks on the raw bytes; the SAML shape; the SP
// by its Issuer; the signature (required when the SP's metadata or the
// bridge asks for it, and always verified when present); then Destination,
// IssueInstant, the ACS and the RelayState.
//
// Every rejection is a *RequestError; errors.Is(err, ErrX) tells the
// reason. Such requests must be answered with a local error page, never at
// an ACS. Replay of Request.ID is for the caller to check.
func (p *RequestParser) Parse(r *http.Request) (*AuthnRequest, error) {
	if p.Registry == nil {
		return nil, errors.New("saml: RequestParser has no Registry")
	}
	req, err := p.parse(r)
	if err != nil {
		var re *RequestError
		if errors.As(err, &re) {
			// The cause may quote the request (a time value that does not
			// parse is echoed whole): cut, as the bridge's own log does.
			p.logger().Debug("AuthnRequest rejected", "reason", re.Reason, "cause", logtext.Cut(fmt.Sprint(re.Err), maxLoggedCause))
		}
		return nil, err
	}
	p.logger().Debug("AuthnRequest accepted", "sp", req.SP.EntityID, "binding", req.Binding, "signed", req.Signed)
	return req, nil
}

// read decodes a message by the binding its method names: GET is
// HTTP-Redirect, POST is HTTP-POST. fields are the message parameters
// accepted (default SAMLRequest).
func (p *RequestParser) read(r *http.Request, fields ...string) (*inbound, error) {
	switch r.Method {
	case http.MethodGet:
		return p.readRedirect(r, fields...)
	case http.MethodPost:
		return p.readPost(r, fields...)
	}
	return nil, &RequestError{Reason: ErrUnsupportedBinding, Message: msgMethod, Err: fmt.Errorf("method %s", quote(r.Method)), status: http.StatusMethodNotAllowed}
}

func (p *RequestParser) parse(r *http.Request) (*AuthnRequest, error) {
	in, err := p.read(r)
	if err != nil {
		return nil, at(StepBinding, err)
	}

	rd, err := parseRequestDoc(in.xml)
	if err != nil {
		return nil, at(StepXML, reject(ErrMalformedRequest, err))
	}
	sp, reason, err := lookupSP(r.Context(), p.Registry, rd.issuer)
	if reason != nil {
		return nil, at(StepIssuer, reject(reason, err))
	}

	verified, signed, err := p.checkSignature(in, rd, sp, sp.AuthnRequestsSigned || p.WantAuthnRequestsSigned)
	if err != nil {
		return nil, at(StepSignature, err)
	}
	req, err := decodeRequest(verified, rd)
	if err != nil {
		return nil, at(StepContent, reject(ErrMalformedRequest, err))
	}
	var rac rawRequestedAuthnContext
	if err := xml.Unmarshal(verified, &rac); err != nil {
		return nil, at(StepContent, reject(ErrMalformedRequest, fmt.Errorf("decoding RequestedAuthnContext: %w", err)))
	}
	out := &AuthnRequest{Binding: in.binding, Request: req, SP: sp, Signed: signed,
		RelayState: in.relayState, HasRelayState: in.hasRelayState}
	if r := rac.RAC; r != nil {
		out.RequestedAuthnContext = &RequestedAuthnContext{Comparison: r.Comparison, ClassRefs: r.ClassRefs, DeclRefs: r.DeclRefs}
	}
	var sc rawScoping
	if err := xml.Unmarshal(verified, &sc); err != nil {
		return nil, at(StepContent, reject(ErrMalformedRequest, fmt.Errorf("decoding Scoping and Extensions: %w", err)))
	}
	if err := decodeScoping(&sc, out); err != nil {
		return nil, at(StepContent, reject(ErrMalformedRequest, err))
	}
	if err := p.checkSemantics(out); err != nil {
		return nil, err
	}
	return out, nil
}

// checkSignature applies the signature policy (catalogue SIG-01/02/12,
// saml2int SDP-IDP05) and returns the bytes to decode the request from.
func (p *RequestParser) checkSignature(in *inbound, rd *requestDoc, sp *metadata.ServiceProvider, required bool) ([]byte, bool, error) {
	if in.binding == crewjam.HTTPRedirectBinding {
		// The Redirect binding signs the query; a signature inside the
		// XML must have been removed (saml-bindings §3.4.4.1, SIG-12).
		if len(rd.signatures) > 0 {
			return nil, false, reject(ErrBadSignature, errors.New("ds:Signature inside a Redirect-binding message"))
		}
		if !in.hasQuerySignature() {
			if required {
				return nil, false, reject(ErrSignatureRequired, errors.New("unsigned Redirect request"))
			}
			return in.xml, false, nil
		}
		if err := verifyRedirectSignature(in.params, in.field, sp.SigningCerts); err != nil {
			return nil, false, reject(ErrBadSignature, err)
		}
		return in.xml, true, nil
	}
	if len(rd.signatures) == 0 {
		if required {
			return nil, false, reject(ErrSignatureRequired, errors.New("unsigned POST request"))
		}
		return in.xml, false, nil
	}
	el, err := verifyPostSignature(rd, sp.SigningCerts)
	if err != nil {
		return nil, false, reject(ErrBadSignature, err)
	}
	doc := etree.NewDocument()
	doc.SetRoot(el)
	b, err := doc.WriteToBytes()
	if err != nil {
		return nil, false, reject(ErrBadSignature, fmt.Errorf("serialising the verified element: %w", err))
	}
	return b, true, nil
}

// decodeRequest binds data to crewjam's AuthnRequest and checks that it
// says what the pre-checked DOM said, so that one value cannot be looked
// at by one parser and used from another (G19).
func decodeRequest(data []byte, rd *requestDoc) (*crewjam.AuthnRequest, error) {
	var req crewjam.AuthnRequest
	if err := xml.Unmarshal(data, &req); err != nil {
		return nil, fmt.Errorf("decoding the AuthnRequest: %w", err)
	}
	if req.Issuer == nil || strings.TrimSpace(req.Issuer.Value) != rd.issuer {
		return nil, errors.New("the decoded Issuer differs from the checked one")
	}
	if req.ID != rd.id || req.Version != "2.0" {
		return nil, errors.New("the decoded ID or Version differs from the checked one")
	}
	req.Signature = nil
	return &req, nil
}

// checkSemantics checks Destination, IssueInstant, the ACS and RelayState.
func (p *RequestParser) checkSemantics(out *AuthnRequest) error {
	req := out.Request
	// saml-bindings §3.4.5.2, §3.5.5.2; catalogue REQ-07.
	if req.Destination == "" && out.Signed {
		return at(StepDestination, reject(ErrDestination, errors.New("signed request without Destination")))
	}
	if req.Destination != "" && req.Destination != p.SSOURL {
		return at(StepDestination, reject(ErrDestination, fmt.Errorf("Destination %s is not the SSO URL", quote(req.Destination))))
	}
	// Catalogue REQ-08, G4: neither too old nor in the future.
	if err := p.window().check(req.IssueInstant, p.now()); err != nil {
		return at(StepIssueInstant, reject(ErrStaleRequest, err))
	}
	// SAML core §3.4.1; catalogue REQ-03/04/05.
	var index *int
	if v := req.AssertionConsumerServiceIndex; v != "" {
		n, err := strconv.ParseUint(v, 10, 16)
		if err != nil || strings.TrimSpace(v) != v || (len(v) > 1 && v[0] == '0') {
			return at(StepACS, reject(ErrACS, fmt.Errorf("AssertionConsumerServiceIndex %s is not an unsignedShort", quote(v))))
		}
		i := int(n)
		index = &i
	}
	acs, err := out.SP.ResolveACS(req.AssertionConsumerServiceURL, index, req.ProtocolBinding)
	switch {
	case errors.Is(err, metadata.ErrBindingNotSupported):
		return at(StepACS, reject(ErrUnsupportedBinding, err))
	case err != nil:
		return at(StepACS, reject(ErrACS, err))
	}
	if acs.Binding == crewjam.HTTPArtifactBinding && !p.ArtifactBinding {
		return at(StepACS, reject(ErrUnsupportedBinding, errors.New("the Response was asked for by HTTP-Artifact, which is not enabled")))
	}
	out.ACS = acs
	// saml-bindings §3.4.3: returned exactly, so refuse what cannot be.
	if out.HasRelayState {
		if err := checkRelayState(out.RelayState); err != nil {
			return &RequestError{Reason: ErrMalformedRequest, Message: msgRelayState, Err: err, Step: StepRelayState}
		}
	}
	return nil
}

// CheckRelayState applies the bridge's RelayState rules (at most 1024
// bytes of UTF-8 without control characters) to a RelayState that did not
// come through an AuthnRequest, such as the target of an unsolicited
// login.
func CheckRelayState(s string) error { return checkRelayState(s) }

// checkRelayState allows up to 1024 bytes of UTF-8 without control
// characters (catalogue REQ-19).
func checkRelayState(s string) error {
	if len(s) > maxRelayStateBytes {
		return fmt.Errorf("RelayState is %d bytes, the limit is %d", len(s), maxRelayStateBytes)
	}
	if !utf8.ValidString(s) {
		return errors.New("RelayState is not valid UTF-8")
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return errors.New("RelayState contains control characters")
	}
	return nil
}

func (p *RequestParser) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *RequestParser) maxBodyBytes() int64 {
	if p.MaxBodyBytes > 0 {
		return p.MaxBodyBytes
	}
	return DefaultMaxBodyBytes
}

func (p *RequestParser) maxInflatedBytes() int64 {
	if p.MaxInflatedBytes > 0 {
		return p.MaxInflatedBytes
	}
	return DefaultMaxInflatedBytes
}

func (p *RequestParser) logger() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// maxLoggedCause caps the cause of a rejection in the debug log.
const maxLoggedCause = 300
