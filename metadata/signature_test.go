package metadata

import (
	"bytes"
	"crypto/x509"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/samlbridge/samlbridge/certs"
	"github.com/samlbridge/samlbridge/internal/samltest"
	"github.com/samlbridge/samlbridge/metadata/remote/remotetest"
)

const signedRootID = "_md-signed-1"

// signedDoc returns the default SP metadata with an ID, signed by kp.
func signedDoc(t testing.TB, kp *certs.KeyPair, opts remotetest.Options) []byte {
	t.Helper()
	d := defaultDoc(t)
	d.rootAttrs = ` ID="` + signedRootID + `"`
	out, err := remotetest.Sign(d.bytes(), kp.Key, kp.Cert, opts)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// aggregateDoc is an EntitiesDescriptor with two SPs.
func aggregateDoc(t testing.TB, id string) []byte {
	t.Helper()
	one := defaultDoc(t)
	two := defaultDoc(t)
	two.entityID = "https://sp2.example.org/saml/metadata"
	strip := func(b []byte) string {
		s := string(b)
		return s[strings.Index(s, "<md:EntityDescriptor"):]
	}
	return []byte(`<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" ID="` + id + `">` +
		strip(one.bytes()) + strip(two.bytes()) + `</md:EntitiesDescriptor>`)
}

// edit parses doc, applies fn to its root and serialises it again.
func edit(t testing.TB, doc []byte, fn func(root *etree.Element)) []byte {
	t.Helper()
	root, err := remotetest.Parse(doc)
	if err != nil {
		t.Fatal(err)
	}
	fn(root)
	out, err := remotetest.Bytes(root)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestVerifySignatureAccepts(t *testing.T) {
	t.Parallel()
	a, b := key(t, "a"), key(t, "b")
	tests := []struct {
		name    string
		doc     []byte
		trusted []*x509.Certificate
		wantIDs []string
	}{
		{"entity RSA-SHA256", signedDoc(t, a, remotetest.Options{}), []*x509.Certificate{a.Cert}, []string{testEntityID}},
		{"entity RSA-SHA512", signedDoc(t, a, remotetest.Options{SignatureMethod: dsig.RSASHA512SignatureMethod}), []*x509.Certificate{a.Cert}, []string{testEntityID}},
		{"no KeyInfo", signedDoc(t, a, remotetest.Options{OmitKeyInfo: true}), []*x509.Certificate{a.Cert}, []string{testEntityID}},
		{"rollover: second pinned cert matches", signedDoc(t, a, remotetest.Options{OmitKeyInfo: true}), []*x509.Certificate{b.Cert, a.Cert}, []string{testEntityID}},
		{"aggregate", mustSign(t, aggregateDoc(t, "_agg"), a), []*x509.Certificate{a.Cert}, []string{testEntityID, "https://sp2.example.org/saml/metadata"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := VerifySignature(tt.doc, tt.trusted)
			if err != nil {
				t.Fatalf("VerifySignature: %v", err)
			}
			if bytes.Contains(out, []byte("SignatureValue")) {
				t.Error("the verified bytes still hold the signature")
			}
			sps, err := ParseServiceProviders(out, ParseOptions{Now: fixedNow})
			if err != nil {
				t.Fatalf("parsing the verified bytes: %v", err)
			}
			var got []string
			for _, sp := range sps {
				got = append(got, sp.EntityID)
			}
			if strings.Join(got, " ") != strings.Join(tt.wantIDs, " ") {
				t.Errorf("entities %q, want %q", got, tt.wantIDs)
			}
		})
	}
}

func mustSign(t testing.TB, doc []byte, kp *certs.KeyPair) []byte {
	t.Helper()
	out, err := remotetest.Sign(doc, kp.Key, kp.Cert, remotetest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestVerifySignatureRejects(t *testing.T) {
	t.Parallel()
	a, b := key(t, "a"), key(t, "b")
	good := signedDoc(t, a, remotetest.Options{})
	unsigned := defaultDoc(t)
	unsigned.rootAttrs = ` ID="` + signedRootID + `"`
	agg := mustSign(t, aggregateDoc(t, "_agg"), a)

	// A signed EntityDescriptor inside an unsigned EntitiesDescriptor.
	childSigned := func() []byte {
		d := defaultDoc(t)
		d.rootAttrs = ` ID="_child"`
		signed := mustSign(t, d.bytes(), a)
		s := string(signed)
		s = s[strings.Index(s, "<md:EntityDescriptor"):]
		two := defaultDoc(t)
		two.entityID = "https://evil.example.org/sp"
		t2 := string(two.bytes())
		t2 = t2[strings.Index(t2, "<md:EntityDescriptor"):]
		return []byte(`<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" ID="_outer">` + s + t2 + `</md:EntitiesDescriptor>`)
	}()

	// The signed EntityDescriptor, untouched, inside a new unsigned root.
	wrapped := []byte(`<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" ID="_evil">` +
		string(good[bytes.Index(good, []byte("<md:EntityDescriptor")):]) + `</md:EntitiesDescriptor>`)

	tests := []struct {
		name    string
		doc     []byte
		trusted []*x509.Certificate
		want    string
	}{
		{"unsigned", unsigned.bytes(), []*x509.Certificate{a.Cert}, "0 ds:Signature elements"},
		{"wrong key", signedDoc(t, b, remotetest.Options{OmitKeyInfo: true}), []*x509.Certificate{a.Cert}, "does not verify"},
		{"KeyInfo certificate not pinned", signedDoc(t, b, remotetest.Options{}), []*x509.Certificate{a.Cert}, "does not verify"},
		{"no trusted certificate", good, nil, "no trusted certificate"},
		{"RSA-SHA1", signedDoc(t, a, remotetest.Options{SignatureMethod: dsig.RSASHA1SignatureMethod}), []*x509.Certificate{a.Cert}, "SignatureMethod"},
		{"signature on a child, not the root", childSigned, []*x509.Certificate{a.Cert}, "not the first child"},
		{"XSW: signed entity wrapped in a new root", wrapped, []*x509.Certificate{a.Cert}, "not the first child"},
		{"XSW: evil root reuses the ID and signature, original in Extensions", edit(t, good, func(root *etree.Element) {
			orig := root.Copy()
			root.CreateAttr("entityID", "https://evil.example.org/sp")
			ext := root.CreateElement("md:Extensions")
			ext.AddChild(orig)
		}), []*x509.Certificate{a.Cert}, "2 ds:Signature elements"},
		{"XSW: evil root keeps ID and signature, original stripped into Extensions", edit(t, good, func(root *etree.Element) {
			orig := root.Copy()
			orig.RemoveChild(orig.FindElement("./Signature"))
			root.CreateAttr("entityID", "https://evil.example.org/sp")
			root.CreateElement("md:Extensions").AddChild(orig)
		}), []*x509.Certificate{a.Cert}, "does not verify"},
		{"tampered ACS after signing", bytes.Replace(good, []byte(testACS), []byte("https://evil.example.org/acs"), 1), []*x509.Certificate{a.Cert}, "does not verify"},
		{"unsigned entity appended to a signed aggregate", bytes.Replace(agg, []byte("</md:EntitiesDescriptor>"),
			[]byte(`<md:EntityDescriptor entityID="https://evil.example.org/sp"/></md:EntitiesDescriptor>`), 1), []*x509.Certificate{a.Cert}, "does not verify"},
		{"two signatures", edit(t, good, func(root *etree.Element) {
			root.InsertChildAt(1, root.FindElement("./Signature").Copy())
		}), []*x509.Certificate{a.Cert}, "2 ds:Signature elements"},
		{"signature not first", edit(t, good, func(root *etree.Element) {
			sig := root.FindElement("./Signature")
			root.RemoveChild(sig)
			root.AddChild(sig)
		}), []*x509.Certificate{a.Cert}, "not the first child"},
		{"Reference URI empty", resigned(t, good, a, func(si *etree.Element) {
			si.FindElement("./Reference").CreateAttr("URI", "")
		}), []*x509.Certificate{a.Cert}, "Reference URI"},
		{"Reference to another ID", resigned(t, good, a, func(si *etree.Element) {
			si.FindElement("./Reference").CreateAttr("URI", "#other")
		}), []*x509.Certificate{a.Cert}, "Reference URI"},
		{"SHA-1 digest", resigned(t, good, a, func(si *etree.Element) {
			si.FindElement("./Reference/DigestMethod").CreateAttr("Algorithm", "http://www.w3.org/2000/09/xmldsig#sha1")
		}), []*x509.Certificate{a.Cert}, "DigestMethod"},
		{"extra XPath transform", resigned(t, good, a, func(si *etree.Element) {
			tr := si.FindElement("./Reference/Transforms")
			tr.CreateElement("ds:Transform").CreateAttr("Algorithm", "http://www.w3.org/TR/1999/REC-xpath-19991116")
		}), []*x509.Certificate{a.Cert}, "3 Transform elements"},
		{"inclusive c14n", resigned(t, good, a, func(si *etree.Element) {
			si.FindElement("./CanonicalizationMethod").CreateAttr("Algorithm", string(dsig.CanonicalXML10RecAlgorithmId))
		}), []*x509.Certificate{a.Cert}, "CanonicalizationMethod"},
		{"ds:Object inside the signature", edit(t, good, func(root *etree.Element) {
			root.FindElement("./Signature").CreateElement("ds:Object")
		}), []*x509.Certificate{a.Cert}, "unexpected element"},
		{"namespaced ID on the root", edit(t, good, func(root *etree.Element) {
			root.CreateAttr("xmlns:x", "urn:x")
			root.CreateAttr("x:ID", "_other")
		}), []*x509.Certificate{a.Cert}, "namespaced ID"},
		{"root without ID", edit(t, unsigned.bytes(), func(root *etree.Element) {
			root.RemoveAttr("ID")
		}), []*x509.Certificate{a.Cert}, "no ID attribute"},
		{"not metadata", []byte(`<x:Foo xmlns:x="urn:x" ID="_a"/>`), []*x509.Certificate{a.Cert}, "root element"},
		{"DOCTYPE", append([]byte(`<!DOCTYPE x [<!ENTITY e "e">]>`), good[bytes.Index(good, []byte("<md:")):]...), []*x509.Certificate{a.Cert}, ""},
		{"empty", nil, []*x509.Certificate{a.Cert}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := VerifySignature(tt.doc, tt.trusted)
			if err == nil {
				t.Fatalf("VerifySignature accepted it:\n%s", out)
			}
			if !errors.Is(err, ErrSignature) || !errors.Is(err, ErrInvalidMetadata) {
				t.Errorf("err = %v, want ErrSignature and ErrInvalidMetadata", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

// resigned edits the SignedInfo of the signed document doc, then signs the
// SignedInfo again with kp, so that the shape check, not the cryptography,
// must catch the edit.
func resigned(t testing.TB, doc []byte, kp *certs.KeyPair, fn func(si *etree.Element)) []byte {
	t.Helper()
	return edit(t, doc, func(root *etree.Element) {
		sig := root.FindElement("./Signature")
		fn(sig.FindElement("./SignedInfo"))
		if err := samltest.Resign(sig, kp.Key); err != nil {
			t.Fatal(err)
		}
	})
}

// TestVerifySignatureXmlsec1 cross-checks VerifySignature with the
// reference implementation: what remotetest signs verifies with xmlsec1
// (and a tampered copy does not), and what xmlsec1 signs verifies with
// VerifySignature.
func TestVerifySignatureXmlsec1(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("xmlsec1")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("xmlsec1 is required in CI: %v", err)
		}
		t.Skipf("xmlsec1 not installed (apt-get install xmlsec1): %v", err)
	}
	keyFile := filepath.Join("..", "testdata", "keys", "idp-test.key")
	certFile := filepath.Join("..", "testdata", "keys", "idp-test.crt")
	kp := fileKey(t, "idp")
	dir := t.TempDir()
	xmlsec := func(args ...string) ([]byte, error) {
		return exec.Command(bin, args...).CombinedOutput()
	}
	idAttr := "--id-attr:ID"
	entityNode := "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor"

	t.Run("ours verifies with xmlsec1", func(t *testing.T) {
		signed := signedDoc(t, kp, remotetest.Options{})
		good := filepath.Join(dir, "ours.xml")
		bad := filepath.Join(dir, "ours-tampered.xml")
		writeFile(t, good, signed)
		writeFile(t, bad, bytes.Replace(signed, []byte(testACS), []byte("https://evil.example.org/acs"), 1))
		if out, err := xmlsec("--verify", "--pubkey-cert-pem", certFile, idAttr, entityNode, good); err != nil {
			t.Fatalf("xmlsec1 --verify: %v\n%s", err, out)
		}
		if out, err := xmlsec("--verify", "--pubkey-cert-pem", certFile, idAttr, entityNode, bad); err == nil {
			t.Fatalf("xmlsec1 verified a tampered document:\n%s", out)
		}
	})

	t.Run("xmlsec1's verifies with VerifySignature", func(t *testing.T) {
		d := defaultDoc(t)
		d.rootAttrs = ` ID="` + signedRootID + `"`
		doc := string(d.bytes())
		tmpl := `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>` +
			`<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>` +
			`<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>` +
			`<ds:Reference URI="#` + signedRootID + `"><ds:Transforms>` +
			`<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>` +
			`<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>` +
			`<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference>` +
			`</ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>`
		i := strings.Index(doc, "<md:SPSSODescriptor")
		doc = doc[:i] + tmpl + doc[i:]
		in := filepath.Join(dir, "template.xml")
		out := filepath.Join(dir, "xmlsec1-signed.xml")
		writeFile(t, in, []byte(doc))
		if msg, err := xmlsec("--sign", "--privkey-pem", keyFile+","+certFile, idAttr, entityNode, "--output", out, in); err != nil {
			t.Fatalf("xmlsec1 --sign: %v\n%s", err, msg)
		}
		signed, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(signed, []byte("<ds:SignatureValue>")) {
			t.Fatalf("xmlsec1 left the SignatureValue empty:\n%s", signed)
		}
		verified, err := VerifySignature(signed, []*x509.Certificate{kp.Cert})
		if err != nil {
			t.Fatalf("VerifySignature of xmlsec1's signature: %v", err)
		}
		sps, err := ParseServiceProviders(verified, ParseOptions{Now: fixedNow})
		if err != nil || len(sps) != 1 || sps[0].EntityID != testEntityID {
			t.Fatalf("parsing the verified element: %v, %d SPs", err, len(sps))
		}
		tampered := bytes.Replace(signed, []byte(testACS), []byte("https://evil.example.org/acs"), 1)
		if _, err := VerifySignature(tampered, []*x509.Certificate{kp.Cert}); !errors.Is(err, ErrSignature) {
			t.Errorf("tampered xmlsec1-signed document: err = %v, want ErrSignature", err)
		}
		other := key(t, "a")
		if _, err := VerifySignature(signed, []*x509.Certificate{other.Cert}); !errors.Is(err, ErrSignature) {
			t.Errorf("xmlsec1-signed document with the wrong pinned key: err = %v, want ErrSignature", err)
		}
	})
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// FuzzVerifySignature checks that VerifySignature never panics and that
// whatever it accepts is a single metadata element without a signature.
func FuzzVerifySignature(f *testing.F) {
	a := key(f, "a")
	good := signedDoc(f, a, remotetest.Options{})
	f.Add(good)
	f.Add(mustSign(f, aggregateDoc(f, "_agg"), a))
	f.Add(bytes.Replace(good, []byte(testACS), []byte("https://evil.example.org/acs"), 1))
	f.Add([]byte(`<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" ID="_x"/>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		out, err := VerifySignature(doc, []*x509.Certificate{a.Cert})
		if err != nil {
			if !errors.Is(err, ErrSignature) {
				t.Fatalf("error does not wrap ErrSignature: %v", err)
			}
			return
		}
		d := etree.NewDocument()
		if err := d.ReadFromBytes(out); err != nil {
			t.Fatalf("verified bytes do not parse: %v", err)
		}
		if r := d.Root(); r == nil || r.NamespaceURI() != nsMetadata || r.FindElement(".//Signature") != nil {
			t.Fatalf("verified bytes are not a bare metadata element:\n%s", out)
		}
	})
}
