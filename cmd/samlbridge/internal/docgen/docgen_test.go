package docgen

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/samlbridge/samlbridge/attributes"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// repoRoot is the repository root, from this package's directory.
const repoRoot = "../../../.."

// TestDocsUpToDate is the drift test: the generated sections of
// docs/configuration.md and docs/attributes.md must be what the code
// generates now.
func TestDocsUpToDate(t *testing.T) {
	docs, err := Generate(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 {
		t.Fatalf("%d documents generated, want 2", len(docs))
	}
	for _, d := range docs {
		if d.Have != d.Want {
			t.Errorf("%s is out of date with the code: run go generate ./cmd/samlbridge (first difference: %s)", d.Path, firstDifference(d.Have, d.Want))
		}
	}
}

// firstDifference describes the first line where have and want differ.
func firstDifference(have, want string) string {
	h, w := strings.Split(have, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(h) || i < len(w); i++ {
		var hl, wl string
		if i < len(h) {
			hl = h[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if hl != wl {
			return "line " + strconv.Itoa(i+1) + ": have " + quote(hl) + ", want " + quote(wl)
		}
	}
	return "none"
}

func quote(s string) string {
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return "«" + s + "»"
}

// TestConfigReferenceGolden renders a fixture covering every type the
// generator knows (scalars, durations, pointers to sections, lists of
// sections nested two deep, maps, the secret type, skipped fields) and
// compares it with a golden file.
func TestConfigReferenceGolden(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("testdata", "fixture.go.txt"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ConfigReference("fixture.go", src, "Root", "Token")
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "fixture.golden.md")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("the reference differs from %s (run with -update after checking it):\n%s", golden, got)
	}
	for _, s := range []string{"Hidden", "unexported"} {
		if strings.Contains(got, s) {
			t.Errorf("the reference lists %s, which is not a key", s)
		}
	}
}

// TestConfigReferenceRefusesUndocumented: a key without a doc comment,
// with one that does not begin with the field's name, or with one that
// says neither its default nor whether it is required fails generation
// with ErrUndocumented naming the type, field and key.
func TestConfigReferenceRefusesUndocumented(t *testing.T) {
	for _, tt := range []struct{ name, field, want string }{
		{"no comment", "\tPort int `yaml:\"port\"`", "Root.Port (port) has no doc comment"},
		{"wrong name", "\t// The port. Default 80.\n\tPort int `yaml:\"port\"`", `the doc comment of Root.Port (port) must begin with "Port"`},
		{"no default", "\t// Port is the port.\n\tPort int `yaml:\"port\"`", "Root.Port (port) says neither its default nor that it is required or optional"},
		{"nested", "\t// Sub is a section. Optional.\n\tSub Sub `yaml:\"sub\"`", "Sub.Bare (sub.bare) has no doc comment"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := "package x\n\n// Root is it.\ntype Root struct {\n" + tt.field + "\n}\n\n// Sub is a section.\ntype Sub struct {\n\tBare string `yaml:\"bare\"`\n}\n\n// Secret is a secret.\ntype Secret struct{}\n"
			_, err := ConfigReference("x.go", []byte(src), "Root", "Secret")
			if !errors.Is(err, ErrUndocumented) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want ErrUndocumented containing %q", err, tt.want)
			}
		})
	}
	if _, err := ConfigReference("x.go", []byte("package x\n"), "Root", "Secret"); err == nil {
		t.Error("a source without the root type was accepted")
	}
	if _, err := ConfigReference("x.go", []byte("package x\ntype Root struct {"), "Root", "Secret"); err == nil {
		t.Error("a source that does not parse was accepted")
	}
}

// TestSplice replaces what is between the markers and nothing else, and
// refuses documents whose markers are missing, doubled or out of order.
func TestSplice(t *testing.T) {
	m := Markers{Begin: "<!-- B -->", End: "<!-- E -->"}
	for _, tt := range []struct{ name, doc, body, want string }{
		{"replace", "intro\n<!-- B -->\nold\nold\n<!-- E -->\noutro\n", "new", "intro\n<!-- B -->\nnew\n<!-- E -->\noutro\n"},
		{"empty section", "<!-- B -->\n<!-- E -->\n", "new\n", "<!-- B -->\nnew\n<!-- E -->\n"},
		{"CRLF markers", "a\r\n<!-- B -->\r\nold\r\n<!-- E -->\r\n", "new\n", "a\r\n<!-- B -->\r\nnew\n<!-- E -->\r\n"},
		{"end at EOF", "<!-- B -->\nold\n<!-- E -->", "new\n", "<!-- B -->\nnew\n<!-- E -->"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Splice(tt.doc, tt.body, m)
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	for _, tt := range []struct{ name, doc string }{
		{"no begin", "x\n<!-- E -->\n"},
		{"no end", "<!-- B -->\nx\n"},
		{"begin twice", "<!-- B -->\n<!-- B -->\n<!-- E -->\n"},
		{"end twice", "<!-- B -->\n<!-- E -->\n<!-- E -->\n"},
		{"wrong order", "<!-- E -->\n<!-- B -->\n"},
		{"marker inside a line", "see <!-- B --> here\n<!-- E -->\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Splice(tt.doc, "new", m); !errors.Is(err, ErrMarkers) {
				t.Errorf("got %v, want ErrMarkers", err)
			}
		})
	}
}

// TestAttributeReferenceCoversEverything: every contract attribute and
// every name a profile sends instead has a row, sensitive ones are marked
// so, and the examples come from the mapping code (the oid profile's
// date of birth in its own YYYYMMDD format).
func TestAttributeReferenceCoversEverything(t *testing.T) {
	got, err := AttributeReference()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range attributes.Definitions() {
		mark := "| no |"
		if d.Sensitive {
			mark = "| **yes** |"
		}
		row := rowOf(got, "| `"+d.Name+"` |")
		if row == "" || !strings.Contains(row, mark) {
			t.Errorf("attribute %s: row %q, want one with %q", d.Name, row, mark)
		}
	}
	for _, name := range attributes.ProfileNames() {
		p, err := attributes.ParseProfile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range p.Attributes() {
			if !strings.Contains(got, "| `"+a.Name+"` |") {
				t.Errorf("profile %s: no row for %s", name, a.Name)
			}
		}
	}
	for _, want := range []string{
		"| `urn:oid:1.3.6.1.4.1.25178.1.2.3` | `schacDateOfBirth` | `urn:oasis:names:tc:SAML:2.0:attrname-format:uri` | `dateOfBirth` | no | `19810424` |",
		"| `nin` | `itsme:BENationalNumber` | Identification | **yes** | `81042419835` |",
		"| `idpId` | `sub` (ID token) | Authentication | no | `rpx5rrbsn4ktvhm3m0q4uh2iepsdat34i9vf` |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the reference lacks the row %s", want)
		}
	}
}

// rowOf returns the first line of doc that starts with prefix.
func rowOf(doc, prefix string) string {
	for _, l := range strings.Split(doc, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}
