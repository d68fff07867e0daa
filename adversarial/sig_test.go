package adversarial

import (
	"crypto/rsa"
	"crypto/tls"
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/samlbridge/samlbridge/certs"
	"github.com/samlbridge/samlbridge/demo"
	"github.com/samlbridge/samlbridge/internal/samltest"
)

// TestSIG01SignatureRequired: the demo SP's metadata says
// AuthnRequestsSigned; an unsigned request by either binding is refused
// (top-25 #1).
func TestSIG01SignatureRequired(t *testing.T) {
	w := newWorld(t)
	t.Run("Redirect", func(t *testing.T) {
		w.redirect(t, requestXML(t, w.authnRequest(t, nil, nil)), "", "").local(t, http.StatusBadRequest, "signature_required")
	})
	t.Run("POST", func(t *testing.T) {
		w.postRequest(t, requestXML(t, w.authnRequest(t, nil, nil)), "").local(t, http.StatusBadRequest, "signature_required")
	})
	t.Run("SIG-12 enveloped signature inside a Redirect message", func(t *testing.T) {
		// The Redirect binding signs the query; a ds:Signature inside the
		// deflated XML is not a Redirect signature and is refused outright.
		data := mustBytes(t, w.signedXML(t, w.authnRequest(t, nil, nil)))
		w.redirect(t, data, "", "").local(t, http.StatusBadRequest, "bad_signature")
	})
}

// TestSIG02OptionalSigningNeverIgnoresABadSignature: an SP that may send
// unsigned requests still has any signature it sends checked; crewjam
// ignores it (top-25 #1).
func TestSIG02OptionalSigningNeverIgnoresABadSignature(t *testing.T) {
	w := newWorld(t)
	optKey := w.optional.Key.(*rsa.PrivateKey)
	t.Run("unsigned is accepted", func(t *testing.T) {
		data := requestXML(t, w.authnRequest(t, w.optional, nil))
		q, err := samltest.RedirectQuery(data, "", nil, "")
		if err != nil {
			t.Fatal(err)
		}
		w.flowStarted(t, w.get(t, w.ssoURL()+"?"+q))
	})
	t.Run("signed with its key is accepted", func(t *testing.T) {
		data := requestXML(t, w.authnRequest(t, w.optional, nil))
		q, err := samltest.RedirectQuery(data, "", optKey, samltest.RSASHA256)
		if err != nil {
			t.Fatal(err)
		}
		w.flowStarted(t, w.get(t, w.ssoURL()+"?"+q))
	})
	t.Run("signed with another key is refused", func(t *testing.T) {
		data := requestXML(t, w.authnRequest(t, w.optional, nil))
		q, err := samltest.RedirectQuery(data, "", w.spKey(), samltest.RSASHA256)
		if err != nil {
			t.Fatal(err)
		}
		w.get(t, w.ssoURL()+"?"+q).local(t, http.StatusBadRequest, "bad_signature")
	})
	t.Run("garbage signature is refused", func(t *testing.T) {
		data := requestXML(t, w.authnRequest(t, w.optional, nil))
		q, err := samltest.RedirectQuery(data, "", nil, "")
		if err != nil {
			t.Fatal(err)
		}
		q += "&SigAlg=" + url.QueryEscape(samltest.RSASHA256) + "&Signature=AAAA"
		w.get(t, w.ssoURL()+"?"+q).local(t, http.StatusBadRequest, "bad_signature")
	})
}

var percentEscape = regexp.MustCompile(`%[0-9A-F]{2}`)

// TestSIG03RawQueryOctets: the Redirect signature covers the octets as
// sent; the bridge never re-encodes the query before verifying
// (top-25 #1).
func TestSIG03RawQueryOctets(t *testing.T) {
	w := newWorld(t)
	lower := func(q string) string { return percentEscape.ReplaceAllStringFunc(q, strings.ToLower) }
	build := func(t *testing.T) string {
		q, err := samltest.RedirectQuery(requestXML(t, w.authnRequest(t, nil, nil)), "a/b c", nil, "")
		if err != nil {
			t.Fatal(err)
		}
		return q + "&SigAlg=" + url.QueryEscape(samltest.RSASHA256)
	}
	sign := func(t *testing.T, octets string) string {
		sig, err := samltest.SignOctets(w.spKey(), samltest.RSASHA256, octets)
		if err != nil {
			t.Fatal(err)
		}
		return "&Signature=" + url.QueryEscape(base64.StdEncoding.EncodeToString(sig))
	}
	t.Run("lower-case escapes signed as sent are accepted", func(t *testing.T) {
		q := lower(build(t))
		w.flowStarted(t, w.get(t, w.ssoURL()+"?"+q+sign(t, q)))
	})
	t.Run("signed over another encoding is refused", func(t *testing.T) {
		q := build(t)
		w.get(t, w.ssoURL()+"?"+lower(q)+sign(t, q)).local(t, http.StatusBadRequest, "bad_signature")
	})
	t.Run("RelayState changed after signing is refused", func(t *testing.T) {
		q := build(t)
		tampered := strings.Replace(q, "RelayState=a%2Fb", "RelayState=x%2Fb", 1)
		w.get(t, w.ssoURL()+"?"+tampered+sign(t, q)).local(t, http.StatusBadRequest, "bad_signature")
	})
}

// signWith signs el (enveloped, exclusive c14n) with method, placing the
// Signature after the Issuer as the SAML schema requires.
func signWith(t *testing.T, el *etree.Element, key *rsa.PrivateKey, certDER []byte, method string) *etree.Element {
	t.Helper()
	ctx := dsig.NewDefaultSigningContext(dsig.TLSCertKeyStore(tls.Certificate{Certificate: [][]byte{certDER}, PrivateKey: key}))
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(method); err != nil {
		t.Fatal(err)
	}
	signed, err := ctx.SignEnveloped(el)
	if err != nil {
		t.Fatal(err)
	}
	// Rebuild the element so that the Signature follows the Issuer.
	out := signed.Copy()
	for _, c := range out.ChildElements() {
		out.RemoveChildAt(c.Index())
	}
	var sig *etree.Element
	for _, c := range signed.ChildElements() {
		if c.Tag == "Signature" {
			sig = c.Copy()
		}
	}
	for _, c := range signed.ChildElements() {
		switch c.Tag {
		case "Signature":
		case "Issuer":
			out.AddChild(c.Copy())
			out.AddChild(sig)
		default:
			out.AddChild(c.Copy())
		}
	}
	if n := len(out.FindElements("./Signature")); n != 1 {
		t.Fatalf("%d signatures after signing", n)
	}
	return out
}

// TestSIG04AlgorithmDowngrade: SHA-1 and HMAC signatures are refused even
// when cryptographically valid (goxmldsig accepts SHA-1), top-25 #4.
func TestSIG04AlgorithmDowngrade(t *testing.T) {
	w := newWorld(t)
	t.Run("Redirect RSA-SHA1, validly signed", func(t *testing.T) {
		w.redirect(t, requestXML(t, w.authnRequest(t, nil, nil)), "", samltest.RSASHA1).local(t, http.StatusBadRequest, "bad_signature")
	})
	t.Run("POST RSA-SHA1, validly signed", func(t *testing.T) {
		req := w.authnRequest(t, nil, nil)
		req.Signature = nil
		el := signWith(t, req.Element(), w.spKey(), w.stack.SP.SAML.Certificate.Raw, dsig.RSASHA1SignatureMethod)
		w.postRequest(t, mustBytes(t, el), "").local(t, http.StatusBadRequest, "bad_signature")
	})
	t.Run("POST HMAC-SHA1", func(t *testing.T) {
		el := w.signedXML(t, w.authnRequest(t, nil, nil))
		sm := el.FindElement("./Signature/SignedInfo/SignatureMethod")
		sm.CreateAttr("Algorithm", "http://www.w3.org/2000/09/xmldsig#hmac-sha1")
		w.postRequest(t, mustBytes(t, el), "").local(t, http.StatusBadRequest, "bad_signature")
	})
	t.Run("POST RSA-SHA512 is accepted", func(t *testing.T) {
		req := w.authnRequest(t, nil, nil)
		req.Signature = nil
		el := signWith(t, req.Element(), w.spKey(), w.stack.SP.SAML.Certificate.Raw, dsig.RSASHA512SignatureMethod)
		w.flowStarted(t, w.postRequest(t, mustBytes(t, el), ""))
	})
}

// TestSIG05XSW: the eight signature-wrapping shapes, each built from a
// genuinely signed request, never start a flow (top-25 #3).
func TestSIG05XSW(t *testing.T) {
	w := newWorld(t)
	for n := 1; n <= samltest.XSWVariants; n++ {
		t.Run("XSW"+string(rune('0'+n)), func(t *testing.T) {
			el, err := samltest.XSW(w.signedXML(t, w.authnRequest(t, nil, nil)), n, "AssertionConsumerServiceURL", "https://evil.example/acs")
			if err != nil {
				t.Fatal(err)
			}
			r := w.postRequest(t, mustBytes(t, el), "")
			r.local(t, http.StatusBadRequest, "bad_signature")
			if strings.Contains(r.body, "evil.example") {
				t.Error("the page echoes the attacker's ACS")
			}
		})
	}
}

// TestSIG06To09SignatureShapes: one Signature, a direct child of the root,
// with one Reference to the root's ID, exclusive c14n, signed with a key
// from metadata only (top-25 #3, #5).
func TestSIG06To09SignatureShapes(t *testing.T) {
	w := newWorld(t)
	evil, err := certs.Generate(nil, 2048, "attacker (TEST KEY)", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	resigned := func(t *testing.T, edit func(sig *etree.Element)) []byte {
		el := w.signedXML(t, w.authnRequest(t, nil, nil))
		sig := el.FindElement("./Signature")
		edit(sig)
		if err := samltest.Resign(sig, w.spKey()); err != nil {
			t.Fatal(err)
		}
		return mustBytes(t, el)
	}
	for _, tt := range []struct {
		name  string
		build func(t *testing.T) []byte
	}{
		{"SIG-06 two References (CVE-2026-33487 shape), genuinely signed", func(t *testing.T) []byte {
			return resigned(t, func(sig *etree.Element) {
				si := sig.FindElement("./SignedInfo")
				ref := si.FindElement("./Reference").Copy()
				ref.CreateAttr("URI", "#other")
				si.AddChild(ref)
			})
		}},
		{"SIG-06 Reference to the whole document", func(t *testing.T) []byte {
			return resigned(t, func(sig *etree.Element) { sig.FindElement("./SignedInfo/Reference").CreateAttr("URI", "") })
		}},
		{"SIG-07 KeyInfo with the attacker's key, signed by it", func(t *testing.T) []byte {
			req := w.authnRequest(t, nil, nil)
			req.Signature = nil
			return mustBytes(t, signWith(t, req.Element(), evil.Key, evil.Cert.Raw, dsig.RSASHA256SignatureMethod))
		}},
		{"SIG-08 second Signature in Extensions", func(t *testing.T) []byte {
			el := w.signedXML(t, w.authnRequest(t, nil, nil))
			ext := etree.NewElement("samlp:Extensions")
			ext.AddChild(el.FindElement("./Signature").Copy())
			el.InsertChildAt(el.FindElement("./Signature").Index()+1, ext)
			return mustBytes(t, el)
		}},
		{"SIG-08 Signature moved to the end", func(t *testing.T) []byte {
			el := w.signedXML(t, w.authnRequest(t, nil, nil))
			sig := el.FindElement("./Signature")
			el.RemoveChild(sig)
			el.AddChild(sig)
			return mustBytes(t, el)
		}},
		{"SIG-09 c14n 1.1 transform, genuinely signed", func(t *testing.T) []byte {
			return resigned(t, func(sig *etree.Element) {
				sig.FindElement("./SignedInfo/Reference/Transforms/Transform[2]").CreateAttr("Algorithm", string(dsig.CanonicalXML11AlgorithmId))
			})
		}},
		{"SIG-09 extra transform, genuinely signed", func(t *testing.T) []byte {
			return resigned(t, func(sig *etree.Element) {
				tr := sig.FindElement("./SignedInfo/Reference/Transforms")
				tr.AddChild(tr.FindElement("./Transform[2]").Copy())
			})
		}},
		{"content changed after signing", func(t *testing.T) []byte {
			el := w.signedXML(t, w.authnRequest(t, nil, nil))
			el.CreateAttr("ForceAuthn", "true")
			return mustBytes(t, el)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w.postRequest(t, tt.build(t), "").local(t, http.StatusBadRequest, "bad_signature")
		})
	}
}

// TestSIG10KeyRollover: an SP publishing two signing keys may sign with
// either, and with no other (top-25 #21).
func TestSIG10KeyRollover(t *testing.T) {
	old, err := certs.Generate(nil, 2048, "rollover old (TEST KEY)", time.Now().Add(-48*time.Hour), time.Hour) // expired
	if err != nil {
		t.Fatal(err)
	}
	next, err := certs.Generate(nil, 2048, "rollover next (TEST KEY)", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, err := certs.Generate(nil, 2048, "rollover stranger (TEST KEY)", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var sp *crewjam.ServiceProvider
	w := newWorld(t, func(o *demo.Options) {
		mdURL, _ := url.Parse(o.BaseURL + "/rollover/metadata")
		acsURL, _ := url.Parse(o.BaseURL + "/rollover/acs")
		sp = &crewjam.ServiceProvider{EntityID: mdURL.String(), Key: old.Key, Certificate: old.Cert, MetadataURL: *mdURL, AcsURL: *acsURL,
			SignatureMethod: dsig.RSASHA256SignatureMethod}
		ed := sp.Metadata()
		kd := crewjam.KeyDescriptor{Use: "signing"}
		kd.KeyInfo.X509Data.X509Certificates = []crewjam.X509Certificate{{Data: base64.StdEncoding.EncodeToString(next.Cert.Raw)}}
		ed.SPSSODescriptors[0].KeyDescriptors = append(ed.SPSSODescriptors[0].KeyDescriptors, kd)
		md, err := xmlBytes(ed)
		if err != nil {
			t.Fatal(err)
		}
		o.ExtraSPMetadata = append(o.ExtraSPMetadata, md)
	})
	for _, tt := range []struct {
		name string
		key  *rsa.PrivateKey
		ok   bool
	}{
		{"old key (certificate expired: metadata is the trust anchor)", old.Key, true},
		{"next key", next.Key, true},
		{"a key not in metadata", other.Key, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := requestXML(t, w.authnRequest(t, sp, nil))
			q, err := samltest.RedirectQuery(data, "", tt.key, samltest.RSASHA256)
			if err != nil {
				t.Fatal(err)
			}
			r := w.get(t, w.ssoURL()+"?"+q)
			if tt.ok {
				w.flowStarted(t, r)
			} else {
				r.local(t, http.StatusBadRequest, "bad_signature")
			}
		})
	}
}
