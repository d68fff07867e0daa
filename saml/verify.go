package saml

import (
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/beevik/etree"

	"github.com/samlbridge/samlbridge/internal/xmlsig"
)

// maxTransforms bounds a Reference's transforms: enveloped-signature and
// exclusive c14n.
const maxTransforms = 2

// verifyPostSignature verifies the enveloped signature of a POST
// AuthnRequest and returns the element goxmldsig verified: the caller must
// read the request from it and from nothing else (catalogue SIG-05).
//
// The signature's shape is checked first (SIG-05/06/08/09): exactly one
// ds:Signature in the whole document, a direct child of the root right
// after the Issuer (SAML core §5.4.1), holding exactly one Reference whose
// URI is "#" + the root's ID, only the enveloped-signature and exclusive
// c14n transforms, allowed SignatureMethod and DigestMethod, and no
// ds:Object. Then goxmldsig verifies it with one SP certificate at a time,
// because with several trusted certificates and no KeyInfo it fails
// outright (G12); any certificate may match (SIG-10 rollover).
//
// Certificate validity dates are ignored, as for metadata keys in general
// (G13): each context's clock is set to the certificate's NotBefore.
func verifyPostSignature(rd *requestDoc, certs []*x509.Certificate) (*etree.Element, error) {
	if err := checkSignatureShape(rd); err != nil {
		return nil, err
	}
	if len(certs) == 0 {
		return nil, errors.New("the SP has no signing certificate in its metadata")
	}
	verified, err := xmlsig.Verify(rd.root, certs)
	if err != nil {
		return nil, fmt.Errorf("the signature does not verify with any of the SP's %d signing certificate(s): %w", len(certs), err)
	}
	return verified, nil
}

func checkSignatureShape(rd *requestDoc) error {
	if len(rd.signatures) != 1 {
		return fmt.Errorf("%d ds:Signature elements, want exactly one", len(rd.signatures))
	}
	if rd.duplicateID != "" {
		// A reference names the signed element by ID: with two elements
		// holding it, which one was signed is the resolver's choice.
		return fmt.Errorf("ID %s is given to more than one element", quote(rd.duplicateID))
	}
	sig := rd.signatures[0]
	if sig.Parent() != rd.root {
		return errors.New("the ds:Signature is not a child of the root element")
	}
	if kids := rd.root.ChildElements(); len(kids) < 2 || kids[1] != sig {
		return errors.New("the ds:Signature does not directly follow the Issuer")
	}
	parts, err := xmlsig.Children(sig, map[string]int{"SignedInfo": 1, "SignatureValue": 1, "KeyInfo": 0})
	if err != nil {
		return fmt.Errorf("Signature: %w", err)
	}
	si, err := xmlsig.Children(parts["SignedInfo"][0], map[string]int{"CanonicalizationMethod": 1, "SignatureMethod": 1, "Reference": 1})
	if err != nil {
		return fmt.Errorf("SignedInfo: %w", err)
	}
	if alg, _ := plainAttr(si["CanonicalizationMethod"][0], "Algorithm"); alg != xmlsig.ExcC14N {
		return fmt.Errorf("CanonicalizationMethod %s, want exclusive c14n", quote(alg))
	}
	sm := si["SignatureMethod"][0]
	if alg, _ := plainAttr(sm, "Algorithm"); !xmlsig.SignatureMethodAllowed(alg) {
		return fmt.Errorf("SignatureMethod %s is not allowed (RSA-SHA256 or stronger)", quote(alg))
	}
	if len(sm.ChildElements()) > 0 {
		return errors.New("SignatureMethod has child elements (HMACOutputLength?)")
	}
	ref := si["Reference"][0]
	if uri, ok := plainAttr(ref, "URI"); !ok || uri != "#"+rd.id {
		return fmt.Errorf("Reference URI %s, want %s", quote(uri), quote("#"+rd.id))
	}
	rp, err := xmlsig.Children(ref, map[string]int{"DigestMethod": 1, "DigestValue": 1, "Transforms": 0})
	if err != nil {
		return fmt.Errorf("Reference: %w", err)
	}
	if alg, _ := plainAttr(rp["DigestMethod"][0], "Algorithm"); !xmlsig.DigestMethodAllowed(alg) {
		return fmt.Errorf("DigestMethod %s is not allowed (SHA-256 or stronger)", quote(alg))
	}
	if len(rp["Transforms"]) != 1 {
		return errors.New("Reference has no Transforms")
	}
	tr, err := xmlsig.Children(rp["Transforms"][0], map[string]int{"Transform": -1})
	if err != nil {
		return fmt.Errorf("Transforms: %w", err)
	}
	if n := len(tr["Transform"]); n == 0 || n > maxTransforms {
		return fmt.Errorf("%d transforms, want 1 to %d", n, maxTransforms)
	}
	enveloped := false
	for _, t := range tr["Transform"] {
		alg, _ := plainAttr(t, "Algorithm")
		switch alg {
		case xmlsig.Enveloped:
			enveloped = true
			if len(t.ChildElements()) > 0 {
				return errors.New("the enveloped-signature transform has child elements")
			}
		case xmlsig.ExcC14N:
			for _, c := range t.ChildElements() {
				if c.Tag != "InclusiveNamespaces" || c.NamespaceURI() != xmlsig.ExcC14N {
					return fmt.Errorf("unexpected %s inside the c14n transform", quote(c.Tag))
				}
			}
		default:
			return fmt.Errorf("transform %s is not allowed", quote(alg))
		}
	}
	if !enveloped {
		return errors.New("no enveloped-signature transform")
	}
	return nil
}
