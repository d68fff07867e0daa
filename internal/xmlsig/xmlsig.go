// Package xmlsig holds what the bridge's two verifiers of enveloped XML
// signatures share: the SAML messages it receives (package saml) and the
// SP metadata it fetches (package metadata). Each verifier checks the
// signature's shape and placement its own way; this package gives them
// one algorithm allow-list, one way of walking ds: children, and one
// verification loop over trusted certificates, so the two cannot drift
// apart.
package xmlsig

import (
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// Algorithm URIs of the transforms the verifiers allow.
const (
	ExcC14N   = string(dsig.CanonicalXML10ExclusiveAlgorithmId)
	Enveloped = string(dsig.EnvelopedSignatureAltorithmId)
)

// signatureMethods and digestMethods are the only algorithms accepted
// (catalogue SIG-04, SIG-09, MD-01). goxmldsig has no allow-list of its
// own and accepts SHA-1 and more (G11), so everything else is refused
// before it runs.
var (
	signatureMethods = map[string]bool{
		dsig.RSASHA256SignatureMethod: true,
		dsig.RSASHA384SignatureMethod: true,
		dsig.RSASHA512SignatureMethod: true,
	}
	digestMethods = map[string]bool{
		"http://www.w3.org/2001/04/xmlenc#sha256":       true,
		"http://www.w3.org/2001/04/xmldsig-more#sha384": true,
		"http://www.w3.org/2001/04/xmlenc#sha512":       true,
	}
)

// SignatureMethodAllowed reports whether alg is RSA-SHA256 or stronger.
func SignatureMethodAllowed(alg string) bool { return signatureMethods[alg] }

// DigestMethodAllowed reports whether alg is SHA-256 or stronger.
func DigestMethodAllowed(alg string) bool { return digestMethods[alg] }

// Children groups el's child elements by tag. Every child must be in the
// DSig namespace and named in want; want[tag] > 0 is the exact count
// required, 0 means at most one, -1 any number.
func Children(el *etree.Element, want map[string]int) (map[string][]*etree.Element, error) {
	out := make(map[string][]*etree.Element, len(want))
	for _, c := range el.ChildElements() {
		if _, ok := want[c.Tag]; !ok || c.NamespaceURI() != dsig.Namespace {
			return nil, fmt.Errorf("unexpected element %.60q", c.Tag)
		}
		out[c.Tag] = append(out[c.Tag], c)
	}
	for tag, n := range want {
		got := len(out[tag])
		switch {
		case n > 0 && got != n:
			return nil, fmt.Errorf("%d %s elements, want %d", got, tag, n)
		case n == 0 && got > 1:
			return nil, fmt.Errorf("%d %s elements, want at most one", got, tag)
		}
	}
	return out, nil
}

// Verify verifies the enveloped signature of root, whose shape the caller
// has checked, with goxmldsig and one certificate at a time: with several
// trusted certificates and no KeyInfo goxmldsig fails outright (G12), and
// any of them may match (key rollover). Certificate validity dates are
// ignored (G13): each context's clock is set to the certificate's
// NotBefore. It returns the element goxmldsig verified, which is what the
// caller must read, or every certificate's error joined.
func Verify(root *etree.Element, certs []*x509.Certificate) (*etree.Element, error) {
	var errs []error
	for _, cert := range certs {
		ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{cert}})
		ctx.IdAttribute = "ID"
		ctx.Clock = dsig.NewFakeClockAt(cert.NotBefore)
		verified, err := ctx.Validate(root)
		if err == nil {
			return verified, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}
