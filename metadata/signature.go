package metadata

import (
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/samlbridge/samlbridge/internal/xmlsig"
)

// ErrSignature means a metadata document's signature is missing, has a
// shape the bridge refuses, or does not verify with any trusted
// certificate. Errors from VerifySignature wrap it and ErrInvalidMetadata.
var ErrSignature = errors.New("metadata: signature not valid")

// maxMetadataIDLen bounds the root's ID attribute.
const maxMetadataIDLen = 256

// VerifySignature verifies the enveloped XML signature on the root element
// of a metadata document (an md:EntityDescriptor or md:EntitiesDescriptor)
// against pinned certificates, and returns the serialisation of the element
// the signature covers, without the signature. Callers must parse the
// returned bytes and nothing else, so that no unsigned content can be
// wrapped around or slipped next to the signed element (MD-01, SIG-05).
//
// The document first goes through the same XML pre-checks as
// ParseServiceProviders (DOCTYPE, depth, duplicate attributes, round trip).
// The signature must then have exactly this shape, which covers what
// Shibboleth's requireSignedRoot and the usual signers (xmlsectool, pyFF,
// xmlsec1) produce:
//
//   - exactly one ds:Signature in the whole document, and it is the first
//     child element of the root (SAML metadata schema);
//   - the root has an unqualified ID, and the single ds:Reference has
//     URI="#"+ID;
//   - exclusive c14n as CanonicalizationMethod, the transforms are the
//     enveloped-signature transform then exclusive c14n, nothing else;
//   - RSA-SHA256/384/512 and SHA-256/384/512 digests (SHA-1 is refused);
//   - no ds:Object and no namespaced attributes inside the signature.
//
// The key comes only from trusted, never from KeyInfo; when KeyInfo carries
// a certificate it must be one of trusted (LIB-10, SIG-07). Each
// certificate is tried on its own, so several may be pinned for rollover
// (G12). Certificate validity dates are ignored: a pinned certificate is a
// key container, and its expiry is the operator's decision (G13).
//
// Errors wrap ErrInvalidMetadata and ErrSignature.
func VerifySignature(doc []byte, trusted []*x509.Certificate) ([]byte, error) {
	out, err := verifySignature(doc, trusted)
	if err != nil {
		return nil, fmt.Errorf("%w: %w: %w", ErrInvalidMetadata, ErrSignature, err)
	}
	return out, nil
}

func verifySignature(data []byte, trusted []*x509.Certificate) ([]byte, error) {
	if len(trusted) == 0 {
		return nil, errors.New("no trusted certificate configured")
	}
	for i, c := range trusted {
		if c == nil {
			return nil, fmt.Errorf("trusted certificate #%d is nil", i+1)
		}
	}
	if err := precheck(data); err != nil {
		return nil, err
	}
	doc := etree.NewDocument()
	doc.ReadSettings.MaxDepth = maxMetadataDepth + 1
	if err := doc.ReadFromBytes(data); err != nil {
		return nil, fmt.Errorf("parsing XML: %w", err)
	}
	root := doc.Root()
	if root == nil {
		return nil, errors.New("no root element")
	}
	if err := checkMetadataSignatureShape(root); err != nil {
		return nil, err
	}
	verified, err := xmlsig.Verify(root, trusted)
	if err != nil {
		return nil, fmt.Errorf("the signature does not verify with any of the %d trusted certificate(s): %w", len(trusted), err)
	}
	if verified.Tag != root.Tag || verified.NamespaceURI() != nsMetadata {
		return nil, fmt.Errorf("the verified element is %.60q, not the root", verified.Tag)
	}
	out := etree.NewDocument()
	out.SetRoot(verified)
	b, err := out.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("serialising the verified element: %w", err)
	}
	return b, nil
}

// checkMetadataSignatureShape enforces the shape documented on
// VerifySignature before any cryptography runs.
func checkMetadataSignatureShape(root *etree.Element) error {
	if root.NamespaceURI() != nsMetadata || (root.Tag != "EntityDescriptor" && root.Tag != "EntitiesDescriptor") {
		return fmt.Errorf("root element is {%.100s}%.60s, want an md:EntityDescriptor or md:EntitiesDescriptor", root.NamespaceURI(), root.Tag)
	}
	for _, a := range root.Attr {
		if a.Key == "ID" && a.Space != "" {
			return fmt.Errorf("the root carries a namespaced ID attribute %.40s:ID", a.Space)
		}
	}
	id, _ := unqualifiedAttr(root, "ID")
	if id == "" || len(id) > maxMetadataIDLen {
		return fmt.Errorf("the root has no ID attribute of 1 to %d bytes to sign", maxMetadataIDLen)
	}
	var sigs []*etree.Element
	walkElements(root, func(el *etree.Element) {
		if el.Tag == "Signature" && el.NamespaceURI() == dsig.Namespace {
			sigs = append(sigs, el)
		}
	})
	if len(sigs) != 1 {
		return fmt.Errorf("%d ds:Signature elements, want exactly one", len(sigs))
	}
	sig := sigs[0]
	if kids := root.ChildElements(); len(kids) == 0 || kids[0] != sig {
		return errors.New("the ds:Signature is not the first child of the root element")
	}
	var attrErr error
	walkElements(sig, func(el *etree.Element) {
		for _, a := range el.Attr {
			if attrErr == nil && a.Space != "" && a.Space != "xmlns" {
				attrErr = fmt.Errorf("%.40s carries the namespaced attribute %.40s:%.40s", el.Tag, a.Space, a.Key)
			}
		}
	})
	if attrErr != nil {
		return attrErr
	}
	parts, err := xmlsig.Children(sig, map[string]int{"SignedInfo": 1, "SignatureValue": 1, "KeyInfo": 0})
	if err != nil {
		return fmt.Errorf("Signature: %w", err)
	}
	si, err := xmlsig.Children(parts["SignedInfo"][0], map[string]int{"CanonicalizationMethod": 1, "SignatureMethod": 1, "Reference": 1})
	if err != nil {
		return fmt.Errorf("SignedInfo: %w", err)
	}
	cm := si["CanonicalizationMethod"][0]
	if alg, _ := unqualifiedAttr(cm, "Algorithm"); alg != xmlsig.ExcC14N {
		return fmt.Errorf("CanonicalizationMethod %.100q, want exclusive c14n", alg)
	}
	if err := onlyInclusiveNamespaces(cm); err != nil {
		return fmt.Errorf("CanonicalizationMethod: %w", err)
	}
	sm := si["SignatureMethod"][0]
	if alg, _ := unqualifiedAttr(sm, "Algorithm"); !xmlsig.SignatureMethodAllowed(alg) {
		return fmt.Errorf("SignatureMethod %.100q is not allowed (RSA-SHA256 or stronger)", alg)
	}
	if len(sm.ChildElements()) > 0 {
		return errors.New("SignatureMethod has child elements")
	}
	ref := si["Reference"][0]
	if uri, ok := unqualifiedAttr(ref, "URI"); !ok || uri != "#"+id {
		return fmt.Errorf("Reference URI %.100q, want %.100q", uri, "#"+id)
	}
	rp, err := xmlsig.Children(ref, map[string]int{"Transforms": 1, "DigestMethod": 1, "DigestValue": 1})
	if err != nil {
		return fmt.Errorf("Reference: %w", err)
	}
	if alg, _ := unqualifiedAttr(rp["DigestMethod"][0], "Algorithm"); !xmlsig.DigestMethodAllowed(alg) {
		return fmt.Errorf("DigestMethod %.100q is not allowed (SHA-256 or stronger)", alg)
	}
	tr, err := xmlsig.Children(rp["Transforms"][0], map[string]int{"Transform": 2})
	if err != nil {
		return fmt.Errorf("Transforms: %w", err)
	}
	ts := tr["Transform"]
	if alg, _ := unqualifiedAttr(ts[0], "Algorithm"); alg != xmlsig.Enveloped || len(ts[0].ChildElements()) > 0 {
		return fmt.Errorf("first transform %.100q, want the bare enveloped-signature transform", alg)
	}
	if alg, _ := unqualifiedAttr(ts[1], "Algorithm"); alg != xmlsig.ExcC14N {
		return fmt.Errorf("second transform %.100q, want exclusive c14n", alg)
	}
	if err := onlyInclusiveNamespaces(ts[1]); err != nil {
		return fmt.Errorf("c14n transform: %w", err)
	}
	return nil
}

// onlyInclusiveNamespaces allows, inside an exclusive c14n algorithm
// element, nothing but ec:InclusiveNamespaces.
func onlyInclusiveNamespaces(el *etree.Element) error {
	for _, c := range el.ChildElements() {
		if c.Tag != "InclusiveNamespaces" || c.NamespaceURI() != xmlsig.ExcC14N {
			return fmt.Errorf("unexpected element %.60q", c.Tag)
		}
	}
	return nil
}

// unqualifiedAttr returns the value of the attribute key without a
// namespace prefix; unlike etree's SelectAttr it never matches a prefixed
// one.
func unqualifiedAttr(el *etree.Element, key string) (string, bool) {
	for _, a := range el.Attr {
		if a.Space == "" && a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}

// walkElements calls fn for el and its descendants in document order.
// Depth is bounded by precheck.
func walkElements(el *etree.Element, fn func(*etree.Element)) {
	fn(el)
	for _, c := range el.ChildElements() {
		walkElements(c, fn)
	}
}
