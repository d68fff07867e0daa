package metadata

import (
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/certs"
)

// testKeys are generated once per test binary.
var testKeys = sync.OnceValues(func() (map[string]*certs.KeyPair, error) {
	now := time.Now()
	out := map[string]*certs.KeyPair{}
	for _, k := range []struct {
		name string
		bits int
	}{{"a", 2048}, {"b", 2048}, {"weak", 1024}} {
		kp, err := certs.Generate(nil, k.bits, "metadata-test-"+k.name, now, 24*time.Hour)
		if err != nil {
			return nil, err
		}
		out[k.name] = kp
	}
	return out, nil
})

func key(t testing.TB, name string) *certs.KeyPair {
	t.Helper()
	keys, err := testKeys()
	if err != nil {
		t.Fatal(err)
	}
	return keys[name]
}

func fileKey(t testing.TB, name string) *certs.KeyPair {
	t.Helper()
	dir := filepath.Join("..", "testdata", "keys")
	kp, err := certs.LoadFiles(filepath.Join(dir, name+"-test.key"), filepath.Join(dir, name+"-test.crt"))
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

const (
	testEntityID = "https://sp.example.org/saml/metadata"
	testACS      = "https://sp.example.org/saml/acs"
)

// spDoc builds SP metadata XML for tests.
type spDoc struct {
	prolog     string // before the root element, e.g. a DOCTYPE
	entityID   string
	rootAttrs  string // extra raw attributes on the EntityDescriptor
	roleAttrs  string // extra raw attributes on the SPSSODescriptor
	keys       []string
	acs        []string
	extraRoles string
}

func defaultDoc(t testing.TB) spDoc {
	return spDoc{
		entityID: testEntityID,
		keys:     []string{keyDesc("", key(t, "a").Cert)},
		acs:      []string{acsEl(saml.HTTPPostBinding, testACS, 1, "")},
	}
}

func (d spDoc) bytes() []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(d.prolog)
	fmt.Fprintf(&b, `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="%s"%s>`, d.entityID, d.rootAttrs)
	fmt.Fprintf(&b, `<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"%s>`, d.roleAttrs)
	for _, k := range d.keys {
		b.WriteString(k)
	}
	b.WriteString(`<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>`)
	for _, a := range d.acs {
		b.WriteString(a)
	}
	b.WriteString(`</md:SPSSODescriptor>`)
	b.WriteString(d.extraRoles)
	b.WriteString(`</md:EntityDescriptor>`)
	return []byte(b.String())
}

func keyDesc(use string, certs ...*x509.Certificate) string {
	var b strings.Builder
	b.WriteString(`<md:KeyDescriptor`)
	if use != "" {
		fmt.Fprintf(&b, ` use="%s"`, use)
	}
	b.WriteString(`><ds:KeyInfo><ds:X509Data>`)
	for _, c := range certs {
		fmt.Fprintf(&b, `<ds:X509Certificate>%s</ds:X509Certificate>`, base64.StdEncoding.EncodeToString(c.Raw))
	}
	b.WriteString(`</ds:X509Data></ds:KeyInfo>`)
	if use != "signing" {
		b.WriteString(`<md:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes256-gcm"/>`)
	}
	b.WriteString(`</md:KeyDescriptor>`)
	return b.String()
}

func acsEl(binding, loc string, index int, isDefault string) string {
	s := fmt.Sprintf(`<md:AssertionConsumerService Binding="%s" Location="%s" index="%d"`, binding, loc, index)
	if isDefault != "" {
		s += fmt.Sprintf(` isDefault="%s"`, isDefault)
	}
	return s + "/>"
}

func fixedNow() time.Time { return time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) }
