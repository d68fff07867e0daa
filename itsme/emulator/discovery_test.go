package emulator

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestDiscoveryGolden pins the discovery document for a fixed issuer.
func TestDiscoveryGolden(t *testing.T) {
	keys(t)
	e, err := New(validConfig())
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.MarshalIndent(e.Discovery(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "TestDiscoveryGolden_document.golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("discovery document differs from %s (run with -update after checking):\n%s", path, got)
	}
	// The document round-trips as JSON and names only emulator endpoints.
	var m map[string]any
	if err := json.Unmarshal(want, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"} {
		if s, _ := m[k].(string); len(s) <= len(e.Issuer()) || s[:len(e.Issuer())] != e.Issuer() {
			t.Errorf("%s = %v is not below the issuer", k, m[k])
		}
	}
}
