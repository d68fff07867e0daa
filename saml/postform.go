package saml

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"net/http"

	"github.com/samlbridge/samlbridge/internal/i18n"
	"github.com/samlbridge/samlbridge/internal/pagestyle"
)

// postFormHead and postFormTail are the HTTP-POST binding page (saml-
// bindings §3.5.4), on either side of the message's hidden input, which
// Write streams between them: the message is most of the page, and
// base64 needs no HTML escaping (its alphabet has no '"', '&', '<' or
// '>'), so it is encoded straight into the response rather than built as
// a string and run through the escaper. The rest is html/template, so the
// ACS URL and RelayState are escaped (REQ-19, RESP-07); the script and
// the stylesheet run under a per-response CSP nonce; a noscript block
// with a real button and a line of explanation, in the page's language,
// keeps it usable without JavaScript.
var (
	postFormHead = template.Must(template.New("post-head").Parse(`<!DOCTYPE html>
<html lang="{{.L}}"><head><meta charset="utf-8"><meta name="robots" content="noindex">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.L.T "page.post.title"}}</title><style nonce="{{.Nonce}}">{{.Style}}</style></head>
<body>
<main>
<h1>{{.L.T "page.post.heading"}}</h1>
<form method="post" action="{{.URL}}" id="saml-post">
`))
	postFormTail = template.Must(template.New("post-tail").Parse(`
{{- if .HasRelayState}}
<input type="hidden" name="RelayState" value="{{.RelayState}}">
{{- end}}
<noscript><p>{{.L.T "page.post.noscript"}}</p>
<button class="primary" type="submit">{{.L.T "page.post.continue"}}</button></noscript>
</form>
</main>
<script nonce="{{.Nonce}}">document.getElementById("saml-post").submit();</script>
</body></html>
`))
)

// PostForm is an HTTP-POST binding message ready to be sent through the
// user's browser.
type PostForm struct {
	// URL is the metadata-validated endpoint.
	URL string
	// Field is "SAMLResponse" or "SAMLRequest".
	Field string
	// Message is the XML message; it is base64-encoded when written.
	Message []byte
	// RelayState is returned only when HasRelayState is true.
	RelayState    string
	HasRelayState bool
	// Lang is the language of the page's text; empty or unsupported is
	// English.
	Lang i18n.Lang
}

// Write renders the auto-submitting form with headers that keep the
// message out of caches, referrers and frames.
func (f PostForm) Write(w http.ResponseWriter, rnd io.Reader) error {
	if rnd == nil {
		rnd = rand.Reader
	}
	nb := make([]byte, 16)
	if _, err := io.ReadFull(rnd, nb); err != nil {
		return fmt.Errorf("saml: CSP nonce: %w", err)
	}
	nonce := base64.RawURLEncoding.EncodeToString(nb)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	// No form-action directive: it would have to allow the SP's origin and
	// Chrome applies it across redirects after the POST.
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; style-src 'nonce-"+nonce+"'; base-uri 'none'; frame-ancestors 'none'")
	field := f.Field
	if field == "" {
		field = "SAMLResponse"
	}
	page := struct {
		URL, RelayState, Nonce string
		HasRelayState          bool
		L                      i18n.Lang
		Style                  template.CSS
	}{
		URL: f.URL, RelayState: f.RelayState, HasRelayState: f.HasRelayState, Nonce: nonce,
		L: f.Lang.OrDefault(), Style: pagestyle.CSS,
	}
	if err := postFormHead.Execute(w, page); err != nil {
		return err
	}
	if _, err := io.WriteString(w, `<input type="hidden" name="`+template.HTMLEscapeString(field)+`" value="`); err != nil {
		return err
	}
	enc := base64.NewEncoder(base64.StdEncoding, w)
	if _, err := enc.Write(f.Message); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	if _, err := io.WriteString(w, `">`); err != nil {
		return err
	}
	return postFormTail.Execute(w, page)
}
