package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	crewjamsaml "github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/samlbridge/samlbridge/certs"
	"github.com/samlbridge/samlbridge/metadata/remote/remotetest"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkFails runs "samlbridge check" on the configuration at p, insists
// that it exits 1, fails the test for each of wants its report lacks, and
// returns the report (for tests that also check what it must not say).
func checkFails(t *testing.T, p string, wants ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"check", "--config", p}, &out, &errb); code != 1 {
		t.Fatalf("exit %d, want 1:\n%s%s", code, out.String(), errb.String())
	}
	for _, want := range wants {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, errb.String())
		}
	}
	return errb.String()
}

func TestLoadConfigRejectsUnknownKeyWithLine(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "c.yaml", "external_url: https://idp.example\nsaml:\n  signing_key_fil: x.key\n")
	_, err := LoadConfig(p)
	if err == nil || !strings.Contains(err.Error(), "signing_key_fil") || !strings.Contains(err.Error(), "line 3") {
		t.Fatalf("got %v, want an error naming signing_key_fil at line 3", err)
	}
}

func TestCheckReportsEveryProblem(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "c.yaml", `external_url: http://idp.example
saml: {signing_key_file: missing.key}
itsme: {issuer: http://not-https, services: {frobnicate: X}}
pairwise_secret: {env: SAMLBRIDGE_TEST_UNSET_VARIABLE}
service_providers:
  - metadata_file: nope.xml
`)
	checkFails(t, p,
		"external_url", "saml.signing_key_file", "itsme.issuer", "itsme.client_id",
		`unknown service "frobnicate"`, "itsme.signing_key_file (in itsme, line 3): missing", "itsme.encryption_key_file (in itsme, line 3): missing",
		"pairwise_secret (line 4): environment variable SAMLBRIDGE_TEST_UNSET_VARIABLE is not set", "service_providers[0].metadata_file (line 6): open ",
	)
}

func TestCheckExpiredCertificateAndNINWithoutEncryption(t *testing.T) {
	dir := t.TempDir()
	past := time.Now().Add(-3 * 365 * 24 * time.Hour)
	expired, err := certs.Generate(nil, 2048, "expired", past, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, certPEM, _ := expired.EncodePEM()
	writeFile(t, dir, "saml.key", string(keyPEM))
	writeFile(t, dir, "saml.crt", string(certPEM))
	for _, n := range []string{"sig", "enc"} {
		kp, err := certs.Generate(nil, 2048, n, time.Now(), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		k, _, _ := kp.EncodePEM()
		writeFile(t, dir, n+".key", string(k))
	}
	writeFile(t, dir, "secret.hex", strings.Repeat("ab", 32))
	// SP metadata with a signing key only: no encryption key.
	spKP, err := certs.Generate(nil, 2048, "sp", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_, spCert, _ := spKP.EncodePEM()
	b64 := strings.Join(strings.Split(strings.TrimSpace(string(spCert)), "\n")[1:len(strings.Split(strings.TrimSpace(string(spCert)), "\n"))-1], "")
	writeFile(t, dir, "sp.xml", `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp.example/">
<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>`+b64+`</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example/acs" index="0"/>
</md:SPSSODescriptor></md:EntityDescriptor>`)
	p := writeFile(t, dir, "c.yaml", `external_url: https://idp.example
saml: {signing_key_file: saml.key, signing_cert_file: saml.crt}
itsme: {issuer: "https://idp.e2e.itsme.services/v2", client_id: C, services: {identification: C_IDENT}, signing_key_file: sig.key, encryption_key_file: enc.key}
pairwise_secret: {file: secret.hex}
service_providers:
  - {metadata_file: sp.xml, attributes: [name, nin], release: [name, email]}
`)
	checkFails(t, p, "saml.signing_cert_file (line 2): the certificate expired on "+expired.Cert.NotAfter.UTC().Format(time.DateOnly),
		"service_providers[0].metadata_file (line 6): https://sp.example/: may receive the national number (nin) but its metadata has no encryption key",
		`service_providers[0].release[1] (line 6): "email" is not in its attributes`)
}

// spXML writes a copy of writeValidConfig's SP metadata under another
// entity ID.
func spXML(t *testing.T, dir, name, entityID string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "sp.xml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, name, strings.Replace(string(data), "https://sp.example/", entityID, 1))
}

// writeValidConfig writes a complete, valid configuration (keys, secret,
// SP metadata) to dir, with extra appended to its YAML, and returns the
// configuration's path.
func writeValidConfig(t *testing.T, dir, extra string) string {
	t.Helper()
	for _, n := range []string{"saml", "sig", "enc"} {
		kp, err := certs.Generate(nil, 2048, n+" (TEST KEY)", time.Now(), 365*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		k, c, _ := kp.EncodePEM()
		writeFile(t, dir, n+".key", string(k))
		writeFile(t, dir, n+".crt", string(c))
	}
	t.Setenv("SAMLBRIDGE_TEST_SECRET", strings.Repeat("0123456789abcdef", 4))
	spKP, err := certs.Generate(nil, 2048, "sp", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_, spCert, _ := spKP.EncodePEM()
	lines := strings.Split(strings.TrimSpace(string(spCert)), "\n")
	b64 := strings.Join(lines[1:len(lines)-1], "")
	writeFile(t, dir, "sp.xml", `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp.example/">
<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:KeyDescriptor><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>`+b64+`</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://sp.example/acs" index="0"/>
</md:SPSSODescriptor></md:EntityDescriptor>`)
	return writeFile(t, dir, "c.yaml", `external_url: https://idp.example
saml: {signing_key_file: saml.key, signing_cert_file: saml.crt, organization_name: Example, organization_url: "https://example.org/"}
itsme: {issuer: "https://idp.e2e.itsme.services/v2", client_id: C, services: {identification: C_IDENT, authentication: C_LOGIN}, signing_key_file: sig.key, encryption_key_file: enc.key}
pairwise_secret: {env: SAMLBRIDGE_TEST_SECRET}
service_providers:
  - {metadata_file: sp.xml, attributes: [name, firstName, nin]}
`+extra)
}

func TestCheckAcceptsAValidConfig(t *testing.T) {
	p := writeValidConfig(t, t.TempDir(), "")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"check", "--config", p}, &out, &errb); code != 0 {
		t.Fatalf("exit %d:\n%s", code, errb.String())
	}
	if !strings.Contains(out.String(), "configuration OK (1 service providers)") {
		t.Errorf("output %q", out.String())
	}
}

// TestHTTPSection checks the http: section: valid values reach Resolved,
// and each bad value is reported under its own name.
func TestHTTPSection(t *testing.T) {
	t.Run("valid", func(t *testing.T) {
		p := writeValidConfig(t, t.TempDir(), `http:
  rate_limit: {per_minute: 120, burst: 40, max_clients: 5000}
  trusted_proxies: [10.0.0.0/8, "2001:db8::/32", 192.0.2.10]
`)
		c, r := loadResolved(t, p)
		want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("192.0.2.10/32")}
		if !slices.Equal(r.TrustedProxies, want) {
			t.Errorf("trusted proxies %v, want %v", r.TrustedProxies, want)
		}
		if rl := c.HTTP.RateLimit; rl != (RateLimitConfig{PerMinute: 120, Burst: 40, MaxClients: 5000}) {
			t.Errorf("rate limit %+v", rl)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		p := writeValidConfig(t, t.TempDir(), `http:
  rate_limit: {per_minute: -1, burst: -2, max_clients: -3}
  trusted_proxies: [10.0.0.0/8, not-a-cidr, 10.0.0.1/8, 0.0.0.0/0, "::/0"]
`)
		report := checkFails(t, p,
			"http.rate_limit.per_minute (line 8): -1", "http.rate_limit.burst (line 8): -2", "http.rate_limit.max_clients (line 8): -3",
			`http.trusted_proxies[1] (line 9): "not-a-cidr" is not a CIDR prefix`,
			`http.trusted_proxies[2] (line 9): "10.0.0.1/8" has bits set after the prefix length; did you mean 10.0.0.0/8?`,
			`http.trusted_proxies[3] (line 9): "0.0.0.0/0" trusts every address`,
			`http.trusted_proxies[4] (line 9): "::/0" trusts every address`,
		)
		if strings.Contains(report, "trusted_proxies[0]") {
			t.Errorf("the valid prefix was reported:\n%s", report)
		}
	})
	t.Run("unknown key", func(t *testing.T) {
		p := writeValidConfig(t, t.TempDir(), "http: {rate_limit: {per_second: 1}}\n")
		if _, err := LoadConfig(p); err == nil || !strings.Contains(err.Error(), "per_second") {
			t.Errorf("LoadConfig: %v, want an error naming per_second", err)
		}
	})
}

// withAdditionalCerts rewrites the configuration at p (from
// writeValidConfig) to list files as saml.additional_signing_cert_files.
func withAdditionalCerts(t *testing.T, p string, files ...string) {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	const saml = "saml: {signing_key_file: saml.key, signing_cert_file: saml.crt,"
	if !bytes.Contains(data, []byte(saml)) {
		t.Fatal("writeValidConfig changed; update withAdditionalCerts")
	}
	list := "[" + strings.Join(files, ", ") + "]"
	data = bytes.Replace(data, []byte(saml), []byte(saml+" additional_signing_cert_files: "+list+","), 1)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// writeCert generates a key of bits with a certificate valid from start
// for validity and writes the certificate to dir/name.
func writeCert(t *testing.T, dir, name string, bits int, start time.Time, validity time.Duration) *x509.Certificate {
	t.Helper()
	kp, err := certs.Generate(nil, bits, name+" (TEST KEY)", start, validity)
	if err != nil {
		t.Fatal(err)
	}
	_, c, err := kp.EncodePEM()
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, name, string(c))
	return kp.Cert
}

// TestAdditionalSigningCertsPublished checks a key rollover configuration
// end to end: the next certificate is loaded, and the metadata "serve"
// publishes lists the current then the next certificate and is signed
// with the current key only.
func TestAdditionalSigningCertsPublished(t *testing.T) {
	dir := t.TempDir()
	p := writeValidConfig(t, dir, "")
	next := writeCert(t, dir, "next.crt", 2048, time.Now(), 365*24*time.Hour)
	withAdditionalCerts(t, p, "next.crt")
	_, r := loadResolved(t, p)
	if len(r.SAMLAdditionalCerts) != 1 || !r.SAMLAdditionalCerts[0].Equal(next) {
		t.Fatalf("additional certificates %d, want the next one", len(r.SAMLAdditionalCerts))
	}
	signer, md, err := idpMetadata(r, "https://idp.example", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(signer.Certs) != 1 || !signer.Certs[0].Equal(r.SAMLKey.Cert) || signer.Key != r.SAMLKey.Key {
		t.Error("the signer does not use the current key")
	}
	var ed crewjamsaml.EntityDescriptor
	if err := xml.Unmarshal(md, &ed); err != nil {
		t.Fatal(err)
	}
	var published []string
	for _, kd := range ed.IDPSSODescriptors[0].KeyDescriptors {
		published = append(published, kd.KeyInfo.X509Data.X509Certificates[0].Data)
	}
	want := []string{base64.StdEncoding.EncodeToString(r.SAMLKey.Cert.Raw), base64.StdEncoding.EncodeToString(next.Raw)}
	if !slices.Equal(published, want) {
		t.Errorf("published %d certificates, want current then next", len(published))
	}
	verify := func(trusted *x509.Certificate) error {
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(md); err != nil {
			return err
		}
		ctx := dsig.NewDefaultValidationContext(&dsig.MemoryX509CertificateStore{Roots: []*x509.Certificate{trusted}})
		ctx.IdAttribute = "ID"
		_, err := ctx.Validate(doc.Root())
		return err
	}
	if err := verify(r.SAMLKey.Cert); err != nil {
		t.Errorf("metadata signature with the current key: %v", err)
	}
	if err := verify(next); err == nil {
		t.Error("metadata verifies with the next key, which must not sign yet")
	}
}

// TestAdditionalSigningCertsRejected checks that every bad entry of
// saml.additional_signing_cert_files is reported with its index and
// reason, and a good entry among them is not.
func TestAdditionalSigningCertsRejected(t *testing.T) {
	dir := t.TempDir()
	p := writeValidConfig(t, dir, "")
	writeCert(t, dir, "weak.crt", 1024, time.Now(), time.Hour)
	expired := writeCert(t, dir, "expired.crt", 2048, time.Now().Add(-72*time.Hour), 24*time.Hour)
	writeCert(t, dir, "next.crt", 2048, time.Now(), 365*24*time.Hour)
	withAdditionalCerts(t, p, "missing.crt", "sig.key", "weak.crt", "expired.crt", "saml.crt", "next.crt", "next.crt")
	report := checkFails(t, p,
		"saml.additional_signing_cert_files[0] (line 2): open ",
		"missing.crt: no such file",
		"saml.additional_signing_cert_files[1] (line 2): sig.key: no PEM CERTIFICATE found",
		"saml.additional_signing_cert_files[2] (line 2): weak.crt: the RSA key is 1024 bits",
		"saml.additional_signing_cert_files[3] (line 2): expired.crt: the certificate expired on "+expired.NotAfter.UTC().Format(time.DateOnly),
		"saml.additional_signing_cert_files[4] (line 2): saml.crt: this is the current signing certificate",
		"saml.additional_signing_cert_files[6] (line 2): next.crt: listed twice",
	)
	if strings.Contains(report, "additional_signing_cert_files[5]") {
		t.Errorf("the valid next certificate was reported:\n%s", report)
	}
}

// TestAttributeProfileConfig checks attribute_profile: each known profile
// reaches the SP under its canonical name (empty is default), and an
// unknown one is an error naming service_providers[i].attribute_profile.
func TestAttributeProfileConfig(t *testing.T) {
	t.Run("valid", func(t *testing.T) {
		dir := t.TempDir()
		p := writeValidConfig(t, dir, `  - {metadata_file: sp-oid.xml, attributes: [firstName], attribute_profile: oid}
  - {metadata_file: sp-ms.xml, attributes: [email], attribute_profile: microsoft}
  - {metadata_file: sp-default.xml, attribute_profile: default}
`)
		spXML(t, dir, "sp-oid.xml", "https://oid.example/")
		spXML(t, dir, "sp-ms.xml", "https://ms.example/")
		spXML(t, dir, "sp-default.xml", "https://default.example/")
		_, r := loadResolved(t, p)
		want := map[string]string{
			"https://sp.example/": "default", "https://oid.example/": "oid",
			"https://ms.example/": "microsoft", "https://default.example/": "default",
		}
		got := map[string]string{}
		for _, sp := range r.SPs {
			got[sp.EntityID] = sp.AttributeProfile
		}
		if len(got) != len(want) {
			t.Fatalf("profiles %q, want %q", got, want)
		}
		for id, w := range want {
			if got[id] != w {
				t.Errorf("%s: attribute profile %q, want %q", id, got[id], w)
			}
		}
	})
	t.Run("unknown", func(t *testing.T) {
		dir := t.TempDir()
		p := writeValidConfig(t, dir, "  - {metadata_file: sp-oid.xml, attribute_profile: OID}\n")
		spXML(t, dir, "sp-oid.xml", "https://oid.example/")
		report := checkFails(t, p, `service_providers[1].attribute_profile (line 7): attributes: unknown attribute profile: "OID"`)
		if strings.Contains(report, "service_providers[0].attribute_profile") {
			t.Errorf("the SP without attribute_profile was reported:\n%s", report)
		}
	})
}

// TestSAMLOptionsConfig covers the per-SP signing choices, unsolicited
// SSO, the SSO session and the authentication context table in YAML:
// valid values reach Resolved, and each bad value is reported by name.
func TestSAMLOptionsConfig(t *testing.T) {
	t.Run("valid", func(t *testing.T) {
		dir := t.TempDir()
		p := writeValidConfig(t, dir, `  - {metadata_file: sp2.xml, signing: response, signature_algorithm: rsa-sha512, allow_unsolicited: true}
  - {metadata_file: sp3.xml, signature_algorithm: rsa-sha1, legacy_sha1: true, sign_response: true}
sso_session: {enabled: true, lifetime: 2h}
authn_contexts:
  default: urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI
  classes:
    - {ref: urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI, rank: 30, acr: acr_basic}
    - {ref: "http://itsme.services/v2/claim/acr_advanced", rank: 40, acr: acr_advanced}
`)
		spXML(t, dir, "sp2.xml", "https://sp2.example/")
		spXML(t, dir, "sp3.xml", "https://sp3.example/")
		c, r := loadResolved(t, p)
		got := map[string]string{}
		for _, sp := range r.SPs {
			got[sp.EntityID] = fmt.Sprintf("%s %s %v %v", sp.Signing, sp.SignatureAlgorithm, sp.LegacySHA1, sp.AllowUnsolicited)
		}
		want := map[string]string{
			"https://sp.example/":  " http://www.w3.org/2001/04/xmldsig-more#rsa-sha256 false false",
			"https://sp2.example/": "response http://www.w3.org/2001/04/xmldsig-more#rsa-sha512 false true",
			"https://sp3.example/": "both http://www.w3.org/2000/09/xmldsig#rsa-sha1 true false",
		}
		for id, w := range want {
			if got[id] != w {
				t.Errorf("%s: %q, want %q", id, got[id], w)
			}
		}
		if !c.SSOSession.Enabled || c.SSOSession.Lifetime != 2*time.Hour {
			t.Errorf("sso_session = %+v", c.SSOSession)
		}
		if r.AuthnContexts == nil || len(r.AuthnContexts.Classes) != 2 || r.AuthnContexts.Classes[1].ACR != "http://itsme.services/v2/claim/acr_advanced" {
			t.Errorf("authn_contexts = %+v", r.AuthnContexts)
		}
	})
	t.Run("every mistake named", func(t *testing.T) {
		dir := t.TempDir()
		p := writeValidConfig(t, dir, `  - {metadata_file: sp2.xml, signing: sideways}
  - {metadata_file: sp3.xml, signature_algorithm: rsa-sha1}
  - {metadata_file: sp4.xml, signature_algorithm: hmac-sha256}
sso_session: {enabled: true, lifetime: 48h}
authn_contexts:
  default: urn:example:missing
  classes:
    - {ref: urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI, rank: 30, acr: acr_gold}
`)
		for i, id := range []string{"sp2", "sp3", "sp4"} {
			spXML(t, dir, id+".xml", fmt.Sprintf("https://%s.example/%d", id, i))
		}
		checkFails(t, p,
			`service_providers[1].signing (line 7): "sideways"`,
			"service_providers[2].signature_algorithm (line 8): rsa-sha1 is broken and needs legacy_sha1: true",
			`service_providers[3].signature_algorithm (line 9): "hmac-sha256"`,
			"sso_session.lifetime (line 10): 48h0m0s",
			`authn_contexts (line 11): default class "urn:example:missing" is not in the table`,
			`authn_contexts.classes[0].acr (line 14): "acr_gold"`,
		)
	})
}

// TestMetadataURLConfig: an SP registered by metadata_url is fetched,
// its signature checked against the pinned certificate (MD-01), and the
// entry's policy applied to it; check reports a URL that cannot be
// verified, naming it.
func TestMetadataURLConfig(t *testing.T) {
	dir := t.TempDir()
	p := writeValidConfig(t, dir, "")
	spMD, err := os.ReadFile(filepath.Join(dir, "sp.xml"))
	if err != nil {
		t.Fatal(err)
	}
	remoteMD := strings.Replace(strings.Replace(string(spMD), "https://sp.example/", "https://remote.example/", 1),
		"<md:EntityDescriptor ", `<md:EntityDescriptor ID="_md1" `, 1)
	fed, err := certs.Generate(nil, 2048, "federation signer (TEST KEY)", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := remotetest.Sign([]byte(remoteMD), fed.Key, fed.Cert, remotetest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	other, err := certs.Generate(nil, 2048, "someone else (TEST KEY)", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := remotetest.Sign([]byte(remoteMD), other.Key, other.Cert, remotetest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	serve := func(body []byte) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/samlmetadata+xml")
			_, _ = w.Write(body)
		}))
		t.Cleanup(srv.Close)
		return srv.URL + "/md.xml"
	}
	_, fedPEM, _ := fed.EncodePEM()
	writeFile(t, dir, "fed.crt", string(fedPEM))
	withURL := func(u, extra string) string {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, fmt.Sprintf("c-%d.yaml", len(u)))
		return writeFile(t, dir, filepath.Base(out), strings.Replace(string(data), "service_providers:\n",
			"service_providers:\n  - {metadata_url: \""+u+"\", metadata_signing_cert_files: [fed.crt], attributes: [email], signing: both"+extra+"}\n", 1))
	}

	good := withURL(serve(signed), ", metadata_cache_file: md-cache.xml")
	cache := filepath.Join(dir, "md-cache.xml")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"check", "--config", good}, &out, &errb); code != 0 {
		t.Fatalf("exit %d:\n%s", code, errb.String())
	}
	if !strings.Contains(out.String(), "2 service providers from files and URLs") {
		t.Errorf("check output %q", out.String())
	}
	if _, err := os.Stat(cache); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("check wrote the metadata cache file (stat: %v); it must change nothing on disk", err)
	}
	c, err := LoadConfig(good)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Resolve(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Remote.RefreshDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cache); err != nil {
		t.Errorf("serving did not write the metadata cache file: %v", err)
	}
	sp, err := r.SPRegistry.ServiceProvider(context.Background(), "https://remote.example/")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sp.AllowedAttributes, []string{"email"}) || sp.Signing != "both" {
		t.Errorf("policy not applied: attributes %q, signing %q", sp.AllowedAttributes, sp.Signing)
	}

	bad := withURL(serve(forged)+"?forged", "")
	out.Reset()
	errb.Reset()
	if code := run(context.Background(), []string{"check", "--config", bad}, &out, &errb); code != 1 {
		t.Fatalf("a forged metadata signature passed check (exit %d):\n%s", code, out.String())
	}
	if !strings.Contains(errb.String(), "service_providers[0].metadata_url (line 6): cannot be fetched or verified: metadata URL \"http://127.0.0.1") || !strings.Contains(errb.String(), "signature") {
		t.Errorf("check output does not name the URL and the signature problem:\n%s", errb.String())
	}
}

// TestOperationsConfig: the itsme timeout and breaker, the metrics
// listener and the Redis key prefix reach the configuration, and each bad
// value is reported under its own name.
func TestOperationsConfig(t *testing.T) {
	dir := t.TempDir()
	p := writeValidConfig(t, dir, "")
	base := readFile(t, p)
	withItsme := func(extra string) string {
		return strings.Replace(base, "encryption_key_file: enc.key}", "encryption_key_file: enc.key"+extra+"}", 1)
	}
	writeKeyPair(t, dir, "next", time.Now(), 365*24*time.Hour)
	good := withItsme(", timeout: 3s, breaker: {threshold: 7, cooldown: 1m}, next_signing_key_file: next.key") +
		"metrics: {listen: \"127.0.0.1:9090\", pprof: true}\nsession: {store: redis, url: \"redis://127.0.0.1:6379/0\", secret: {env: SAMLBRIDGE_TEST_SECRET}, key_prefix: \"prod-a:\"}\n"
	writeFile(t, dir, "c.yaml", good)
	cfg, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	r, err := cfg.Resolve(time.Now())
	if err != nil {
		t.Fatalf("valid operations settings refused: %v", err)
	}
	if sigs := 0; r.JOSE.NextSig == nil || func() int {
		for _, k := range r.JOSE.PublicJWKS().Keys {
			if k.Use == "sig" {
				sigs++
			}
		}
		return sigs
	}() != 2 {
		t.Errorf("the next signing key is not published in /jwks")
	}
	if cfg.Itsme.Timeout != 3*time.Second || cfg.Itsme.Breaker.Threshold != 7 || cfg.Itsme.Breaker.Cooldown != time.Minute ||
		cfg.Metrics.Listen != "127.0.0.1:9090" || !cfg.Metrics.Pprof || cfg.Session.KeyPrefix != "prod-a:" {
		t.Errorf("settings not read: %+v %+v %+v", cfg.Itsme, cfg.Metrics, cfg.Session)
	}

	bad := withItsme(", timeout: 2m, breaker: {threshold: -1, cooldown: 2h}, next_signing_key_file: sig.key") +
		"metrics: {listen: \"9090\"}\nsession: {store: redis, url: \"redis://127.0.0.1:6379/0\", secret: {env: SAMLBRIDGE_TEST_SECRET}, key_prefix: \"{slot}\"}\n"
	writeFile(t, dir, "c.yaml", bad)
	checkFails(t, p,
		"itsme.timeout (line 3): 2m0s", "itsme.breaker.threshold (line 3): -1", "itsme.breaker.cooldown (line 3): 2h0m0s",
		`metrics.listen (line 7): "9090"`, `session.key_prefix (line 8): "{slot}"`,
		"itsme.next_signing_key_file (line 3): holds the same key as itsme.signing_key_file",
	)

	writeFile(t, dir, "c.yaml", base+"metrics: {pprof: true}\n")
	checkFails(t, p, "metrics.pprof (line", "true needs metrics.listen")
}

var updateConfigGolden = flag.Bool("update-config-golden", false, "rewrite the golden files of the config tests")

// checkGoldenFile compares got with testdata/name, rewriting the file
// first under -update-config-golden.
func checkGoldenFile(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *updateConfigGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update-config-golden to create it)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("the report differs from %s (run with -update-config-golden after checking it):\n%s", p, got)
	}
}

// writeKeyPair writes name.key and name.crt for a new key whose
// certificate is valid from start for validity, and returns the key pair.
func writeKeyPair(t *testing.T, dir, name string, start time.Time, validity time.Duration) *certs.KeyPair {
	t.Helper()
	kp, err := certs.Generate(nil, 2048, name+" (TEST KEY)", start, validity)
	if err != nil {
		t.Fatal(err)
	}
	k, c, err := kp.EncodePEM()
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, name+".key", string(k))
	writeFile(t, dir, name+".crt", string(c))
	return kp
}

// spMetadata returns an SP's metadata with kp's certificate as its only
// key, for signing only or (use "") for both signing and encryption.
func spMetadata(entityID, use string, kp *certs.KeyPair) string {
	b64 := base64.StdEncoding.EncodeToString(kp.Cert.Raw)
	useAttr := ""
	if use != "" {
		useAttr = ` use="` + use + `"`
	}
	return `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="` + entityID + `">
<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:KeyDescriptor` + useAttr + `><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>` + b64 + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="` + entityID + `acs" index="0"/>
</md:SPSSODescriptor></md:EntityDescriptor>`
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// fiveMistakes is a configuration with five seeded mistakes of different
// kinds, each marked; PORT is replaced by a closed loopback port.
const fiveMistakes = `# Five seeded mistakes (TestCheckFiveSeededMistakes).
external_url: https://idp.example.be
saml:
  signing_key_file: saml.key
  signing_cert_file: saml.crt            # 1: expired on 2000-01-02
itsme:
  issuer: https://idp.e2e.itsme.services/v2
  # 2: client_id is missing
  services:
    authentication: PARTNER_LOGIN        # 3: no identification code, yet the portal may receive dateOfBirth
  signing_key_file: sig.key
  encryption_key_file: enc.key
pairwise_secret: {env: SAMLBRIDGE_TEST_SECRET}
service_providers:
  - metadata_file: portal.xml
    attributes: [name, firstName, lastName, dateOfBirth]
  - metadata_file: registry.xml          # 4: may receive nin, but has no encryption key
    attributes: [name, nin]
  - metadata_url: http://PORT/md.xml     # 5: nothing listens there
    metadata_allow_unsigned: true
    attributes: [name]
`

// TestCheckFiveSeededMistakes is the acceptance test of issue 7: check
// on a configuration with five mistakes of five kinds (expired
// certificate, missing key, missing service code, national number
// without encryption, unreachable metadata URL) reports all five, each
// with its key path and line, and exits 1. The report is compared with a
// golden file; every date in it is fixed, so it does not depend on today.
func TestCheckFiveSeededMistakes(t *testing.T) {
	dir := t.TempDir()
	longAgo := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	century := 100 * 365 * 24 * time.Hour
	writeKeyPair(t, dir, "saml", longAgo, 24*time.Hour)
	writeKeyPair(t, dir, "sig", longAgo, century)
	writeKeyPair(t, dir, "enc", longAgo, century)
	sp := writeKeyPair(t, dir, "sp", longAgo, century)
	writeFile(t, dir, "portal.xml", spMetadata("https://portal.example/", "", sp))
	writeFile(t, dir, "registry.xml", spMetadata("https://registry.example/", "signing", sp))
	t.Setenv("SAMLBRIDGE_TEST_SECRET", strings.Repeat("0123456789abcdef", 4))
	port := closedPort(t)
	p := writeFile(t, dir, "c.yaml", strings.Replace(fiveMistakes, "PORT", port, 1))

	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"check", "--config", p}, &out, &errb)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if out.Len() != 0 {
		t.Errorf("check printed to standard output: %q", out.String())
	}
	report := strings.NewReplacer(dir, "$DIR", port, "$PORT").Replace(errb.String())
	for _, want := range []string{
		"saml.signing_cert_file (line 5): the certificate expired on 2000-01-02",
		"itsme.client_id (in itsme, line 6): missing",
		"itsme.services.identification (in itsme.services, line 9): missing: the Identification service needs a service code",
		"service_providers[1].metadata_file (line 17): https://registry.example/: may receive the national number (nin) but its metadata has no encryption key",
		"service_providers[2].metadata_url (line 19): cannot be fetched or verified",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if !strings.Contains(report, ": 5 problems:\n") {
		t.Errorf("the report does not count exactly five problems")
	}
	checkGoldenFile(t, "check_five_mistakes.golden", report)
}

// TestStrictDecoding checks that decoding reports, at once and each with
// its key path and line, an unknown key (with a suggestion), a key given
// twice, a mistyped value, a list where a mapping belongs, and a secret
// written inline; and that LoadConfig refuses such a file while check
// goes on to report the other problems too.
func TestStrictDecoding(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "c.yaml", `external_url: https://idp.example
saml:
  signing_key_fil: x.key
  want_authn_requests_signed: maybe
itsme:
  timeout: soon
  timeout: 5s
pairwise_secret: 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
http: [1, 2]
service_providers:
  - metadata_file: sp.xml
    frobnicate: true
`)
	want := []string{
		"saml.signing_key_fil (line 3): unknown key (did you mean signing_key_file?)",
		`saml.want_authn_requests_signed (line 4): want true or false, not "maybe"`,
		`itsme.timeout (line 6): want a duration such as 30s, 10m or 1h, not "soon"`,
		"itsme.timeout (line 7): given twice (first on line 6)",
		"pairwise_secret (line 8): secrets are never written inline: give {file: PATH} or {env: VARIABLE}",
		"http (line 9): want a mapping of keys, not a list",
		"service_providers[0].frobnicate (line 12): unknown key",
	}
	_, err := LoadConfig(p)
	if err == nil {
		t.Fatal("LoadConfig accepted the file")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("LoadConfig: the error lacks %q:\n%v", w, err)
		}
	}
	// check reports the same, and what resolving the rest finds.
	checkFails(t, p, append(want, "saml.signing_key_file (in saml, line 2): missing", "itsme.client_id (in itsme, line 5): missing")...)
}

// TestStrictDecodingDuplicateMapKey: a key given twice inside a map (not a
// struct) is reported too, and the rest of the map is still checked.
func TestStrictDecodingDuplicateMapKey(t *testing.T) {
	p := writeFile(t, t.TempDir(), "c.yaml", `itsme:
  services:
    identification: ID1
    identification: ID2
    authentication: [A]
`)
	_, err := LoadConfig(p)
	for _, w := range []string{
		"itsme.services.identification (line 4): given twice (first on line 3)",
		"itsme.services.authentication (line 5):",
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("LoadConfig: the error lacks %q:\n%v", w, err)
		}
	}
}

// TestDecodeConfigWholeFileProblems covers files that are not a
// configuration at all: each gives one clear problem and no panic.
func TestDecodeConfigWholeFileProblems(t *testing.T) {
	for _, tt := range []struct{ name, content, want string }{
		{"empty", "", "the file is empty"},
		{"not YAML", "a: [1,\n", "not valid YAML"},
		{"a list", "- a\n- b\n", "line 1: the configuration must be a mapping"},
		{"two documents", "listen: 127.0.0.1:1\n---\nlisten: 127.0.0.1:2\n", "line 2: a second YAML document starts here"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), "c.yaml", tt.content)
			_, err := LoadConfig(p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LoadConfig: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestSessionPassword: the Redis password comes from session.password by
// file or env and reaches Resolved, and a password written in
// session.url is refused by name.
func TestSessionPassword(t *testing.T) {
	dir := t.TempDir()
	p := writeValidConfig(t, dir, "")
	base := readFile(t, p)
	writeFile(t, dir, "redis.pw", "s3cret:with@signs\n")
	writeFile(t, dir, "c.yaml", base+"session: {store: redis, url: \"redis://127.0.0.1:6379/0\", password: {file: redis.pw}, secret: {env: SAMLBRIDGE_TEST_SECRET}}\n")
	_, r := loadResolved(t, p)
	if r.StorePassword != "s3cret:with@signs" {
		t.Errorf("store password %q", r.StorePassword)
	}
	writeFile(t, dir, "c.yaml", base+"session: {store: redis, url: \"redis://user:inline@127.0.0.1:6379/0\", secret: {env: SAMLBRIDGE_TEST_SECRET}}\n")
	report := checkFails(t, p, "session.url (line 7): holds a password; secrets are never written inline")
	if strings.Contains(report, "inline@") {
		t.Errorf("the report repeats the password:\n%s", report)
	}
}

// TestCheckServiceCodes table-tests which itsme service codes the SP
// entries need: identification for an SP that may receive more than
// names, authentication for an SP whose default login asks only for
// names.
func TestCheckServiceCodes(t *testing.T) {
	for _, tt := range []struct {
		name               string
		services           map[string]string
		sps                []SPConfig
		wantAuth, wantIdnt bool
	}{
		{"names only, authentication given", map[string]string{"authentication": "A"},
			[]SPConfig{{Attributes: []string{"name", "firstName"}}}, false, false},
		{"names only, identification given", map[string]string{"identification": "I"},
			[]SPConfig{{Attributes: []string{"name"}}}, true, false},
		{"identity data, authentication only", map[string]string{"authentication": "A"},
			[]SPConfig{{Attributes: []string{"name", "email"}}}, false, true},
		{"release of identity data only", map[string]string{"identification": "I"},
			[]SPConfig{{Attributes: []string{"name", "email"}, Release: []string{"email"}}}, false, false},
		{"both given", map[string]string{"authentication": "A", "identification": "I"},
			[]SPConfig{{Attributes: []string{"nin"}}, {Attributes: []string{"name"}}}, false, false},
		{"none given", nil,
			[]SPConfig{{Attributes: []string{"nin"}}, {Attributes: []string{"name"}}}, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{Itsme: ItsmeConfig{Services: tt.services}, ServiceProviders: tt.sps}
			v := &validation{}
			c.checkServices(v)
			var got []string
			for _, p := range v.errs {
				got = append(got, p.Path)
			}
			if slices.Contains(got, "itsme.services.authentication") != tt.wantAuth || slices.Contains(got, "itsme.services.identification") != tt.wantIdnt {
				t.Errorf("reported %q, want authentication %v, identification %v", got, tt.wantAuth, tt.wantIdnt)
			}
		})
	}
}

// TestSPCertificateDatesWarn: an SP certificate outside its dates is a
// warning naming the SP and the entry, not a failure (metadata keys are
// trusted as registered, catalogue G13); a SAML signing certificate not
// yet valid is a failure.
func TestSPCertificateDatesWarn(t *testing.T) {
	dir := t.TempDir()
	p := writeValidConfig(t, dir, "")
	old := writeKeyPair(t, dir, "old-sp", time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), 24*time.Hour)
	writeFile(t, dir, "sp.xml", spMetadata("https://sp.example/", "", old))
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"check", "--config", p}, &out, &errb); code != 0 {
		t.Fatalf("exit %d:\n%s", code, errb.String())
	}
	want := `warning: service_providers[0].metadata_file (line 6): https://sp.example/: its signing certificate "old-sp (TEST KEY)" expired on 2000-01-02`
	if !strings.Contains(errb.String(), want) || !strings.Contains(errb.String(), "its encryption certificate") {
		t.Errorf("warnings lack %q and the encryption one:\n%s", want, errb.String())
	}

	writeKeyPair(t, dir, "saml", time.Now().Add(48*time.Hour), 365*24*time.Hour)
	checkFails(t, p, "saml.signing_cert_file (line 2): the certificate is not valid until ")
}

// loadResolved loads and resolves the configuration at p, now, and fails
// the test on any problem.
func loadResolved(t *testing.T, p string) (*Config, *Resolved) {
	t.Helper()
	c, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Resolve(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c, r
}

// TestUnencryptedRequestObjectWarns: encrypt_request_object: false is
// accepted (another provider may want it) but check warns, since itsme
// refuses such request objects from a private_key_jwt client; the
// default draws no warning.
func TestUnencryptedRequestObjectWarns(t *testing.T) {
	const want = "warning: itsme.encrypt_request_object (line 3): false: itsme refuses request objects"
	for _, off := range []bool{false, true} {
		dir := t.TempDir()
		p := writeValidConfig(t, dir, "")
		if off {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			edited := strings.Replace(string(b), "encryption_key_file: enc.key}", "encryption_key_file: enc.key, encrypt_request_object: false}", 1)
			if edited == string(b) {
				t.Fatal("test set-up: the itsme section was not edited")
			}
			writeFile(t, dir, "c.yaml", edited)
		}
		var out, errb bytes.Buffer
		if code := run(context.Background(), []string{"check", "--config", p}, &out, &errb); code != 0 {
			t.Fatalf("encrypt_request_object off=%v: exit %d:\n%s", off, code, errb.String())
		}
		if got := strings.Contains(errb.String(), want); got != off {
			t.Errorf("encrypt_request_object off=%v: warning present %v, want %v:\n%s", off, got, off, errb.String())
		}
	}
}
