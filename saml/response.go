package saml

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"
)

// Name identifier formats (saml-core §8.3).
const (
	NameIDFormatPersistent  = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
	NameIDFormatTransient   = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
	NameIDFormatEmail       = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
	NameIDFormatUnspecified = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified"
	NameIDFormatEntity      = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
)

// AuthnContextSmartcardPKI is the bridge's default AuthnContextClassRef.
const AuthnContextSmartcardPKI = "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI"

const bearer = "urn:oasis:names:tc:SAML:2.0:cm:bearer"

// IDP builds the bridge's signed SAML Responses.
type IDP struct {
	// EntityID is the bridge's SAML entity ID, used as Issuer.
	EntityID string
	// Signer signs assertions and responses.
	Signer *Signer
	// AssertionLifetime bounds NotOnOrAfter after issuance (default 5 min).
	AssertionLifetime time.Duration
	// NotBeforeSkew is how far before issuance NotBefore lies, to absorb
	// SP clock skew (default 30 s).
	NotBeforeSkew time.Duration
	// Now and Rand default to time.Now and crypto/rand.
	Now  func() time.Time
	Rand io.Reader
}

// NameID is the subject identifier to put in the assertion.
type NameID struct {
	Value           string
	Format          string
	NameQualifier   string
	SPNameQualifier string
}

// ResponseParams describes one successful answer to an SP.
type ResponseParams struct {
	// SPEntityID is the audience.
	SPEntityID string
	// ACSURL is the metadata-validated ACS: Destination and Recipient.
	ACSURL string
	// InResponseTo is the AuthnRequest ID.
	InResponseTo string
	NameID       NameID
	Attributes   []crewjam.Attribute
	// AuthnContextClassRef and AuthenticatingAuthority go into the
	// AuthnStatement.
	AuthnContextClassRef    string
	AuthenticatingAuthority string
	// AuthnInstant is when itsme authenticated the user (zero: now).
	AuthnInstant time.Time
	// Signing says what is signed: the assertion (default), the
	// Response, or both.
	Signing Signing
	// SignatureMethod is the signature method URI (empty: the Signer's,
	// RSA-SHA256 by default); AllowSHA1 permits RSA-SHA1 for a legacy SP.
	SignatureMethod string
	AllowSHA1       bool
	// SessionIndex is the AuthnStatement's SessionIndex; empty means a
	// fresh random one.
	SessionIndex string
	// Unsolicited leaves InResponseTo out (IdP-initiated SSO).
	Unsolicited bool
	// EncryptTo, when set, encrypts the signed assertion to this
	// certificate with EncryptionCipher (see ChooseCipher).
	EncryptTo        *x509.Certificate
	EncryptionCipher string
}

// ErrorParams describes a non-success answer to an SP.
type ErrorParams struct {
	SPEntityID   string
	ACSURL       string
	InResponseTo string
	Status       *StatusError
	// SignatureMethod and AllowSHA1 as in ResponseParams.
	SignatureMethod string
	AllowSHA1       bool
}

func (idp *IDP) now() time.Time {
	if idp.Now != nil {
		return idp.Now().UTC()
	}
	return time.Now().UTC()
}

func (idp *IDP) newID() (string, error) {
	r := idp.Rand
	if r == nil {
		r = rand.Reader
	}
	b := make([]byte, 20)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("saml: random ID: %w", err)
	}
	return "_" + hex.EncodeToString(b), nil
}

func (idp *IDP) issuer() crewjam.Issuer {
	return crewjam.Issuer{Format: NameIDFormatEntity, Value: idp.EntityID}
}

// BuildResponse returns the serialised, signed Response for p. All times
// are computed now, at issuance, not when the AuthnRequest arrived
// (security catalogue G7, RESP-02).
func (idp *IDP) BuildResponse(p ResponseParams) ([]byte, error) {
	if p.ACSURL == "" || p.SPEntityID == "" || p.NameID.Value == "" {
		return nil, errors.New("saml: response needs an ACS URL, an audience and a NameID")
	}
	if p.Signing < SignAssertion || p.Signing > SignBoth {
		return nil, fmt.Errorf("saml: unknown signing choice %d", p.Signing)
	}
	if p.InResponseTo == "" && !p.Unsolicited {
		return nil, errors.New("saml: a solicited response needs InResponseTo")
	}
	signer := idp.signer(p.SignatureMethod, p.AllowSHA1)
	now := idp.now()
	lifetime := idp.AssertionLifetime
	if lifetime <= 0 {
		lifetime = 5 * time.Minute
	}
	skew := idp.NotBeforeSkew
	if skew <= 0 {
		skew = 30 * time.Second
	}
	assertionID, err := idp.newID()
	if err != nil {
		return nil, err
	}
	sessionIndex := p.SessionIndex
	if sessionIndex == "" {
		if sessionIndex, err = idp.newID(); err != nil {
			return nil, err
		}
	}
	authnInstant := p.AuthnInstant
	if authnInstant.IsZero() || authnInstant.After(now) {
		authnInstant = now
	}
	classRef := p.AuthnContextClassRef
	if classRef == "" {
		classRef = AuthnContextSmartcardPKI
	}
	a := &crewjam.Assertion{
		ID:           assertionID,
		IssueInstant: now,
		Version:      "2.0",
		Issuer:       idp.issuer(),
		Subject: &crewjam.Subject{
			NameID: &crewjam.NameID{
				Format:          p.NameID.Format,
				NameQualifier:   p.NameID.NameQualifier,
				SPNameQualifier: p.NameID.SPNameQualifier,
				Value:           p.NameID.Value,
			},
			SubjectConfirmations: []crewjam.SubjectConfirmation{{
				Method: bearer,
				SubjectConfirmationData: &crewjam.SubjectConfirmationData{
					InResponseTo: p.InResponseTo,
					NotOnOrAfter: now.Add(lifetime),
					Recipient:    p.ACSURL,
				},
			}},
		},
		Conditions: &crewjam.Conditions{
			NotBefore:    now.Add(-skew),
			NotOnOrAfter: now.Add(lifetime),
			AudienceRestrictions: []crewjam.AudienceRestriction{{
				Audience: crewjam.Audience{Value: p.SPEntityID},
			}},
		},
		AuthnStatements: []crewjam.AuthnStatement{{
			AuthnInstant: authnInstant,
			SessionIndex: sessionIndex,
			AuthnContext: crewjam.AuthnContext{
				AuthnContextClassRef: &crewjam.AuthnContextClassRef{Value: classRef},
			},
		}},
	}
	if len(p.Attributes) > 0 {
		a.AttributeStatements = []crewjam.AttributeStatement{{Attributes: p.Attributes}}
	}
	el, err := assertionElement(a)
	if err != nil {
		return nil, err
	}
	if p.AuthenticatingAuthority != "" {
		ctxEl := el.FindElement("./AuthnStatement/AuthnContext")
		if ctxEl == nil {
			return nil, errors.New("saml: assertion has no AuthnContext")
		}
		aa := ctxEl.CreateElement("saml:AuthenticatingAuthority")
		aa.SetText(p.AuthenticatingAuthority)
	}
	signed := el
	if p.Signing != SignResponse {
		if signed, err = signer.SignEnveloped(el); err != nil {
			return nil, err
		}
	}
	var payload = signed
	if p.EncryptTo != nil {
		payload, err = EncryptAssertion(signed, p.EncryptTo, p.EncryptionCipher)
		if err != nil {
			return nil, err
		}
	}
	var sign *Signer
	if p.Signing != SignAssertion {
		sign = signer
	}
	return idp.response(now, p.ACSURL, p.InResponseTo, &crewjam.Status{
		StatusCode: crewjam.StatusCode{Value: StatusSuccess},
	}, payload, sign)
}

// BuildErrorResponse returns a signed Response carrying a non-success
// status and no assertion (security catalogue RESP-08).
func (idp *IDP) BuildErrorResponse(p ErrorParams) ([]byte, error) {
	if p.ACSURL == "" || p.Status == nil {
		return nil, errors.New("saml: error response needs an ACS URL and a status")
	}
	top := p.Status.Status
	if top != StatusRequester && top != StatusResponder {
		top = StatusResponder
	}
	st := &crewjam.Status{StatusCode: crewjam.StatusCode{Value: top}}
	if p.Status.SubStatus != "" {
		st.StatusCode.StatusCode = &crewjam.StatusCode{Value: p.Status.SubStatus}
	}
	if p.Status.Message != "" {
		st.StatusMessage = &crewjam.StatusMessage{Value: p.Status.Message}
	}
	return idp.response(idp.now(), p.ACSURL, p.InResponseTo, st, nil, idp.signer(p.SignatureMethod, p.AllowSHA1))
}

// signer is the IdP's signer with a per-SP signature method.
func (idp *IDP) signer(method string, allowSHA1 bool) *Signer {
	if method == "" && !allowSHA1 {
		return idp.Signer
	}
	return idp.Signer.WithMethod(method, allowSHA1)
}

// response wraps assertion (nil for none) in a Response, signed by sign
// when it is not nil.
func (idp *IDP) response(now time.Time, acs, inResponseTo string, st *crewjam.Status, assertion *etree.Element, sign *Signer) ([]byte, error) {
	id, err := idp.newID()
	if err != nil {
		return nil, err
	}
	r := &crewjam.Response{
		ID:           id,
		InResponseTo: inResponseTo,
		Version:      "2.0",
		IssueInstant: now,
		Destination:  acs,
		Issuer:       &crewjam.Issuer{Format: NameIDFormatEntity, Value: idp.EntityID},
		Status:       *st,
	}
	el := r.Element()
	if assertion != nil {
		el.AddChild(assertion)
	}
	if sign != nil {
		if el, err = sign.SignEnveloped(el); err != nil {
			return nil, err
		}
	}
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	doc.SetRoot(el)
	out, err := doc.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("saml: serialising response: %w", err)
	}
	return out, nil
}

// assertionElement renders a through crewjam/saml, turning its panic on a
// canonicalisation failure into an error.
func assertionElement(a *crewjam.Assertion) (el *etree.Element, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("saml: rendering assertion: %v", r)
		}
	}()
	return a.Element(), nil
}
