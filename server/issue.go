package server

import (
	"log/slog"
	"net/http"

	"github.com/samlbridge/samlbridge/attributes"
	"github.com/samlbridge/samlbridge/audit"
	"github.com/samlbridge/samlbridge/itsme"
	"github.com/samlbridge/samlbridge/saml"
)

// grant is a login that succeeded: what the SP asked for and who itsme
// (or the bridge's SSO session) proved the user to be.
type grant struct {
	// to is the SP and the ACS (from its metadata) to answer at.
	to           acsTarget
	requestID    string
	unsolicited  bool
	nameIDFormat string
	attributes   []string
	classRef     string
	id           *itsme.Identity
}

// issue answers a successful login: it builds the signed (and, when the SP
// has an encryption key, encrypted) Response, records the audit event,
// adds the SP to the bridge's SSO session when sessions are on, and
// delivers the Response to the metadata-validated ACS.
func (s *Server) issue(w http.ResponseWriter, r *http.Request, stage audit.Stage, g grant, sid string, sess *ssoSession, log *slog.Logger) {
	ctx := r.Context()
	sp, id := g.to.sp, g.id
	answer := func(se *saml.StatusError) { s.postError(ctx, w, log, stage, g.to, g.requestID, se) }
	classRef := g.classRef
	if classRef == "" {
		classRef = s.cfg.AuthnContexts.Default
	}
	format := g.nameIDFormat
	if format == "" {
		format = attributes.FormatPersistent
	}
	nameID, err := attributes.NameIDValue(format, s.cfg.PairwiseSecret, id.Subject, sp.EntityID, id.Claims, s.cfg.Rand)
	if err != nil {
		answer(&saml.StatusError{Status: saml.StatusResponder, SubStatus: saml.StatusInvalidNameIDPolicy,
			Message: "The requested NameID cannot be provided for this user.", Err: err})
		return
	}
	signing, err := saml.ParseSigning(sp.Signing)
	if err != nil {
		answer(&saml.StatusError{Status: saml.StatusResponder, Err: err})
		return
	}
	sessionIndex, err := randomToken(s.cfg.Rand)
	if err != nil {
		answer(&saml.StatusError{Status: saml.StatusResponder, Err: err})
		return
	}
	sessionIndex = "_" + sessionIndex
	profile, err := attributes.ParseProfile(sp.AttributeProfile)
	if err != nil {
		answer(&saml.StatusError{Status: saml.StatusResponder, Err: err})
		return
	}
	attrs := attributes.MapProfile(profile, id.Subject, id.Claims, g.attributes)
	params := saml.ResponseParams{
		SPEntityID:   sp.EntityID,
		ACSURL:       g.to.url,
		InResponseTo: g.requestID,
		Unsolicited:  g.unsolicited,
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
	resp, err := s.cfg.IDP.BuildResponse(params)
	if err != nil {
		log.Error("building the response failed", "err", err)
		answer(&saml.StatusError{Status: saml.StatusResponder, Err: err})
		return
	}
	if s.cfg.SSOSession.Enabled {
		s.saveSSOSession(w, r, sid, sess, g, participant{
			SP: sp.EntityID, NameID: nameID, NameIDFormat: format,
			NameQualifier: id.Issuer, SessionIndex: sessionIndex,
		}, log)
	}
	names := make([]string, len(attrs))
	for i, a := range attrs {
		names[i] = a.Name
	}
	log.Info("login completed", "upstream", id, "released", names, "encrypted", params.EncryptTo != nil, "from_session", stage != audit.StageCallback)
	s.record(ctx, audit.Event{Stage: stage, Outcome: audit.Success, Reason: reasonOK, SP: sp.EntityID, RequestID: g.requestID,
		Subject: audit.Pseudonym(s.auditKey, id.Issuer, id.Subject), Attributes: names, AuthnContext: classRef, Encrypted: params.EncryptTo != nil})
	s.deliverResponse(ctx, w, g.to, resp, log)
}
