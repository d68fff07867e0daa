package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/beevik/etree"

	"github.com/samlbridge/samlbridge/internal/htmlform"
	"github.com/samlbridge/samlbridge/saml"
)

// maxReplayBody bounds how much of the bridge's answer replay reads.
const maxReplayBody = 1 << 20

// errRefused is replay's outcome when the bridge did not start a login.
var errRefused = errors.New("the bridge did not accept the request")

// runReplay sends a captured AuthnRequest to a running bridge by the
// binding it was captured in (HTTP-Redirect: GET with the original query,
// signature included; HTTP-POST: the form), without following the
// redirect, and reports the outcome: accepted (the redirect to itsme's
// authorization endpoint: host, scope and acr_values, never the request
// object), refused (the bridge's error page) or answered with a SAML
// error Response to the SP. It exits 0 only when the request was
// accepted.
func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer, env toolEnv) error {
	fs := newFlagSet("replay", stderr)
	target := fs.String("url", "", "the bridge's SSO URL, e.g. https://idp.example.org/saml/sso")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	u, err := url.Parse(*target)
	if *target == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
		return usageError{errors.New("replay needs --url with the bridge's SSO URL (http or https, no query)")}
	}
	in, err := readInput(pos, env)
	if err != nil {
		return usageError{err}
	}
	m, err := decodeInput(in)
	if err != nil {
		return usageError{err}
	}
	if m.Field != fieldRequest || rootName(string(m.XML)) != "AuthnRequest" {
		return usageError{errors.New("replay sends AuthnRequests only; this input holds another message (see samlbridge decode)")}
	}
	req, err := m.request(ctx, u.String())
	if err != nil {
		return err
	}
	client := *env.client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	client.Jar = nil
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("sending the request: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReplayBody))
	if err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	fmt.Fprintf(stdout, "sent: %s %s (%s)\n", req.Method, u.Redacted(), bindingName(m.Binding))
	return reportOutcome(stdout, resp, body)
}

// reportOutcome describes the bridge's answer.
func reportOutcome(w io.Writer, resp *http.Response, body []byte) error {
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		loc, err := resp.Location()
		if err != nil {
			return fmt.Errorf("%w: redirect %d without a usable Location", errRefused, resp.StatusCode)
		}
		q := loc.Query()
		if q.Get("client_id") == "" || q.Get("response_type") == "" {
			fmt.Fprintf(w, "outcome: redirected (HTTP %d) to %s%s, which is not an OpenID authorization request\n", resp.StatusCode, loc.Host, loc.Path)
			if q.Has("SAMLart") {
				fmt.Fprintln(w, "  an HTTP-Artifact answer to the SP's ACS")
			}
			return nil
		}
		fmt.Fprintf(w, "outcome: ACCEPTED: redirect (HTTP %d) to itsme's authorization endpoint\n", resp.StatusCode)
		fmt.Fprintf(w, "  host: %s\n  path: %s\n", loc.Host, loc.Path)
		for _, k := range []string{"client_id", "scope", "acr_values", "ui_locales", "prompt"} {
			if v := q.Get(k); v != "" {
				fmt.Fprintf(w, "  %s: %s\n", k, v)
			}
		}
		if q.Has("request") {
			fmt.Fprintln(w, "  request object: present (not shown)")
		}
		return nil
	case resp.StatusCode == http.StatusOK && bytes.Contains(body, []byte(`name="SAMLResponse"`)):
		return reportSAMLResponse(w, body)
	}
	msg, ref := errorPageText(body)
	fmt.Fprintf(w, "outcome: REFUSED: the bridge's error page, HTTP %d\n", resp.StatusCode)
	if msg != "" {
		fmt.Fprintf(w, "  message: %s\n", msg)
	}
	if ref != "" {
		fmt.Fprintf(w, "  %s\n", ref)
	}
	return errRefused
}

// reportSAMLResponse describes the auto-POST form that carries a Response
// to the SP: its ACS and status codes.
func reportSAMLResponse(w io.Writer, body []byte) error {
	action, vals, _ := htmlform.AsFound(string(body))
	data, err := base64.StdEncoding.DecodeString(vals.Get("SAMLResponse"))
	if err != nil {
		return fmt.Errorf("the bridge answered with a SAMLResponse form that does not decode: %w", err)
	}
	if err := saml.CheckMessageXML(data); err != nil {
		return fmt.Errorf("the bridge answered with a SAMLResponse that is not acceptable XML: %w", err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(data); err != nil || doc.Root() == nil {
		return fmt.Errorf("the bridge answered with a SAMLResponse that does not parse: %v", err)
	}
	codes, msg := responseStatus(doc.Root())
	if len(codes) > 0 && codes[0] == "Success" {
		fmt.Fprintf(w, "outcome: ANSWERED: a successful SAML Response to the SP's ACS %s (served by the bridge's SSO session)\n", action)
		return nil
	}
	fmt.Fprintf(w, "outcome: SAML ERROR RESPONSE to the SP's ACS %s\n", action)
	fmt.Fprintf(w, "  status: %s\n", strings.Join(codes, " / "))
	if msg != "" {
		fmt.Fprintf(w, "  message: %s\n", msg)
	}
	return fmt.Errorf("%w: it answered the SP with status %s", errRefused, strings.Join(codes, " / "))
}

var (
	reParagraph = regexp.MustCompile(`(?s)<p(?:\s[^>]*)?>(.*?)</p>`)
	reTags      = regexp.MustCompile(`<[^>]*>`)
)

// errorPageText is the message of the bridge's error page (its first
// paragraph) and, when shown, the reference or error code paragraph.
func errorPageText(body []byte) (msg, ref string) {
	for _, m := range reParagraph.FindAllSubmatch(body, 8) {
		text := strings.Join(strings.Fields(html.UnescapeString(reTags.ReplaceAllString(string(m[1]), ""))), " ")
		switch {
		case text == "":
		case msg == "":
			msg = text
		case ref == "":
			ref = text
		}
	}
	return msg, ref
}
