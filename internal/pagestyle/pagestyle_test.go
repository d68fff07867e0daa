package pagestyle

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/samlbridge/samlbridge/internal/a11y"
)

// TestContrast proves every colour pair of the stylesheet meets WCAG AA.
func TestContrast(t *testing.T) {
	for _, p := range Pairs {
		got, err := a11y.Contrast(p.FG, p.BG)
		if err != nil {
			t.Fatal(err)
		}
		if got < p.Min {
			t.Errorf("%s: %s on %s has contrast %.2f:1, below %.1f:1", p.Use, p.FG, p.BG, got, p.Min)
		}
	}
}

// TestEveryColourChecked proves the stylesheet uses no colour outside the
// checked pairs and the decorative list.
func TestEveryColourChecked(t *testing.T) {
	known := slices.Clone(Decorative)
	for _, p := range Pairs {
		known = append(known, p.FG, p.BG)
	}
	for _, c := range regexp.MustCompile(`#[0-9a-fA-F]{3,6}\b`).FindAllString(string(CSS), -1) {
		if !slices.Contains(known, strings.ToLower(c)) {
			t.Errorf("the stylesheet uses %s, which no contrast pair covers", c)
		}
	}
	if !strings.Contains(string(CSS), ":focus-visible{outline:3px solid "+Focus) {
		t.Error("no visible focus style")
	}
}
