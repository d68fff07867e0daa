package main

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// updateTools rewrites the golden files of the operator and tester tools.
var updateTools = flag.Bool("update-tools", false, "rewrite the golden files of metadata, sp, decode and replay")

// toolsNow is the fixed clock of the tool tests: after the repository's
// test certificates start (2026-11-21) and long before they end.
var toolsNow = time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC)

// toolsEnv is a toolEnv at toolsNow reading stdin.
func toolsEnv(stdin string) toolEnv {
	return toolEnv{Now: func() time.Time { return toolsNow }, Stdin: strings.NewReader(stdin)}
}

// testKeyDir is the repository's published TEST keys.
const testKeyDir = "../../testdata/keys"

// spTestCertB64 is testdata/keys/sp-test.crt as metadata carries it.
func spTestCertB64(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testKeyDir, "sp-test.crt"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatal("sp-test.crt holds no PEM block")
	}
	var out bytes.Buffer
	out.WriteString(strings.TrimSpace(string(pem.EncodeToMemory(b))))
	lines := strings.Split(out.String(), "\n")
	return strings.Join(lines[1:len(lines)-1], "")
}

// spMetadataXML is SP metadata for entityID with the test SP key for
// signing and encryption, POST ACS at acs (index 0, default) and an
// Artifact one (index 1), and an AttributeConsumingService requesting
// firstName (required), email and an attribute unknown to the bridge.
func spMetadataXML(t *testing.T, entityID, acs string, signedRequests bool) string {
	t.Helper()
	cert := spTestCertB64(t)
	return `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="` + entityID + `">
<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" AuthnRequestsSigned="` + map[bool]string{true: "true", false: "false"}[signedRequests] + `" WantAssertionsSigned="true">
<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>` + cert + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>` + cert + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
<md:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/><md:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes128-gcm"/></md:KeyDescriptor>
<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:transient</md:NameIDFormat>
<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="` + acs + `" index="0" isDefault="true"/>
<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact" Location="` + acs + `/artifact" index="1"/>
<md:AttributeConsumingService index="0">
<md:ServiceName xml:lang="en">Portal</md:ServiceName>
<md:RequestedAttribute Name="firstName" isRequired="true"/>
<md:RequestedAttribute Name="email"/>
<md:RequestedAttribute Name="urn:example:shoeSize"/>
</md:AttributeConsumingService>
</md:SPSSODescriptor></md:EntityDescriptor>`
}

// writeToolConfig writes a configuration using the repository's TEST keys
// (so that outputs are stable) with the given service_providers entries
// (YAML list items) and files, and returns its path.
func writeToolConfig(t *testing.T, dir, spEntries string, files map[string]string) string {
	t.Helper()
	for _, n := range []string{"idp-test.key", "idp-test.crt", "sp-test.key"} {
		data, err := os.ReadFile(filepath.Join(testKeyDir, n))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, dir, n, string(data))
	}
	for name, content := range files {
		writeFile(t, dir, name, content)
	}
	writeFile(t, dir, "secret.hex", strings.Repeat("0123456789abcdef", 4))
	// The itsme signing key must not be the SAML signing key (key
	// separation), so it is a fresh one.
	writeKeyPair(t, dir, "itsme-sig-test", time.Now(), 365*24*time.Hour)
	return writeFile(t, dir, "c.yaml", `external_url: https://idp.example
saml: {signing_key_file: idp-test.key, signing_cert_file: idp-test.crt, organization_name: Example, organization_url: "https://example.org/"}
itsme: {issuer: "https://idp.e2e.itsme.services/v2", client_id: C, services: {identification: C_IDENT, authentication: C_LOGIN}, signing_key_file: itsme-sig-test.key, encryption_key_file: sp-test.key}
pairwise_secret: {file: secret.hex}
service_providers:
`+spEntries)
}

// toolCmd is the signature of the tool commands.
type toolCmd func(context.Context, []string, io.Writer, io.Writer, toolEnv) error

// runTool runs one tool command with env and returns its exit status (as
// run computes it), standard output and standard error.
func runTool(t *testing.T, cmd toolCmd, env toolEnv, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	err := cmd(context.Background(), args, &out, &errb, env)
	code := 0
	if err != nil {
		errb.WriteString("samlbridge: " + err.Error() + "\n")
		code = 1
		var ue usageError
		if errors.As(err, &ue) {
			code = 2
		}
	}
	return code, out.String(), errb.String()
}

// golden compares got with testdata/name, rewriting it with -update-tools.
func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *updateTools {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update-tools to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (-update-tools rewrites it):\n--- got\n%s\n--- want\n%s", p, got, want)
	}
}

// TestRunDispatchesTools checks that run reaches each tool command and
// maps its outcome to the exit status: 2 for usage and unusable input, 1
// for a message that is not valid, 0 for success.
func TestRunDispatchesTools(t *testing.T) {
	valid := authnRequestXML("_run", decodeReqTime, decodeSSO)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"metadata"}, 2, "needs --config"},
		{[]string{"sp"}, 2, "list or add"},
		{[]string{"sp", "remove"}, 2, "unknown sp subcommand"},
		{[]string{"sp", "list"}, 2, "needs --config"},
		{[]string{"replay", valid}, 2, "--url"},
		{[]string{"decode", "not a message"}, 2, "no SAML message found"},
		{[]string{"decode", "<samlp:AuthnRequest"}, 1, "the message is not valid"},
		{[]string{"decode", valid}, 0, "WELL-FORMED"},
		{[]string{"help"}, 0, "samlbridge decode"},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		code := run(context.Background(), tt.args, &out, &errb)
		if code != tt.code || !strings.Contains(out.String()+errb.String(), tt.want) {
			t.Errorf("%q: exit %d (want %d), output lacks %q:\n%s%s", tt.args, code, tt.code, tt.want, out.String(), errb.String())
		}
	}
}
