package saml

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/metadata"
)

// LogoutMessage is a LogoutRequest or a LogoutResponse from an SP that
// passed every check: the binding, the XML shape, a signature by the SP
// (always required for logout: saml-profiles §4.4.3.1, §4.4.3.3), the
// Destination and the IssueInstant window. Exactly one of Request and
// Response is set, decoded from the verified bytes only.
type LogoutMessage struct {
	Binding       string
	SP            *metadata.ServiceProvider
	Request       *crewjam.LogoutRequest
	Response      *crewjam.LogoutResponse
	RelayState    string
	HasRelayState bool
}

// ID is the message's ID, for the replay check.
func (m *LogoutMessage) ID() string {
	if m.Request != nil {
		return m.Request.ID
	}
	return m.Response.ID
}

// IssueInstant is the message's IssueInstant, for the replay check.
func (m *LogoutMessage) IssueInstant() time.Time {
	if m.Request != nil {
		return m.Request.IssueInstant
	}
	return m.Response.IssueInstant
}

// ParseLogout reads a logout message sent to the bridge's SLO endpoint by
// the HTTP-Redirect (GET) or HTTP-POST binding, with the same caps,
// pre-checks and signature rules as AuthnRequests, except that the
// signature is always required. Rejections are *RequestError; they must
// be answered with a local page, since nothing proves where to answer.
func (p *RequestParser) ParseLogout(r *http.Request) (*LogoutMessage, error) {
	if p.Registry == nil || p.SLOURL == "" {
		return nil, errors.New("saml: RequestParser has no Registry or SLOURL")
	}
	in, err := p.read(r, paramRequest, paramResponse)
	if err != nil {
		return nil, at(StepBinding, err)
	}
	root := "LogoutRequest"
	if in.field == paramResponse {
		root = "LogoutResponse"
	}
	rd, err := parseMessageDoc(in.xml, root)
	if err != nil {
		return nil, at(StepXML, reject(ErrMalformedRequest, err))
	}
	sp, reason, err := lookupSP(r.Context(), p.Registry, rd.issuer)
	if reason != nil {
		return nil, at(StepIssuer, reject(reason, err))
	}
	verified, _, err := p.checkSignature(in, rd, sp, true)
	if err != nil {
		return nil, at(StepSignature, err)
	}
	out := &LogoutMessage{Binding: in.binding, SP: sp, RelayState: in.relayState, HasRelayState: in.hasRelayState}
	var destination string
	var issueInstant time.Time
	var issuer *crewjam.Issuer
	var id, version string
	if root == "LogoutRequest" {
		var req crewjam.LogoutRequest
		if err := xml.Unmarshal(verified, &req); err != nil {
			return nil, at(StepContent, reject(ErrMalformedRequest, fmt.Errorf("decoding LogoutRequest: %w", err)))
		}
		if req.NameID == nil || strings.TrimSpace(req.NameID.Value) == "" {
			return nil, at(StepContent, reject(ErrMalformedRequest, errors.New("LogoutRequest without a NameID (encrypted identifiers are not supported)")))
		}
		if req.NotOnOrAfter != nil && !p.now().Before(*req.NotOnOrAfter) {
			return nil, at(StepContent, reject(ErrStaleRequest, errors.New("LogoutRequest NotOnOrAfter has passed")))
		}
		req.Signature = nil
		out.Request = &req
		destination, issueInstant, issuer, id, version = req.Destination, req.IssueInstant, req.Issuer, req.ID, req.Version
	} else {
		var resp crewjam.LogoutResponse
		if err := xml.Unmarshal(verified, &resp); err != nil {
			return nil, at(StepContent, reject(ErrMalformedRequest, fmt.Errorf("decoding LogoutResponse: %w", err)))
		}
		resp.Signature = nil
		out.Response = &resp
		destination, issueInstant, issuer, id, version = resp.Destination, resp.IssueInstant, resp.Issuer, resp.ID, resp.Version
	}
	if issuer == nil || strings.TrimSpace(issuer.Value) != rd.issuer || id != rd.id || version != "2.0" {
		return nil, at(StepContent, reject(ErrMalformedRequest, errors.New("the decoded Issuer, ID or Version differs from the checked one")))
	}
	if destination != p.SLOURL {
		return nil, at(StepDestination, reject(ErrDestination, fmt.Errorf("Destination %s is not the SLO URL", quote(destination))))
	}
	if err := p.window().check(issueInstant, p.now()); err != nil {
		return nil, at(StepIssueInstant, reject(ErrStaleRequest, err))
	}
	if out.HasRelayState {
		if err := checkRelayState(out.RelayState); err != nil {
			return nil, &RequestError{Reason: ErrMalformedRequest, Message: msgRelayState, Err: err, Step: StepRelayState}
		}
	}
	return out, nil
}

// LogoutRequestParams describes a LogoutRequest the bridge sends to a
// session participant.
type LogoutRequestParams struct {
	// Destination is the SP's SingleLogoutService Location.
	Destination string
	NameID      NameID
	// SessionIndex is the one given to the SP in its assertion.
	SessionIndex string
	// Reason is the optional Reason attribute (a URI).
	Reason string
	// SignatureMethod and AllowSHA1 as in ResponseParams.
	SignatureMethod string
	AllowSHA1       bool
}

// LogoutResponseParams describes a LogoutResponse to an SP's LogoutRequest.
type LogoutResponseParams struct {
	// Destination is the SP's SingleLogoutService (ResponseLocation when
	// set).
	Destination  string
	InResponseTo string
	// Status is nil for Success; else the status to send.
	Status *StatusError
	// SignatureMethod and AllowSHA1 as in ResponseParams.
	SignatureMethod string
	AllowSHA1       bool
}

// LogoutReasonUser is the Reason of a logout the user asked for.
const LogoutReasonUser = "urn:oasis:names:tc:SAML:2.0:logout:user"

// BuildLogoutRequest returns an unsigned LogoutRequest element and its ID;
// Outbound signs it for the chosen binding.
func (idp *IDP) BuildLogoutRequest(p LogoutRequestParams) (*etree.Element, string, error) {
	if p.Destination == "" || p.NameID.Value == "" {
		return nil, "", errors.New("saml: LogoutRequest needs a destination and a NameID")
	}
	id, err := idp.newID()
	if err != nil {
		return nil, "", err
	}
	now := idp.now()
	notOnOrAfter := now.Add(5 * time.Minute)
	req := &crewjam.LogoutRequest{
		ID: id, Version: "2.0", IssueInstant: now, NotOnOrAfter: &notOnOrAfter,
		Destination: p.Destination,
		Issuer:      &crewjam.Issuer{Format: NameIDFormatEntity, Value: idp.EntityID},
		NameID: &crewjam.NameID{Format: p.NameID.Format, NameQualifier: p.NameID.NameQualifier,
			SPNameQualifier: p.NameID.SPNameQualifier, Value: p.NameID.Value},
	}
	if p.SessionIndex != "" {
		req.SessionIndex = &crewjam.SessionIndex{Value: p.SessionIndex}
	}
	el := req.Element()
	if p.Reason != "" {
		el.CreateAttr("Reason", p.Reason)
	}
	return el, id, nil
}

// BuildLogoutResponse returns an unsigned LogoutResponse element.
func (idp *IDP) BuildLogoutResponse(p LogoutResponseParams) (*etree.Element, error) {
	if p.Destination == "" {
		return nil, errors.New("saml: LogoutResponse needs a destination")
	}
	id, err := idp.newID()
	if err != nil {
		return nil, err
	}
	st := crewjam.Status{StatusCode: crewjam.StatusCode{Value: StatusSuccess}}
	if se := p.Status; se != nil {
		st.StatusCode.Value = se.Status
		if se.SubStatus != "" {
			st.StatusCode.StatusCode = &crewjam.StatusCode{Value: se.SubStatus}
		}
		if se.Message != "" {
			st.StatusMessage = &crewjam.StatusMessage{Value: se.Message}
		}
	}
	resp := &crewjam.LogoutResponse{
		ID: id, InResponseTo: p.InResponseTo, Version: "2.0", IssueInstant: idp.now(),
		Destination: p.Destination,
		Issuer:      &crewjam.Issuer{Format: NameIDFormatEntity, Value: idp.EntityID},
		Status:      st,
	}
	return resp.Element(), nil
}

// Outbound is a message the bridge sends through the browser: a signed
// HTTP-Redirect URL, or an HTTP-POST form with an enveloped signature.
type Outbound struct {
	// RedirectURL is set for the HTTP-Redirect binding.
	RedirectURL string
	// Form is set for the HTTP-POST binding.
	Form *PostForm
}

// Send writes o to w: a 303 redirect or the auto-POST form (rnd makes its
// CSP nonce; nil means crypto/rand).
func (o *Outbound) Send(w http.ResponseWriter, r *http.Request, rnd io.Reader) error {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	if o.Form != nil {
		return o.Form.Write(w, rnd)
	}
	http.Redirect(w, r, o.RedirectURL, http.StatusSeeOther)
	return nil
}

// Encode signs el for binding (crewjam's HTTPRedirectBinding or
// HTTPPostBinding) and addresses it to location with field
// (SAMLRequest or SAMLResponse) and the RelayState, if any.
func (idp *IDP) Encode(el *etree.Element, binding, location, field, relayState string, hasRelayState bool, method string, allowSHA1 bool) (*Outbound, error) {
	signer := idp.signer(method, allowSHA1)
	switch binding {
	case crewjam.HTTPPostBinding:
		signed, err := signer.SignEnveloped(el)
		if err != nil {
			return nil, err
		}
		doc := etree.NewDocument()
		doc.SetRoot(signed)
		b, err := doc.WriteToBytes()
		if err != nil {
			return nil, fmt.Errorf("saml: serialising %s: %w", el.Tag, err)
		}
		return &Outbound{Form: &PostForm{URL: location, Field: field, Message: b, RelayState: relayState, HasRelayState: hasRelayState}}, nil
	case crewjam.HTTPRedirectBinding:
		doc := etree.NewDocument()
		doc.SetRoot(el.Copy())
		raw, err := doc.WriteToBytes()
		if err != nil {
			return nil, fmt.Errorf("saml: serialising %s: %w", el.Tag, err)
		}
		u, err := signer.redirectURL(location, field, raw, relayState, hasRelayState)
		if err != nil {
			return nil, err
		}
		return &Outbound{RedirectURL: u}, nil
	}
	return nil, fmt.Errorf("saml: binding %s is not supported for outbound messages", quote(binding))
}

// redirectURL builds a signed HTTP-Redirect URL (saml-bindings §3.4.4.1):
// raw DEFLATE, base64, URL-encoding, and an RSA signature over
// field=…[&RelayState=…]&SigAlg=… exactly as it appears in the query.
func (s *Signer) redirectURL(location, field string, msg []byte, relayState string, hasRelayState bool) (string, error) {
	if s == nil || s.Key == nil {
		return "", errors.New("saml: signer has no key")
	}
	method := s.Method
	if method == "" {
		method = SignatureRSASHA256
	}
	hash, ok := redirectSigAlgs[method]
	if !ok && !(method == SignatureRSASHA1 && s.AllowSHA1) {
		return "", fmt.Errorf("saml: signature method %q is not allowed", method)
	}
	if method == SignatureRSASHA1 {
		hash = cryptoSHA1
	}
	var buf bytes.Buffer
	fw, err := newRawDeflater(&buf)
	if err != nil {
		return "", err
	}
	if _, err := fw.Write(msg); err != nil {
		return "", fmt.Errorf("saml: deflate: %w", err)
	}
	if err := fw.Close(); err != nil {
		return "", fmt.Errorf("saml: deflate: %w", err)
	}
	q := field + "=" + url.QueryEscape(base64.StdEncoding.EncodeToString(buf.Bytes()))
	if hasRelayState {
		q += "&RelayState=" + url.QueryEscape(relayState)
	}
	q += "&SigAlg=" + url.QueryEscape(method)
	h := hash.New()
	h.Write([]byte(q))
	if _, ok := s.Key.Public().(*rsa.PublicKey); !ok {
		return "", errors.New("saml: the signing key is not RSA")
	}
	// PKCS#1 v1.5 signing is deterministic; the reader is unused.
	sig, err := s.Key.Sign(rand.Reader, h.Sum(nil), hash)
	if err != nil {
		return "", fmt.Errorf("saml: signing the redirect: %w", err)
	}
	q += "&Signature=" + url.QueryEscape(base64.StdEncoding.EncodeToString(sig))
	sep := "?"
	if strings.Contains(location, "?") {
		sep = "&"
	}
	return location + sep + q, nil
}
