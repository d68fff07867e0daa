// Package a11y checks the colours of the project's pages against WCAG
// 2.2: the contrast ratio of text on its background (success criterion
// 1.4.3 asks 4.5:1 for normal text, 1.4.11 asks 3:1 for the parts of
// controls such as focus outlines).
package a11y

import (
	"fmt"
	"math"
	"strconv"
)

// Minimum ratios of WCAG 2.2 level AA.
const (
	// AAText is for normal-size text (SC 1.4.3).
	AAText = 4.5
	// AANonText is for user-interface components and focus indicators
	// (SC 1.4.11).
	AANonText = 3.0
)

// Contrast returns the contrast ratio (1 to 21) of two CSS colours
// written #rgb or #rrggbb.
func Contrast(fg, bg string) (float64, error) {
	l1, err := luminance(fg)
	if err != nil {
		return 0, err
	}
	l2, err := luminance(bg)
	if err != nil {
		return 0, err
	}
	if l1 < l2 {
		l1, l2 = l2, l1
	}
	return (l1 + 0.05) / (l2 + 0.05), nil
}

// luminance is the relative luminance of a colour (WCAG 2.2 definition).
func luminance(c string) (float64, error) {
	if len(c) != 4 && len(c) != 7 || c[0] != '#' {
		return 0, fmt.Errorf("a11y: colour %q is not #rgb or #rrggbb", c)
	}
	hex := c[1:]
	if len(hex) == 3 {
		hex = string([]byte{hex[0], hex[0], hex[1], hex[1], hex[2], hex[2]})
	}
	var ch [3]float64
	for i := range ch {
		v, err := strconv.ParseUint(hex[2*i:2*i+2], 16, 8)
		if err != nil {
			return 0, fmt.Errorf("a11y: colour %q: %w", c, err)
		}
		s := float64(v) / 255
		if s <= 0.04045 {
			ch[i] = s / 12.92
		} else {
			ch[i] = math.Pow((s+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*ch[0] + 0.7152*ch[1] + 0.0722*ch[2], nil
}
