package metadata_test

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/samlbridge/samlbridge/certs"
	"github.com/samlbridge/samlbridge/metadata"
	"github.com/samlbridge/samlbridge/saml"
)

const (
	rollIDP = "https://bridge.example.org/saml/metadata"
	rollSP  = "https://sp.example.org/saml/metadata"
	rollACS = "https://sp.example.org/saml/acs"
)

func loadKey(t *testing.T, name string) *certs.KeyPair {
	t.Helper()
	dir := filepath.Join("..", "testdata", "keys")
	kp, err := certs.LoadFiles(filepath.Join(dir, name+"-test.key"), filepath.Join(dir, name+"-test.crt"))
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

// signedMetadata renders the bridge's metadata publishing published
// (current first), signed with the current key as serve does.
func signedMetadata(t *testing.T, current *certs.KeyPair, published ...*x509.Certificate) []byte {
	t.Helper()
	signer := &saml.Signer{Key: current.Key, Certs: []*x509.Certificate{current.Cert}}
	md, err := metadata.IDPMetadata(metadata.IDPConfig{
		EntityID:      rollIDP,
		SSOURL:        "https://bridge.example.org/saml/sso",
		SigningCerts:  published,
		NameIDFormats: []string{saml.NameIDFormatPersistent},
		ValidUntil:    time.Now().Add(7 * 24 * time.Hour),
		CacheDuration: time.Hour,
		Sign:          signer.SignEnveloped,
	})
	if err != nil {
		t.Fatal(err)
	}
	return md
}

// verifySigned checks md's signature with goxmldsig, trusting only
// trusted, the way an SP that checks the IdP's metadata signature does.
func verifySigned(md []byte, trusted ...*x509.Certificate) error {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(md); err != nil {
		return err
	}
	ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: trusted})
	ctx.IdAttribute = "ID"
	_, err := ctx.Validate(doc.Root())
	return err
}

// spLoading is a crewjam/saml SP that has loaded md after checking its
// signature against trusted.
func spLoading(t *testing.T, md []byte, trusted ...*x509.Certificate) *crewjam.ServiceProvider {
	t.Helper()
	if err := verifySigned(md, trusted...); err != nil {
		t.Fatalf("metadata signature: %v", err)
	}
	var ed crewjam.EntityDescriptor
	if err := xml.Unmarshal(md, &ed); err != nil {
		t.Fatal(err)
	}
	spKey := loadKey(t, "sp")
	acs, _ := url.Parse(rollACS)
	mdURL, _ := url.Parse(rollSP)
	return &crewjam.ServiceProvider{
		EntityID: rollSP, Key: spKey.Key, Certificate: spKey.Cert,
		AcsURL: *acs, MetadataURL: *mdURL, IDPMetadata: &ed,
	}
}

// publishedCerts are the signing certificates md lists, as an SP reads
// them: the keys it will trust for the next metadata and for responses.
func publishedCerts(t *testing.T, md []byte) []*x509.Certificate {
	t.Helper()
	var ed crewjam.EntityDescriptor
	if err := xml.Unmarshal(md, &ed); err != nil {
		t.Fatal(err)
	}
	var out []*x509.Certificate
	for _, kd := range ed.IDPSSODescriptors[0].KeyDescriptors {
		for _, xc := range kd.KeyInfo.X509Data.X509Certificates {
			der, err := base64.StdEncoding.DecodeString(xc.Data)
			if err != nil {
				t.Fatal(err)
			}
			c, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, c)
		}
	}
	return out
}

// response is a login response for rollSP signed with kp, as the bridge
// builds it.
func response(t *testing.T, kp *certs.KeyPair, inResponseTo string) []byte {
	t.Helper()
	idp := &saml.IDP{EntityID: rollIDP, Signer: &saml.Signer{Key: kp.Key, Certs: []*x509.Certificate{kp.Cert}}}
	raw, err := idp.BuildResponse(saml.ResponseParams{
		SPEntityID: rollSP, ACSURL: rollACS, InResponseTo: inResponseTo,
		NameID: saml.NameID{Value: "pairwise-rollover", Format: saml.NameIDFormatPersistent},
	})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// accepts says whether sp takes raw as the answer to inResponseTo.
func accepts(sp *crewjam.ServiceProvider, raw []byte, inResponseTo string) error {
	a, err := sp.ParseXMLResponse(raw, []string{inResponseTo}, sp.AcsURL)
	if err != nil {
		var ire *crewjam.InvalidResponseError
		if errors.As(err, &ire) {
			return ire.PrivateErr
		}
		return err
	}
	if a.Subject.NameID.Value != "pairwise-rollover" {
		return errors.New("wrong NameID")
	}
	return nil
}

// TestKeyRollover is the acceptance test for signing-key rollover without
// downtime (issue 4, item 9): publish the next key, switch, keep the
// previous key during the overlap, then remove it. The relying party is
// crewjam/saml's SP; every metadata document is signature-checked first.
func TestKeyRollover(t *testing.T) {
	a := loadKey(t, "idp")
	b, err := certs.Generate(nil, 2048, "samlbridge TEST ONLY next key", time.Now(), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}

	// a. Before the switch: A signs, B is published as the next key.
	m1 := signedMetadata(t, a, a.Cert, b.Cert)
	if err := verifySigned(m1, b.Cert); err == nil {
		t.Fatal("M1 verifies with B, which did not sign it")
	}
	sp1 := spLoading(t, m1, a.Cert)

	// b. A response signed with A is accepted.
	beforeSwitch := response(t, a, "id-before")
	if err := accepts(sp1, beforeSwitch, "id-before"); err != nil {
		t.Fatalf("SP on M1 refused a response signed with the current key A: %v", err)
	}

	// c. Switch: the bridge signs with B. The SP has not refreshed its
	// metadata yet and accepts it: no downtime.
	afterSwitch := response(t, b, "id-after")
	if err := accepts(sp1, afterSwitch, "id-after"); err != nil {
		t.Fatalf("SP still on M1 refused a response signed with the next key B: %v", err)
	}

	// d. Overlap: M2 lists B (current) and A (previous), signed with B.
	// An SP that trusts what M1 published can check M2's signature (key
	// continuity), and still accepts the response A signed before the
	// switch, as well as B's.
	m2 := signedMetadata(t, b, b.Cert, a.Cert)
	if err := verifySigned(m2, a.Cert); err == nil {
		t.Fatal("M2 verifies with A, which did not sign it")
	}
	sp2 := spLoading(t, m2, publishedCerts(t, m1)...)
	if err := accepts(sp2, beforeSwitch, "id-before"); err != nil {
		t.Fatalf("during the overlap, a response signed with A before the switch was refused: %v", err)
	}
	if err := accepts(sp2, afterSwitch, "id-after"); err != nil {
		t.Fatalf("during the overlap, a response signed with B was refused: %v", err)
	}

	// e. After the overlap: M3 lists B only. A's signatures are refused,
	// B's still accepted.
	m3 := signedMetadata(t, b, b.Cert)
	sp3 := spLoading(t, m3, publishedCerts(t, m2)...)
	err = accepts(sp3, beforeSwitch, "id-before")
	if err == nil {
		t.Fatal("after the overlap, a response signed with the removed key A was accepted")
	}
	if !strings.Contains(err.Error(), "cannot validate signature") {
		t.Errorf("A's response was refused, but not for its signature: %v", err)
	}
	if err := accepts(sp3, afterSwitch, "id-after"); err != nil {
		t.Fatalf("after the overlap, a response signed with B was refused: %v", err)
	}

	// Each document is also accepted by xmlsec1 with its signing key,
	// and refused with the other.
	for _, c := range []struct {
		name        string
		md          []byte
		signer, not *x509.Certificate
	}{{"M1", m1, a.Cert, b.Cert}, {"M2", m2, b.Cert, a.Cert}, {"M3", m3, b.Cert, a.Cert}} {
		if err := xmlsec1Verify(t, c.md, c.signer); err != nil {
			t.Errorf("xmlsec1 refuses %s with its signing key: %v", c.name, err)
		}
		if err := xmlsec1Verify(t, c.md, c.not); err == nil {
			t.Errorf("xmlsec1 accepts %s with a key that did not sign it", c.name)
		}
	}
}

// xmlsec1Verify runs "xmlsec1 --verify" on md with cert as the only key:
// KeyInfo is ignored (--enabled-key-data rsa), so the certificate in the
// signature cannot vouch for itself. Without xmlsec1 the test is skipped,
// except with CI=1, where it fails.
func xmlsec1Verify(t *testing.T, md []byte, cert *x509.Certificate) error {
	t.Helper()
	bin, err := exec.LookPath("xmlsec1")
	if err != nil {
		if os.Getenv("CI") == "1" {
			t.Fatalf("xmlsec1 is required with CI=1 (Debian package xmlsec1): %v", err)
		}
		t.Skipf("xmlsec1 not installed (apt-get install xmlsec1); set CI=1 to make this fail")
	}
	dir := t.TempDir()
	mdFile, certFile := filepath.Join(dir, "md.xml"), filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(mdFile, md, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--verify",
		"--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor",
		"--enabled-key-data", "rsa",
		"--pubkey-cert-pem", certFile,
		mdFile)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return errors.New(lastLine(out.String()))
	}
	if !strings.Contains(out.String(), "OK") {
		return errors.New("xmlsec1 did not print OK: " + lastLine(out.String()))
	}
	return nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
