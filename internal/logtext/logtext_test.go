package logtext

import (
	"testing"
	"unicode/utf8"
)

func TestCut(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly", 7, "exactly"},
		{"abcdef", 3, "abc…"},
		{"aéb", 2, "a…"},  // é is two bytes: not cut in half
		{"é", 1, "…"},     // nothing whole fits
		{"€uro", 2, "…"},  // € is three bytes
		{"€uro", 3, "€…"}, // it fits exactly
		{"", 0, ""},
	} {
		got := Cut(tt.in, tt.n)
		if got != tt.want || !utf8.ValidString(got) {
			t.Errorf("Cut(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}
