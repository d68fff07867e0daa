package metadata

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"github.com/crewjam/saml"
)

// RSA modulus bounds for SP keys (catalogue SIG-11): below the minimum is
// weak, above the maximum costs too much CPU per verification.
const (
	minRSABits = 2048
	maxRSABits = 8192
)

// checkKeys reads the KeyDescriptors (MD-04, G9): a missing use means both
// signing and encryption; every KeyDescriptor must carry at least one
// X509Certificate, and every certificate must parse and hold an RSA key of
// 2048 to 8192 bits.
//
// Certificate validity dates are NOT checked, on purpose: in SAML metadata
// a certificate is only a container for a trusted key, and SPs commonly
// publish long-expired self-signed certificates (catalogue G13). The trust
// comes from the metadata having been registered, not from the certificate.
func checkKeys(p *entityProblems, sp *ServiceProvider, kds []saml.KeyDescriptor) {
	if len(kds) > maxKeyDescriptors {
		p.addf("%d KeyDescriptor elements, the limit is %d", len(kds), maxKeyDescriptors)
		return
	}
	for i, kd := range kds {
		use := kd.Use
		if use != "" && use != "signing" && use != "encryption" {
			p.addf("KeyDescriptor #%d: use %.40q is neither signing nor encryption", i+1, use)
			continue
		}
		if len(kd.KeyInfo.X509Data.X509Certificates) == 0 {
			p.addf("KeyDescriptor #%d: KeyInfo has no X509Certificate (G9)", i+1)
			continue
		}
		for j, xc := range kd.KeyInfo.X509Data.X509Certificates {
			cert, err := parseCert(xc.Data)
			if err != nil {
				p.addf("KeyDescriptor #%d, X509Certificate #%d: %v", i+1, j+1, err)
				continue
			}
			if use != "encryption" {
				sp.SigningCerts = appendCert(sp.SigningCerts, cert)
			}
			if use != "signing" {
				sp.EncryptionCerts = appendCert(sp.EncryptionCerts, cert)
			}
		}
		if use != "signing" {
			for _, m := range kd.EncryptionMethods {
				if a := strings.TrimSpace(m.Algorithm); a != "" && !slices.Contains(sp.EncryptionMethods, a) {
					sp.EncryptionMethods = append(sp.EncryptionMethods, a)
				}
			}
		}
	}
}

func parseCert(data string) (*x509.Certificate, error) {
	clean := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, data)
	if clean == "" {
		return nil, fmt.Errorf("empty certificate")
	}
	der, err := base64.StdEncoding.DecodeString(clean)
	if err != nil {
		return nil, fmt.Errorf("certificate is not base64")
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("certificate does not parse: %w", err)
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("certificate key is %T; only RSA keys are supported", cert.PublicKey)
	}
	if bits := pub.N.BitLen(); bits < minRSABits || bits > maxRSABits {
		return nil, fmt.Errorf("RSA key is %d bits, want %d to %d", bits, minRSABits, maxRSABits)
	}
	return cert, nil
}

func appendCert(list []*x509.Certificate, c *x509.Certificate) []*x509.Certificate {
	if slices.ContainsFunc(list, c.Equal) {
		return list
	}
	return append(list, c)
}
