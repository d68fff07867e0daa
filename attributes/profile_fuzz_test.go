package attributes

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzMapProfile feeds arbitrary JSON claims to MapProfile under every
// profile with every attribute released. It must not panic, must emit
// only names the profile declares, each at most once, and only clean
// values.
func FuzzMapProfile(f *testing.F) {
	f.Add([]byte(`{"gender":"n/a","birthdate":"1981-04-24","address":{"street_address":"a$b\\c\nd","postal_code":1e3,"country":"be"}}`))
	f.Add([]byte(`{"address":"{\"street_address\":\"\\u0000\"}","http://itsme.services/v2/claim/claim_citizenship":"b\u00e9"}`))
	f.Add([]byte(`{"http://itsme.services/v2/claim/BENationalNumber":"81.04.24-198.35","http://itsme.services/v2/claim/RONationalNumber":"x"}`))
	all := allNames()
	f.Fuzz(func(t *testing.T, data []byte) {
		var claims map[string]any
		if err := json.NewDecoder(bytes.NewReader(data)).Decode(&claims); err != nil {
			return
		}
		for _, name := range ProfileNames() {
			p, err := ParseProfile(name)
			if err != nil {
				t.Fatal(err)
			}
			declared := map[string]bool{}
			for _, a := range p.Attributes() {
				declared[a.Name] = true
			}
			seen := map[string]bool{}
			for _, a := range MapProfile(p, "sub", claims, all) {
				if !declared[a.Name] || seen[a.Name] {
					t.Fatalf("%s: attribute %q undeclared or repeated", name, a.Name)
				}
				seen[a.Name] = true
				if len(a.Values) != 1 {
					t.Fatalf("%s: %s has %d values", name, a.Name, len(a.Values))
				}
				if v := a.Values[0].Value; func() bool { c, ok := clean(v); return !ok || c != v }() {
					t.Fatalf("%s: %s value %q is not clean", name, a.Name, v)
				}
			}
		}
	})
}
