package attributes

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestMap_maxence renders every attribute for the seed persona through
// crewjam's Attribute.Element and compares the XML with a golden file.
func TestMap_maxence(t *testing.T) {
	claims := loadClaims(t, "maxence_claims.json")
	sub, _ := claims["sub"].(string)
	attrs := Map(sub, claims, allNames())
	// The persona has every claim but picture.
	got := values(t, attrs)
	for _, n := range allNames() {
		if _, ok := got[n]; ok == (n == "picture") {
			t.Errorf("attribute %s: present = %v", n, ok)
		}
	}
	checkGolden(t, filepath.Join("testdata", t.Name()+".golden"), statementXML(t, attrs))
}

// statementXML renders attrs as an indented saml:AttributeStatement.
func statementXML(t *testing.T, attrs []saml.Attribute) string {
	t.Helper()
	doc := etree.NewDocument()
	root := doc.CreateElement("saml:AttributeStatement")
	root.CreateAttr("xmlns:saml", "urn:oasis:names:tc:SAML:2.0:assertion")
	for i := range attrs {
		root.AddChild(attrs[i].Element())
	}
	doc.Indent(2)
	xml, err := doc.WriteToString()
	if err != nil {
		t.Fatal(err)
	}
	return xml
}

// checkGolden compares got with the golden file (rewriting it first
// under -update).
func checkGolden(t *testing.T, golden, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if got != string(want) {
		t.Errorf("XML differs from %s (run with -update after checking):\n%s", golden, got)
	}
}
