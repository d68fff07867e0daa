package supplychain

import (
	"errors"
	"fmt"
	"strings"
)

// errSemver is wrapped by every version-syntax error.
var errSemver = errors.New("not a semantic version")

// semver is a parsed module version: vMAJOR.MINOR.PATCH[-PRERELEASE][+BUILD].
// Build metadata (such as +incompatible) does not take part in ordering.
type semver struct {
	major, minor, patch string // decimal digits, no leading zeros
	pre                 []string
}

// parseSemver parses a module version the way the go command writes them:
// a leading "v" and all three numeric parts are required (so pseudo-versions
// such as v0.0.0-20260213210345-44df1a37e875 parse, with a pre-release).
func parseSemver(v string) (semver, error) {
	var s semver
	rest, ok := strings.CutPrefix(v, "v")
	if !ok {
		return s, fmt.Errorf("%w: %q lacks the leading v", errSemver, v)
	}
	if i := strings.IndexByte(rest, '+'); i >= 0 {
		if !validIdents(rest[i+1:], false) {
			return s, fmt.Errorf("%w: %q has malformed build metadata", errSemver, v)
		}
		rest = rest[:i]
	}
	if i := strings.IndexByte(rest, '-'); i >= 0 {
		pre := rest[i+1:]
		if !validIdents(pre, true) {
			return s, fmt.Errorf("%w: %q has a malformed pre-release", errSemver, v)
		}
		s.pre = strings.Split(pre, ".")
		rest = rest[:i]
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 3 {
		return s, fmt.Errorf("%w: %q needs major.minor.patch", errSemver, v)
	}
	for _, p := range parts {
		if !isNumeric(p) || (len(p) > 1 && p[0] == '0') {
			return s, fmt.Errorf("%w: %q has a malformed number %q", errSemver, v, p)
		}
	}
	s.major, s.minor, s.patch = parts[0], parts[1], parts[2]
	return s, nil
}

// compareSemver returns -1, 0 or +1 as a is lower than, equal to or higher
// than b, following Semantic Versioning 2.0.0 §11: numeric parts compare
// numerically, and a pre-release is lower than its release.
func compareSemver(a, b string) (int, error) {
	x, err := parseSemver(a)
	if err != nil {
		return 0, err
	}
	y, err := parseSemver(b)
	if err != nil {
		return 0, err
	}
	for _, pair := range [][2]string{{x.major, y.major}, {x.minor, y.minor}, {x.patch, y.patch}} {
		if c := compareNumeric(pair[0], pair[1]); c != 0 {
			return c, nil
		}
	}
	return comparePre(x.pre, y.pre), nil
}

// comparePre orders pre-release identifier lists; an empty list (a release)
// is higher than any pre-release.
func comparePre(a, b []string) int {
	switch {
	case len(a) == 0 && len(b) == 0:
		return 0
	case len(a) == 0:
		return 1
	case len(b) == 0:
		return -1
	}
	for i := 0; i < len(a) && i < len(b); i++ {
		an, bn := isNumeric(a[i]), isNumeric(b[i])
		var c int
		switch {
		case an && bn:
			c = compareNumeric(a[i], b[i])
		case an:
			c = -1 // numeric identifiers are lower than alphanumeric ones
		case bn:
			c = 1
		default:
			c = strings.Compare(a[i], b[i])
		}
		if c != 0 {
			return c
		}
	}
	return compareInt(len(a), len(b))
}

// compareNumeric compares two digit strings without leading zeros of any
// length, so no overflow is possible.
func compareNumeric(a, b string) int {
	if c := compareInt(len(a), len(b)); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func compareInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func isNumeric(s string) bool {
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

// validIdents reports whether s is a dot-separated list of non-empty
// [0-9A-Za-z-] identifiers; for a pre-release, numeric identifiers must not
// have leading zeros.
func validIdents(s string, pre bool) bool {
	if s == "" {
		return false
	}
	for _, id := range strings.Split(s, ".") {
		if id == "" {
			return false
		}
		for i := 0; i < len(id); i++ {
			c := id[i]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
				return false
			}
		}
		if pre && len(id) > 1 && id[0] == '0' && isNumeric(id) {
			return false
		}
	}
	return true
}
