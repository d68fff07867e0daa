package saml

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"

	crewjam "github.com/crewjam/saml"
)

// readPost decodes an HTTP-POST message (saml-bindings §3.5.4): a capped
// application/x-www-form-urlencoded body, no binding parameter in the URL
// as well, no duplicates, base64 without inflation (catalogue X-01,
// The signature, if any, is inside the XML.
func (p *RequestParser) readPost(r *http.Request, fields ...string) (*inbound, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/x-www-form-urlencoded" {
			return nil, reject(ErrMalformedRequest, fmt.Errorf("content type %s", quote(ct)))
		}
	}
	inURL, err := parseRawParams(r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	if len(inURL) > 0 {
		return nil, reject(ErrDuplicateParameter, errors.New("SAML binding parameters in the URL of a POST request"))
	}
	if r.Body == nil {
		return nil, reject(ErrMalformedRequest, errors.New("no body"))
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, p.maxBodyBytes()))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, reject(ErrRequestTooLarge, fmt.Errorf("body larger than %d bytes", p.maxBodyBytes()))
		}
		return nil, reject(ErrMalformedRequest, errors.New("reading the body failed"))
	}
	params, err := parseRawParams(string(body))
	if err != nil {
		return nil, err
	}
	if _, ok := params[paramSigAlg]; ok {
		return nil, reject(ErrBadSignature, errors.New("SigAlg in an HTTP-POST message (the signature belongs in the XML)"))
	}
	if _, ok := params[paramSignature]; ok {
		return nil, reject(ErrBadSignature, errors.New("Signature in an HTTP-POST message (the signature belongs in the XML)"))
	}
	field, raw, err := messageField(params, fields)
	if err != nil {
		return nil, err
	}
	b64, err := url.QueryUnescape(raw)
	if err != nil {
		return nil, reject(ErrMalformedRequest, fmt.Errorf("%s is not form-encoded", field))
	}
	data, err := decodeBase64(b64)
	if err != nil {
		return nil, reject(ErrMalformedRequest, fmt.Errorf("%s: %w", field, err))
	}
	in := &inbound{binding: crewjam.HTTPPostBinding, field: field, xml: data}
	if rs, ok := params[paramRelayState]; ok {
		v, err := url.QueryUnescape(rs)
		if err != nil {
			return nil, &RequestError{Reason: ErrMalformedRequest, Message: msgRelayState, Err: errors.New("RelayState is not form-encoded")}
		}
		in.relayState, in.hasRelayState = v, true
	}
	return in, nil
}
