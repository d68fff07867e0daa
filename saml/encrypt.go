package saml

import (
	"crypto/rsa"
	"crypto/x509"
	"fmt"

	"github.com/beevik/etree"
	"github.com/crewjam/saml/xmlenc"
)

// XML Encryption algorithm URIs the bridge can encrypt assertions with.
const (
	EncAES256GCM = "http://www.w3.org/2009/xmlenc11#aes256-gcm"
	EncAES128GCM = "http://www.w3.org/2009/xmlenc11#aes128-gcm"
	EncAES256CBC = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
	EncAES128CBC = "http://www.w3.org/2001/04/xmlenc#aes128-cbc"
	KeyRSAOAEP   = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
)

// preferredCiphers is the bridge's order of preference for the block
// cipher: AES-GCM first; CBC only for SPs that declare nothing better.
var preferredCiphers = []string{EncAES256GCM, EncAES128GCM, EncAES256CBC, EncAES128CBC}

// ChooseCipher picks the block cipher for an SP from the EncryptionMethod
// algorithms its metadata declares (empty: AES-256-GCM).
func ChooseCipher(declared []string) string {
	if len(declared) == 0 {
		return EncAES256GCM
	}
	set := make(map[string]bool, len(declared))
	for _, d := range declared {
		set[d] = true
	}
	for _, c := range preferredCiphers {
		if set[c] {
			return c
		}
	}
	return EncAES256GCM
}

func blockCipher(uri string) (xmlenc.BlockCipher, error) {
	switch uri {
	case EncAES256GCM:
		return gcmCipher{keySize: 32, algorithm: EncAES256GCM}, nil
	case EncAES128GCM:
		return gcmCipher{keySize: 16, algorithm: EncAES128GCM}, nil
	case EncAES256CBC:
		return xmlenc.AES256CBC, nil
	case EncAES128CBC:
		return xmlenc.AES128CBC, nil
	}
	return nil, fmt.Errorf("saml: unsupported block cipher %q", uri)
}

// EncryptAssertion wraps a signed assertion element into an
// EncryptedAssertion for cert, with RSA-OAEP key transport (never
// RSA-PKCS#1 v1.5: security catalogue RESP-05).
func EncryptAssertion(assertion *etree.Element, cert *x509.Certificate, cipherURI string) (*etree.Element, error) {
	if _, ok := cert.PublicKey.(*rsa.PublicKey); !ok {
		return nil, fmt.Errorf("saml: SP encryption certificate has a %T key; only RSA is supported", cert.PublicKey)
	}
	bc, err := blockCipher(cipherURI)
	if err != nil {
		return nil, err
	}
	doc := etree.NewDocument()
	doc.SetRoot(assertion.Copy())
	plain, err := doc.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("saml: serialising assertion: %w", err)
	}
	enc := xmlenc.OAEP()
	enc.BlockCipher = bc
	enc.DigestMethod = &xmlenc.SHA1 // rsa-oaep-mgf1p is defined with SHA-1 for OAEP's hash; MGF1 is SHA-1 too
	data, err := enc.Encrypt(cert, plain, nil)
	if err != nil {
		return nil, fmt.Errorf("saml: encrypting assertion: %w", err)
	}
	data.CreateAttr("Type", "http://www.w3.org/2001/04/xmlenc#Element")
	out := etree.NewElement("saml:EncryptedAssertion")
	out.CreateAttr("xmlns:saml", "urn:oasis:names:tc:SAML:2.0:assertion")
	out.AddChild(data)
	return out, nil
}
