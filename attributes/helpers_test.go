package attributes

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/crewjam/saml"
)

// P is itsme's claim prefix, for brevity in tests.
const P = "http://itsme.services/v2/claim/"

// allNames is every attribute of the contract, in table order.
func allNames() []string {
	var out []string
	for _, d := range Definitions() {
		out = append(out, d.Name)
	}
	return out
}

// loadClaims reads a JSON claims file from testdata the way the itsme
// package decodes claims (numbers as float64).
func loadClaims(t testing.TB, name string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := json.Unmarshal(data, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

// values flattens attributes into name → value (each has one value).
func values(t testing.TB, attrs []saml.Attribute) map[string]string {
	t.Helper()
	m := make(map[string]string, len(attrs))
	for _, a := range attrs {
		if len(a.Values) != 1 {
			t.Fatalf("attribute %s has %d values, want 1", a.Name, len(a.Values))
		}
		if _, dup := m[a.Name]; dup {
			t.Fatalf("attribute %s emitted twice", a.Name)
		}
		m[a.Name] = a.Values[0].Value
	}
	return m
}
