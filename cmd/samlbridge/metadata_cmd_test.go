package main

import (
	"context"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/samlbridge/samlbridge/audit"
	"github.com/samlbridge/samlbridge/metadata"
	"github.com/samlbridge/samlbridge/metrics"
	"github.com/samlbridge/samlbridge/session/memory"
)

// TestMetadataCommand checks that "samlbridge metadata" prints, byte for
// byte, what the bridge built from the same configuration serves at
// /saml/metadata, that the output is stable (golden), and that --unsigned
// drops only the signature.
func TestMetadataCommand(t *testing.T) {
	dir := t.TempDir()
	p := writeToolConfig(t, dir, "  - {metadata_file: sp.xml, attributes: [name, firstName]}\n",
		map[string]string{"sp.xml": spMetadataXML(t, "https://sp.example/", "https://sp.example/acs", false)})
	code, signed, stderr := runTool(t, runMetadata, toolsEnv(""), "--config", p)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	golden(t, "metadata_signed.golden", signed)

	// What serve would publish for the same file at the same time.
	cfg, err := LoadConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	r, err := cfg.Resolve(toolsNow)
	if err != nil {
		t.Fatal(err)
	}
	sh := &shared{log: slog.New(slog.DiscardHandler), store: memory.New(0), audit: audit.Discard{}, metrics: metrics.New()}
	n, err := buildNode(context.Background(), cfg, r, sh, toolsNow)
	if err != nil {
		t.Fatal(err)
	}
	defer n.stop()
	rec := httptest.NewRecorder()
	n.bridge.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://idp.example/saml/metadata", nil))
	served, _ := io.ReadAll(rec.Body)
	if rec.Code != http.StatusOK || string(served) != signed {
		t.Errorf("served metadata (%d) differs from the command's output:\n%s", rec.Code, served)
	}
	if _, err := metadata.VerifySignature([]byte(signed), []*x509.Certificate{r.SAMLKey.Cert}); err != nil {
		t.Errorf("the printed metadata's signature does not verify: %v", err)
	}

	code, unsigned, stderr := runTool(t, runMetadata, toolsEnv(""), "--unsigned", "--config", p)
	if code != 0 {
		t.Fatalf("--unsigned: exit %d: %s", code, stderr)
	}
	if strings.Contains(unsigned, "Signature") || !strings.Contains(unsigned, `entityID="https://idp.example/saml/metadata"`) {
		t.Errorf("--unsigned output:\n%s", unsigned)
	}
	golden(t, "metadata_unsigned.golden", unsigned)
}

// TestMetadataCommandErrors checks the exit status and message of bad
// invocations and configurations.
func TestMetadataCommandErrors(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.yaml", "external_url: ftp://x\n")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no config", nil, 2, "needs --config"},
		{"extra argument", []string{"--config", bad, "extra"}, 2, "no other argument"},
		{"unknown flag", []string{"--sign"}, 2, "flag provided but not defined"},
		{"config with problems", []string{"--config", bad}, 1, "external_url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runTool(t, runMetadata, toolsEnv(""), tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, want %d; stderr lacks %q:\n%s", code, tt.code, tt.want, stderr)
			}
		})
	}
}
