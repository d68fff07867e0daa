package saml

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/beevik/etree"
	"github.com/crewjam/saml/xmlenc"
)

// gcmCipher is AES-GCM for XML Encryption 1.1 (§5.2.4): CipherValue is the
// 96-bit IV, then the ciphertext, then the 128-bit tag; no padding.
//
// It replaces crewjam/saml's xmlenc.GCM, whose Encrypt (v0.5.1) seals a
// zero-filled buffer instead of the plaintext and drops the IV, and which
// has no AES-256 variant. It satisfies xmlenc.BlockCipher so it plugs into
// xmlenc.RSA.
type gcmCipher struct {
	keySize   int
	algorithm string
	rand      io.Reader
}

var _ xmlenc.BlockCipher = gcmCipher{}

// KeySize implements xmlenc.BlockCipher.
func (g gcmCipher) KeySize() int { return g.keySize }

// Algorithm returns the XML Encryption algorithm URI.
func (g gcmCipher) Algorithm() string { return g.algorithm }

func (g gcmCipher) aead(key any) (cipher.AEAD, error) {
	k, ok := key.([]byte)
	if !ok || len(k) != g.keySize {
		return nil, fmt.Errorf("saml: AES-GCM needs a %d-byte key", g.keySize)
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, fmt.Errorf("saml: %w", err)
	}
	return cipher.NewGCM(block)
}

// Encrypt implements xmlenc.Encrypter. The nonce argument is ignored; a
// fresh random IV is drawn for every message.
func (g gcmCipher) Encrypt(key any, plaintext []byte, _ []byte) (*etree.Element, error) {
	aead, err := g.aead(key)
	if err != nil {
		return nil, err
	}
	rnd := g.rand
	if rnd == nil {
		rnd = rand.Reader
	}
	iv := make([]byte, aead.NonceSize())
	id := make([]byte, 16)
	if _, err := io.ReadFull(rnd, iv); err != nil {
		return nil, fmt.Errorf("saml: GCM IV: %w", err)
	}
	if _, err := io.ReadFull(rnd, id); err != nil {
		return nil, fmt.Errorf("saml: random ID: %w", err)
	}
	out := aead.Seal(iv, iv, plaintext, nil)
	ed := etree.NewElement("xenc:EncryptedData")
	ed.CreateAttr("xmlns:xenc", "http://www.w3.org/2001/04/xmlenc#")
	ed.CreateAttr("Id", fmt.Sprintf("_%x", id))
	em := ed.CreateElement("xenc:EncryptionMethod")
	em.CreateAttr("Algorithm", g.algorithm)
	cd := ed.CreateElement("xenc:CipherData")
	cd.CreateElement("xenc:CipherValue").SetText(base64.StdEncoding.EncodeToString(out))
	return ed, nil
}

// Decrypt implements xmlenc.Decrypter for EncryptedData whose key has
// already been unwrapped (key is the raw AES key). It exists for
// round-trip tests; SPs use their own implementation.
func (g gcmCipher) Decrypt(key any, el *etree.Element) ([]byte, error) {
	aead, err := g.aead(key)
	if err != nil {
		return nil, err
	}
	cv := el.FindElement("./CipherData/CipherValue")
	if cv == nil {
		return nil, errors.New("saml: EncryptedData has no CipherValue")
	}
	buf, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(cv.Text()), ""))
	if err != nil {
		return nil, fmt.Errorf("saml: CipherValue: %w", err)
	}
	if len(buf) < aead.NonceSize()+aead.Overhead() {
		return nil, errors.New("saml: ciphertext too short")
	}
	return aead.Open(nil, buf[:aead.NonceSize()], buf[aead.NonceSize():], nil)
}
