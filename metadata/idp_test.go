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
	"testing"
	"time"

	"github.com/crewjam/saml"
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
	tests := []struct {
		name string
		edit func(*IDPConfig)
	}{
		{"no entityID", func(c *IDPConfig) { c.EntityID = "" }},
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
