package adversarial

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/samlbridge/samlbridge/demo"
	"github.com/samlbridge/samlbridge/internal/htmlform"
	"github.com/samlbridge/samlbridge/internal/samltest"
)

// startLogin sends the demo SP's signed AuthnRequest (attribute service
// index, RelayState) through client and returns the emulator's
// authorization URL and the request's ID.
func (w *world) startLogin(t *testing.T, client *http.Client, index int, relay string) (authURL, requestID string) {
	t.Helper()
	u, err := w.stack.SP.LoginURL(index, relay)
	if err != nil {
		t.Fatal(err)
	}
	nr := noRedirects(client.Jar)
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	r := w.send(t, req, nr)
	w.flowStarted(t, r)
	parsed, _ := url.Parse(u)
	return r.location, requestIDOf(t, parsed.Query().Get("SAMLRequest"))
}

// consent drives the emulator from authURL to its redirect back to the
// bridge (approve or refuse) and returns the callback URL, unvisited.
func (w *world) consent(t *testing.T, client *http.Client, authURL string, approve bool) string {
	t.Helper()
	resp, err := client.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	var body strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		body.Write(buf[:n])
		if err != nil {
			break
		}
	}
	resp.Body.Close()
	action, vals, ok := htmlform.AsFound(body.String())
	if !ok {
		t.Fatalf("no phone page at %s (HTTP %d)", resp.Request.URL, resp.StatusCode)
	}
	if !approve {
		vals.Set("action", "refuse")
	}
	target, _ := resp.Request.URL.Parse(action)
	nr := noRedirects(client.Jar)
	post, err := nr.PostForm(target.String(), vals)
	if err != nil {
		t.Fatal(err)
	}
	post.Body.Close()
	loc := post.Header.Get("Location")
	if post.StatusCode != http.StatusFound && post.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, w.base+"/oidc/callback?") {
		t.Fatalf("the emulator answered HTTP %d Location %.200q, want a redirect to the callback", post.StatusCode, loc)
	}
	return loc
}

// callback visits a callback URL with client's cookies.
func (w *world) callback(t *testing.T, client *http.Client, u string) result {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return w.send(t, req, noRedirects(client.Jar))
}

// fullLogin runs a login to the bridge's auto-POST page.
func (w *world) fullLogin(t *testing.T, index int, relay string) (result, string) {
	t.Helper()
	b := browser(t)
	authURL, id := w.startLogin(t, b, index, relay)
	return w.callback(t, b, w.consent(t, b, authURL, true)), id
}

// success asserts an assertion posted to the demo SP's ACS and one
// "success" audit event, and returns what the SP (crewjam) made of it.
func (w *world) success(t *testing.T, r result) *demo.Result {
	t.Helper()
	if r.status != http.StatusOK || r.form == nil || r.form.response == nil {
		t.Fatalf("want the auto-POST page, got HTTP %d:\n%.600s", r.status, r.body)
	}
	if r.form.action != w.acsURL() {
		t.Fatalf("posted to %q, want %q", r.form.action, w.acsURL())
	}
	res, err := w.stack.SP.Parse(r.form.values.Get("SAMLResponse"))
	if err != nil {
		t.Fatalf("the SP refuses the response: %v", err)
	}
	if len(r.events) != 1 || r.events[0].Outcome != "success" {
		t.Errorf("audit events %+v, want one success", r.events)
	}
	return res
}

// requestIDOf decodes a Redirect-binding SAMLRequest and returns its ID.
func requestIDOf(t *testing.T, samlRequest string) string {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(samlRequest)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(raw)), 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	el, err := samltest.ParseElement(data)
	if err != nil {
		t.Fatal(err)
	}
	return el.SelectAttrValue("ID", "")
}
