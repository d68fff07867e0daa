package emulator

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/samlbridge/samlbridge/internal/i18n"
	"github.com/samlbridge/samlbridge/internal/pagestyle"
)

var phoneTemplate = template.Must(template.New("phone").Parse(`<!DOCTYPE html>
<html lang="{{.L}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.L.T "emulator.phone.title"}}</title><style nonce="{{.Nonce}}">{{.Style}}</style></head>
<body><main class="phone">
<h1>{{.L.T "emulator.heading"}}</h1>
<p id="asks">
{{- if eq .ServiceType "confirmation"}}{{.L.T "emulator.asks.confirm" .ClientID}}
{{- else if eq .ServiceType "authentication"}}{{.L.T "emulator.asks.login" .ClientID}}
{{- else}}{{.L.T "emulator.asks.share" .ClientID}}{{end}}</p>
<p class="meta">{{.L.T "emulator.service" .ServiceCode .ServiceType .ACR}}</p>
{{- with .Approval}}
<h2>{{$.L.T "emulator.approve.heading"}}</h2>
{{- if eq .Template "adv_payment"}}
<p class="approval">{{$.L.T "emulator.approve.pay" .Amount .Currency .IBAN}}</p>
{{- else}}
<p class="approval">{{.Text}}</p>
{{- end}}
{{- end}}
{{- if .Requested}}
<h2>{{.L.T "emulator.data.heading"}}</h2>
<ul>{{range .Requested}}<li><code>{{.}}</code></li>{{end}}</ul>
{{- else}}
<p class="meta">{{.L.T "emulator.data.none"}}</p>
{{- end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="tx" value="{{.Handle}}">
<fieldset><legend>{{.L.T "emulator.persona.legend"}}</legend>
{{- range .Personas}}
<label><input type="radio" name="persona" value="{{.ID}}"{{if .First}} checked{{end}}> {{.Label}}</label>
{{- end}}
</fieldset>
<button class="approve" type="submit" name="action" value="approve">{{.L.T "emulator.button.confirm"}}</button>
<button class="refuse" type="submit" name="action" value="refuse">{{.L.T "emulator.button.refuse"}}</button>
</form>
<p class="meta">{{.L.T "emulator.footer"}}</p>
</main></body></html>
`))

var errorTemplate = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="{{.L}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.L.T "emulator.error.title"}}</title><style nonce="{{.Nonce}}">{{.Style}}</style></head>
<body><main class="phone err"><h1>{{.L.T "emulator.error.heading"}}</h1>
<p id="error-code" data-code="{{.Code}}">{{.L.T "page.error.code" .Code}}</p>
<p>{{.L.T "emulator.error.detail"}} <span lang="en">{{.Description}}</span></p>
<p class="meta">{{.L.T "emulator.error.explain"}}</p>
</main></body></html>
`))

// personaChoice is one radio button of the phone page.
type personaChoice struct {
	ID, Label string
	First     bool
}

// phoneData fills phoneTemplate.
type phoneData struct {
	L           i18n.Lang
	Nonce       string
	Style       template.CSS
	ClientID    string
	ServiceCode string
	ServiceType string
	ACR         string
	Approval    *approval
	Requested   []string
	Action      string
	Handle      string
	Personas    []personaChoice
}

// renderPhone shows the "phone" page for a pending request.
func (e *Emulator) renderPhone(w http.ResponseWriter, req *authzRequest, handle string) {
	nonce, err := e.randomString(16)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	data := phoneData{
		L:           req.lang.OrDefault(),
		Nonce:       nonce,
		Style:       pagestyle.CSS,
		ClientID:    req.client.ID,
		ServiceCode: req.service.Code,
		ServiceType: string(req.service.Type),
		ACR:         strings.TrimPrefix(req.acr, p),
		Approval:    req.approval,
		Action:      e.endpoint(PathConfirm),
		Handle:      handle,
	}
	for _, n := range append(append([]string(nil), req.idTokenClaims...), req.userinfoClaims...) {
		data.Requested = appendNew(data.Requested, strings.TrimPrefix(n, p))
	}
	for i, idx := range req.personas {
		pe := e.personas[idx]
		label := pe.Label
		if label == "" {
			label = pe.ID
		}
		data.Personas = append(data.Personas, personaChoice{ID: pe.ID, Label: label, First: i == 0})
	}
	formAction := "'self'"
	if o := origin(req.back.uri); o != "" {
		formAction += " " + o
	}
	e.writePage(w, http.StatusOK, data.L, nonce, formAction, phoneTemplate, data)
}

// errorPage shows a non-redirectable authorization error, in the
// language of r's ui_locales parameter or its Accept-Language header. The
// description stays English (it is the OAuth error_description) and is
// marked so.
func (e *Emulator) errorPage(w http.ResponseWriter, r *http.Request, status int, oerr *oauthError) {
	nonce, err := e.randomString(16)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	lang := pageLang(r, "")
	e.writePage(w, status, lang, nonce, "'none'", errorTemplate, map[string]any{
		"L": lang, "Nonce": nonce, "Style": pagestyle.CSS, "Code": oerr.Code, "Description": oerr.Description,
	})
}

// pageLang is the language of a page: uiLocales (the request's
// ui_locales, itsme-oidc.md: fr, nl, de or en), else r's own ui_locales
// query parameter when given once, else its Accept-Language, else
// English.
func pageLang(r *http.Request, uiLocales string) i18n.Lang {
	if _, ok := i18n.FromHint(uiLocales); !ok && r != nil {
		if v := r.URL.Query()["ui_locales"]; len(v) == 1 {
			uiLocales = v[0]
		}
	}
	accept := ""
	if r != nil {
		accept = r.Header.Get("Accept-Language")
	}
	return i18n.Choose(uiLocales, accept)
}

// writePage renders t with the security headers: no caching, a CSP
// without external resources, no framing.
func (e *Emulator) writePage(w http.ResponseWriter, status int, lang i18n.Lang, nonce, formAction string, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		e.log.Error("emulator: rendering a page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", string(lang))
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+nonce+"'; img-src 'self'; form-action "+formAction+"; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// origin returns scheme://host of an absolute URL, or "".
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
