package saml

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// Signature algorithms the bridge signs with (saml2int; never RSA-SHA1,
// which crewjam/saml uses by default: security catalogue G6, RESP-01).
const (
	SignatureRSASHA256 = dsig.RSASHA256SignatureMethod
	SignatureRSASHA384 = dsig.RSASHA384SignatureMethod
	SignatureRSASHA512 = dsig.RSASHA512SignatureMethod
	// SignatureRSASHA1 is only for SPs explicitly marked legacy (see
	// Signer.AllowSHA1).
	SignatureRSASHA1 = dsig.RSASHA1SignatureMethod
)

// Signing says which elements of a successful Response are signed.
type Signing int

// Signing choices. Error responses have no assertion; their Response is
// always signed.
const (
	// SignAssertion signs the assertion only (the default; saml2int).
	SignAssertion Signing = iota
	// SignResponse signs the Response only (an encrypted assertion is
	// then protected by the Response signature).
	SignResponse
	// SignBoth signs the assertion and the Response.
	SignBoth
)

// ParseSigning reads a configuration value: "assertion" (or empty),
// "response" or "both".
func ParseSigning(s string) (Signing, error) {
	switch s {
	case "", "assertion":
		return SignAssertion, nil
	case "response":
		return SignResponse, nil
	case "both":
		return SignBoth, nil
	}
	return 0, fmt.Errorf("saml: signing %q is not assertion, response or both", s)
}

// SignatureMethodByName maps a configuration name to a signature method
// URI: rsa-sha256 (or empty), rsa-sha384, rsa-sha512, rsa-sha1.
func SignatureMethodByName(name string) (string, error) {
	switch strings.ToLower(name) {
	case "", "rsa-sha256":
		return SignatureRSASHA256, nil
	case "rsa-sha384":
		return SignatureRSASHA384, nil
	case "rsa-sha512":
		return SignatureRSASHA512, nil
	case "rsa-sha1":
		return SignatureRSASHA1, nil
	}
	return "", fmt.Errorf("saml: signature algorithm %q is not rsa-sha256, rsa-sha384, rsa-sha512 or rsa-sha1", name)
}

// Signer signs SAML elements with an enveloped XML signature, exclusive
// canonicalisation and a single Reference to the element's ID.
type Signer struct {
	// Key is the private key; it must be an RSA key.
	Key crypto.Signer
	// Certs is the certificate chain, leaf first, put in KeyInfo.
	Certs []*x509.Certificate
	// Method is the SignatureMethod URI; empty means RSA-SHA256.
	Method string
	// AllowSHA1 permits Method RSA-SHA1, for SPs explicitly marked
	// legacy; it is refused otherwise (catalogue G6, RESP-01).
	AllowSHA1 bool
}

// WithMethod returns a copy of s signing with method (empty: RSA-SHA256),
// allowing RSA-SHA1 only when allowSHA1 is set.
func (s *Signer) WithMethod(method string, allowSHA1 bool) *Signer {
	c := *s
	c.Method, c.AllowSHA1 = method, allowSHA1
	return &c
}

func (s *Signer) context() (*dsig.SigningContext, error) {
	if s == nil || s.Key == nil || len(s.Certs) == 0 {
		return nil, errors.New("saml: signer has no key or certificate")
	}
	chain := make([][]byte, len(s.Certs))
	for i, c := range s.Certs {
		chain[i] = c.Raw
	}
	ctx, err := dsig.NewSigningContext(s.Key, chain)
	if err != nil {
		return nil, fmt.Errorf("saml: signing context: %w", err)
	}
	method := s.Method
	if method == "" {
		method = SignatureRSASHA256
	}
	switch method {
	case SignatureRSASHA256, SignatureRSASHA384, SignatureRSASHA512:
	case SignatureRSASHA1:
		if !s.AllowSHA1 {
			return nil, errors.New("saml: RSA-SHA1 is only allowed for SPs marked legacy")
		}
	default:
		return nil, fmt.Errorf("saml: signature method %q is not allowed", method)
	}
	if err := ctx.SetSignatureMethod(method); err != nil {
		return nil, fmt.Errorf("saml: %w", err)
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	ctx.IdAttribute = "ID"
	return ctx, nil
}

// SignEnveloped signs el (which must carry an ID attribute and have the
// Issuer as its first child) and returns the signed element with the
// ds:Signature placed right after the Issuer, as the SAML schema requires.
func (s *Signer) SignEnveloped(el *etree.Element) (*etree.Element, error) {
	ctx, err := s.context()
	if err != nil {
		return nil, err
	}
	// goxmldsig's own SignEnveloped builds the same Signature and appends
	// it to a copy of el; this puts it right after the Issuer instead (the
	// enveloped-signature transform removes it wherever it is, so the
	// digest still holds), in the one copy returned.
	sig, err := ctx.ConstructSignature(el, true)
	if err != nil {
		return nil, fmt.Errorf("saml: signing %s: %w", el.Tag, err)
	}
	if sig.Tag != "Signature" {
		return nil, fmt.Errorf("saml: unexpected %q element from signing", sig.Tag)
	}
	out := el.Copy()
	pos := 0
	if first := out.ChildElements(); len(first) > 0 && first[0].Tag == "Issuer" {
		pos = first[0].Index() + 1
	}
	out.InsertChildAt(pos, sig)
	return out, nil
}
