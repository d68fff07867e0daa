package samltest

import (
	"fmt"

	"github.com/beevik/etree"
)

// XSWVariants is the number of signature-wrapping shapes XSW builds.
const XSWVariants = 8

// XSW builds signature-wrapping attack n (1..8), the XSW1–XSW8 family of
// Somorovsky et al. adapted to a signed root element such as an
// AuthnRequest. signed is a genuinely signed root whose ds:Signature is a
// direct child with a Reference to the root's ID; it is not modified.
// evilAttr and evilValue are set on the attacker's element (e.g.
// AssertionConsumerServiceURL), which every variant makes the document's
// root or gives the signed element's ID:
//
//  1. evil root (new ID) + the original's Signature, the original inside
//     ds:Object of that Signature;
//  2. evil root (new ID) + Signature, the original as the root's child
//     before the Signature;
//  3. evil root with the original's ID (duplicate ID), the original in
//     Extensions;
//  4. evil root (new ID) wrapping the original, which keeps its own
//     Signature;
//  5. the original's root and Signature kept, content changed, and an
//     untouched copy appended in Extensions;
//  6. evil root with the original's ID + Signature, the original inside
//     ds:Object;
//  7. evil root (new ID) with the original, signature and all, in
//     Extensions;
//  8. evil root (new ID) + Signature, the original without its signature
//     inside ds:Object.
func XSW(signed *etree.Element, n int, evilAttr, evilValue string) (*etree.Element, error) {
	orig := signed.Copy()
	sig := orig.FindElement("./Signature")
	issuer := orig.FindElement("./Issuer")
	if sig == nil || issuer == nil {
		return nil, fmt.Errorf("samltest: XSW needs a root with Issuer and Signature children")
	}
	id := orig.SelectAttrValue("ID", "")
	// evilRoot is the original without its signature, changed, with id.
	evilRoot := func(newID string) (*etree.Element, *etree.Element) {
		e := orig.Copy()
		e.RemoveChild(e.FindElement("./Signature"))
		e.CreateAttr("ID", newID)
		e.CreateAttr(evilAttr, evilValue)
		return e, e.FindElement("./Issuer")
	}
	after := func(parent, ref, child *etree.Element) { parent.InsertChildAt(ref.Index()+1, child) }
	extensions := func(children ...*etree.Element) *etree.Element {
		ext := etree.NewElement("samlp:Extensions")
		for _, c := range children {
			ext.AddChild(c)
		}
		return ext
	}
	object := func(s, content *etree.Element) {
		s.CreateElement("ds:Object").AddChild(content)
	}
	switch n {
	case 1:
		e, iss := evilRoot("id-evil")
		s := sig.Copy()
		object(s, orig)
		after(e, iss, s)
		return e, nil
	case 2:
		e, iss := evilRoot("id-evil")
		bare := orig.Copy()
		bare.RemoveChild(bare.FindElement("./Signature"))
		after(e, iss, sig.Copy())
		after(e, iss, bare)
		return e, nil
	case 3:
		e, iss := evilRoot(id)
		after(e, iss, extensions(orig))
		return e, nil
	case 4:
		e, iss := evilRoot("id-evil")
		after(e, iss, orig)
		return e, nil
	case 5:
		e := orig.Copy()
		e.CreateAttr(evilAttr, evilValue)
		bare := orig.Copy()
		bare.RemoveChild(bare.FindElement("./Signature"))
		e.AddChild(extensions(bare))
		return e, nil
	case 6:
		e, iss := evilRoot(id)
		s := sig.Copy()
		bare := orig.Copy()
		bare.RemoveChild(bare.FindElement("./Signature"))
		object(s, bare)
		after(e, iss, s)
		return e, nil
	case 7:
		e, iss := evilRoot("id-evil")
		after(e, iss, extensions(orig))
		return e, nil
	case 8:
		e, iss := evilRoot("id-evil")
		s := sig.Copy()
		bare := orig.Copy()
		bare.RemoveChild(bare.FindElement("./Signature"))
		object(s, bare)
		after(e, iss, s)
		return e, nil
	}
	return nil, fmt.Errorf("samltest: no XSW variant %d", n)
}
