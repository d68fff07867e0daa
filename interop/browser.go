//go:build interop

package interop

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"

	"github.com/samlbridge/samlbridge/internal/htmlform"
)

// maxSteps bounds one navigation: redirects plus submitted forms.
const maxSteps = 40

// Browser is a scripted browser: a cookie jar, redirects followed by hand
// so that every hop can be seen, and forms submitted "as found" (hidden
// inputs, no button) on the bridge's, the emulator's and the OP's pages,
// which is how those pages promise to approve a login. It records the
// AuthnRequest that reached the bridge and the SAML Response the bridge
// handed to the SP's ACS.
type Browser struct {
	client *http.Client
	// Trusted are the origins (scheme://host:port) whose forms are
	// submitted as found: the bridge and the upstream OP.
	Trusted []string
	// SSOURL is the bridge's SSO endpoint; a hop there is recorded.
	SSOURL string
	// StopAtResponse, when set, makes Navigate return when the bridge
	// hands over a SAML Response, without posting it to the SP.
	StopAtResponse bool
	// StopAtSSO, when set, makes Navigate return when the SP sends the
	// browser to the bridge, leaving the SP with a login in flight.
	StopAtSSO bool

	// Request is the last AuthnRequest seen on its way to the bridge.
	Request *SeenRequest
	// Response is the last SAML Response the bridge posted to an ACS.
	Response *SeenResponse
	// Hops lists every request made (method and URL without query).
	Hops []string
}

// SeenRequest is an AuthnRequest as it travelled to the bridge.
type SeenRequest struct {
	Binding string // "redirect" or "post"
	XML     []byte
	// Signed: query SigAlg+Signature (Redirect), or an enveloped
	// Signature element (POST).
	Signed bool
	SigAlg string
	// URL is the Redirect request's URL exactly as sent (query bytes
	// untouched, so a query signature still verifies); Form is the POST
	// request's form.
	URL  string
	Form url.Values
}

// SeenResponse is the SAML Response form the bridge handed to the browser.
type SeenResponse struct {
	ACS  string
	Form url.Values
	XML  []byte
}

// Page is where a navigation ended.
type Page struct {
	URL    *url.URL
	Status int
	Type   string
	Body   []byte
}

// NewBrowser returns a browser with an empty cookie jar.
func NewBrowser(ssoURL string, trusted ...string) *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{
		client: &http.Client{
			Jar:           jar,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		Trusted: trusted,
		SSOURL:  ssoURL,
	}
}

// Get navigates to u.
func (b *Browser) Get(ctx context.Context, u string) (*Page, error) {
	return b.Navigate(ctx, http.MethodGet, u, nil)
}

// Post submits form to u and follows what comes back.
func (b *Browser) Post(ctx context.Context, u string, form url.Values) (*Page, error) {
	return b.Navigate(ctx, http.MethodPost, u, form)
}

// Navigate makes a request and follows redirects and trusted forms until
// a page that is neither.
func (b *Browser) Navigate(ctx context.Context, method, target string, form url.Values) (*Page, error) {
	for step := 0; step < maxSteps; step++ {
		u, err := url.Parse(target)
		if err != nil {
			return nil, fmt.Errorf("bad URL %q: %w", target, err)
		}
		if err := b.noteRequest(u, method, form); err != nil {
			return nil, err
		}
		if b.StopAtSSO && b.isSSO(u) {
			return &Page{URL: u}, nil
		}
		var body io.Reader
		if method == http.MethodPost {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(ctx, method, target, body)
		if err != nil {
			return nil, err
		}
		if method == http.MethodPost {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.Header.Set("Accept", "text/html,application/json;q=0.9,*/*;q=0.8")
		req.Header.Set("Accept-Language", "en")
		b.Hops = append(b.Hops, method+" "+u.Scheme+"://"+u.Host+u.Path)
		resp, err := b.client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, u.Redacted(), err)
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", u.Redacted(), err)
		}
		page := &Page{URL: u, Status: resp.StatusCode, Type: resp.Header.Get("Content-Type"), Body: data}
		switch resp.StatusCode {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			loc, err := u.Parse(resp.Header.Get("Location"))
			if err != nil || resp.Header.Get("Location") == "" {
				return nil, fmt.Errorf("%s %s: redirect without a usable Location", method, u.Redacted())
			}
			if resp.StatusCode < http.StatusTemporaryRedirect {
				method, form = http.MethodGet, nil
			}
			target = loc.String()
			continue
		}
		action, vals, ok := b.formToSubmit(u, page)
		if !ok {
			return page, nil
		}
		if vals.Has("SAMLResponse") {
			x, _ := base64.StdEncoding.DecodeString(vals.Get("SAMLResponse"))
			b.Response = &SeenResponse{ACS: action, Form: vals, XML: x}
			if b.StopAtResponse {
				return page, nil
			}
		}
		method, target, form = http.MethodPost, action, vals
	}
	return nil, fmt.Errorf("more than %d hops starting at %s", maxSteps, target)
}

// formToSubmit returns the form to submit on page: a form on a trusted
// origin, or a form carrying a SAML message (an SP's POST-binding
// AuthnRequest).
func (b *Browser) formToSubmit(u *url.URL, p *Page) (string, url.Values, bool) {
	if p.Status != http.StatusOK || !strings.Contains(p.Type, "html") {
		return "", nil, false
	}
	action, vals, ok := htmlform.AsFound(string(p.Body))
	if !ok {
		return "", nil, false
	}
	if !b.trusted(u) && !vals.Has("SAMLRequest") && !vals.Has("SAMLResponse") {
		return "", nil, false
	}
	a, err := u.Parse(action)
	if err != nil {
		return "", nil, false
	}
	return a.String(), vals, true
}

func (b *Browser) trusted(u *url.URL) bool {
	origin := u.Scheme + "://" + u.Host
	for _, t := range b.Trusted {
		if strings.TrimSuffix(t, "/") == origin {
			return true
		}
	}
	return false
}

func (b *Browser) isSSO(u *url.URL) bool {
	s, err := url.Parse(b.SSOURL)
	return err == nil && s.Host == u.Host && s.Path == u.Path
}

// noteRequest records an AuthnRequest heading for the bridge.
func (b *Browser) noteRequest(u *url.URL, method string, form url.Values) error {
	if !b.isSSO(u) {
		return nil
	}
	if method == http.MethodGet {
		q := u.Query()
		raw, err := base64.StdEncoding.DecodeString(q.Get("SAMLRequest"))
		if err != nil {
			return fmt.Errorf("the SP's Redirect SAMLRequest is not base64: %w", err)
		}
		x, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(raw)), 1<<20))
		if err != nil {
			return fmt.Errorf("the SP's Redirect SAMLRequest does not inflate: %w", err)
		}
		b.Request = &SeenRequest{Binding: "redirect", XML: x, Signed: q.Has("Signature") && q.Has("SigAlg"), SigAlg: q.Get("SigAlg"), URL: u.String()}
		return nil
	}
	x, err := base64.StdEncoding.DecodeString(form.Get("SAMLRequest"))
	if err != nil {
		return fmt.Errorf("the SP's POST SAMLRequest is not base64: %w", err)
	}
	b.Request = &SeenRequest{Binding: "post", XML: x, Signed: bytes.Contains(x, []byte("SignatureValue")), Form: form}
	return nil
}

// errNotIdentity is returned when an SP's page is not the identity JSON.
var errNotIdentity = errors.New("the SP did not show an identity")
