package saml

import (
	"bytes"
	"compress/flate"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	crewjam "github.com/crewjam/saml"
)

// Names of the SAML HTTP binding parameters (saml-bindings §3.4.4, §3.5.4).
const (
	paramRequest    = "SAMLRequest"
	paramResponse   = "SAMLResponse"
	paramRelayState = "RelayState"
	paramSigAlg     = "SigAlg"
	paramSignature  = "Signature"
)

// redirectSigAlgs is the SigAlg allow-list for the Redirect binding
// (catalogue SIG-04): RSA with SHA-256 or stronger. SHA-1, DSA, ECDSA and
// HMAC are refused.
var redirectSigAlgs = map[string]crypto.Hash{
	SignatureRSASHA256: crypto.SHA256,
	SignatureRSASHA384: crypto.SHA384,
	SignatureRSASHA512: crypto.SHA512,
}

// rawParams holds the binding parameters of a query string or form body,
// still URL-encoded as received.
type rawParams map[string]string

// parseRawParams splits s on '&' and keeps the raw values of the binding
// parameters. A binding parameter given twice is refused (catalogue X-11):
// url.Values.Get would take the first while a signature check might read
// another. Other parameters are ignored.
func parseRawParams(s string) (rawParams, error) {
	out := rawParams{}
	for part := range strings.SplitSeq(s, "&") {
		if part == "" {
			continue
		}
		rawKey, rawValue, _ := strings.Cut(part, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			return nil, reject(ErrMalformedRequest, fmt.Errorf("undecodable parameter name %s", quote(rawKey)))
		}
		switch key {
		case paramRequest, paramResponse, paramRelayState, paramSigAlg, paramSignature:
		default:
			continue
		}
		if _, dup := out[key]; dup {
			return nil, reject(ErrDuplicateParameter, fmt.Errorf("parameter %s given more than once", key))
		}
		out[key] = rawValue
	}
	return out, nil
}

// inbound is a binding-decoded message, before any XML processing.
type inbound struct {
	binding       string
	field         string // SAMLRequest or SAMLResponse
	xml           []byte
	relayState    string
	hasRelayState bool
	params        rawParams // Redirect only: raw values, for the signature
}

// readRedirect decodes an HTTP-Redirect message (saml-bindings §3.4.4.1):
// query length cap, duplicate parameters, base64, then raw DEFLATE through
// a limit so that a deflate bomb fails fast (catalogue,
//
func (p *RequestParser) readRedirect(r *http.Request, fields ...string) (*inbound, error) {
	if int64(len(r.URL.RawQuery)) > p.maxBodyBytes() {
		return nil, reject(ErrRequestTooLarge, fmt.Errorf("query string of %d bytes", len(r.URL.RawQuery)))
	}
	params, err := parseRawParams(r.URL.RawQuery)
	if err != nil {
		return nil, err
	}
	field, raw, err := messageField(params, fields)
	if err != nil {
		return nil, err
	}
	// PathUnescape keeps a literal '+' (an SP that forgot to encode its
	// base64) instead of turning it into a space.
	b64, err := url.PathUnescape(raw)
	if err != nil {
		return nil, reject(ErrMalformedRequest, fmt.Errorf("%s is not URL-encoded", field))
	}
	compressed, err := decodeBase64(b64)
	if err != nil {
		return nil, reject(ErrMalformedRequest, fmt.Errorf("%s: %w", field, err))
	}
	data, err := inflate(compressed, p.maxInflatedBytes())
	if err != nil {
		return nil, err
	}
	in := &inbound{binding: crewjam.HTTPRedirectBinding, field: field, xml: data, params: params}
	if rs, ok := params[paramRelayState]; ok {
		v, err := url.QueryUnescape(rs)
		if err != nil {
			return nil, &RequestError{Reason: ErrMalformedRequest, Message: msgRelayState, Err: errors.New("RelayState is not URL-encoded")}
		}
		in.relayState, in.hasRelayState = v, true
	}
	return in, nil
}

// messageField returns the one message parameter among fields (default
// SAMLRequest) present in params, and its raw value. Both a SAMLRequest
// and a SAMLResponse in one message is refused.
func messageField(params rawParams, fields []string) (string, string, error) {
	if len(fields) == 0 {
		fields = []string{paramRequest}
	}
	found := ""
	for _, f := range fields {
		if _, ok := params[f]; ok {
			if found != "" {
				return "", "", reject(ErrDuplicateParameter, fmt.Errorf("both %s and %s given", found, f))
			}
			found = f
		}
	}
	if found == "" {
		return "", "", reject(ErrMalformedRequest, fmt.Errorf("no %s parameter", strings.Join(fields, " or ")))
	}
	return found, params[found], nil
}

// decodeBase64 decodes standard base64, ignoring ASCII whitespace (line
// breaks from some SPs, or un-encoded characters turned into spaces).
func decodeBase64(s string) ([]byte, error) {
	clean := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, s)
	out, err := base64.StdEncoding.DecodeString(clean)
	if err != nil {
		return nil, errors.New("not valid base64")
	}
	return out, nil
}

// inflaters pools DEFLATE decompressors: each holds a 32 KiB window and
// its Huffman tables, several times the size of the request it inflates.
var inflaters sync.Pool

// inflate decompresses raw DEFLATE, reading at most limit+1 bytes: a bomb
// stops as soon as it passes the limit.
func inflate(data []byte, limit int64) ([]byte, error) {
	src := bytes.NewReader(data)
	// Reset clears whatever state the last request left, an error or a
	// stream stopped at the limit included.
	fr, _ := inflaters.Get().(io.ReadCloser)
	if fr == nil || fr.(flate.Resetter).Reset(src, nil) != nil {
		fr = flate.NewReader(src)
	}
	defer inflaters.Put(fr)
	out, err := io.ReadAll(io.LimitReader(fr, limit+1))
	if int64(len(out)) > limit {
		return nil, reject(ErrRequestTooLarge, fmt.Errorf("SAMLRequest inflates to more than %d bytes", limit))
	}
	if err != nil {
		return nil, reject(ErrMalformedRequest, errors.New("SAMLRequest is not raw DEFLATE data"))
	}
	return out, nil
}

// hasQuerySignature reports whether the Redirect message carries a
// query-string signature (SigAlg or Signature).
func (in *inbound) hasQuerySignature() bool {
	_, sigAlg := in.params[paramSigAlg]
	_, sig := in.params[paramSignature]
	return sigAlg || sig
}

// verifyRedirectSignature checks the query-string signature of a Redirect
// message (saml-bindings §3.4.4.1, catalogue SIG-03/04/10). The signed
// octets are SAMLRequest=<v> (or SAMLResponse=<v>)[&RelayState=<v>]&SigAlg=<v> with the values
// exactly as they appear in the raw query (never re-encoded, so lowercase
// percent-encoding still verifies), in this order whatever the order in
// the URL. Any of the SP's signing certificates may match (key rollover).
func verifyRedirectSignature(params rawParams, field string, certs []*x509.Certificate) error {
	rawAlg, okAlg := params[paramSigAlg]
	rawSig, okSig := params[paramSignature]
	if !okAlg || !okSig {
		return errors.New("SigAlg and Signature must both be present")
	}
	alg, err := url.QueryUnescape(rawAlg)
	if err != nil {
		return errors.New("SigAlg is not URL-encoded")
	}
	hash, ok := redirectSigAlgs[alg]
	if !ok {
		return fmt.Errorf("SigAlg %s is not allowed (RSA-SHA256 or stronger)", quote(alg))
	}
	b64, err := url.PathUnescape(rawSig)
	if err != nil {
		return errors.New("Signature is not URL-encoded")
	}
	sig, err := decodeBase64(b64)
	if err != nil {
		return fmt.Errorf("Signature: %w", err)
	}
	if field != paramRequest && field != paramResponse {
		return fmt.Errorf("no signed message parameter %s", quote(field))
	}
	signed := field + "=" + params[field]
	if rs, ok := params[paramRelayState]; ok {
		signed += "&" + paramRelayState + "=" + rs
	}
	signed += "&" + paramSigAlg + "=" + rawAlg
	h := hash.New()
	h.Write([]byte(signed))
	digest := h.Sum(nil)
	if len(certs) == 0 {
		return errors.New("the SP has no signing certificate in its metadata")
	}
	for _, c := range certs {
		if pub, ok := c.PublicKey.(*rsa.PublicKey); ok && rsa.VerifyPKCS1v15(pub, hash, digest, sig) == nil {
			return nil
		}
	}
	return errors.New("the signature does not verify with any of the SP's signing certificates")
}

// cryptoSHA1 is the hash of RSA-SHA1 redirect signatures, for SPs marked
// legacy only.
const cryptoSHA1 = crypto.SHA1

// newRawDeflater returns a raw DEFLATE writer (saml-bindings §3.4.4.1).
func newRawDeflater(w io.Writer) (*flate.Writer, error) {
	fw, err := flate.NewWriter(w, flate.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("saml: deflate: %w", err)
	}
	return fw, nil
}
