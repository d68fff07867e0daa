package saml

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/metadata"
)

// The HTTP-Artifact binding (saml-bindings §3.6) and the artifact
// resolution protocol (saml-core §3.5) over the SOAP binding
// (saml-bindings §3.2): the bridge sends an SP a short reference to its
// Response through the browser, and the SP fetches the Response itself
// with a signed ArtifactResolve.

// ArtifactTypeCode is the type of the artifacts the bridge issues, the
// only one SAML 2.0 defines (saml-bindings §3.6.4).
const ArtifactTypeCode = 0x0004

// DefaultMaxArtifactResolveBytes caps an ArtifactResolve SOAP request. A
// signed one with its certificate is about 4 KiB.
const DefaultMaxArtifactResolveBytes = 64 << 10

// SOAP 1.1 (the SAML SOAP binding, saml-bindings §3.2.2).
const (
	nsSOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
	// SOAP 1.1 fault codes (SOAP 1.1 §4.4.1).
	FaultClient          = "Client"
	FaultServer          = "Server"
	FaultVersionMismatch = "VersionMismatch"
	FaultMustUnderstand  = "MustUnderstand"
)

// artifactLen is the length of a type 0x0004 artifact: TypeCode (2),
// EndpointIndex (2), SourceID (20), MessageHandle (20).
const artifactLen = 44

// Artifact is a type 0x0004 SAML artifact (saml-bindings §3.6.4.2).
type Artifact struct {
	// EndpointIndex is the index of the issuer's ArtifactResolutionService
	// that resolves it.
	EndpointIndex uint16
	// SourceID is the SHA-1 hash of the issuer's entity ID.
	SourceID [20]byte
	// MessageHandle is 20 random bytes naming the message.
	MessageHandle [20]byte
}

// ArtifactSourceID is the SourceID of the artifacts entityID issues: the
// SHA-1 hash of the entity ID, as saml-bindings §3.6.4.2 prescribes (it is
// an identifier, not a security measure: the handle is the secret).
func ArtifactSourceID(entityID string) [20]byte { return sha1.Sum([]byte(entityID)) }

// NewArtifact returns a fresh artifact of entityID, resolved at its
// ArtifactResolutionService endpointIndex, with a MessageHandle of 20
// bytes read from rnd.
func NewArtifact(entityID string, endpointIndex uint16, rnd io.Reader) (Artifact, error) {
	a := Artifact{EndpointIndex: endpointIndex, SourceID: ArtifactSourceID(entityID)}
	if _, err := io.ReadFull(rnd, a.MessageHandle[:]); err != nil {
		return Artifact{}, fmt.Errorf("saml: artifact message handle: %w", err)
	}
	return a, nil
}

// String returns the artifact as sent in SAMLart: base64 of its 44 bytes.
func (a Artifact) String() string {
	b := make([]byte, 4, artifactLen)
	binary.BigEndian.PutUint16(b, ArtifactTypeCode)
	binary.BigEndian.PutUint16(b[2:], a.EndpointIndex)
	b = append(b, a.SourceID[:]...)
	b = append(b, a.MessageHandle[:]...)
	return base64.StdEncoding.EncodeToString(b)
}

// ParseArtifact decodes a type 0x0004 artifact. Surrounding whitespace is
// ignored; anything else than padded standard base64 of exactly 44 bytes
// with type code 0x0004 is an error.
func ParseArtifact(s string) (Artifact, error) {
	s = strings.TrimSpace(s)
	if len(s) != base64.StdEncoding.EncodedLen(artifactLen) {
		return Artifact{}, fmt.Errorf("saml: an artifact is %d base64 characters, not %d", base64.StdEncoding.EncodedLen(artifactLen), len(s))
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != artifactLen {
		return Artifact{}, errors.New("saml: the artifact is not base64 of 44 bytes")
	}
	if tc := binary.BigEndian.Uint16(b); tc != ArtifactTypeCode {
		return Artifact{}, fmt.Errorf("saml: artifact type code 0x%04x, want 0x0004", tc)
	}
	var a Artifact
	a.EndpointIndex = binary.BigEndian.Uint16(b[2:])
	copy(a.SourceID[:], b[4:24])
	copy(a.MessageHandle[:], b[24:])
	return a, nil
}

// ArtifactResolveParser reads and validates ArtifactResolve requests sent
// to the bridge's ArtifactResolutionService by the SOAP binding. Its
// fields must not change after first use; it is safe for concurrent use.
type ArtifactResolveParser struct {
	// Registry finds the SP named by the Issuer. Required.
	Registry metadata.Registry
	// URL is the bridge's configured (external) artifact resolution
	// endpoint; a Destination must equal it. Required.
	URL string
	// MaxClockSkew and MaxRequestAge bound IssueInstant as for
	// AuthnRequests (defaults DefaultMaxClockSkew, DefaultMaxRequestAge).
	MaxClockSkew  time.Duration
	MaxRequestAge time.Duration
	// MaxBodyBytes caps the request (default
	// DefaultMaxArtifactResolveBytes).
	MaxBodyBytes int64
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// ArtifactResolve is an ArtifactResolve that passed every check.
type ArtifactResolve struct {
	// ID is the request's ID, to check for replay and to answer to.
	ID           string
	IssueInstant time.Time
	// SP is the registered SP named by the Issuer, whose metadata key
	// verified the signature.
	SP *metadata.ServiceProvider
	// Artifact is the Artifact element's text, unchecked: an artifact
	// the bridge does not know gets an empty response, not an error.
	Artifact string
}

// ArtifactResolveError is a refused ArtifactResolve. Reason is one of the
// request sentinel errors (ErrMalformedRequest, ErrRequestTooLarge,
// ErrUnknownSP, ErrSignatureRequired, ErrBadSignature, ErrDestination,
// ErrStaleRequest, ErrRegistryUnavailable).
//
// When InResponseTo is empty the message could not be read as a SAML
// ArtifactResolve and is answered with a SOAP fault of FaultCode
// (saml-bindings §3.2.3.3); otherwise it is answered with an
// ArtifactResponse carrying Status and no message.
type ArtifactResolveError struct {
	Reason       error
	InResponseTo string
	// SP is the SP named by the Issuer, when it is registered (its
	// signature method is used for the answer).
	SP        *metadata.ServiceProvider
	FaultCode string
	Status    *StatusError
	// Err is the detailed cause, for logs.
	Err error
}

// Error returns the reason and the cause.
func (e *ArtifactResolveError) Error() string {
	s := "saml: ArtifactResolve refused: " + e.Reason.Error()
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns Reason.
func (e *ArtifactResolveError) Unwrap() error { return e.Reason }

// soapFault is an ArtifactResolveError answered with a SOAP fault.
func soapFault(code string, reason, cause error) *ArtifactResolveError {
	return &ArtifactResolveError{Reason: reason, FaultCode: code, Err: cause}
}

// MaxAge returns how long after its IssueInstant a request may still be
// accepted: a replay cache entry for its ID must live at least this long.
func (p *ArtifactResolveParser) MaxAge() time.Duration { return p.window().maxAge() }

// ReplayDeadline is until when the replay marker of a request p accepted
// with this IssueInstant must be kept: past the last moment p would accept
// it again (catalogue REQ-09).
func (p *ArtifactResolveParser) ReplayDeadline(issueInstant time.Time) time.Time {
	return p.window().replayDeadline(issueInstant)
}

// window is the IssueInstant window of p's requests.
func (p *ArtifactResolveParser) window() issueWindow {
	return issueWindow{skew: p.MaxClockSkew, age: p.MaxRequestAge}
}

// Parse validates a SOAP ArtifactResolve, in this order: content type and
// size cap; XML pre-checks on the raw bytes; the SOAP 1.1 envelope (one
// Body holding one element, no header the bridge must understand); the
// SAML shape of the ArtifactResolve; the SP by its Issuer; the signature,
// always required and checked as for POST AuthnRequests (one enveloped
// signature over the root, RSA-SHA256 or stronger, with a signing key
// from the SP's metadata); then Destination and IssueInstant. Every value
// is read from the element the signature covers.
//
// Every rejection is an *ArtifactResolveError. Replay of ID is for the
// caller to check.
func (p *ArtifactResolveParser) Parse(r *http.Request) (*ArtifactResolve, error) {
	if p.Registry == nil || p.URL == "" {
		return nil, errors.New("saml: ArtifactResolveParser needs a Registry and a URL")
	}
	// SOAP 1.1 is text/xml; pysaml2 sends it as application/soap+xml.
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "text/xml" && mt != "application/soap+xml") {
		return nil, soapFault(FaultClient, ErrMalformedRequest, fmt.Errorf("content type %s", quote(r.Header.Get("Content-Type"))))
	}
	if r.Body == nil {
		return nil, soapFault(FaultClient, ErrMalformedRequest, errors.New("no body"))
	}
	max := p.MaxBodyBytes
	if max <= 0 {
		max = DefaultMaxArtifactResolveBytes
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, max))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, soapFault(FaultClient, ErrRequestTooLarge, fmt.Errorf("body larger than %d bytes", max))
		}
		return nil, soapFault(FaultClient, ErrMalformedRequest, errors.New("reading the body failed"))
	}
	msg, code, err := soapBodyMessage(body)
	if err != nil {
		return nil, soapFault(code, ErrMalformedRequest, err)
	}
	rd, err := parseMessageDoc(msg, "ArtifactResolve")
	if err != nil {
		return nil, soapFault(FaultClient, ErrMalformedRequest, err)
	}

	// From here on the request has an ID to answer to.
	refuse := func(reason error, sp *metadata.ServiceProvider, cause error) *ArtifactResolveError {
		st := &StatusError{Status: StatusRequester, SubStatus: StatusRequestDenied, Message: "The ArtifactResolve was refused."}
		switch reason {
		case ErrRegistryUnavailable:
			st = &StatusError{Status: StatusResponder, Message: "The identity provider cannot check the requester right now."}
		case ErrMalformedRequest:
			st = &StatusError{Status: StatusRequester, Message: "The ArtifactResolve is malformed."}
		}
		return &ArtifactResolveError{Reason: reason, InResponseTo: rd.id, SP: sp, Status: st, Err: cause}
	}
	sp, reason, err := lookupSP(r.Context(), p.Registry, rd.issuer)
	if reason != nil {
		return nil, refuse(reason, nil, err)
	}
	// saml-core §3.5.1 says SHOULD; the bridge requires it: the signature
	// is what proves the SP is the one the artifact was issued to.
	if len(rd.signatures) == 0 {
		return nil, refuse(ErrSignatureRequired, sp, errors.New("unsigned ArtifactResolve"))
	}
	verified, err := verifyPostSignature(rd, sp.SigningCerts)
	if err != nil {
		return nil, refuse(ErrBadSignature, sp, err)
	}
	out, err := decodeArtifactResolve(verified, rd)
	if err != nil {
		return nil, refuse(ErrMalformedRequest, sp, err)
	}
	out.SP = sp
	// saml-core §3.2.1; saml-bindings §3.2.3.1 has no Destination rule of
	// its own, so when present it must name this endpoint.
	if d, ok := plainAttr(verified, "Destination"); ok && d != p.URL {
		return nil, refuse(ErrDestination, sp, fmt.Errorf("Destination %s is not the artifact resolution URL", quote(d)))
	}
	now := time.Now()
	if p.Now != nil {
		now = p.Now()
	}
	if err := p.window().check(out.IssueInstant, now); err != nil {
		return nil, refuse(ErrStaleRequest, sp, err)
	}
	return out, nil
}

// soapBodyMessage checks data as a SOAP 1.1 envelope and returns the one
// element of its Body as a document of its own, with the namespace
// declarations it inherits from the envelope copied onto it (exclusive
// c14n renders the same bytes either way, so a signature still verifies).
// On error it also returns the SOAP fault code to answer with.
func soapBodyMessage(data []byte) ([]byte, string, error) {
	if err := precheckXML(data); err != nil {
		return nil, FaultClient, err
	}
	doc := etree.NewDocument()
	doc.ReadSettings.PreserveCData = true
	doc.ReadSettings.MaxDepth = maxXMLDepth + 1
	if err := doc.ReadFromBytes(data); err != nil {
		return nil, FaultClient, fmt.Errorf("parsing XML: %w", err)
	}
	env := doc.Root()
	if env == nil || env.Tag != "Envelope" {
		return nil, FaultClient, errors.New("the root element is not a SOAP Envelope")
	}
	if env.NamespaceURI() != nsSOAP11 {
		return nil, FaultVersionMismatch, fmt.Errorf("envelope namespace %s, want SOAP 1.1", quote(env.NamespaceURI()))
	}
	var body *etree.Element
	for i, c := range env.ChildElements() {
		switch {
		case c.NamespaceURI() == nsSOAP11 && c.Tag == "Header" && i == 0:
			for _, h := range c.ChildElements() {
				for _, a := range h.Attr {
					if a.Key == "mustUnderstand" && a.NamespaceURI() == nsSOAP11 && (a.Value == "1" || a.Value == "true") {
						return nil, FaultMustUnderstand, fmt.Errorf("header %s must be understood", quote(h.Tag))
					}
				}
			}
		case c.NamespaceURI() == nsSOAP11 && c.Tag == "Body" && body == nil:
			body = c
		default:
			return nil, FaultClient, fmt.Errorf("unexpected element %s in the SOAP envelope", quote(c.Tag))
		}
	}
	if body == nil {
		return nil, FaultClient, errors.New("no SOAP Body")
	}
	kids := body.ChildElements()
	if len(kids) != 1 {
		return nil, FaultClient, fmt.Errorf("%d elements in the SOAP Body, want one", len(kids))
	}
	msg := kids[0].Copy()
	declared := map[string]bool{}
	for _, a := range msg.Attr {
		switch {
		case a.Space == "xmlns":
			declared[a.Key] = true
		case a.Space == "" && a.Key == "xmlns":
			declared[""] = true
		}
	}
	for p := kids[0].Parent(); p != nil; p = p.Parent() {
		for _, a := range p.Attr {
			switch {
			case a.Space == "xmlns" && !declared[a.Key]:
				msg.CreateAttr("xmlns:"+a.Key, a.Value)
				declared[a.Key] = true
			case a.Space == "" && a.Key == "xmlns" && !declared[""]:
				msg.CreateAttr("xmlns", a.Value)
				declared[""] = true
			}
		}
	}
	out := etree.NewDocument()
	out.SetRoot(msg)
	b, err := out.WriteToBytes()
	if err != nil {
		return nil, FaultClient, fmt.Errorf("serialising the SOAP Body: %w", err)
	}
	return b, "", nil
}

// decodeArtifactResolve reads the verified ArtifactResolve: Issuer (as
// checked before), an optional Extensions, and exactly one Artifact of
// plain text, nothing else.
func decodeArtifactResolve(el *etree.Element, rd *requestDoc) (*ArtifactResolve, error) {
	if id, _ := plainAttr(el, "ID"); id != rd.id {
		return nil, errors.New("the verified ID differs from the checked one")
	}
	var ii crewjam.RelaxedTime
	v, _ := plainAttr(el, "IssueInstant")
	if err := ii.UnmarshalText([]byte(v)); err != nil {
		return nil, fmt.Errorf("IssueInstant %s is not a dateTime", quote(v))
	}
	out := &ArtifactResolve{ID: rd.id, IssueInstant: time.Time(ii)}
	artifacts := 0
	for i, c := range el.ChildElements() {
		switch {
		case i == 0 && c.Tag == "Issuer" && c.NamespaceURI() == nsAssertion:
			if strings.TrimSpace(c.Text()) != rd.issuer {
				return nil, errors.New("the verified Issuer differs from the checked one")
			}
		case i == 1 && c.Tag == "Signature" && c.NamespaceURI() == nsDSig:
			// The verified signature itself, if the transform kept it.
		case c.Tag == "Extensions" && c.NamespaceURI() == nsProtocol && artifacts == 0:
		case c.Tag == "Artifact" && c.NamespaceURI() == nsProtocol:
			artifacts++
			for _, tok := range c.Child {
				if cd, ok := tok.(*etree.CharData); !ok || cd.IsCData() {
					return nil, errors.New("the Artifact element holds more than text")
				}
			}
			out.Artifact = strings.TrimSpace(c.Text())
		default:
			return nil, fmt.Errorf("unexpected element %s in the ArtifactResolve", quote(c.Tag))
		}
	}
	if artifacts != 1 {
		return nil, fmt.Errorf("%d Artifact elements, want one", artifacts)
	}
	return out, nil
}

// ArtifactResponseParams describes one ArtifactResponse (saml-core
// §3.5.2).
type ArtifactResponseParams struct {
	// InResponseTo is the ArtifactResolve's ID.
	InResponseTo string
	// Status is nil for Success.
	Status *StatusError
	// Message is the serialised SAML message the artifact stands for, nil
	// for an empty response: saml-core §3.5.3 answers an artifact that is
	// unknown, used, expired or not the requester's with Success and no
	// message.
	Message []byte
	// SignatureMethod and AllowSHA1 as in ResponseParams.
	SignatureMethod string
	AllowSHA1       bool
}

// BuildArtifactResponse returns a SOAP 1.1 envelope holding a signed
// ArtifactResponse for p (saml-bindings §3.2.3.2).
func (idp *IDP) BuildArtifactResponse(p ArtifactResponseParams) ([]byte, error) {
	if p.InResponseTo == "" {
		return nil, errors.New("saml: an ArtifactResponse needs InResponseTo")
	}
	id, err := idp.newID()
	if err != nil {
		return nil, err
	}
	el := etree.NewElement("samlp:ArtifactResponse")
	el.CreateAttr("xmlns:samlp", nsProtocol)
	el.CreateAttr("xmlns:saml", nsAssertion)
	el.CreateAttr("ID", id)
	el.CreateAttr("InResponseTo", p.InResponseTo)
	el.CreateAttr("Version", "2.0")
	el.CreateAttr("IssueInstant", idp.now().Format("2006-01-02T15:04:05.999Z07:00"))
	iss := el.CreateElement("saml:Issuer")
	iss.CreateAttr("Format", NameIDFormatEntity)
	iss.SetText(idp.EntityID)
	st := &crewjam.Status{StatusCode: crewjam.StatusCode{Value: StatusSuccess}}
	if p.Status != nil {
		top := p.Status.Status
		if top != StatusRequester && top != StatusResponder {
			top = StatusResponder
		}
		st.StatusCode.Value = top
		if p.Status.SubStatus != "" {
			st.StatusCode.StatusCode = &crewjam.StatusCode{Value: p.Status.SubStatus}
		}
		if p.Status.Message != "" {
			st.StatusMessage = &crewjam.StatusMessage{Value: p.Status.Message}
		}
	}
	el.AddChild(st.Element())
	if p.Message != nil {
		if p.Status != nil {
			return nil, errors.New("saml: an ArtifactResponse with an error status carries no message")
		}
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(p.Message); err != nil || doc.Root() == nil {
			return nil, fmt.Errorf("saml: the artifact's message is not XML: %v", err)
		}
		el.AddChild(doc.Root())
	}
	signed, err := idp.signer(p.SignatureMethod, p.AllowSHA1).SignEnveloped(el)
	if err != nil {
		return nil, err
	}
	return soapEnvelope(signed)
}

// SOAPFault returns a SOAP 1.1 envelope with a fault of code (FaultClient,
// FaultServer, FaultVersionMismatch or FaultMustUnderstand) and message,
// which must not carry anything from the request. It is sent with HTTP
// status 500 (SOAP 1.1 §6.2).
func SOAPFault(code, message string) []byte {
	fault := etree.NewElement("SOAP-ENV:Fault")
	fault.CreateElement("faultcode").SetText("SOAP-ENV:" + code)
	fault.CreateElement("faultstring").SetText(message)
	b, err := soapEnvelope(fault)
	if err != nil { // etree does not fail writing to memory
		return []byte(`<SOAP-ENV:Envelope xmlns:SOAP-ENV="` + nsSOAP11 + `"><SOAP-ENV:Body><SOAP-ENV:Fault><faultcode>SOAP-ENV:Server</faultcode><faultstring>error</faultstring></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>`)
	}
	return b
}

// soapEnvelope wraps el in a SOAP 1.1 envelope and serialises it.
func soapEnvelope(el *etree.Element) ([]byte, error) {
	env := etree.NewElement("SOAP-ENV:Envelope")
	env.CreateAttr("xmlns:SOAP-ENV", nsSOAP11)
	env.CreateElement("SOAP-ENV:Body").AddChild(el)
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	doc.SetRoot(env)
	b, err := doc.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("saml: serialising the SOAP envelope: %w", err)
	}
	return b, nil
}
