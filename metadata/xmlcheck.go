package metadata

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

// maxMetadataDepth bounds element nesting. Real metadata (aggregates with
// nested EntitiesDescriptors, Extensions, KeyInfo) stays well below it; the
// bound keeps encoding/xml's recursive DecodeElement away from deep input
// (catalogue X-06, LIB-12).
const maxMetadataDepth = 64

// precheck runs the document-level checks that come before any binding
// (catalogue X-03..X-07, G18, LIB-01): UTF-8, no DOCTYPE or other
// directive, bounded depth, a single root, no duplicate attributes, no
// processing instructions besides the XML declaration, then the
// xml-roundtrip-validator.
func precheck(data []byte) error {
	if !utf8.Valid(data) {
		return errors.New("document is not valid UTF-8")
	}
	upper := bytes.ToUpper(data)
	if bytes.Contains(upper, []byte("<!DOCTYPE")) || bytes.Contains(upper, []byte("<!ENTITY")) {
		return errors.New("document contains a DOCTYPE or ENTITY declaration")
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("not well-formed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				if roots > 1 {
					return errors.New("more than one root element")
				}
			}
			depth++
			if depth > maxMetadataDepth {
				return fmt.Errorf("elements nested deeper than %d", maxMetadataDepth)
			}
			if err := checkDuplicateAttrs(t); err != nil {
				return err
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return errors.New("text outside the root element")
			}
		case xml.Directive:
			return errors.New("document contains a directive (DOCTYPE)")
		case xml.ProcInst:
			if t.Target != "xml" {
				return fmt.Errorf("processing instruction %.40q not allowed", t.Target)
			}
		}
	}
	if roots != 1 {
		return errors.New("no root element")
	}
	if err := xrv.Validate(bytes.NewReader(data)); err != nil {
		return fmt.Errorf("document does not round-trip through encoding/xml: %w", err)
	}
	return nil
}

// checkDuplicateAttrs rejects an element that carries the same attribute
// twice: encoding/xml and etree silently keep one of them (G18).
func checkDuplicateAttrs(t xml.StartElement) error {
	seen := make(map[xml.Name]bool, len(t.Attr))
	for _, a := range t.Attr {
		if seen[a.Name] {
			return fmt.Errorf("element %.60q has attribute %.60q twice", t.Name.Local, strings.TrimPrefix(a.Name.Space+" "+a.Name.Local, " "))
		}
		seen[a.Name] = true
	}
	return nil
}
