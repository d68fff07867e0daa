package saml

import (
	"strings"
	"testing"
)

func TestPrecheckXML(t *testing.T) {
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
		{"BOM", "\ufeff" + ok, "start with"},
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
			err := precheckXML([]byte(tt.in))
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

func TestValidID(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]bool{
		"id-123": true, "_a.b-c": true, "é1": true,
		"": false, "1abc": false, "-a": false, "a b": false, `a"b`: false, "a:b": false,
		strings.Repeat("a", 256): true, strings.Repeat("a", 257): false,
	} {
		if got := validID(id); got != want {
			t.Errorf("validID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestRequestErrorStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *RequestError
		want int
	}{
		{reject(ErrMalformedRequest, nil), 400},
		{reject(ErrRequestTooLarge, nil), 413},
		{reject(ErrRegistryUnavailable, nil), 503},
		{&RequestError{Reason: ErrUnsupportedBinding, status: 405}, 405},
		{reject(ErrUnknownSP, nil), 400},
	}
	for _, tt := range tests {
		if got := tt.err.HTTPStatus(); got != tt.want {
			t.Errorf("%v: status %d, want %d", tt.err, got, tt.want)
		}
	}
	if reject(ErrUnknownSP, nil).Message != msgUnknownSP || !strings.Contains(msgUnknownSP, "not registered") {
		t.Error("unknown-SP message")
	}
}
