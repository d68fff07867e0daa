package server

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	crewjam "github.com/crewjam/saml"
	"github.com/samlbridge/samlbridge/internal/i18n"
	"github.com/samlbridge/samlbridge/internal/logtext"

	"github.com/samlbridge/samlbridge/metadata"
	"github.com/samlbridge/samlbridge/saml"
	"github.com/samlbridge/samlbridge/session"
)

// DefaultArtifactLifetime is how long an issued artifact can be resolved.
// It is the default of OpenSAML's artifact map, which the Shibboleth IdP
// uses: the SP resolves the artifact as soon as the browser arrives, a
// second or two after it was issued, so a minute absorbs slow networks and
// clock steps while keeping a leaked artifact (in a log, a Referer or the
// history) useless soon.
const DefaultArtifactLifetime = time.Minute

// artifactEndpointIndex is the index of the bridge's one
// ArtifactResolutionService, which every artifact it issues names.
const artifactEndpointIndex = 0

// artifactKeyPrefix names artifact records in the session store.
const artifactKeyPrefix = "artifact|"

// ArtifactBinding configures delivery of Responses by the HTTP-Artifact
// binding (saml-bindings §3.6) and the SOAP ArtifactResolve endpoint at
// PathArtifactResolve that SPs fetch them from (saml-core §3.5). It is off
// by default.
type ArtifactBinding struct {
	// Enabled turns the binding on. The IdP metadata must then publish
	// ExternalURL+PathArtifactResolve as ArtifactResolutionService index 0
	// (metadata.IDPConfig.ArtifactResolutionURL), and must not otherwise.
	Enabled bool
	// Lifetime bounds how long an artifact can be resolved (default
	// DefaultArtifactLifetime).
	Lifetime time.Duration
}

// artifactBinding returns the artifact configuration in effect. New
// refuses a configuration whose IdP metadata does not advertise exactly
// what it enables, so the bridge never does more or less than it
// publishes.
func (s *Server) artifactBinding() ArtifactBinding {
	a := s.cfg.Artifact
	if a.Lifetime <= 0 {
		a.Lifetime = DefaultArtifactLifetime
	}
	return a
}

// advertisesArtifactResolution reports whether the IdP metadata md
// publishes location as its SOAP ArtifactResolutionService.
func advertisesArtifactResolution(md []byte, location string) bool {
	var ed crewjam.EntityDescriptor
	if err := xml.Unmarshal(md, &ed); err != nil {
		return false
	}
	for _, idp := range ed.IDPSSODescriptors {
		for _, e := range idp.ArtifactResolutionServices {
			// crewjam drops the index; the bridge publishes one service.
			if e.Binding == crewjam.SOAPBinding && e.Location == location {
				return true
			}
		}
	}
	return false
}

// artifactURL is the bridge's artifact resolution endpoint.
func (s *Server) artifactURL() string {
	return strings.TrimSuffix(s.cfg.ExternalURL, "/") + PathArtifactResolve
}

// artifactResolveHandler is the handler mounted at PathArtifactResolve:
// not found when the binding is off. It is not rate-limited per client
// address like the browser endpoints: SPs call it from their servers, one
// call per login, and every call before the signature check costs the
// bridge a bounded parse and an RSA verification only.
func (s *Server) artifactResolveHandler() http.Handler {
	if !s.artifactBinding().Enabled {
		return http.NotFoundHandler()
	}
	return http.HandlerFunc(s.handleArtifactResolve)
}

// artifactRecord is what the store keeps under an artifact's handle: the
// signed (and possibly encrypted) message and the SP it is for.
type artifactRecord struct {
	SP      string `json:"sp"`
	Message []byte `json:"msg"`
}

// acsTarget is where and how a Response goes: a metadata-validated ACS.
type acsTarget struct {
	// sp is the SP the ACS was chosen from; it is checked to still list
	// url with binding.
	sp            *metadata.ServiceProvider
	url           string
	binding       string // HTTP-POST (or empty) or HTTP-Artifact
	relayState    string
	hasRelayState bool
	// lang is the language of the pages shown on the way (the auto-POST
	// form, local error pages), chosen when the login started.
	lang i18n.Lang
}

// deliverResponse sends resp, a Response built for t.url, to the SP (see
// prepareDelivery), or shows the local page saying why it cannot.
func (s *Server) deliverResponse(ctx context.Context, w http.ResponseWriter, t acsTarget, resp []byte, log *slog.Logger) {
	send, fail := s.prepareDelivery(ctx, t, resp, log)
	if fail != nil {
		s.errorPage(w, t.lang, fail.status, fail.code)
		return
	}
	send(w)
}

// undeliverable is why a Response cannot be sent: the local page's HTTP
// status and code, and the audit reason.
type undeliverable struct {
	status       int
	code, reason string
}

// prepareDelivery readies resp, a Response built for t.url, for the SP,
// and returns what sends it: an auto-submitting form for an HTTP-POST
// endpoint (saml-bindings §3.5), or for an HTTP-Artifact endpoint a
// redirect carrying a fresh artifact and the RelayState exactly as
// received (§3.6.3), the Response being kept in the store for the SP to
// resolve once within the artifact lifetime. Everything that can fail is
// done here, before anything is written, so that a caller can record the
// outcome truthfully first.
func (s *Server) prepareDelivery(ctx context.Context, t acsTarget, resp []byte, log *slog.Logger) (func(http.ResponseWriter), *undeliverable) {
	if t.binding != crewjam.HTTPArtifactBinding {
		form := saml.PostForm{URL: t.url, Field: "SAMLResponse", Message: resp, RelayState: t.relayState, HasRelayState: t.hasRelayState, Lang: t.lang}
		return func(w http.ResponseWriter) {
			if err := form.Write(w, s.cfg.Rand); err != nil {
				log.Error("writing the POST form failed", "err", err)
			}
		}, nil
	}
	cfg := s.artifactBinding()
	if !cfg.Enabled {
		log.Error("the SP's ACS is an HTTP-Artifact endpoint and the Artifact binding is off")
		return nil, &undeliverable{http.StatusBadRequest, codeArtifactOff, reasonArtifactOff}
	}
	if !t.sp.HasACS(t.url, crewjam.HTTPArtifactBinding) {
		log.Warn("the SP's HTTP-Artifact ACS disappeared from its metadata during the login")
		return nil, &undeliverable{http.StatusBadRequest, codeSPGone, reasonSPGone}
	}
	art, err := saml.NewArtifact(s.cfg.IDP.EntityID, artifactEndpointIndex, s.cfg.Rand)
	if err != nil {
		log.Error("issuing an artifact failed", "err", err)
		return nil, &undeliverable{http.StatusInternalServerError, codeInternal, reasonInternal}
	}
	rec, err := json.Marshal(artifactRecord{SP: t.sp.EntityID, Message: resp})
	if err != nil {
		log.Error("encoding the artifact record failed", "err", err)
		return nil, &undeliverable{http.StatusInternalServerError, codeInternal, reasonInternal}
	}
	lifetime := cfg.Lifetime
	if lifetime <= 0 {
		lifetime = DefaultArtifactLifetime
	}
	if err := s.cfg.Store.PutRecord(ctx, artifactKey(art), rec, s.cfg.Now().Add(lifetime)); err != nil {
		log.Error("storing the artifact failed", "err", err)
		return nil, &undeliverable{http.StatusServiceUnavailable, codeStoreDown, reasonStoreUnavailable}
	}
	sep := "?"
	if strings.Contains(t.url, "?") {
		sep = "&"
	}
	loc := t.url + sep + "SAMLart=" + url.QueryEscape(art.String())
	if t.hasRelayState {
		loc += "&RelayState=" + url.QueryEscape(t.relayState)
	}
	log.Info("artifact issued", "lifetime", lifetime)
	return func(w http.ResponseWriter) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Pragma", "no-cache")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Location", loc)
		w.WriteHeader(http.StatusFound)
	}, nil
}

// artifactKey is the store key of an artifact: its message handle (the
// SourceID and index are the bridge's own).
func artifactKey(a saml.Artifact) string {
	return artifactKeyPrefix + hex.EncodeToString(a.MessageHandle[:])
}

// handleArtifactResolve answers a SOAP ArtifactResolve (saml-core §3.5,
// saml-bindings §3.2): a SOAP fault when it cannot be read, an
// ArtifactResponse with an error status when it is refused, else a
// Success ArtifactResponse holding the message when the artifact is live
// and was issued to the requesting SP, and none otherwise (§3.5.3).
func (s *Server) handleArtifactResolve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	ctx := r.Context()
	p := s.artifactParser()
	res, err := p.Parse(r)
	if err != nil {
		var ae *saml.ArtifactResolveError
		if !errors.As(err, &ae) {
			s.logger(r.Context()).Error("ArtifactResolve failed", "err", err)
			writeSOAP(w, http.StatusInternalServerError, saml.SOAPFault(saml.FaultServer, "The request could not be processed."))
			return
		}
		s.logger(r.Context()).Warn("ArtifactResolve refused", "reason", ae.Reason, "cause", logtext.Cut(fmt.Sprint(ae.Err), 300))
		if ae.InResponseTo == "" {
			writeSOAP(w, http.StatusInternalServerError, saml.SOAPFault(ae.FaultCode, "The request is not a SOAP 1.1 SAML ArtifactResolve."))
			return
		}
		s.answerArtifact(w, ae.InResponseTo, ae.SP, ae.Status, nil)
		return
	}
	log := s.logger(r.Context()).With("sp", res.SP.EntityID, "request_id", logtext.Cut(res.ID, 64))
	now := s.cfg.Now()
	if err := s.cfg.Store.MarkSeen(ctx, "artifactresolve|"+res.SP.EntityID+"|"+res.ID, now, p.ReplayDeadline(res.IssueInstant)); err != nil {
		if errors.Is(err, session.ErrReplay) {
			log.Warn("ArtifactResolve replayed")
			s.answerArtifact(w, res.ID, res.SP, &saml.StatusError{Status: saml.StatusRequester, SubStatus: saml.StatusRequestDenied,
				Message: "The ArtifactResolve was already received."}, nil)
			return
		}
		log.Error("session store unavailable", "err", err)
		s.answerArtifact(w, res.ID, res.SP, &saml.StatusError{Status: saml.StatusResponder, Message: "The identity provider is temporarily unavailable."}, nil)
		return
	}
	msg, err := s.takeArtifact(ctx, res, now, log)
	if err != nil {
		log.Error("session store unavailable", "err", err)
		s.answerArtifact(w, res.ID, res.SP, &saml.StatusError{Status: saml.StatusResponder, Message: "The identity provider is temporarily unavailable."}, nil)
		return
	}
	if msg != nil {
		log.Info("artifact resolved")
	}
	s.answerArtifact(w, res.ID, res.SP, nil, msg)
}

// artifactParser is the ArtifactResolve parser, with the clock and
// IssueInstant window of the AuthnRequest parser.
func (s *Server) artifactParser() *saml.ArtifactResolveParser {
	return &saml.ArtifactResolveParser{
		Registry: s.cfg.Registry, URL: s.artifactURL(),
		MaxClockSkew: s.cfg.Parser.MaxClockSkew, MaxRequestAge: s.cfg.Parser.MaxRequestAge,
		Now: s.cfg.Now,
	}
}

// takeArtifact returns the message res's artifact stands for, spending
// the artifact, or nil when there is none for this SP: a malformed or
// foreign artifact, an unknown, used or expired one, or one issued to
// another SP (which is left for that SP, so a party that learnt it cannot
// spend it). The error is only for a store failure.
func (s *Server) takeArtifact(ctx context.Context, res *saml.ArtifactResolve, now time.Time, log *slog.Logger) ([]byte, error) {
	a, err := saml.ParseArtifact(res.Artifact)
	if err != nil {
		log.Warn("empty ArtifactResponse: malformed artifact", "cause", err)
		return nil, nil
	}
	if a.SourceID != saml.ArtifactSourceID(s.cfg.IDP.EntityID) || a.EndpointIndex != artifactEndpointIndex {
		log.Warn("empty ArtifactResponse: the artifact was not issued by this bridge")
		return nil, nil
	}
	key := artifactKey(a)
	owner := func(raw []byte) (*artifactRecord, bool) {
		var rec artifactRecord
		if err := json.Unmarshal(raw, &rec); err != nil || rec.Message == nil {
			log.Error("empty ArtifactResponse: unreadable artifact record")
			return nil, false
		}
		if rec.SP != res.SP.EntityID {
			// saml-bindings §3.6.5: only the party the artifact was
			// issued to may have the message.
			log.Warn("empty ArtifactResponse: the artifact was issued to another SP", "issued_to", rec.SP)
			return nil, false
		}
		return &rec, true
	}
	raw, err := s.cfg.Store.GetRecord(ctx, key, now)
	switch {
	case errors.Is(err, session.ErrNotFound):
		log.Warn("empty ArtifactResponse: unknown, used or expired artifact")
		return nil, nil
	case err != nil:
		return nil, err
	}
	if _, ok := owner(raw); !ok {
		return nil, nil
	}
	// Only the SP it was issued to spends it, and only once: among
	// concurrent resolutions exactly one takes it.
	raw, err = s.cfg.Store.TakeRecord(ctx, key, now)
	switch {
	case errors.Is(err, session.ErrNotFound):
		log.Warn("empty ArtifactResponse: the artifact was used concurrently")
		return nil, nil
	case err != nil:
		return nil, err
	}
	rec, ok := owner(raw)
	if !ok {
		return nil, nil
	}
	return rec.Message, nil
}

// answerArtifact writes a signed ArtifactResponse, signed with sp's
// signature method when the SP is known.
func (s *Server) answerArtifact(w http.ResponseWriter, inResponseTo string, sp *metadata.ServiceProvider, st *saml.StatusError, msg []byte) {
	p := saml.ArtifactResponseParams{InResponseTo: inResponseTo, Status: st, Message: msg}
	if sp != nil {
		p.SignatureMethod, p.AllowSHA1 = sp.SignatureAlgorithm, sp.LegacySHA1
	}
	body, err := s.cfg.IDP.BuildArtifactResponse(p)
	if err != nil {
		s.log.Error("building the ArtifactResponse failed", "err", err)
		writeSOAP(w, http.StatusInternalServerError, saml.SOAPFault(saml.FaultServer, "The response could not be built."))
		return
	}
	writeSOAP(w, http.StatusOK, body)
}

// writeSOAP writes a SOAP 1.1 message with the caching headers of
// saml-bindings §3.2.3.3.
func writeSOAP(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/xml; charset=utf-8")
	h.Set("Cache-Control", "no-cache, no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
