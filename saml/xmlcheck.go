package saml

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/beevik/etree"

	"github.com/samlbridge/samlbridge/internal/logtext"
	"github.com/samlbridge/samlbridge/xmlguard"
)

// XML namespaces of SAML 2.0 protocol messages.
const (
	nsProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsDSig      = "http://www.w3.org/2000/09/xmldsig#"
	entityFmt   = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
)

// Structural limits checked by a streaming pass before any DOM or
// signature work (catalogue X-06). A real AuthnRequest has about a dozen
// elements, nested four deep.
const (
	maxXMLDepth      = 64
	maxXMLElements   = 2000
	maxXMLAttrs      = 50
	maxXMLText       = 16 << 10
	maxIDLen         = 256
	maxIssuerLen     = 1024 // SAML core §8.3.6
	maxErrValueBytes = 64   // attacker values quoted in causes are cut here
)

// requestLimits bounds an AuthnRequest's structure (catalogue X-06).
var requestLimits = xmlguard.Limits{MaxDepth: maxXMLDepth, MaxElements: maxXMLElements, MaxAttrs: maxXMLAttrs, MaxText: maxXMLText}

// precheckXML runs the checks that need no DOM on the raw bytes; see
// package xmlguard.
func precheckXML(data []byte) error { return xmlguard.Check(data, requestLimits) }

// CheckMessageXML applies to data the checks every inbound SAML message
// gets before any DOM work: the xmlguard limits the bridge's endpoints
// use. For tools that inspect messages the bridge did not receive.
func CheckMessageXML(data []byte) error { return precheckXML(data) }

// requestDoc is a pre-checked AuthnRequest DOM and what was read from it
// before any signature work.
type requestDoc struct {
	root       *etree.Element
	issuerEl   *etree.Element
	id         string
	issuer     string
	signatures []*etree.Element // every ds:Signature in the document
	// duplicateID is an ID value given to more than one element of a
	// signed document, "" when every ID is unique.
	duplicateID string
}

// parseRequestDoc pre-checks data and parses it with etree, then checks
// the shape the rest of the pipeline relies on: the root is a SAML 2.0
// samlp:AuthnRequest (REQ-11) with a well-formed ID (REQ-10) and an
// IssueInstant, its first child is a saml:Issuer holding only plain text
// (G3, REQ-02, X-09), and no SAML or DSig element carries a
// foreign-namespace attribute that collides with a SAML/DSig attribute
// name (X-08, G19).
func parseRequestDoc(data []byte) (*requestDoc, error) {
	return parseMessageDoc(data, "AuthnRequest")
}

// parseMessageDoc is parseRequestDoc for any of the SAML 2.0 protocol
// messages named by roots (AuthnRequest, LogoutRequest, LogoutResponse,
// ArtifactResolve): the root must be one of them.
func parseMessageDoc(data []byte, roots ...string) (*requestDoc, error) {
	if err := precheckXML(data); err != nil {
		return nil, err
	}
	doc := etree.NewDocument()
	doc.ReadSettings.PreserveCData = true
	doc.ReadSettings.MaxDepth = maxXMLDepth + 1
	if err := doc.ReadFromBytes(data); err != nil {
		return nil, fmt.Errorf("parsing XML: %w", err)
	}
	root := doc.Root()
	if root == nil {
		return nil, errors.New("no root element")
	}
	if !slices.Contains(roots, root.Tag) || root.NamespaceURI() != nsProtocol {
		return nil, fmt.Errorf("root element is {%s}%s, want a SAML 2.0 protocol %s", quote(root.NamespaceURI()), quote(root.Tag), strings.Join(roots, " or "))
	}
	rd := &requestDoc{root: root}
	if err := checkForeignAttrs(root); err != nil {
		return nil, err
	}
	if v, ok := plainAttr(root, "Version"); !ok || v != "2.0" {
		return nil, fmt.Errorf("version %s, want 2.0", quote(v))
	}
	id, _ := plainAttr(root, "ID")
	if !validID(id) {
		return nil, fmt.Errorf("ID %s is not an NCName of 1 to %d characters", quote(id), maxIDLen)
	}
	rd.id = id
	if v, ok := plainAttr(root, "IssueInstant"); !ok || v == "" {
		return nil, errors.New("IssueInstant is missing")
	}
	issuer, issuerEl, err := readIssuer(root)
	if err != nil {
		return nil, err
	}
	rd.issuer, rd.issuerEl = issuer, issuerEl
	ids := map[string]bool{}
	var dup string
	walk(root, func(el *etree.Element) {
		if el.Tag == "Signature" && el.NamespaceURI() == nsDSig {
			rd.signatures = append(rd.signatures, el)
		}
		for _, a := range el.Attr {
			if !isIDAttr(a) {
				continue
			}
			if ids[a.Value] && dup == "" {
				dup = a.Value
			}
			ids[a.Value] = true
		}
	})
	if dup != "" {
		// IDs must be unique (REQ-10). In a signed message this is the
		// signature-wrapping shape, refused as a bad signature by
		// checkSignatureShape, which says more to an admin.
		if len(rd.signatures) == 0 {
			return nil, fmt.Errorf("ID %s is given to more than one element", quote(dup))
		}
		rd.duplicateID = dup
	}
	return rd, nil
}

// isIDAttr reports whether a is an attribute of type ID as a signature
// reference may resolve it: SAML's ID, XML-DSig's Id, or xml:id.
func isIDAttr(a etree.Attr) bool {
	return (a.Space == "" && (a.Key == "ID" || a.Key == "Id")) || (a.Space == "xml" && a.Key == "id")
}

// readIssuer returns the Issuer's value. It must be the root's first child
// element, in the assertion namespace, with an absent or entity Format, and
// contain only character data: comments, CDATA sections, processing
// instructions or elements inside it are refused, so that the value is
// exactly what every parser and canonicaliser sees.
func readIssuer(root *etree.Element) (string, *etree.Element, error) {
	children := root.ChildElements()
	if len(children) == 0 || children[0].Tag != "Issuer" {
		return "", nil, errors.New("the Issuer element is missing")
	}
	el := children[0]
	if el.NamespaceURI() != nsAssertion {
		return "", nil, fmt.Errorf("Issuer is in namespace %s, want the SAML assertion namespace", quote(el.NamespaceURI()))
	}
	if f, ok := plainAttr(el, "Format"); ok && f != entityFmt {
		return "", nil, fmt.Errorf("Issuer Format %s, want absent or entity", quote(f))
	}
	var b strings.Builder
	for _, tok := range el.Child {
		switch t := tok.(type) {
		case *etree.CharData:
			if t.IsCData() {
				return "", nil, errors.New("Issuer contains a CDATA section")
			}
			b.WriteString(t.Data)
		case *etree.Comment:
			return "", nil, errors.New("Issuer contains a comment")
		case *etree.ProcInst:
			return "", nil, errors.New("Issuer contains a processing instruction")
		default:
			return "", nil, errors.New("Issuer contains markup")
		}
	}
	v := strings.TrimSpace(b.String())
	if v == "" || len(v) > maxIssuerLen {
		return "", nil, fmt.Errorf("Issuer is empty or longer than %d bytes", maxIssuerLen)
	}
	return v, el, nil
}

// samlAttrNames are the unqualified attribute names of SAML protocol,
// assertion and XML-DSig elements. A foreign-namespace attribute with one
// of these local names (x:AssertionConsumerServiceURL) is refused: etree's
// SelectAttr would return it where encoding/xml returns the unqualified one
// (catalogue G19, X-08).
var samlAttrNames = map[string]bool{
	"ID": true, "Version": true, "IssueInstant": true, "Destination": true, "Consent": true,
	"ForceAuthn": true, "IsPassive": true, "AssertionConsumerServiceIndex": true,
	"AssertionConsumerServiceURL": true, "ProtocolBinding": true, "AttributeConsumingServiceIndex": true,
	"ProviderName": true, "Format": true, "NameQualifier": true, "SPNameQualifier": true,
	"SPProvidedID": true, "AllowCreate": true, "Comparison": true, "ProxyCount": true,
	"NotBefore": true, "NotOnOrAfter": true, "Recipient": true, "InResponseTo": true, "Address": true,
	"Method": true, "Name": true, "NameFormat": true, "FriendlyName": true, "Count": true,
	"Algorithm": true, "URI": true, "Id": true, "Type": true, "PrefixList": true,
}

func checkForeignAttrs(root *etree.Element) error {
	var err error
	walk(root, func(el *etree.Element) {
		if err != nil {
			return
		}
		switch el.NamespaceURI() {
		case nsProtocol, nsAssertion, nsDSig:
		default:
			return
		}
		for _, a := range el.Attr {
			if a.Space == "" || a.Space == "xmlns" || a.Space == "xml" {
				continue
			}
			if _, plain := plainAttr(el, a.Key); samlAttrNames[a.Key] || plain {
				err = fmt.Errorf("element %s carries the namespaced attribute %s:%s", quote(el.Tag), quote(a.Space), quote(a.Key))
				return
			}
		}
	})
	return err
}

// plainAttr returns the value of the unqualified attribute key. Unlike
// etree's SelectAttr it never matches a prefixed attribute.
func plainAttr(el *etree.Element, key string) (string, bool) {
	for _, a := range el.Attr {
		if a.Space == "" && a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}

// validID accepts xs:ID values (NCName) of 1 to maxIDLen bytes (REQ-10).
func validID(id string) bool {
	if id == "" || len(id) > maxIDLen {
		return false
	}
	for i, r := range id {
		switch {
		case r == '_' || unicode.IsLetter(r):
		case i > 0 && (r == '-' || r == '.' || unicode.IsDigit(r)):
		default:
			return false
		}
	}
	return true
}

// walk calls fn for el and all its descendants, in document order. Depth
// is bounded by precheckXML.
func walk(el *etree.Element, fn func(*etree.Element)) {
	fn(el)
	for _, c := range el.ChildElements() {
		walk(c, fn)
	}
}

// quote renders an untrusted value for logs: Go-quoted and cut to
// maxErrValueBytes.
func quote(s string) string {
	return fmt.Sprintf("%q", logtext.Cut(s, maxErrValueBytes))
}
