package metadata

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/samlbridge/samlbridge/certs"
)

var update = flag.Bool("update", false, "rewrite golden files")

func goldenIDPConfig(t *testing.T) IDPConfig {
	return IDPConfig{
		EntityID:                "https://bridge.example.org/saml/metadata",
		SSOURL:                  "https://bridge.example.org/saml/sso",
		SigningCerts:            []*x509.Certificate{fileKey(t, "idp").Cert, fileKey(t, "sp").Cert},
		WantAuthnRequestsSigned: true,
		NameIDFormats:           []string{"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent", "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"},
		ValidUntil:              time.Date(2030, 1, 2, 3, 4, 5, 600, time.FixedZone("CET", 3600)),
		CacheDuration:           90 * time.Minute,
		OrganizationName:        "Example & Co",
		OrganizationURL:         "https://www.example.org/",
		ContactEmail:            "saml-admin@example.org",
	}
}

func TestIDPMetadata(t *testing.T) {
	t.Parallel()
	cfg := goldenIDPConfig(t)
	got, err := IDPMetadata(cfg)
	if err != nil {
		t.Fatal(err)
	}
	again, err := IDPMetadata(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, again) {
		t.Error("output is not deterministic")
	}
	golden := filepath.Join("testdata", "TestIDPMetadata.golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("metadata differs from %s (run with -update):\n%s", golden, got)
	}
}

// TestIDPMetadataReadByCrewjam checks the metadata with an independent
// consumer: crewjam/saml's SP-side types.
func TestIDPMetadataReadByCrewjam(t *testing.T) {
	t.Parallel()
	cfg := goldenIDPConfig(t)
	data, err := IDPMetadata(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(data, &ed); err != nil {
		t.Fatal(err)
	}
	if ed.EntityID != cfg.EntityID || !ed.ValidUntil.Equal(time.Date(2030, 1, 2, 2, 4, 5, 0, time.UTC)) || ed.CacheDuration != cfg.CacheDuration {
		t.Errorf("EntityDescriptor: %q %v %v", ed.EntityID, ed.ValidUntil, ed.CacheDuration)
	}
	if len(ed.IDPSSODescriptors) != 1 {
		t.Fatalf("%d IDPSSODescriptors", len(ed.IDPSSODescriptors))
	}
	idp := ed.IDPSSODescriptors[0]
	if idp.ProtocolSupportEnumeration != "urn:oasis:names:tc:SAML:2.0:protocol" || idp.WantAuthnRequestsSigned == nil || !*idp.WantAuthnRequestsSigned {
		t.Errorf("IDPSSODescriptor attributes: %q %v", idp.ProtocolSupportEnumeration, idp.WantAuthnRequestsSigned)
	}
	if len(idp.KeyDescriptors) != 2 {
		t.Fatalf("%d KeyDescriptors, want one per certificate", len(idp.KeyDescriptors))
	}
	for i, kd := range idp.KeyDescriptors {
		if kd.Use != "signing" || kd.KeyInfo.X509Data.X509Certificates[0].Data != base64.StdEncoding.EncodeToString(cfg.SigningCerts[i].Raw) {
			t.Errorf("KeyDescriptor %d: use %q or certificate mismatch", i, kd.Use)
		}
	}
	bindings := map[string]string{}
	for _, s := range idp.SingleSignOnServices {
		bindings[s.Binding] = s.Location
	}
	if bindings[saml.HTTPRedirectBinding] != cfg.SSOURL || bindings[saml.HTTPPostBinding] != cfg.SSOURL || len(bindings) != 2 {
		t.Errorf("SSO endpoints: %v", bindings)
	}
	if len(idp.NameIDFormats) != 2 || string(idp.NameIDFormats[0]) != cfg.NameIDFormats[0] {
		t.Errorf("NameIDFormats: %v", idp.NameIDFormats)
	}
	if ed.Organization == nil || ed.Organization.OrganizationNames[0].Value != "Example & Co" || ed.Organization.OrganizationURLs[0].Value != cfg.OrganizationURL {
		t.Errorf("Organization: %+v", ed.Organization)
	}
	if ed.ContactPerson == nil || ed.ContactPerson.EmailAddresses[0] != "mailto:saml-admin@example.org" {
		t.Errorf("ContactPerson: %+v", ed.ContactPerson)
	}
}

func TestIDPMetadataMinimal(t *testing.T) {
	t.Parallel()
	data, err := IDPMetadata(IDPConfig{EntityID: "https://b.example/md", SSOURL: "https://b.example/sso", SigningCerts: []*x509.Certificate{fileKey(t, "idp").Cert}})
	if err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{"validUntil", "cacheDuration", "Organization", "ContactPerson", "NameIDFormat"} {
		if bytes.Contains(data, []byte(absent)) {
			t.Errorf("unset %s is present:\n%s", absent, data)
		}
	}
	if !bytes.Contains(data, []byte(`WantAuthnRequestsSigned="false"`)) {
		t.Errorf("WantAuthnRequestsSigned missing:\n%s", data)
	}
}

func TestIDPMetadataRejects(t *testing.T) {
	t.Parallel()
	cert := fileKey(t, "idp").Cert
	ok := IDPConfig{EntityID: "https://b.example/md", SSOURL: "https://b.example/sso", SigningCerts: []*x509.Certificate{cert}}
	weak := key(t, "weak").Cert
	tests := []struct {
		name string
		edit func(*IDPConfig)
	}{
		{"no entityID", func(c *IDPConfig) { c.EntityID = "" }},
		{"relative SLO URL", func(c *IDPConfig) { c.SingleLogoutURL = "/saml/slo" }},
		{"javascript artifact resolution URL", func(c *IDPConfig) { c.ArtifactResolutionURL = "javascript:alert(1)" }},
		{"1024-bit certificate", func(c *IDPConfig) { c.SigningCerts = []*x509.Certificate{cert, weak} }},
		{"certificate listed twice", func(c *IDPConfig) { c.SigningCerts = []*x509.Certificate{cert, cert} }},
		{"relative SSO URL", func(c *IDPConfig) { c.SSOURL = "/saml/sso" }},
		{"no certificate", func(c *IDPConfig) { c.SigningCerts = nil }},
		{"nil certificate", func(c *IDPConfig) { c.SigningCerts = []*x509.Certificate{nil} }},
		{"organization without URL", func(c *IDPConfig) { c.OrganizationName = "x" }},
		{"negative cache duration", func(c *IDPConfig) { c.CacheDuration = -time.Second }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := ok
			tt.edit(&cfg)
			if _, err := IDPMetadata(cfg); !errors.Is(err, ErrInvalidMetadata) {
				t.Errorf("err = %v, want ErrInvalidMetadata", err)
			}
		})
	}
}

func TestXSDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    time.Duration
		want string
	}{
		{time.Hour, "PT1H"},
		{90 * time.Minute, "PT1H30M"},
		{36*time.Hour + 5*time.Second, "PT36H5S"},
		{1500 * time.Millisecond, "PT1.5S"},
		{time.Nanosecond, "PT0.000000001S"},
	}
	for _, tt := range tests {
		if got := xsDuration(tt.d); got != tt.want {
			t.Errorf("xsDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
		var back saml.Duration
		if err := back.UnmarshalText([]byte(xsDuration(tt.d))); err != nil || time.Duration(back) != tt.d {
			t.Errorf("crewjam reads %q as %v (%v), want %v", xsDuration(tt.d), time.Duration(back), err, tt.d)
		}
	}
}

// goldenCompare compares got with testdata/<name>.golden, rewriting it
// with -update.
func goldenCompare(t *testing.T, name string, got []byte) {
	t.Helper()
	golden := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("metadata differs from %s (run with -update):\n%s", golden, got)
	}
}

// TestIDPMetadataEndpoints checks the optional SingleLogoutService and
// ArtifactResolutionService: their shape, and the schema order of the
// IDPSSODescriptor's children.
func TestIDPMetadataEndpoints(t *testing.T) {
	t.Parallel()
	cfg := IDPConfig{
		EntityID:              "https://b.example/md",
		SSOURL:                "https://b.example/sso",
		SingleLogoutURL:       "https://b.example/slo",
		ArtifactResolutionURL: "https://b.example/artifact",
		SigningCerts:          []*x509.Certificate{fileKey(t, "idp").Cert},
		NameIDFormats:         []string{string(saml.PersistentNameIDFormat)},
	}
	got, err := IDPMetadata(cfg)
	if err != nil {
		t.Fatal(err)
	}
	goldenCompare(t, "TestIDPMetadataEndpoints", got)

	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(got); err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, c := range doc.FindElement("/EntityDescriptor/IDPSSODescriptor").ChildElements() {
		if len(order) == 0 || order[len(order)-1] != c.Tag {
			order = append(order, c.Tag)
		}
	}
	want := []string{"KeyDescriptor", "ArtifactResolutionService", "SingleLogoutService", "NameIDFormat", "SingleSignOnService"}
	if !slices.Equal(order, want) {
		t.Errorf("IDPSSODescriptor children %v, want the schema order %v", order, want)
	}
	if ars := doc.FindElement("//ArtifactResolutionService"); ars == nil || ars.SelectAttrValue("index", "") != "0" {
		t.Error("ArtifactResolutionService has no index=\"0\"")
	}

	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(got, &ed); err != nil {
		t.Fatal(err)
	}
	idp := ed.IDPSSODescriptors[0]
	if ars := idp.ArtifactResolutionServices; len(ars) != 1 || ars[0].Binding != saml.SOAPBinding || ars[0].Location != cfg.ArtifactResolutionURL {
		t.Errorf("ArtifactResolutionServices: %+v", ars)
	}
	slo := map[string]string{}
	for _, e := range idp.SingleLogoutServices {
		slo[e.Binding] = e.Location
	}
	if len(slo) != 2 || slo[saml.HTTPRedirectBinding] != cfg.SingleLogoutURL || slo[saml.HTTPPostBinding] != cfg.SingleLogoutURL {
		t.Errorf("SingleLogoutServices: %v", slo)
	}

	// Unset, neither endpoint is advertised.
	cfg.SingleLogoutURL, cfg.ArtifactResolutionURL = "", ""
	plain, err := IDPMetadata(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{"SingleLogoutService", "ArtifactResolutionService", "bindings:SOAP"} {
		if bytes.Contains(plain, []byte(absent)) {
			t.Errorf("unset endpoint advertised (%s):\n%s", absent, plain)
		}
	}
}

// dsigSigner signs with goxmldsig directly, which appends the Signature as
// the last child: IDPMetadata must move it first. (The bridge passes
// saml.Signer.SignEnveloped; the saml package cannot be imported here.)
func dsigSigner(kp *certs.KeyPair) func(*etree.Element) (*etree.Element, error) {
	return func(el *etree.Element) (*etree.Element, error) {
		ctx, err := dsig.NewSigningContext(kp.Key, [][]byte{kp.Cert.Raw})
		if err != nil {
			return nil, err
		}
		if err := ctx.SetSignatureMethod(dsig.RSASHA256SignatureMethod); err != nil {
			return nil, err
		}
		ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
		ctx.IdAttribute = "ID"
		return ctx.SignEnveloped(el)
	}
}

// verifyIDPMetadata checks data's enveloped signature with goxmldsig,
// trusting only trusted.
func verifyIDPMetadata(data []byte, trusted ...*x509.Certificate) error {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(data); err != nil {
		return err
	}
	ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: trusted})
	ctx.IdAttribute = "ID"
	_, err := ctx.Validate(doc.Root())
	return err
}

// TestIDPMetadataSigned checks the signed shape: deterministic, an ID the
// only Reference points to, the Signature as first child element, valid
// with the signing certificate only, and broken by any change.
func TestIDPMetadataSigned(t *testing.T) {
	t.Parallel()
	cur, next := fileKey(t, "idp"), fileKey(t, "sp")
	cfg := goldenIDPConfig(t)
	cfg.SigningCerts = []*x509.Certificate{cur.Cert, next.Cert}
	cfg.Sign = dsigSigner(cur)
	got, err := IDPMetadata(cfg)
	if err != nil {
		t.Fatal(err)
	}
	again, err := IDPMetadata(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, again) {
		t.Error("signed output is not deterministic")
	}
	goldenCompare(t, "TestIDPMetadataSigned", got)

	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(got); err != nil {
		t.Fatal(err)
	}
	root := doc.Root()
	id := root.SelectAttrValue("ID", "")
	if !strings.HasPrefix(id, "_") || len(id) != 41 {
		t.Errorf("EntityDescriptor ID = %q, want _ and 40 hex digits", id)
	}
	if first := root.ChildElements()[0]; first.Tag != "Signature" || first.NamespaceURI() != nsDSig {
		t.Errorf("first child is %s, want ds:Signature (metadata schema)", first.FullTag())
	}
	if n := len(root.FindElements("//Signature")); n != 1 {
		t.Errorf("%d Signature elements, want 1", n)
	}
	refs := root.FindElements("./Signature/SignedInfo/Reference")
	if len(refs) != 1 || refs[0].SelectAttrValue("URI", "") != "#"+id {
		t.Errorf("References %d, want one to #%s", len(refs), id)
	}
	if err := verifyIDPMetadata(got, cur.Cert); err != nil {
		t.Errorf("signature does not verify with the current certificate: %v", err)
	}
	if err := verifyIDPMetadata(got, next.Cert); err == nil {
		t.Error("signature verifies with the next certificate, which did not sign")
	}
	tampered := bytes.Replace(got, []byte(cfg.SSOURL), []byte("https://evil.example/sso"), 1)
	if bytes.Equal(tampered, got) {
		t.Fatal("the SSO URL is not in the output")
	}
	if err := verifyIDPMetadata(tampered, cur.Cert); err == nil {
		t.Error("a changed SSO Location still verifies")
	}

	// Both certificates are still published, and crewjam reads the
	// signed document like the unsigned one.
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(got, &ed); err != nil {
		t.Fatal(err)
	}
	if kds := ed.IDPSSODescriptors[0].KeyDescriptors; len(kds) != 2 || kds[1].KeyInfo.X509Data.X509Certificates[0].Data != base64.StdEncoding.EncodeToString(next.Cert.Raw) {
		t.Errorf("KeyDescriptors: %d, want current and next", len(kds))
	}

	// Another document gets another ID.
	cfg.SigningCerts = cfg.SigningCerts[:1]
	other, err := IDPMetadata(cfg)
	if err != nil {
		t.Fatal(err)
	}
	od := etree.NewDocument()
	if err := od.ReadFromBytes(other); err != nil {
		t.Fatal(err)
	}
	if od.Root().SelectAttrValue("ID", "") == id {
		t.Error("two different documents have the same ID")
	}
}

// TestIDPMetadataSignFailures checks that a failing or misbehaving signer
// gives an error, never unsigned or doubly signed metadata.
func TestIDPMetadataSignFailures(t *testing.T) {
	t.Parallel()
	kp := fileKey(t, "idp")
	errHSM := errors.New("HSM unavailable")
	tests := []struct {
		name string
		sign func(*etree.Element) (*etree.Element, error)
		want string
	}{
		{"signer error", func(*etree.Element) (*etree.Element, error) { return nil, errHSM }, "HSM unavailable"},
		{"no element", func(*etree.Element) (*etree.Element, error) { return nil, nil }, "returned no element"},
		{"no signature", func(el *etree.Element) (*etree.Element, error) { return el.Copy(), nil }, "added no Signature"},
		{"two signatures", func(el *etree.Element) (*etree.Element, error) {
			signed, err := dsigSigner(kp)(el)
			if err != nil {
				return nil, err
			}
			signed.AddChild(signed.FindElement("./Signature").Copy())
			return signed, nil
		}, "more than one Signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := IDPConfig{EntityID: "https://b.example/md", SSOURL: "https://b.example/sso", SigningCerts: []*x509.Certificate{kp.Cert}, Sign: tt.sign}
			out, err := IDPMetadata(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) || out != nil {
				t.Fatalf("got %d bytes, err %v; want no output and an error containing %q", len(out), err, tt.want)
			}
			if tt.name == "signer error" && !errors.Is(err, errHSM) {
				t.Errorf("err %v does not wrap the signer's error", err)
			}
		})
	}
}

func TestParseSigningCert(t *testing.T) {
	t.Parallel()
	now := time.Now()
	good := key(t, "a")
	goodKey, goodCert, err := good.EncodePEM()
	if err != nil {
		t.Fatal(err)
	}
	_, otherCert, err := key(t, "b").EncodePEM()
	if err != nil {
		t.Fatal(err)
	}
	_, weakCert, err := key(t, "weak").EncodePEM()
	if err != nil {
		t.Fatal(err)
	}
	old, err := certs.Generate(nil, 2048, "expired", now.Add(-72*time.Hour), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_, oldCert, err := old.EncodePEM()
	if err != nil {
		t.Fatal(err)
	}
	join := func(b ...[]byte) []byte { return bytes.Join(b, nil) }
	tests := []struct {
		name    string
		pem     []byte
		wantErr string
	}{
		{"certificate", goodCert, ""},
		{"key and certificate in one file", join(goodKey, goodCert), ""},
		{"private key only", goodKey, "no PEM CERTIFICATE"},
		{"not PEM", []byte("hello"), "no PEM CERTIFICATE"},
		{"two certificates", join(goodCert, otherCert), "2 certificates"},
		{"garbage in the block", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"), "does not parse"},
		{"1024-bit key", weakCert, "1024 bits"},
		{"expired", oldCert, "expired on " + old.Cert.NotAfter.UTC().Format(time.DateOnly)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := ParseSigningCert(tt.pem, now)
			if tt.wantErr == "" {
				if err != nil || !c.Equal(good.Cert) {
					t.Fatalf("got %v, %v; want the certificate", c, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
