package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// decodeObject decodes one JSON object with numbers as json.Number. It
// refuses duplicate top-level member names (an ambiguity attackers use)
// and trailing data.
func decodeObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedJWT, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("%w: not a JSON object", ErrMalformedJWT)
	}
	out := map[string]any{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformedJWT, err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("%w: member name", ErrMalformedJWT)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("%w: duplicate member %.64q", ErrMalformedJWT, name)
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformedJWT, err)
		}
		out[name] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedJWT, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: trailing data", ErrMalformedJWT)
	}
	return out, nil
}

// numericDate reads a JWT NumericDate (RFC 7519 §2).
func numericDate(v any) (time.Time, bool) {
	var f float64
	switch n := v.(type) {
	case json.Number:
		x, err := n.Float64()
		if err != nil {
			return time.Time{}, false
		}
		f = x
	case float64:
		f = n
	case int64:
		f = float64(n)
	case int:
		f = float64(n)
	default:
		return time.Time{}, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e11 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}

// audContains reports whether aud, a string or an array of strings, holds
// one of want.
func audContains(aud any, want ...string) bool {
	match := func(s string) bool {
		for _, w := range want {
			if s == w {
				return true
			}
		}
		return false
	}
	switch a := aud.(type) {
	case string:
		return match(a)
	case []any:
		for _, x := range a {
			if s, ok := x.(string); ok && match(s) {
				return true
			}
		}
	}
	return false
}

// cloneJSON deep-copies a JSON-compatible value so callers (and the
// TokenHook) cannot modify persona data through it.
func cloneJSON(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if dec.Decode(&out) != nil {
		return nil
	}
	return out
}

// marshalJSON encodes v without HTML escaping.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("emulator: encoding JSON: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
