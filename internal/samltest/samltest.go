// Package samltest builds SAML protocol messages for tests, including
// hostile ones: DEFLATE payloads, Redirect-binding queries signed over
// chosen octets, and XML signatures re-signed after an edit so that an
// attack is genuinely signed rather than merely broken. It must not
// import the saml package, whose own tests use it.
package samltest

import (
	"bytes"
	"compress/flate"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
	"github.com/russellhaering/goxmldsig/etreeutils"
)

// Signature algorithm URIs used by the Redirect binding.
const (
	RSASHA1   = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
	RSASHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
)

// Deflate compresses data with raw DEFLATE, as the Redirect binding does.
func Deflate(data []byte) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression) // level is valid
	_, _ = w.Write(data)                               // bytes.Buffer never fails
	_ = w.Close()
	return b.Bytes()
}

// RedirectQuery builds the query string of a Redirect-binding request
// for arbitrary bytes (deflated and base64-encoded). When key is set the
// query is signed with sigAlg (RSASHA256 or RSASHA1) over the encoded
// values in the binding's fixed order.
func RedirectQuery(data []byte, relayState string, key *rsa.PrivateKey, sigAlg string) (string, error) {
	q := "SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString(Deflate(data)))
	if relayState != "" {
		q += "&RelayState=" + url.QueryEscape(relayState)
	}
	if key == nil {
		return q, nil
	}
	q += "&SigAlg=" + url.QueryEscape(sigAlg)
	sig, err := SignOctets(key, sigAlg, q)
	if err != nil {
		return "", err
	}
	return q + "&Signature=" + url.QueryEscape(base64.StdEncoding.EncodeToString(sig)), nil
}

// SignOctets signs octets with PKCS#1 v1.5 and the hash of sigAlg.
func SignOctets(key *rsa.PrivateKey, sigAlg, octets string) ([]byte, error) {
	var h crypto.Hash
	switch sigAlg {
	case RSASHA256:
		h = crypto.SHA256
	case RSASHA1:
		h = crypto.SHA1
	default:
		return nil, fmt.Errorf("samltest: unsupported SigAlg %q", sigAlg)
	}
	d := h.New()
	d.Write([]byte(octets))
	return rsa.SignPKCS1v15(rand.Reader, key, h, d.Sum(nil))
}

// Resign recomputes the SignatureValue of the ds:Signature element sig
// over its (edited) SignedInfo with key and RSA-SHA256, so that a test
// can build a genuinely signed but maliciously shaped signature.
func Resign(sig *etree.Element, key *rsa.PrivateKey) error {
	si := sig.FindElement("./SignedInfo")
	sv := sig.FindElement("./SignatureValue")
	if si == nil || sv == nil {
		return errors.New("samltest: no SignedInfo/SignatureValue")
	}
	ctx, err := etreeutils.NSBuildParentContext(si)
	if err != nil {
		return fmt.Errorf("samltest: %w", err)
	}
	detached, err := etreeutils.NSDetatch(ctx, si)
	if err != nil {
		return fmt.Errorf("samltest: %w", err)
	}
	canon, err := dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("").Canonicalize(detached)
	if err != nil {
		return fmt.Errorf("samltest: %w", err)
	}
	d := crypto.SHA256.New()
	d.Write(canon)
	raw, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d.Sum(nil))
	if err != nil {
		return fmt.Errorf("samltest: %w", err)
	}
	sv.SetText(base64.StdEncoding.EncodeToString(raw))
	return nil
}

// ElementBytes serialises el as a document.
func ElementBytes(el *etree.Element) ([]byte, error) {
	doc := etree.NewDocument()
	doc.SetRoot(el)
	return doc.WriteToBytes()
}

// ParseElement parses data and returns its root element.
func ParseElement(data []byte) (*etree.Element, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(data); err != nil {
		return nil, fmt.Errorf("samltest: %w", err)
	}
	if doc.Root() == nil {
		return nil, errors.New("samltest: no root element")
	}
	return doc.Root(), nil
}
