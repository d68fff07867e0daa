package certs

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// DefaultKeyBits is the RSA modulus size used for generated keys.
const DefaultKeyBits = 2048

// KeyPair is an RSA private key with the certificate that carries its public
// half.
type KeyPair struct {
	Key  *rsa.PrivateKey
	Cert *x509.Certificate
}

// KeyID returns a stable key identifier derived from the public key
// (base64url of the first 12 bytes of SHA-256 over the SubjectPublicKeyInfo).
func (k *KeyPair) KeyID() string {
	return PublicKeyID(&k.Key.PublicKey)
}

// PublicKeyID returns the key identifier KeyPair.KeyID would give for pub.
func PublicKeyID(pub *rsa.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// Generate creates a new RSA key of bits size and a self-signed certificate
// for commonName, valid from now-1h for validity. rnd may be nil for
// crypto/rand.
func Generate(rnd io.Reader, bits int, commonName string, now time.Time, validity time.Duration) (*KeyPair, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	if bits == 0 {
		bits = DefaultKeyBits
	}
	key, err := rsa.GenerateKey(rnd, bits)
	if err != nil {
		return nil, fmt.Errorf("certs: generating RSA key: %w", err)
	}
	serial, err := rand.Int(rnd, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, fmt.Errorf("certs: serial number: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-time.Hour).UTC(),
		NotAfter:              now.Add(validity).UTC(),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rnd, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("certs: creating certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("certs: parsing generated certificate: %w", err)
	}
	return &KeyPair{Key: key, Cert: cert}, nil
}

// ParsePEM reads an RSA private key (PKCS#1 or PKCS#8) and, when present, a
// certificate from PEM data. Both may be in the same block list.
func ParsePEM(keyPEM, certPEM []byte) (*KeyPair, error) {
	var kp KeyPair
	for _, data := range [][]byte{keyPEM, certPEM} {
		for len(data) > 0 {
			var block *pem.Block
			block, data = pem.Decode(data)
			if block == nil {
				break
			}
			switch block.Type {
			case "RSA PRIVATE KEY":
				k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
				if err != nil {
					return nil, fmt.Errorf("certs: parsing PKCS#1 key: %w", err)
				}
				kp.Key = k
			case "PRIVATE KEY":
				k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
				if err != nil {
					return nil, fmt.Errorf("certs: parsing PKCS#8 key: %w", err)
				}
				rk, ok := k.(*rsa.PrivateKey)
				if !ok {
					return nil, fmt.Errorf("certs: private key is %T, only RSA is supported", k)
				}
				kp.Key = rk
			case "CERTIFICATE":
				if kp.Cert != nil {
					continue
				}
				c, err := x509.ParseCertificate(block.Bytes)
				if err != nil {
					return nil, fmt.Errorf("certs: parsing certificate: %w", err)
				}
				kp.Cert = c
			}
		}
	}
	if kp.Key == nil {
		return nil, errors.New("certs: no RSA private key found in PEM data")
	}
	if err := kp.Key.Validate(); err != nil {
		return nil, fmt.Errorf("certs: invalid RSA key: %w", err)
	}
	if kp.Key.N.BitLen() < 2048 {
		return nil, fmt.Errorf("certs: RSA key of %d bits is too small (minimum 2048)", kp.Key.N.BitLen())
	}
	if kp.Cert != nil {
		pub, ok := kp.Cert.PublicKey.(*rsa.PublicKey)
		if !ok || !pub.Equal(&kp.Key.PublicKey) {
			return nil, errors.New("certs: certificate does not match the private key")
		}
	}
	kp.Key.Precompute()
	return &kp, nil
}

// LoadFiles reads a key pair from a key file and an optional certificate
// file (certFile may equal keyFile or be empty).
func LoadFiles(keyFile, certFile string) (*KeyPair, error) {
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	var certPEM []byte
	if certFile != "" && certFile != keyFile {
		if certPEM, err = os.ReadFile(certFile); err != nil {
			return nil, fmt.Errorf("certs: %w", err)
		}
	}
	kp, err := ParsePEM(keyPEM, certPEM)
	if err != nil {
		return nil, fmt.Errorf("%w (key file %s)", err, keyFile)
	}
	return kp, nil
}

// EncodePEM returns the PKCS#8 private key and the certificate as PEM.
func (k *KeyPair) EncodePEM() (keyPEM, certPEM []byte, err error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: encoding key: %w", err)
	}
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if k.Cert != nil {
		certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.Cert.Raw})
	}
	return keyPEM, certPEM, nil
}

// LoadOrCreate loads dir/name.key and dir/name.crt, generating and writing
// a fresh TEST key pair (mode 0600) when they do not exist yet.
func LoadOrCreate(dir, name, commonName string, now time.Time) (*KeyPair, error) {
	keyFile := filepath.Join(dir, name+".key")
	certFile := filepath.Join(dir, name+".crt")
	if _, err := os.Stat(keyFile); err == nil {
		return LoadFiles(keyFile, certFile)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("certs: creating state directory: %w", err)
	}
	kp, err := Generate(nil, DefaultKeyBits, commonName, now, 10*365*24*time.Hour)
	if err != nil {
		return nil, err
	}
	keyPEM, certPEM, err := kp.EncodePEM()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	return kp, nil
}
