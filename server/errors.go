package server

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"

	"github.com/samlbridge/samlbridge/audit"
	"github.com/samlbridge/samlbridge/itsme"
	"github.com/samlbridge/samlbridge/saml"
)

// Messages shown to people on local error pages. They say what happened
// and what to do, and never echo request content.
const (
	msgBadRequest  = "The login request from the application could not be read. Go back to the application and try again; if it keeps happening, tell the application's administrator."
	msgReplay      = "This login request was already used. Go back to the application and start the login again."
	msgStoreDown   = "The identity service is temporarily unavailable. Please try again in a few minutes."
	msgBadCallback = "The answer from itsme could not be read. Go back to the application and start the login again."
	msgExpired     = "This login has expired or was already completed. Go back to the application and start the login again."
	msgBinding     = "This login was started in another browser or the browser's cookies were blocked. Start the login again from the application in this browser, and allow cookies for this site."
	msgSPGone      = "The application you were logging in to is no longer registered with this identity provider. Contact its administrator."
	msgInternal    = "Something went wrong on our side. Please try again; if it keeps happening, contact the service desk."
)

var errorTemplate = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Login problem</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}p{line-height:1.5}.code{color:#666;font-size:.85rem}</style>
</head><body>
<h1>We could not log you in</h1>
<p>{{.Message}}</p>
{{if .Ref}}<p class="code">Reference: {{.Ref}}</p>{{end}}
</body></html>
`))

// errorPage writes a local error page. It never redirects anywhere.
func (s *Server) errorPage(w http.ResponseWriter, status int, message, ref string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	w.WriteHeader(status)
	_ = errorTemplate.Execute(w, struct{ Message, Ref string }{message, ref})
}

// postError answers a validated request at t, the ACS chosen from the
// SP's metadata when the login started, with a signed error Response,
// and logs and audits the failure at stage. If even that fails, a local
// page is shown.
func (s *Server) postError(ctx context.Context, w http.ResponseWriter, log *slog.Logger, stage audit.Stage, t acsTarget, inResponseTo string, se *saml.StatusError) {
	log.Warn("answering with an error status", "status", se)
	s.record(ctx, audit.Event{Stage: stage, Outcome: audit.Failure, Reason: se.Code(), SP: t.sp.EntityID, RequestID: inResponseTo})
	resp, err := s.cfg.IDP.BuildErrorResponse(saml.ErrorParams{SPEntityID: t.sp.EntityID, ACSURL: t.url, InResponseTo: inResponseTo, Status: se,
		SignatureMethod: t.sp.SignatureAlgorithm, AllowSHA1: t.sp.LegacySHA1})
	if err != nil {
		s.logger(ctx).Error("building the error response failed", "err", err)
		s.errorPage(w, http.StatusInternalServerError, msgInternal, "")
		return
	}
	s.deliverResponse(ctx, w, t, resp, log)
}

// statusFromUpstream maps an itsme failure to the SAML status the SP gets
// (saml-core §3.2.2.2). The user refusing is AuthnFailed; an acr that does
// not meet the request is NoAuthnContext; everything else is a Responder
// failure without internal details.
func statusFromUpstream(err error) *saml.StatusError {
	var ie *itsme.Error
	if !errors.As(err, &ie) {
		return &saml.StatusError{Status: saml.StatusResponder, Message: "The identity provider could not complete the login.", Err: err}
	}
	switch ie.Code {
	case "access_denied":
		return &saml.StatusError{Status: saml.StatusResponder, SubStatus: saml.StatusAuthnFailed,
			Message: "The user cancelled or refused the login in the itsme app.", Err: err}
	case "acr_mismatch":
		return &saml.StatusError{Status: saml.StatusResponder, SubStatus: saml.StatusNoAuthnContext,
			Message: "itsme could not authenticate the user at the requested level.", Err: err}
	case "login_required", "interaction_required":
		return &saml.StatusError{Status: saml.StatusResponder, SubStatus: saml.StatusNoPassive,
			Message: "The login needs the user to confirm with itsme.", Err: err}
	case itsme.CodeUnavailable, "temporarily_unavailable", "server_error":
		return &saml.StatusError{Status: saml.StatusResponder,
			Message: "itsme is temporarily unavailable. Please try again later.", Err: err}
	case itsme.CodeInvalidToken, "invalid_grant":
		return &saml.StatusError{Status: saml.StatusResponder, SubStatus: saml.StatusAuthnFailed,
			Message: "The answer from itsme could not be verified.", Err: err}
	}
	return &saml.StatusError{Status: saml.StatusResponder, SubStatus: saml.StatusAuthnFailed,
		Message: "itsme could not complete the login.", Err: err}
}
