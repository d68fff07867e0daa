package xmlsig

import (
	"strings"
	"testing"

	"github.com/beevik/etree"
	dsig "github.com/russellhaering/goxmldsig"
)

func TestAlgorithmAllowLists(t *testing.T) {
	for alg, want := range map[string]bool{
		dsig.RSASHA256SignatureMethod:                         true,
		dsig.RSASHA384SignatureMethod:                         true,
		dsig.RSASHA512SignatureMethod:                         true,
		dsig.RSASHA1SignatureMethod:                           false,
		"http://www.w3.org/2000/09/xmldsig#hmac-sha1":         false,
		"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256": false,
		"": false,
	} {
		if got := SignatureMethodAllowed(alg); got != want {
			t.Errorf("SignatureMethodAllowed(%q) = %v", alg, got)
		}
	}
	for alg, want := range map[string]bool{
		"http://www.w3.org/2001/04/xmlenc#sha256":       true,
		"http://www.w3.org/2001/04/xmldsig-more#sha384": true,
		"http://www.w3.org/2001/04/xmlenc#sha512":       true,
		"http://www.w3.org/2000/09/xmldsig#sha1":        false,
		"":                                              false,
	} {
		if got := DigestMethodAllowed(alg); got != want {
			t.Errorf("DigestMethodAllowed(%q) = %v", alg, got)
		}
	}
}

func TestChildren(t *testing.T) {
	parse := func(t *testing.T, xml string) *etree.Element {
		t.Helper()
		d := etree.NewDocument()
		if err := d.ReadFromString(xml); err != nil {
			t.Fatal(err)
		}
		return d.Root()
	}
	const ns = `xmlns:ds="http://www.w3.org/2000/09/xmldsig#"`
	for _, tc := range []struct {
		name, xml, err string
		want           map[string]int
	}{
		{"exact counts", `<ds:S ` + ns + `><ds:A/><ds:B/></ds:S>`, "", map[string]int{"A": 1, "B": 1}},
		{"optional absent", `<ds:S ` + ns + `><ds:A/></ds:S>`, "", map[string]int{"A": 1, "B": 0}},
		{"any number", `<ds:S ` + ns + `><ds:T/><ds:T/><ds:T/></ds:S>`, "", map[string]int{"T": -1}},
		{"missing", `<ds:S ` + ns + `><ds:B/></ds:S>`, "0 A elements, want 1", map[string]int{"A": 1, "B": 0}},
		{"optional twice", `<ds:S ` + ns + `><ds:A/><ds:B/><ds:B/></ds:S>`, "want at most one", map[string]int{"A": 1, "B": 0}},
		{"unknown tag", `<ds:S ` + ns + `><ds:A/><ds:Object/></ds:S>`, "unexpected element", map[string]int{"A": 1}},
		{"right tag, other namespace", `<ds:S ` + ns + `><A xmlns="urn:x"/></ds:S>`, "unexpected element", map[string]int{"A": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Children(parse(t, tc.xml), tc.want)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for tag, n := range tc.want {
				if n > 0 && len(got[tag]) != n {
					t.Errorf("%s: %d elements", tag, len(got[tag]))
				}
			}
		})
	}
}
