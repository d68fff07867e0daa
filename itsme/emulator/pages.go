package emulator

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"strings"
)

// pageStyle is the pages' stylesheet, allowed by a CSP nonce.
const pageStyle = `body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.3rem}.phone{border:2px solid #ff4612;border-radius:1.2rem;padding:1rem 1.4rem}
.meta{color:#555;font-size:.9rem}code{background:#f3f3f3;padding:0 .2rem}
label{display:block;margin:.3rem 0}button{font-size:1rem;padding:.5rem 1.2rem;margin:.8rem .5rem 0 0}
.approve{background:#ff4612;color:#fff;border:0;border-radius:.4rem}.refuse{background:#fff;border:1px solid #999;border-radius:.4rem}
.err{border-left:4px solid #c00;padding-left:1rem}.approval{background:#fff4ef;padding:.6rem;white-space:pre-wrap}`

var phoneTemplate = template.Must(template.New("phone").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>itsme emulator – confirm</title><style nonce="{{.Nonce}}">{{.Style}}</style></head>
<body><div class="phone">
<h1>itsme® emulator</h1>
<p><strong>{{.ClientID}}</strong> asks you to
{{- if eq .ServiceType "confirmation"}} confirm{{else if eq .ServiceType "authentication"}} log in{{else}} share your data{{end}}.</p>
<p class="meta">Service <code>{{.ServiceCode}}</code> ({{.ServiceType}}), security level {{.ACR}}.</p>
{{- with .Approval}}
<h2>To approve</h2>
{{- if eq .Template "adv_payment"}}
<p class="approval">Pay {{.Amount}} {{.Currency}} to {{.IBAN}}</p>
{{- else}}
<p class="approval">{{.Text}}</p>
{{- end}}
{{- end}}
{{- if .Requested}}
<h2>Data requested</h2>
<ul>{{range .Requested}}<li><code>{{.}}</code></li>{{end}}</ul>
{{- else}}
<p class="meta">No personal data is requested beyond your itsme identifier.</p>
{{- end}}
<form method="post" action="{{.Action}}">
<input type="hidden" name="tx" value="{{.Handle}}">
<fieldset><legend>Who is holding the phone?</legend>
{{- range .Personas}}
<label><input type="radio" name="persona" value="{{.ID}}"{{if .First}} checked{{end}}> {{.Label}}</label>
{{- end}}
</fieldset>
<button class="approve" type="submit" name="action" value="approve">Confirm</button>
<button class="refuse" type="submit" name="action" value="refuse">Refuse</button>
</form>
<p class="meta">Local emulator for tests and demos. Nothing leaves this machine.</p>
</div></body></html>
`))

var errorTemplate = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>itsme emulator – error</title><style nonce="{{.Nonce}}">{{.Style}}</style></head>
<body><div class="phone err"><h1>itsme® emulator: request refused</h1>
<p><code>{{.Code}}</code></p><p>{{.Description}}</p>
<p class="meta">The answer was not sent back to the application: its client, redirect URI or request could not be trusted.</p>
</div></body></html>
`))

// personaChoice is one radio button of the phone page.
type personaChoice struct {
	ID, Label string
	First     bool
}

// phoneData fills phoneTemplate.
type phoneData struct {
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
		Nonce:       nonce,
		Style:       template.CSS(pageStyle),
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
	e.writePage(w, http.StatusOK, nonce, formAction, phoneTemplate, data)
}

// errorPage shows a non-redirectable authorization error.
func (e *Emulator) errorPage(w http.ResponseWriter, status int, oerr *oauthError) {
	nonce, err := e.randomString(16)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	e.writePage(w, status, nonce, "'none'", errorTemplate, map[string]any{
		"Nonce": nonce, "Style": template.CSS(pageStyle), "Code": oerr.Code, "Description": oerr.Description,
	})
}

// writePage renders t with the security headers: no caching, a CSP
// without external resources, no framing.
func (e *Emulator) writePage(w http.ResponseWriter, status int, nonce, formAction string, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		e.log.Error("emulator: rendering a page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
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
