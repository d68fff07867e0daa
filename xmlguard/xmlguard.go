// Package xmlguard checks untrusted XML on its raw bytes before any DOM,
// binding or signature work: UTF-8 only, no DOCTYPE or ENTITY, exactly one
// root, bounded depth, element count, attributes and text, no duplicate or
// run-together attributes, no processing instructions besides the XML
// declaration, and a round trip through encoding/xml (security catalogue
// X-03..X-07, X-10, G18, LIB-01).
//
// SAML messages and SP metadata both go through it, with their own limits.
package xmlguard

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	xrv "github.com/mattermost/xml-roundtrip-validator"
)

// Limits bounds a document's structure. A zero field means no limit.
type Limits struct {
	MaxDepth    int
	MaxElements int
	MaxAttrs    int // per element
	MaxText     int // bytes per text node
}

// Check returns an error describing the first problem found in data, or
// nil. Error texts never quote more than a few bytes of the input.
func Check(data []byte, l Limits) error {
	if !utf8.Valid(data) {
		return errors.New("document is not valid UTF-8")
	}
	if bytes.HasPrefix(data, []byte("\ufeff")) {
		return errors.New("document does not start with '<' but with a byte-order mark; save it as UTF-8 without BOM")
	}
	if !bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("<")) {
		return errors.New("document does not start with '<'")
	}
	upper := bytes.ToUpper(data)
	if bytes.Contains(upper, []byte("<!DOCTYPE")) || bytes.Contains(upper, []byte("<!ENTITY")) {
		return errors.New("document contains a DOCTYPE or ENTITY declaration")
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	depth, elements, roots, tokens := 0, 0, 0, 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("not well-formed XML: %w", err)
		}
		tokens++
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				if roots++; roots > 1 {
					return errors.New("more than one root element")
				}
			}
			if depth++; l.MaxDepth > 0 && depth > l.MaxDepth {
				return fmt.Errorf("elements nested deeper than %d", l.MaxDepth)
			}
			if elements++; l.MaxElements > 0 && elements > l.MaxElements {
				return fmt.Errorf("more than %d elements", l.MaxElements)
			}
			if l.MaxAttrs > 0 && len(t.Attr) > l.MaxAttrs {
				return fmt.Errorf("an element has more than %d attributes", l.MaxAttrs)
			}
			seen := make(map[xml.Name]bool, len(t.Attr))
			for _, a := range t.Attr {
				if seen[a.Name] {
					return fmt.Errorf("element %.60q has attribute %.60q twice", t.Name.Local, a.Name.Local)
				}
				seen[a.Name] = true
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			if l.MaxText > 0 && len(t) > l.MaxText {
				return fmt.Errorf("a text node is longer than %d bytes", l.MaxText)
			}
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return errors.New("text outside the root element")
			}
		case xml.Directive:
			return errors.New("document contains a directive (DOCTYPE)")
		case xml.ProcInst:
			if t.Target != "xml" || tokens != 1 {
				return errors.New("processing instructions are not allowed")
			}
		}
	}
	if roots != 1 {
		return errors.New("no root element")
	}
	if err := checkAttrSeparation(data); err != nil {
		return err
	}
	if err := xrv.Validate(bytes.NewReader(data)); err != nil {
		return fmt.Errorf("document does not round-trip through encoding/xml: %w", err)
	}
	return nil
}

// checkAttrSeparation refuses attributes not separated by whitespace
// (<a b="c"d="e"/>), which encoding/xml accepts but other XML parsers
// reject or read differently (golang/go#68293, catalogue X-07). It lexes
// only the markup of a document encoding/xml already found well-formed.
func checkAttrSeparation(data []byte) error {
	skip := func(i int, end string) int {
		k := bytes.Index(data[i:], []byte(end))
		if k < 0 {
			return len(data)
		}
		return i + k + len(end)
	}
	for i := 0; i < len(data); {
		j := bytes.IndexByte(data[i:], '<')
		if j < 0 {
			return nil
		}
		i += j
		rest := data[i:]
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			i = skip(i, "-->")
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			i = skip(i, "]]>")
		case bytes.HasPrefix(rest, []byte("<?")):
			i = skip(i, "?>")
		default:
			var quote byte
			for i++; i < len(data); i++ {
				c := data[i]
				if quote != 0 {
					if c == quote {
						quote = 0
						if i+1 < len(data) && !strings.ContainsRune(" \t\r\n/>", rune(data[i+1])) {
							return errors.New("attributes not separated by whitespace")
						}
					}
					continue
				}
				if c == '"' || c == '\'' {
					quote = c
				} else if c == '>' {
					break
				}
			}
		}
	}
	return nil
}
