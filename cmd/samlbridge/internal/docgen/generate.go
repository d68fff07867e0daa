package docgen

import (
	"fmt"
	"os"
	"path/filepath"
)

// Doc is one generated document: its path from the repository root and
// its contents, as they are and as they should be.
type Doc struct {
	Path       string
	Have, Want string
}

// Generate reads the sources and documents under the repository root and
// returns each document with its generated section up to date.
func Generate(root string) ([]Doc, error) {
	const configGo = "cmd/samlbridge/config.go"
	src, err := os.ReadFile(filepath.Join(root, configGo))
	if err != nil {
		return nil, fmt.Errorf("docgen: %w", err)
	}
	keys, err := ConfigReference(configGo, src, "Config", "Secret")
	if err != nil {
		return nil, err
	}
	attrs, err := AttributeReference()
	if err != nil {
		return nil, err
	}
	var out []Doc
	for _, g := range []struct {
		path, body string
		m          Markers
	}{
		{"docs/configuration.md", keys, ConfigMarkers},
		{"docs/attributes.md", attrs, AttributeMarkers},
	} {
		have, err := os.ReadFile(filepath.Join(root, g.path))
		if err != nil {
			return nil, fmt.Errorf("docgen: %w", err)
		}
		want, err := Splice(string(have), g.body, g.m)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", g.path, err)
		}
		out = append(out, Doc{Path: g.path, Have: string(have), Want: want})
	}
	return out, nil
}
