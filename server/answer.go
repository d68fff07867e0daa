package server

import (
	"io"

	"github.com/samlbridge/samlbridge/attributes"
	"github.com/samlbridge/samlbridge/itsme"
	"github.com/samlbridge/samlbridge/metadata"
	"github.com/samlbridge/samlbridge/saml"
)

// Responder builds the bridge's successful Responses. The Server answers
// every login with one; "samlbridge mint" uses one over the same
// configuration, so that a minted Response is exactly what the bridge
// would send for that login.
type Responder struct {
	// IDP signs (and encrypts) the Response.
	IDP *saml.IDP
	// PairwiseSecret keys the pairwise NameID.
	PairwiseSecret []byte
	// DefaultClassRef is asserted when the login decided no class.
	DefaultClassRef string
	// Rand draws transient NameIDs and the SessionIndex.
	Rand io.Reader
}

// Success is one successful login to answer.
type Success struct {
	// SP is the SP answered; the assertion is encrypted to its first
	// encryption certificate when it has one.
	SP *metadata.ServiceProvider
	// ACSURL is the metadata-validated ACS.
	ACSURL string
	// RequestID is the AuthnRequest's ID; empty when Unsolicited.
	RequestID   string
	Unsolicited bool
	// NameIDFormat is the format the login chose (empty: persistent).
	NameIDFormat string
	// Attributes are the contract names released to the SP.
	Attributes []string
	// ClassRef is the AuthnContextClassRef the login chose (empty: the
	// Responder's default).
	ClassRef string
	// Identity is who itsme proved the user to be.
	Identity *itsme.Identity
}

// Answer is a built Response and what it holds, for the audit event and
// the SSO session.
type Answer struct {
	// Response is the serialised, signed Response.
	Response []byte
	// NameID and NameIDFormat are the subject's identifier.
	NameID, NameIDFormat string
	// SessionIndex is the AuthnStatement's SessionIndex.
	SessionIndex string
	// Released are the names of the attributes in the assertion.
	Released []string
	// Encrypted reports whether the assertion is encrypted.
	Encrypted bool
}

// Build builds the Response for g. A failure is the SAML status to answer
// the SP with.
func (rs Responder) Build(g Success) (*Answer, *saml.StatusError) {
	sp, id := g.SP, g.Identity
	classRef := g.ClassRef
	if classRef == "" {
		classRef = rs.DefaultClassRef
	}
	format := g.NameIDFormat
	if format == "" {
		format = attributes.FormatPersistent
	}
	nameID, err := attributes.NameIDValue(format, rs.PairwiseSecret, id.Subject, sp.EntityID, id.Claims, rs.Rand)
	if err != nil {
		return nil, &saml.StatusError{Status: saml.StatusResponder, SubStatus: saml.StatusInvalidNameIDPolicy,
			Message: "The requested NameID cannot be provided for this user.", Err: err}
	}
	signing, err := saml.ParseSigning(sp.Signing)
	if err != nil {
		return nil, &saml.StatusError{Status: saml.StatusResponder, Err: err}
	}
	sessionIndex, err := randomToken(rs.Rand)
	if err != nil {
		return nil, &saml.StatusError{Status: saml.StatusResponder, Err: err}
	}
	sessionIndex = "_" + sessionIndex
	profile, err := attributes.ParseProfile(sp.AttributeProfile)
	if err != nil {
		return nil, &saml.StatusError{Status: saml.StatusResponder, Err: err}
	}
	attrs := attributes.MapProfile(profile, id.Subject, id.Claims, g.Attributes)
	params := saml.ResponseParams{
		SPEntityID:   sp.EntityID,
		ACSURL:       g.ACSURL,
		InResponseTo: g.RequestID,
		Unsolicited:  g.Unsolicited,
		NameID: saml.NameID{
			Value:           nameID,
			Format:          format,
			NameQualifier:   id.Issuer,
			SPNameQualifier: sp.EntityID,
		},
		Attributes:              attrs,
		AuthnContextClassRef:    classRef,
		AuthenticatingAuthority: id.Issuer,
		AuthnInstant:            id.AuthTime,
		Signing:                 signing,
		SignatureMethod:         sp.SignatureAlgorithm,
		AllowSHA1:               sp.LegacySHA1,
		SessionIndex:            sessionIndex,
	}
	if len(sp.EncryptionCerts) > 0 {
		params.EncryptTo = sp.EncryptionCerts[0]
		params.EncryptionCipher = saml.ChooseCipher(sp.EncryptionMethods)
	}
	resp, err := rs.IDP.BuildResponse(params)
	if err != nil {
		return nil, &saml.StatusError{Status: saml.StatusResponder, Err: err}
	}
	names := make([]string, len(attrs))
	for i, a := range attrs {
		names[i] = a.Name
	}
	return &Answer{Response: resp, NameID: nameID, NameIDFormat: format, SessionIndex: sessionIndex,
		Released: names, Encrypted: params.EncryptTo != nil}, nil
}
