package xmlguard

import (
	"strings"
	"testing"
)

var samlLimits = Limits{MaxDepth: 64, MaxElements: 2000, MaxAttrs: 50, MaxText: 16 << 10}

func TestCheck(t *testing.T) {
	t.Parallel()
	const ok = `<r a="1"><b>text</b><!-- fine --></r>`
	tests := []struct {
		name    string
		in      string
		wantErr string // "" means accepted
	}{
		{"plain", ok, ""},
		{"XML declaration", `<?xml version="1.0" encoding="UTF-8"?>` + ok, ""},
		{"whitespace around", "\n " + ok + "\n", ""},
		{"BOM", "\ufeff" + ok, "byte-order mark"},
		{"junk before the root", "x" + ok, "start with"},
		{"text after the root", ok + "x", "outside the root"},
		{"two roots", ok + ok, "more than one root"},
		{"no root", "<!-- -->", "no root"},
		{"processing instruction", `<r><?php x?></r>`, "processing instructions"},
		{"late XML declaration", `<!-- c --><?xml version="1.0"?><r/>`, "processing instructions"},
		{"lowercase doctype", `<!doctype r><r/>`, "DOCTYPE"},
		{"ENTITY", `<r><!ENTITY x "y"></r>`, "DOCTYPE"},
		{"CDATA directive", `<r><![CDATA[x]]></r>`, ""},
		{"ISO-8859-1", `<?xml version="1.0" encoding="ISO-8859-1"?><r/>`, "encoding"},
		{"NUL byte", "<r>\x00</r>", "well-formed"},
		{"unclosed root", `<r><a></a>`, "well-formed"},
		{"mismatched tags", `<r><a></b></r>`, "well-formed"},
		{"attributes without space", `<r a="1"b="2"/>`, "separated"},
		{"quote in text is fine", `<r a="1">"x"y</r>`, ""},
		{"single quotes", `<r a='1' b="2"/>`, ""},
		{"duplicate attribute", `<r a="1" a="2"/>`, "twice"},
		{"duplicate namespaced attribute", `<r xmlns:x="urn:x" xmlns:y="urn:x" x:a="1" y:a="2"/>`, "twice"},
		{"51 attributes", "<r" + strings.Repeat(" a", 0) + attrs(51) + "/>", "attributes"},
		{"depth 65", strings.Repeat("<a>", 65) + strings.Repeat("</a>", 65), "deeper"},
		{"depth 64", strings.Repeat("<a>", 64) + strings.Repeat("</a>", 64), ""},
		{"2001 elements", "<r>" + strings.Repeat("<a/>", 2000) + "</r>", "elements"},
		{"long text", "<r>" + strings.Repeat("x", 17<<10) + "</r>", "text node"},
		{"undeclared entity", `<r>&x;</r>`, "well-formed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Check([]byte(tt.in), samlLimits)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("rejected: %v", err)
			case tt.wantErr != "" && err == nil:
				t.Fatal("accepted")
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("error %q does not mention %q", err, tt.wantErr)
			}
		})
	}
}

func attrs(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(" a")
		b.WriteString(strings.Repeat("x", i))
		b.WriteString(`="1"`)
	}
	return b.String()
}

func TestZeroLimitsMeanUnbounded(t *testing.T) {
	deep := strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100)
	if err := Check([]byte(deep), Limits{}); err != nil {
		t.Errorf("depth 100 with no limit: %v", err)
	}
	if err := Check([]byte(deep), Limits{MaxDepth: 99}); err == nil {
		t.Error("depth 100 accepted with MaxDepth 99")
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{`<r a="1"><b>t</b></r>`, `<?xml version="1.0"?><r/>`, `<r a="1"b="2"/>`, `<!DOCTYPE r><r/>`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_ = Check(data, samlLimits) // must not panic
	})
}
