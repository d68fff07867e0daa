package adversarial

import (
	"context"
	"crypto/rsa"
	"net/url"
	"strings"
	"testing"
	"time"

	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/certs"
	"github.com/samlbridge/samlbridge/demo"
	"github.com/samlbridge/samlbridge/internal/samltest"
)

// spMetadata is a crewjam SP's metadata at base+path, edited.
func spMetadata(t *testing.T, base, path string, bits int, edit func(*crewjam.EntityDescriptor)) ([]byte, *crewjam.ServiceProvider) {
	t.Helper()
	kp, err := certs.Generate(nil, bits, "metadata test SP (TEST KEY)", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	md, _ := url.Parse(base + path + "/metadata")
	acs, _ := url.Parse(base + path + "/acs")
	sp := &crewjam.ServiceProvider{EntityID: md.String(), Key: kp.Key, Certificate: kp.Cert, MetadataURL: *md, AcsURL: *acs,
		SignatureMethod: samltest.RSASHA256}
	ed := sp.Metadata()
	if edit != nil {
		edit(ed)
	}
	data, err := xmlBytes(ed)
	if err != nil {
		t.Fatal(err)
	}
	return data, sp
}

// TestMD02To05MetadataRefusedAtLoad: SP metadata that is expired,
// duplicated, weakly keyed or names a dangerous ACS never becomes a
// trusted SP: loading fails and says which (top-25 #2, #21).
func TestMD02To05MetadataRefusedAtLoad(t *testing.T) {
	const base = "http://127.0.0.1:1"
	setACS := func(loc string) func(*crewjam.EntityDescriptor) {
		return func(ed *crewjam.EntityDescriptor) {
			ed.SPSSODescriptors[0].AssertionConsumerServices[0].Location = loc
		}
	}
	dup, _ := spMetadata(t, base, "/dup", 2048, nil)
	for _, tt := range []struct {
		name string
		md   [][]byte
		want string
	}{
		{"MD-02 validUntil in the past", [][]byte{first(spMetadata(t, base, "/old", 2048, func(ed *crewjam.EntityDescriptor) {
			ed.ValidUntil = time.Now().Add(-time.Hour)
		}))}, "validUntil"},
		{"MD-03 duplicate entityID", [][]byte{dup, dup}, "registered twice"},
		{"REQ-06 javascript: ACS", [][]byte{first(spMetadata(t, base, "/js", 2048, setACS("javascript:alert(1)")))}, `scheme "javascript"`},
		{"REQ-06 data: ACS", [][]byte{first(spMetadata(t, base, "/data", 2048, setACS("data:text/html,x")))}, `scheme "data"`},
		{"MD-05 plain http ACS off loopback", [][]byte{first(spMetadata(t, base, "/http", 2048, setACS("http://sp.example/acs")))}, "http is not allowed"},
		{"SIG-11 1024-bit signing key", [][]byte{first(spMetadata(t, base, "/weak", 1024, nil))}, "2048"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := demo.New(context.Background(), demo.Options{BaseURL: base, ExtraSPMetadata: tt.md})
			if err == nil {
				t.Fatal("the metadata was accepted")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

func first(b []byte, _ *crewjam.ServiceProvider) []byte { return b }

// TestMD04KeyDescriptorWithoutUse: a key without use="signing" serves for
// signing too (saml-metadata §2.4.1.1), so such SPs are not locked out.
func TestMD04KeyDescriptorWithoutUse(t *testing.T) {
	var sp *crewjam.ServiceProvider
	w := newWorld(t, func(o *demo.Options) {
		var md []byte
		md, sp = spMetadata(t, o.BaseURL, "/nouse", 2048, func(ed *crewjam.EntityDescriptor) {
			kds := ed.SPSSODescriptors[0].KeyDescriptors
			for i := range kds {
				kds[i].Use = ""
			}
		})
		o.ExtraSPMetadata = append(o.ExtraSPMetadata, md)
	})
	data := requestXML(t, w.authnRequest(t, sp, nil))
	q, err := samltest.RedirectQuery(data, "", sp.Key.(*rsa.PrivateKey), samltest.RSASHA256)
	if err != nil {
		t.Fatal(err)
	}
	w.flowStarted(t, w.get(t, w.ssoURL()+"?"+q))
}
