package main

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/samlbridge/samlbridge/certs"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
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
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"check", "--config", p}, &out, &errb)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, errb.String())
	}
	for _, want := range []string{
		"external_url", "saml.signing_key_file", "itsme.issuer", "itsme.client_id",
		`unknown service "frobnicate"`, "itsme.signing_key_file: missing", "itsme.encryption_key_file: missing",
		"SAMLBRIDGE_TEST_UNSET_VARIABLE", "service_providers[0].metadata_file",
	} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, errb.String())
		}
	}
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
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"check", "--config", p}, &out, &errb); code != 1 {
		t.Fatalf("exit %d, want 1:\n%s%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"certificate expired", "national number but its metadata has no encryption key", `release: "email" is not in its attributes`} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, errb.String())
		}
	}
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
		c, err := LoadConfig(p)
		if err != nil {
			t.Fatal(err)
		}
		r, err := c.Resolve(time.Now())
		if err != nil {
			t.Fatal(err)
		}
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
		var out, errb bytes.Buffer
		if code := run(context.Background(), []string{"check", "--config", p}, &out, &errb); code != 1 {
			t.Fatalf("exit %d, want 1:\n%s%s", code, out.String(), errb.String())
		}
		for _, want := range []string{
			"http.rate_limit.per_minute: -1", "http.rate_limit.burst: -2", "http.rate_limit.max_clients: -3",
			`http.trusted_proxies[1]: "not-a-cidr" is not a CIDR prefix`,
			`http.trusted_proxies[2]: "10.0.0.1/8" has bits set after the prefix length; did you mean 10.0.0.0/8?`,
			`http.trusted_proxies[3]: "0.0.0.0/0" trusts every address`,
			`http.trusted_proxies[4]: "::/0" trusts every address`,
		} {
			if !strings.Contains(errb.String(), want) {
				t.Errorf("check output lacks %q:\n%s", want, errb.String())
			}
		}
		if strings.Contains(errb.String(), "trusted_proxies[0]") {
			t.Errorf("the valid prefix was reported:\n%s", errb.String())
		}
	})
	t.Run("unknown key", func(t *testing.T) {
		p := writeValidConfig(t, t.TempDir(), "http: {rate_limit: {per_second: 1}}\n")
		if _, err := LoadConfig(p); err == nil || !strings.Contains(err.Error(), "per_second") {
			t.Errorf("LoadConfig: %v, want an error naming per_second", err)
		}
	})
}
