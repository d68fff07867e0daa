package itsme

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// maxJSONDepth bounds the nesting of claims and headers.
const maxJSONDepth = 32

// checkStrictJSON reports whether data is exactly one JSON object with no
// repeated member names in any object, nested at most maxJSONDepth deep
// (OIDC-14: encoding/json silently keeps the last of two equal names).
func checkStrictJSON(data []byte) error {
	type frame struct {
		obj     bool
		wantKey bool
		keys    map[string]struct{}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformedClaims, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("%w: not a JSON object", ErrMalformedClaims)
	}
	stack := []*frame{{obj: true, wantKey: true, keys: map[string]struct{}{}}}
	for len(stack) > 0 {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("%w: %w", ErrMalformedClaims, err)
		}
		top := stack[len(stack)-1]
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if len(stack) >= maxJSONDepth {
					return fmt.Errorf("%w: nested deeper than %d", ErrMalformedClaims, maxJSONDepth)
				}
				stack = append(stack, &frame{obj: t == '{', wantKey: t == '{', keys: map[string]struct{}{}})
			default: // '}' or ']'
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].obj {
					stack[len(stack)-1].wantKey = true
				}
			}
		case string:
			if top.obj && top.wantKey {
				if _, dup := top.keys[t]; dup {
					return fmt.Errorf("%w: %.64q", ErrDuplicateClaim, t)
				}
				top.keys[t] = struct{}{}
				top.wantKey = false
				continue
			}
			if top.obj {
				top.wantKey = true
			}
		default:
			if top.obj {
				top.wantKey = true
			}
		}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: data after the JSON object", ErrMalformedClaims)
	}
	return nil
}
