package main

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/saml"
)

// Limits on what decode and replay accept: the bridge's own caps on a
// query or body and on an inflated message, and a little room for the
// URL around a query.
const (
	maxInputBytes    = saml.DefaultMaxBodyBytes + 8<<10
	maxInflatedBytes = saml.DefaultMaxInflatedBytes
)

// Binding parameter names (saml-bindings §3.4.4, §3.5.4).
const (
	fieldRequest  = "SAMLRequest"
	fieldResponse = "SAMLResponse"
)

// message is one SAML message taken from a tester's input, with what the
// bridge needs to receive it again: the binding and the raw query (for
// HTTP-Redirect, signature parameters included, byte for byte) or form
// body (for HTTP-POST).
type message struct {
	// Form describes the input: "HTTP-Redirect URL", "HTTP-Redirect
	// query", "HTTP-POST form body", "base64 (deflated)", "base64" or
	// "XML".
	Form string
	// Binding is crewjam's HTTPRedirectBinding or HTTPPostBinding: how
	// the bridge receives this message.
	Binding string
	// Field is SAMLRequest or SAMLResponse.
	Field string
	// XML is the decoded message.
	XML []byte
	// RelayState is the decoded RelayState; HasRelayState tells absent
	// from empty.
	RelayState    string
	HasRelayState bool
	// SigAlg is the decoded query-signature algorithm (Redirect only);
	// QuerySigned is true when the query carries a Signature.
	SigAlg      string
	QuerySigned bool
	// Payload is the raw query string (Redirect) or form body (POST) to
	// send to the bridge.
	Payload string
}

// request is m as it reaches endpoint by its binding: a GET with the
// query byte for byte (a Redirect signature covers those bytes), or a
// POST of the form body. decode hands it to the bridge's parser, replay
// sends it to a running bridge, mint --request validates it.
func (m *message) request(ctx context.Context, endpoint string) (*http.Request, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, err
	}
	if m.Binding == crewjam.HTTPRedirectBinding {
		u.RawQuery = m.Payload
		return http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(m.Payload))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}

// errUnusable marks input that holds no SAML message decode can find.
var errUnusable = errors.New("no SAML message found")

// decodeInput finds the SAML message in in: a whole HTTP-Redirect URL, a
// query string or HTTP-POST form body (SAMLRequest=...&RelayState=...),
// bare base64 (raw DEFLATE or not), or raw XML. It decodes but does not
// validate: the XML is whatever the input holds. Errors wrap errUnusable.
// It never panics, whatever the input (FuzzDecodeInput).
func decodeInput(in []byte) (*message, error) {
	if len(in) > maxInputBytes {
		return nil, fmt.Errorf("%w: the input is %d bytes, the limit is %d", errUnusable, len(in), maxInputBytes)
	}
	s := strings.TrimSpace(strings.TrimPrefix(string(in), "\ufeff"))
	switch {
	case s == "":
		return nil, fmt.Errorf("%w: the input is empty", errUnusable)
	case strings.HasPrefix(s, "<"):
		return fromXML(s, "XML")
	case strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://"):
		u, err := url.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("%w: the URL does not parse: %w", errUnusable, err)
		}
		return fromParams(u.RawQuery, "HTTP-Redirect URL", true)
	case strings.Contains(s, fieldRequest+"=") || strings.Contains(s, fieldResponse+"="):
		// A URL without its scheme (idp.example/saml/sso?SAMLRequest=...)
		// is read from its query.
		if i := strings.IndexByte(s, '?'); i >= 0 && !strings.Contains(s[:i], "=") {
			return fromParams(s[i+1:], "HTTP-Redirect URL", true)
		}
		return fromParams(s, "", false)
	}
	return fromBase64(s)
}

// fromXML is a message given as XML: the bridge would receive it by
// HTTP-POST.
func fromXML(s, form string) (*message, error) {
	field := fieldRequest
	if strings.HasSuffix(rootName(s), "Response") {
		field = fieldResponse
	}
	body := field + "=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(s)))
	return &message{Form: form, Binding: crewjam.HTTPPostBinding, Field: field, XML: []byte(s), Payload: body}, nil
}

// fromBase64 is a message given as bare base64: XML is sent by HTTP-POST,
// raw DEFLATE data by HTTP-Redirect (unsigned: a query signature cannot
// survive without its query).
func fromBase64(s string) (*message, error) {
	if strings.Contains(s, "%") {
		if u, err := url.QueryUnescape(s); err == nil {
			s = u
		}
	}
	data, err := decodeB64(s)
	if err != nil {
		return nil, fmt.Errorf("%w: the input is not a URL, a form body, XML or base64", errUnusable)
	}
	if looksLikeXML(data) {
		m, err := fromXML(string(data), "base64")
		if err == nil {
			m.XML = data
		}
		return m, err
	}
	x, err := inflateBounded(data)
	if err != nil {
		return nil, fmt.Errorf("%w: the base64 decodes to neither XML nor raw DEFLATE data: %w", errUnusable, err)
	}
	field := fieldRequest
	if strings.HasSuffix(rootName(string(x)), "Response") {
		field = fieldResponse
	}
	return &message{Form: "base64 (deflated)", Binding: crewjam.HTTPRedirectBinding, Field: field, XML: x,
		Payload: field + "=" + url.QueryEscape(base64.StdEncoding.EncodeToString(data))}, nil
}

// fromParams is a message given as binding parameters: a query string
// (always HTTP-Redirect when it comes from a URL) or a form body. Without
// a URL, a query signature or DEFLATE data mean HTTP-Redirect; XML in
// plain base64 means HTTP-POST. The parameters are kept exactly as given,
// for the signature; duplicates are left for the bridge to refuse.
func fromParams(raw, form string, redirect bool) (*message, error) {
	params := map[string]string{}
	for part := range strings.SplitSeq(raw, "&") {
		k, v, _ := strings.Cut(part, "=")
		if key, err := url.QueryUnescape(k); err == nil {
			if _, dup := params[key]; !dup {
				params[key] = v
			}
		}
	}
	m := &message{Payload: raw}
	_, hasReq := params[fieldRequest]
	_, hasResp := params[fieldResponse]
	switch {
	case hasReq && hasResp:
		return nil, fmt.Errorf("%w: both SAMLRequest and SAMLResponse are present", errUnusable)
	case hasReq:
		m.Field = fieldRequest
	case hasResp:
		m.Field = fieldResponse
	default:
		return nil, fmt.Errorf("%w: no SAMLRequest or SAMLResponse parameter", errUnusable)
	}
	_, hasSigAlg := params["SigAlg"]
	_, m.QuerySigned = params["Signature"]
	if v, ok := params["SigAlg"]; ok {
		m.SigAlg, _ = url.QueryUnescape(v)
	}
	if v, ok := params["RelayState"]; ok {
		rs, err := url.QueryUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("%w: RelayState is not URL-encoded", errUnusable)
		}
		m.RelayState, m.HasRelayState = rs, true
	}
	// Redirect keeps a literal '+' (PathUnescape), a form turns it into a
	// space; base64 has '+' but no space, so the form reading is tried
	// only when the other fails.
	value := params[m.Field]
	var data []byte
	var err error
	for _, unescape := range []func(string) (string, error){url.PathUnescape, url.QueryUnescape} {
		var b64 string
		if b64, err = unescape(value); err == nil {
			if data, err = decodeB64(b64); err == nil {
				break
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s is not base64", errUnusable, m.Field)
	}
	if redirect || hasSigAlg || m.QuerySigned || !looksLikeXML(data) {
		x, err := inflateBounded(data)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", errUnusable, m.Field, err)
		}
		m.Binding, m.XML = crewjam.HTTPRedirectBinding, x
		if form == "" {
			form = "HTTP-Redirect query"
		}
	} else {
		m.Binding, m.XML = crewjam.HTTPPostBinding, data
		form = "HTTP-POST form body"
	}
	m.Form = form
	return m, nil
}

// decodeB64 decodes standard base64, ignoring ASCII whitespace, with or
// without padding.
func decodeB64(s string) ([]byte, error) {
	clean := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
	if clean == "" {
		return nil, errors.New("empty")
	}
	if out, err := base64.StdEncoding.DecodeString(clean); err == nil {
		return out, nil
	}
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(clean, "="))
}

// inflateBounded decompresses raw DEFLATE data, stopping as soon as the
// output passes the bridge's limit (a deflate bomb fails fast).
func inflateBounded(data []byte) ([]byte, error) {
	fr := flate.NewReader(bytes.NewReader(data))
	defer fr.Close()
	out, err := io.ReadAll(io.LimitReader(fr, maxInflatedBytes+1))
	if len(out) > maxInflatedBytes {
		return nil, fmt.Errorf("it inflates to more than %d bytes", maxInflatedBytes)
	}
	if err != nil || len(out) == 0 {
		return nil, errors.New("not raw DEFLATE data")
	}
	return out, nil
}

// looksLikeXML reports whether data starts, after whitespace, with '<'.
func looksLikeXML(data []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("<"))
}

// rootName is the local name of the first element of s ("" when there is
// none before an error). It reads tokens only up to that element.
func rootName(s string) string {
	d := xml.NewDecoder(strings.NewReader(s))
	for range 64 { // a prolog longer than this is not worth sniffing
		tok, err := d.RawToken()
		if err != nil {
			return ""
		}
		if se, ok := tok.(xml.StartElement); ok {
			return se.Name.Local
		}
	}
	return ""
}
