package saml

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"net/http"
)

// postFormTemplate is the HTTP-POST binding page (saml-bindings §3.5.4).
// It is html/template, so the ACS URL and RelayState are escaped (REQ-19,
// RESP-07); the script runs under a per-response CSP nonce; a noscript
// button keeps it usable without JavaScript.
var postFormTemplate = template.Must(template.New("post").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="robots" content="noindex">
<title>Returning to the application</title></head>
<body>
<form method="post" action="{{.URL}}" id="saml-post">
<input type="hidden" name="{{.Field}}" value="{{.Message}}">
{{- if .HasRelayState}}
<input type="hidden" name="RelayState" value="{{.RelayState}}">
{{- end}}
<noscript><p>JavaScript is turned off in your browser. Press Continue to return to the application.</p>
<button type="submit">Continue</button></noscript>
</form>
<script nonce="{{.Nonce}}">document.getElementById("saml-post").submit();</script>
</body></html>
`))

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
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-"+nonce+"'; base-uri 'none'; frame-ancestors 'none'")
	field := f.Field
	if field == "" {
		field = "SAMLResponse"
	}
	return postFormTemplate.Execute(w, struct {
		URL, Field, Message, RelayState, Nonce string
		HasRelayState                          bool
	}{
		URL: f.URL, Field: field, Message: base64.StdEncoding.EncodeToString(f.Message),
		RelayState: f.RelayState, HasRelayState: f.HasRelayState, Nonce: nonce,
	})
}
