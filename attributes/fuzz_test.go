package attributes

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzMap feeds arbitrary JSON claims to Map with every attribute
// released. Map must not panic and must only emit well-formed values.
func FuzzMap(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, false)
		f.Add(data, true)
	}
	f.Add([]byte(`{"address":"{\"formatted\":\"x\"}","http://itsme.services/v2/claim/claim_device":"{\"os\":1e400}"}`), false)
	f.Add([]byte(`{"http://itsme.services/v2/claim/validityTo":{"a":"1","b":"1"},"locale":null}`), true)
	f.Add([]byte(`{"http://itsme.services/v2/claim/BENationalNumber":81042419835,"name":"\u0000"}`), true)
	f.Add([]byte(`[]`), false)

	all := allNames()
	order := make(map[string]int, len(all))
	for i, n := range all {
		order[n] = i
	}
	f.Fuzz(func(t *testing.T, data []byte, useNumber bool) {
		var claims map[string]any
		dec := json.NewDecoder(bytes.NewReader(data))
		if useNumber {
			dec.UseNumber()
		}
		if err := dec.Decode(&claims); err != nil {
			return
		}
		sub, _ := claims["sub"].(string)
		attrs := Map(sub, claims, all)
		last := -1
		for _, a := range attrs {
			i, ok := order[a.Name]
			if !ok || i <= last {
				t.Fatalf("attribute %q unknown or out of order", a.Name)
			}
			last = i
			if len(a.Values) != 1 {
				t.Fatalf("%s: %d values", a.Name, len(a.Values))
			}
			v := a.Values[0].Value
			if c, ok := clean(v); !ok || c != v {
				t.Fatalf("%s: value %q is not clean", a.Name, v)
			}
			if strings.Contains(v, "map[") && !leafContains(claims, "map[", 2) {
				t.Fatalf("%s: value %q looks like a rendered map", a.Name, v)
			}
		}
		// Release and Plan stay consistent with Map on the same names.
		if _, _, err := Plan(Release(all, all)); err != nil {
			t.Fatal(err)
		}
	})
}

// leafContains reports whether any string in v, or in a JSON object
// encoded in one of its strings (up to depth levels), contains sub.
func leafContains(v any, sub string, depth int) bool {
	switch x := v.(type) {
	case string:
		if strings.Contains(x, sub) {
			return true
		}
		var inner any
		return depth > 0 && json.Unmarshal([]byte(x), &inner) == nil && leafContains(inner, sub, depth-1)
	case map[string]any:
		for _, e := range x {
			if leafContains(e, sub, depth) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if leafContains(e, sub, depth) {
				return true
			}
		}
	}
	return false
}
