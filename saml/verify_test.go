package saml

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"testing"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/samlbridge/samlbridge/certs"
	"github.com/samlbridge/samlbridge/internal/samltest"
)

// signedRoot is a POST AuthnRequest signed by the "signed" SP, as crewjam
// produces it.
func signedRoot(t *testing.T, f *reqFixture) *etree.Element {
	t.Helper()
	return parseElement(t, postXML(t, f.signed, nil))
}

func mustChild(t *testing.T, el *etree.Element, path string) *etree.Element {
	t.Helper()
	c := el.FindElement(path)
	if c == nil {
		t.Fatalf("no %s in %s", path, el.Tag)
	}
	return c
}

// xswWrapped is an evil root (new ID, attacker ACS) carrying the
// genuinely signed request, signature and all, in its Extensions
// (samltest's XSW7).
func xswWrapped(t *testing.T, f *reqFixture) []byte {
	el, err := samltest.XSW(signedRoot(t, f), 7, "AssertionConsumerServiceURL", "https://evil.example/acs")
	if err != nil {
		t.Fatal(err)
	}
	return elementBytes(t, el)
}

// xswSignatureOnEvilRoot moves the signature to the evil root and the
// signed content (without its signature) into Extensions.
func xswSignatureOnEvilRoot(t *testing.T, f *reqFixture) []byte {
	return xswEvilRoot(t, f, "id-evil")
}

func xswEvilRoot(t *testing.T, f *reqFixture, evilID string) []byte {
	orig := signedRoot(t, f)
	sig := mustChild(t, orig, "./Signature")
	orig.RemoveChild(sig)
	evil := orig.Copy()
	if evilID != "" {
		evil.CreateAttr("ID", evilID)
	}
	evil.CreateAttr("AssertionConsumerServiceURL", "https://evil.example/acs")
	issuer := mustChild(t, evil, "./Issuer").Index()
	evil.InsertChildAt(issuer+1, sig)
	ext := etree.NewElement("samlp:Extensions")
	ext.AddChild(orig)
	evil.InsertChildAt(issuer+2, ext)
	return elementBytes(t, evil)
}

// twoReferences adds a second Reference to a signed request and re-signs
// the SignedInfo with the SP's real key (CVE-2026-33487 shape).
func twoReferences(t *testing.T, f *reqFixture) []byte {
	root := signedRoot(t, f)
	sig := mustChild(t, root, "./Signature")
	si := mustChild(t, sig, "./SignedInfo")
	ref := mustChild(t, si, "./Reference").Copy()
	ref.CreateAttr("URI", "#other")
	si.AddChild(ref)
	resign(t, sig, f.signed.Key.(*rsa.PrivateKey))
	return elementBytes(t, root)
}

// TestAttackFixturesAreGenuine shows that the malicious signatures used
// in TestParseRejects are cryptographically valid, so that their
// rejection comes from the bridge's own checks, not from a broken
// fixture.
func TestAttackFixturesAreGenuine(t *testing.T) {
	t.Parallel()
	f := fixture(t)
	goxmldsigAccepts := func(t *testing.T, data []byte) error {
		ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{f.signed.Certificate}})
		ctx.IdAttribute = "ID"
		_, err := ctx.Validate(parseElement(t, data))
		return err
	}
	t.Run("two References verify in goxmldsig", func(t *testing.T) {
		t.Parallel()
		if err := goxmldsigAccepts(t, twoReferences(t, f)); err != nil {
			t.Fatalf("goxmldsig rejects the fixture (%v): the test would prove nothing", err)
		}
		if _, err := f.parser().Parse(postRequest(twoReferences(t, f), nil)); !errors.Is(err, ErrBadSignature) {
			t.Errorf("bridge: err = %v, want ErrBadSignature", err)
		}
	})
	t.Run("resigning an untouched request keeps it valid", func(t *testing.T) {
		t.Parallel()
		root := signedRoot(t, f)
		resign(t, mustChild(t, root, "./Signature"), f.signed.Key.(*rsa.PrivateKey))
		if _, err := f.parser().Parse(postRequest(elementBytes(t, root), nil)); err != nil {
			t.Fatal(err)
		}
	})
}

func TestPostSignatureShapes(t *testing.T) {
	t.Parallel()
	f := fixture(t)
	key := f.signed.Key.(*rsa.PrivateKey)
	tests := []struct {
		name    string
		build   func(t *testing.T) []byte
		wantErr error
	}{
		{name: "signed by the bridge's Signer", build: func(t *testing.T) []byte {
			unsigned := parseElement(t, postXML(t, withMethod(f.signed, ""), nil))
			kp := &certs.KeyPair{Key: key, Cert: f.signed.Certificate}
			return elementBytes(t, signXML(t, unsigned, kp))
		}},
		{name: "XSW with duplicate IDs", build: func(t *testing.T) []byte { return xswEvilRoot(t, f, "") }, wantErr: ErrBadSignature},
		{name: "genuinely signed, with the signed ID on a second element", build: func(t *testing.T) []byte {
			x := postXML(t, withMethod(f.signed, ""), func(r *crewjam.AuthnRequest) { r.ID = "id-dup-signed" })
			x = bytes.Replace(x, []byte("</saml:Issuer>"), []byte(`</saml:Issuer><samlp:Extensions><x:a xmlns:x="urn:x" ID="id-dup-signed"/></samlp:Extensions>`), 1)
			kp := &certs.KeyPair{Key: key, Cert: f.signed.Certificate}
			return elementBytes(t, signXML(t, parseElement(t, x), kp))
		}, wantErr: ErrBadSignature},
		{name: "signature as the last child", build: func(t *testing.T) []byte {
			root := signedRoot(t, f)
			sig := mustChild(t, root, "./Signature")
			root.RemoveChild(sig)
			root.AddChild(sig)
			return elementBytes(t, root)
		}, wantErr: ErrBadSignature},
		{name: "ds:Object inside the signature", build: func(t *testing.T) []byte {
			root := signedRoot(t, f)
			sig := mustChild(t, root, "./Signature")
			sig.CreateElement("ds:Object").CreateElement("x")
			return elementBytes(t, root)
		}, wantErr: ErrBadSignature},
		{name: "second signature inside Extensions", build: func(t *testing.T) []byte {
			root := signedRoot(t, f)
			ext := etree.NewElement("samlp:Extensions")
			ext.AddChild(mustChild(t, root, "./Signature").Copy())
			root.InsertChildAt(mustChild(t, root, "./Signature").Index()+1, ext)
			return elementBytes(t, root)
		}, wantErr: ErrBadSignature},
		{name: "c14n 1.1 transform", build: func(t *testing.T) []byte {
			return editSignedInfo(t, f, func(si *etree.Element) {
				mustChild(t, si, "./Reference/Transforms/Transform[2]").CreateAttr("Algorithm", string(dsig.CanonicalXML11AlgorithmId))
			})
		}, wantErr: ErrBadSignature},
		{name: "three transforms", build: func(t *testing.T) []byte {
			return editSignedInfo(t, f, func(si *etree.Element) {
				tr := mustChild(t, si, "./Reference/Transforms")
				tr.AddChild(mustChild(t, tr, "./Transform[2]").Copy())
			})
		}, wantErr: ErrBadSignature},
		{name: "no enveloped transform", build: func(t *testing.T) []byte {
			return editSignedInfo(t, f, func(si *etree.Element) {
				tr := mustChild(t, si, "./Reference/Transforms")
				tr.RemoveChild(mustChild(t, tr, "./Transform[1]"))
			})
		}, wantErr: ErrBadSignature},
		{name: "SHA-1 digest", build: func(t *testing.T) []byte {
			return editSignedInfo(t, f, func(si *etree.Element) {
				mustChild(t, si, "./Reference/DigestMethod").CreateAttr("Algorithm", "http://www.w3.org/2000/09/xmldsig#sha1")
			})
		}, wantErr: ErrBadSignature},
		{name: "HMAC signature method", build: func(t *testing.T) []byte {
			return editSignedInfo(t, f, func(si *etree.Element) {
				sm := mustChild(t, si, "./SignatureMethod")
				sm.CreateAttr("Algorithm", "http://www.w3.org/2000/09/xmldsig#hmac-sha1")
				sm.CreateElement("ds:HMACOutputLength").SetText("40")
			})
		}, wantErr: ErrBadSignature},
		{name: "empty Reference URI", build: func(t *testing.T) []byte {
			return editSignedInfo(t, f, func(si *etree.Element) { mustChild(t, si, "./Reference").CreateAttr("URI", "") })
		}, wantErr: ErrBadSignature},
		{name: "KeyInfo holding an attacker certificate", build: func(t *testing.T) []byte {
			root := signedRoot(t, f)
			x := mustChild(t, root, "./Signature/KeyInfo/X509Data/X509Certificate")
			x.SetText(base64.StdEncoding.EncodeToString(f.evil.Cert.Raw))
			return elementBytes(t, root)
		}, wantErr: ErrBadSignature},
		{name: "content changed after signing", build: func(t *testing.T) []byte {
			root := signedRoot(t, f)
			root.CreateAttr("ForceAuthn", "false")
			return elementBytes(t, root)
		}, wantErr: ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := f.parser().Parse(postRequest(tt.build(t), nil))
			t.Log(err)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && !got.Signed {
				t.Error("accepted but not marked signed")
			}
		})
	}
}

// editSignedInfo edits the SignedInfo of a signed request and re-signs it
// with the SP's key, so only the bridge's shape checks can refuse it.
func editSignedInfo(t *testing.T, f *reqFixture, edit func(si *etree.Element)) []byte {
	root := signedRoot(t, f)
	sig := mustChild(t, root, "./Signature")
	edit(mustChild(t, sig, "./SignedInfo"))
	resign(t, sig, f.signed.Key.(*rsa.PrivateKey))
	return elementBytes(t, root)
}

// TestSigningKeyRollover: an SP publishing two signing certificates (one
// long expired) may sign with either, with or without KeyInfo (SIG-10,
// G12, G13).
func TestSigningKeyRollover(t *testing.T) {
	t.Parallel()
	f := fixture(t)
	if !f.oldKey.Cert.NotAfter.Before(f.newKey.Cert.NotBefore) {
		t.Fatal("the old certificate should be expired")
	}
	dropKeyInfo := func(t *testing.T, data []byte) []byte {
		root := parseElement(t, data)
		sig := mustChild(t, root, "./Signature")
		sig.RemoveChild(mustChild(t, sig, "./KeyInfo"))
		return elementBytes(t, root)
	}
	tests := []struct {
		name string
		req  func(t *testing.T) []byte
	}{
		{"new key with KeyInfo", func(t *testing.T) []byte { return postXML(t, f.rollover, nil) }},
		{"new key without KeyInfo", func(t *testing.T) []byte { return dropKeyInfo(t, postXML(t, f.rollover, nil)) }},
		{"expired old key with KeyInfo", func(t *testing.T) []byte { return postXML(t, withKey(f.rollover, f.oldKey), nil) }},
		{"expired old key without KeyInfo", func(t *testing.T) []byte {
			return dropKeyInfo(t, postXML(t, withKey(f.rollover, f.oldKey), nil))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := f.parser().Parse(postRequest(tt.req(t), nil))
			if err != nil {
				t.Fatal(err)
			}
			if !got.Signed || got.SP.EntityID != f.rollover.EntityID {
				t.Errorf("signed=%v sp=%s", got.Signed, got.SP.EntityID)
			}
		})
	}
	t.Run("Redirect with the old key", func(t *testing.T) {
		t.Parallel()
		got, err := f.parser().Parse(redirectRequest(t, withKey(f.rollover, f.oldKey), "", nil))
		if err != nil || !got.Signed {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestVerifiedElementIsUsed checks that what the bridge returns comes from
// the element goxmldsig verified: for a signed POST the decoded request has
// no Signature and carries the signed values.
func TestVerifiedElementIsUsed(t *testing.T) {
	t.Parallel()
	f := fixture(t)
	data := postXML(t, f.signed, nil)
	got, err := f.parser().Parse(postRequest(data, nil))
	if err != nil {
		t.Fatal(err)
	}
	want := parseElement(t, data)
	if id, _ := plainAttr(want, "ID"); got.Request.ID != id {
		t.Errorf("ID %q, want %q", got.Request.ID, id)
	}
	if got.Request.Signature != nil {
		t.Error("the decoded request still holds a Signature")
	}
}
