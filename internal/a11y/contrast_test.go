package a11y

import (
	"math"
	"testing"
)

func TestContrast(t *testing.T) {
	tests := []struct {
		fg, bg string
		want   float64
		ok     bool
	}{
		{"#000", "#fff", 21, true},
		{"#ffffff", "#000000", 21, true},
		{"#777", "#fff", 4.48, true},
		{"#767676", "#ffffff", 4.54, true},
		{"#fff", "#ff4612", 3.42, true},
		{"#abc", "#abc", 1, true},
		{"#12", "#fff", 0, false},
		{"fff", "#fff", 0, false},
		{"#ggg", "#fff", 0, false},
		{"#fff", "#12345z", 0, false},
	}
	for _, tt := range tests {
		got, err := Contrast(tt.fg, tt.bg)
		if (err == nil) != tt.ok {
			t.Errorf("Contrast(%s, %s) error %v, want ok=%v", tt.fg, tt.bg, err, tt.ok)
			continue
		}
		if math.Abs(got-tt.want) > 0.01 {
			t.Errorf("Contrast(%s, %s) = %.3f, want %.2f", tt.fg, tt.bg, got, tt.want)
		}
	}
}
