package attributes

import (
	"strings"
)

// Value formats of the attribute profiles (see profile.go for the
// definitions they follow). Each returns ok=false when the value cannot
// be written in the target format; Map then omits the attribute.

// genderCode maps itsme's gender ("female", "male", "unknown", "n/a",
// compared case-insensitively) through codes; anything else is absent.
func genderCode(codes map[string]string) extractor {
	return func(_ string, claims map[string]any) (string, bool) {
		s, ok := text(claims["gender"])
		if !ok {
			return "", false
		}
		c, ok := codes[strings.ToLower(s)]
		return c, ok
	}
}

// genderISO5218 is schacGender: ISO/IEC 5218 codes, 0 not known, 1 male,
// 2 female, 9 not applicable.
var genderISO5218 = genderCode(map[string]string{"female": "2", "male": "1", "unknown": "0", "n/a": "9"})

// genderIMI is the IMI gender claim: "0" unspecified, "1" male, "2"
// female; it has no "not applicable", so n/a is unspecified.
var genderIMI = genderCode(map[string]string{"female": "2", "male": "1", "unknown": "0", "n/a": "0"})

// dateOfBirthCompact is schacDateOfBirth: the contract's YYYY-MM-DD
// without the dashes.
func dateOfBirthCompact(subject string, claims map[string]any) (string, bool) {
	s, ok := dateOfBirth(subject, claims)
	if !ok {
		return "", false
	}
	return s[:4] + s[5:7] + s[8:], true
}

// schacBelgianNumber is the schacPersonalUniqueID prefix of a Belgian
// national register number. No Belgian ID type is registered in the SCHAC
// URN registry; RRN (Rijksregisternummer, the name seed 003 uses) follows
// the form of the registered national types (hr:OIB, it:CF).
const schacBelgianNumber = "urn:schac:personalUniqueID:be:RRN:"

// ninSCHAC is schacPersonalUniqueID for the Belgian national number (its
// 11 digits). Foreign numbers, which have no ID type the bridge could
// name, are omitted.
func ninSCHAC(_ string, claims map[string]any) (string, bool) {
	s, ok := belgianNumber(claims)
	if !ok {
		return "", false
	}
	return schacBelgianNumber + s, true
}

// countryCode returns s as an upper-case ISO 3166 alpha-2 code, when it
// has that shape (two ASCII letters).
func countryCode(s string) (string, bool) {
	if len(s) != 2 || !asciiLetter(s[0]) || !asciiLetter(s[1]) {
		return "", false
	}
	return strings.ToUpper(s), true
}

func asciiLetter(c byte) bool {
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
}

// citizenshipCode is schacCountryOfCitizenship: itsme's citizenship when
// it is a two-letter code. itsme sends other shapes for some documents
// (ISO alpha-3 for Dutch ones); those are omitted rather than guessed.
func citizenshipCode(_ string, claims map[string]any) (string, bool) {
	s, ok := text(claims[claimCitizenship])
	if !ok {
		return "", false
	}
	return countryCode(s)
}

// addressObject returns the address claim as an object (also when itsme
// sends it JSON-encoded in a string).
func addressObject(claims map[string]any) (map[string]any, bool) {
	return object(claims["address"])
}

// addressPart reads one member of the address object, its lines (OIDC
// street_address may have several) joined by ", ".
func addressPart(key string) extractor {
	return func(_ string, claims map[string]any) (string, bool) {
		obj, ok := addressObject(claims)
		if !ok {
			return "", false
		}
		s, ok := text(obj[key])
		if !ok {
			return "", false
		}
		return clean(strings.Join(lines(s), ", "))
	}
}

// addressCountry is the address's country member as a two-letter code.
func addressCountry(_ string, claims map[string]any) (string, bool) {
	obj, ok := addressObject(claims)
	if !ok {
		return "", false
	}
	s, ok := text(obj["country"])
	if !ok {
		return "", false
	}
	return countryCode(s)
}

// lines splits s at line breaks, trimming each line and dropping blank
// ones.
func lines(s string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// postalEscaper escapes a line of the RFC 4517 Postal Address syntax
// (§3.3.28): "\" as \5C and "$" as \24.
var postalEscaper = strings.NewReplacer(`\`, `\5C`, `$`, `\24`)

// postalAddress is postalAddress (RFC 4517 §3.3.28): the street lines,
// then "postal_code locality", joined by "$" when the address has parts;
// else its formatted form (or the plain-string claim) as one line.
func postalAddress(_ string, claims map[string]any) (string, bool) {
	var out []string
	if obj, ok := addressObject(claims); ok {
		if s, ok := text(obj["street_address"]); ok {
			out = append(out, lines(s)...)
		}
		var last []string
		for _, k := range []string{"postal_code", "locality"} {
			if s, ok := text(obj[k]); ok {
				last = append(last, strings.Join(lines(s), " "))
			}
		}
		if len(last) > 0 {
			out = append(out, strings.Join(last, " "))
		}
		if len(out) == 0 {
			if s, ok := member(obj, "formatted"); ok {
				out = lines(s)
			}
		}
	} else if s, ok := plainString(claims["address"]); ok {
		out = lines(s)
	}
	if len(out) == 0 {
		return "", false
	}
	for i := range out {
		out[i] = postalEscaper.Replace(out[i])
	}
	return clean(strings.Join(out, "$"))
}
