// Package docgen generates the reference parts of the documentation from
// the code, so that they cannot drift from it: the configuration key
// reference from the config types of cmd/samlbridge (their YAML tags, Go
// types and doc comments), and the attribute reference from the
// attributes package. Each goes between two marker lines of a hand-written
// Markdown file; Splice replaces what is between them.
package docgen

import (
	"errors"
	"fmt"
	"strings"
)

// Markers delimit a generated section in a Markdown file.
type Markers struct {
	// Begin and End are whole lines; what is between them is replaced.
	Begin, End string
}

// Marker pairs of the generated sections.
var (
	// ConfigMarkers delimit the key reference in docs/configuration.md.
	ConfigMarkers = Markers{
		Begin: "<!-- BEGIN GENERATED: configuration keys (go generate ./cmd/samlbridge) -->",
		End:   "<!-- END GENERATED: configuration keys -->",
	}
	// AttributeMarkers delimit the attribute tables in docs/attributes.md.
	AttributeMarkers = Markers{
		Begin: "<!-- BEGIN GENERATED: attributes (go generate ./cmd/samlbridge) -->",
		End:   "<!-- END GENERATED: attributes -->",
	}
)

// ErrMarkers means a document lacks a marker line, has one twice, or has
// them in the wrong order.
var ErrMarkers = errors.New("docgen: generated-section markers")

// Splice returns doc with the lines between m.Begin and m.End replaced by
// body. Each marker must be a line of its own, exactly once, Begin first.
func Splice(doc, body string, m Markers) (string, error) {
	lines := strings.SplitAfter(doc, "\n")
	begin, end := -1, -1
	for i, l := range lines {
		switch strings.TrimRight(l, "\r\n") {
		case m.Begin:
			if begin >= 0 {
				return "", fmt.Errorf("%w: %q appears twice", ErrMarkers, m.Begin)
			}
			begin = i
		case m.End:
			if end >= 0 {
				return "", fmt.Errorf("%w: %q appears twice", ErrMarkers, m.End)
			}
			end = i
		}
	}
	switch {
	case begin < 0:
		return "", fmt.Errorf("%w: no line %q", ErrMarkers, m.Begin)
	case end < 0:
		return "", fmt.Errorf("%w: no line %q", ErrMarkers, m.End)
	case end < begin:
		return "", fmt.Errorf("%w: %q comes before %q", ErrMarkers, m.End, m.Begin)
	}
	if body != "" && !strings.HasSuffix(body, "\n") {
		body += "\n"
	}
	var b strings.Builder
	for _, l := range lines[:begin+1] {
		b.WriteString(l)
	}
	if !strings.HasSuffix(lines[begin], "\n") {
		b.WriteString("\n")
	}
	b.WriteString(body)
	for _, l := range lines[end:] {
		b.WriteString(l)
	}
	return b.String(), nil
}

// cell escapes text for a Markdown table cell: pipes, angle brackets and
// line breaks would otherwise break the table or vanish as HTML.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;", "\n", " ").Replace(s)
}
