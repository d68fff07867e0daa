// Package remotetest signs SAML metadata documents for tests, the way
// federation signers (xmlsectool, pyFF) do: an enveloped signature as the
// first child of the root, referencing the root's ID, with exclusive c14n.
// It exists so that tests of package metadata, package remote and the
// configuration wiring can build genuinely signed metadata. Never use it
// outside tests.
package remotetest

import (
	"crypto"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

// Options tunes Sign. The zero value signs with RSA-SHA256 and includes the
// certificate in KeyInfo.
type Options struct {
	// SignatureMethod is the XML-DSig SignatureMethod URI; empty means
	// RSA-SHA256. The digest uses the same hash.
	SignatureMethod string
	// OmitKeyInfo leaves KeyInfo out of the signature.
	OmitKeyInfo bool
}

// Sign returns doc with an enveloped signature by signer added as the first
// child of its root element. The root must carry an ID attribute.
func Sign(doc []byte, signer crypto.Signer, cert *x509.Certificate, opts Options) ([]byte, error) {
	root, err := parse(doc)
	if err != nil {
		return nil, err
	}
	if err := SignElement(root, signer, cert, opts); err != nil {
		return nil, err
	}
	return Bytes(root)
}

// SignElement signs el in place, inserting the ds:Signature as its first
// child. el must carry an ID attribute.
func SignElement(el *etree.Element, signer crypto.Signer, cert *x509.Certificate, opts Options) error {
	if el.SelectAttrValue("ID", "") == "" {
		return errors.New("remotetest: the element to sign has no ID attribute")
	}
	var chain [][]byte
	if cert != nil {
		chain = [][]byte{cert.Raw}
	}
	ctx, err := dsig.NewSigningContext(signer, chain)
	if err != nil {
		return fmt.Errorf("remotetest: %w", err)
	}
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	method := opts.SignatureMethod
	if method == "" {
		method = dsig.RSASHA256SignatureMethod
	}
	if err := ctx.SetSignatureMethod(method); err != nil {
		return fmt.Errorf("remotetest: %w", err)
	}
	sig, err := ctx.ConstructSignature(el, true)
	if err != nil {
		return fmt.Errorf("remotetest: %w", err)
	}
	if opts.OmitKeyInfo {
		if ki := sig.FindElement("./KeyInfo"); ki != nil {
			sig.RemoveChild(ki)
		}
	}
	el.InsertChildAt(0, sig)
	return nil
}

// Parse parses doc and returns its root element.
func Parse(doc []byte) (*etree.Element, error) { return parse(doc) }

func parse(doc []byte) (*etree.Element, error) {
	d := etree.NewDocument()
	if err := d.ReadFromBytes(doc); err != nil {
		return nil, fmt.Errorf("remotetest: %w", err)
	}
	if d.Root() == nil {
		return nil, errors.New("remotetest: no root element")
	}
	return d.Root(), nil
}

// Bytes serialises el as a document with an XML declaration.
func Bytes(el *etree.Element) ([]byte, error) {
	d := etree.NewDocument()
	d.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	d.SetRoot(el)
	b, err := d.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("remotetest: %w", err)
	}
	return b, nil
}
