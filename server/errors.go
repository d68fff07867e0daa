package server

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/samlbridge/samlbridge/audit"
	"github.com/samlbridge/samlbridge/internal/i18n"
	"github.com/samlbridge/samlbridge/internal/pagestyle"
	"github.com/samlbridge/samlbridge/itsme"
	"github.com/samlbridge/samlbridge/saml"
)

// Stable codes of the local error pages (docs/pages.md). Each has its
// message, in every language, in package i18n under i18n.ErrorKey(code):
// it says what happened and what to do, and never echoes request
// content. The codes of rejected SAML messages come from
// saml.RequestError.Code.
const (
	codeBadRequest           = "bad_request"
	codeReplay               = "replay"
	codeStoreDown            = "store_unavailable"
	codeBadCallback          = "bad_callback"
	codeExpired              = "unknown_state"
	codeBinding              = "browser_binding"
	codeSPGone               = "sp_gone"
	codeInternal             = "internal_error"
	codeRateLimited          = "rate_limited"
	codeArtifactOff          = "artifact_disabled"
	codeChainExpired         = "logout_chain_unknown"
	codeChainMismatch        = "logout_chain_mismatch"
	codeUnsolicitedBad       = "unsolicited_malformed"
	codeUnsolicitedForbidden = "unsolicited_not_allowed"
)

var errorTemplate = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="{{.L}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.L.T "page.error.title"}}</title>
<style>{{.Style}}</style>
</head><body><main class="err">
<h1>{{.L.T "page.error.heading"}}</h1>
<p id="message">{{.Message}}</p>
<p class="code" id="error-code" data-code="{{.Code}}">{{.L.T "page.error.code" .Code}}</p>
<p class="code">{{.L.T "page.error.help"}}</p>
</main></body></html>
`))

// errorPage writes a local error page in lang for the stable error code.
// It never redirects anywhere.
func (s *Server) errorPage(w http.ResponseWriter, lang i18n.Lang, status int, code string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", string(lang.OrDefault()))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	w.WriteHeader(status)
	_ = errorTemplate.Execute(w, errorPageData(lang, code))
}

// errorData fills errorTemplate.
type errorData struct {
	L             i18n.Lang
	Style         template.CSS
	Code, Message string
}

// errorPageData is the page for code in lang; an unknown code shows the
// internal error's message under its own code.
func errorPageData(lang i18n.Lang, code string) errorData {
	lang = lang.OrDefault()
	key := i18n.ErrorKey(code)
	if !i18n.Has(key) {
		key = i18n.ErrorKey(codeInternal)
	}
	return errorData{L: lang, Style: pagestyle.CSS, Code: code, Message: lang.T(key)}
}

// Query parameters an SP (or a link) may add to any of the bridge's
// URLs to choose the language of its pages (docs/pages.md): ui_locales,
// as in OIDC, a space-separated list of language tags in order of
// preference; or lang, a single tag. They are hints, not SAML binding
// parameters, so no signature covers them.
const (
	paramUILocales = "ui_locales"
	paramLang      = "lang"
)

// pageLang is the language of the pages answering r: its ui_locales or
// lang query parameter (each ignored when repeated), else its
// Accept-Language header, else English.
func pageLang(r *http.Request) i18n.Lang {
	q, _ := url.ParseQuery(r.URL.RawQuery)
	hint := ""
	for _, p := range []string{paramUILocales, paramLang} {
		if v := q[p]; len(v) == 1 {
			if _, ok := i18n.FromHint(v[0]); ok {
				hint = v[0]
				break
			}
		}
	}
	return i18n.Choose(hint, r.Header.Get("Accept-Language"))
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
		s.errorPage(w, t.lang, http.StatusInternalServerError, codeInternal)
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
