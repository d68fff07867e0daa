package attributes

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Limits on what a claim value may look like. Anything beyond is skipped:
// claims come from validated itsme tokens, so oddities mean a bug or an
// attack, never data worth releasing.
const (
	maxValueLen = 4096  // bytes of one rendered attribute value
	maxJSONLen  = 16384 // bytes of an object sent as a JSON-encoded string
)

// text renders a JSON scalar as a trimmed attribute value: strings as
// they are, booleans as "true"/"false", numbers in plain decimal. Objects,
// arrays, null and values that cannot travel in XML are rejected.
func text(v any) (string, bool) {
	s, ok := scalar(v)
	if !ok {
		return "", false
	}
	return clean(s)
}

// scalar renders v without cleaning it.
func scalar(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		return formatFloat(x)
	case float32:
		return formatFloat(float64(x))
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return strconv.FormatInt(i, 10), true
		}
		f, err := x.Float64()
		if err != nil {
			return "", false
		}
		return formatFloat(f)
	case int:
		return strconv.FormatInt(int64(x), 10), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case uint:
		return strconv.FormatUint(uint64(x), 10), true
	case uint32:
		return strconv.FormatUint(uint64(x), 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	default:
		return "", false
	}
}

// formatFloat renders a JSON number: integers without a fraction or
// exponent, other values in the shortest form that round-trips.
func formatFloat(f float64) (string, bool) {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return "", false
	case f == math.Trunc(f) && math.Abs(f) < 1e21:
		return strconv.FormatFloat(f, 'f', 0, 64), true
	default:
		return strconv.FormatFloat(f, 'g', -1, 64), true
	}
}

// clean trims s and checks that it can be an attribute value: non-empty,
// bounded, valid UTF-8 and made only of characters XML 1.0 allows.
func clean(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxValueLen || !utf8.ValidString(s) {
		return "", false
	}
	for _, r := range s {
		if !xmlChar(r) {
			return "", false
		}
	}
	return s, true
}

// xmlChar reports whether r is a Char of XML 1.0 (§2.2).
func xmlChar(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return true
	case r >= 0x20 && r <= 0xD7FF:
		return true
	case r >= 0xE000 && r <= 0xFFFD:
		return true
	case r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}

// object returns v as a JSON object. It accepts a decoded object and, for
// itsme's v1 quirk, an object encoded as a JSON string (one level only).
func object(v any) (map[string]any, bool) {
	switch x := v.(type) {
	case map[string]any:
		return x, true
	case map[string]string:
		m := make(map[string]any, len(x))
		for k, s := range x {
			m[k] = s
		}
		return m, true
	case string:
		s := strings.TrimSpace(x)
		if !strings.HasPrefix(s, "{") || len(s) > maxJSONLen {
			return nil, false
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil || m == nil {
			return nil, false
		}
		return m, true
	}
	return nil, false
}

// plainString returns v when it is a string that is not a JSON object,
// for claims that are usually objects but may come as plain text.
func plainString(v any) (string, bool) {
	s, ok := v.(string)
	if !ok || strings.HasPrefix(strings.TrimSpace(s), "{") {
		return "", false
	}
	return clean(s)
}

// member returns the first of keys present in obj with a usable value.
func member(obj map[string]any, keys ...string) (string, bool) {
	for _, k := range keys {
		if s, ok := text(obj[k]); ok {
			return s, true
		}
	}
	return "", false
}

// allDigits reports whether s is non-empty and only ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
