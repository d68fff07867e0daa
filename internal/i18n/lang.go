// Package i18n holds the texts the bridge and the itsme emulator show to
// people, in the four languages itsme supports (nl, fr, de and en, en
// being the fallback), and chooses the language of a page: an explicit
// hint first, then the browser's Accept-Language header, then English.
package i18n

import (
	"slices"
	"strconv"
	"strings"
)

// Lang is one of the supported languages, as its ISO 639-1 code.
type Lang string

// The supported languages.
const (
	EN Lang = "en"
	NL Lang = "nl"
	FR Lang = "fr"
	DE Lang = "de"
)

// Default is the language used when nothing else is known.
const Default = EN

// Supported lists the languages every text exists in, the default first.
var Supported = []Lang{EN, NL, FR, DE}

// Limits on what is read from a hint or header; anything beyond them is
// ignored, so a hostile header costs little.
const (
	maxHeaderBytes = 1024
	maxItems       = 32
	maxTagBytes    = 35
)

// Parse reads one BCP 47 language tag ("fr", "nl-BE", "de-CH-1996") and
// returns the supported language of its primary subtag. The tag must be
// well-formed: letters, digits and hyphens, subtags of 1 to 8 characters,
// a primary subtag of letters only. Case does not matter.
func Parse(tag string) (Lang, bool) {
	if tag == "" || len(tag) > maxTagBytes {
		return "", false
	}
	subtags := strings.Split(tag, "-")
	for i, s := range subtags {
		if len(s) < 1 || len(s) > 8 {
			return "", false
		}
		for _, c := range []byte(s) {
			switch {
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
			case c >= '0' && c <= '9' && i > 0:
			default:
				return "", false
			}
		}
	}
	l := Lang(strings.ToLower(subtags[0]))
	if !slices.Contains(Supported, l) {
		return "", false
	}
	return l, true
}

// FromHint reads an explicit language hint: a space-separated list of
// language tags in order of preference, as OIDC's ui_locales (OpenID
// Connect Core §3.1.2.1). The first supported tag wins; malformed and
// unsupported tags are skipped.
func FromHint(hint string) (Lang, bool) {
	if len(hint) > maxHeaderBytes {
		return "", false
	}
	for i, tag := range strings.Fields(hint) {
		if i >= maxItems {
			break
		}
		if l, ok := Parse(tag); ok {
			return l, true
		}
	}
	return "", false
}

// FromAcceptLanguage reads an Accept-Language header (RFC 9110 §12.5.4)
// and returns the supported language the browser prefers most: the
// highest q-value wins, the earlier item on a tie. Items with q=0, the
// wildcard, malformed items and unsupported languages are ignored; a
// header with nothing usable gives false, never an error.
func FromAcceptLanguage(header string) (Lang, bool) {
	if header == "" || len(header) > maxHeaderBytes {
		return "", false
	}
	best, bestQ := Lang(""), 0
	for i, item := range strings.Split(header, ",") {
		if i >= maxItems {
			break
		}
		tag, params, _ := strings.Cut(item, ";")
		l, ok := Parse(strings.TrimSpace(tag))
		if !ok {
			continue
		}
		q, ok := qValue(params)
		if !ok || q <= bestQ {
			continue
		}
		best, bestQ = l, q
	}
	return best, bestQ > 0
}

// qValue reads the weight of an Accept-Language item, in thousandths
// (RFC 9110 §12.4.2: "q=" then 0 or 1 with up to three decimals). No
// parameter means 1; any other parameter makes the item malformed.
func qValue(params string) (int, bool) {
	params = strings.TrimSpace(params)
	if params == "" {
		return 1000, true
	}
	name, v, ok := strings.Cut(params, "=")
	if !ok || strings.ToLower(strings.TrimSpace(name)) != "q" {
		return 0, false
	}
	v = strings.TrimSpace(v)
	whole, frac, _ := strings.Cut(v, ".")
	if (whole != "0" && whole != "1") || len(frac) > 3 {
		return 0, false
	}
	for _, c := range []byte(frac) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(whole + (frac + "000")[:3])
	if err != nil || n > 1000 {
		return 0, false
	}
	return n, true
}

// Choose picks the language of a page: the first supported language of
// hint (see FromHint), else the browser's preference from acceptLanguage,
// else Default.
func Choose(hint, acceptLanguage string) Lang {
	if l, ok := FromHint(hint); ok {
		return l
	}
	if l, ok := FromAcceptLanguage(acceptLanguage); ok {
		return l
	}
	return Default
}

// OrDefault returns l when it is supported, else Default. It reads a
// language stored earlier (with a login transaction), which may be empty.
func (l Lang) OrDefault() Lang {
	if slices.Contains(Supported, l) {
		return l
	}
	return Default
}
