package attributes

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/samlbridge/samlbridge/itsme"
)

// plainClaim returns the scalar value of one claim.
func plainClaim(name string) extractor {
	return func(_ string, claims map[string]any) (string, bool) {
		return text(claims[name])
	}
}

// subjectValue is idpId: itsme's subject for the bridge.
func subjectValue(subject string, _ map[string]any) (string, bool) {
	return clean(subject)
}

// dateOfBirth is birthdate when it is a calendar date in the YYYY-MM-DD
// shape. itsme may leave birthdate out for Belgian users and give only
// birthdate_as_string, the date as printed on the identity document
// ("01.11.1978", "10 MAY 1988"); then that is read when it is a whole,
// unambiguous date (see documentDate), and rewritten as YYYY-MM-DD.
func dateOfBirth(_ string, claims map[string]any) (string, bool) {
	if s, ok := text(claims["birthdate"]); ok {
		if len(s) == 10 && s[4] == '-' && s[7] == '-' && allDigits(s[:4]) && allDigits(s[5:7]) && allDigits(s[8:]) {
			if _, err := time.Parse(time.DateOnly, s); err == nil {
				return s, true
			}
		}
		return "", false
	}
	s, ok := text(claims[claimBirthdateAsString])
	if !ok {
		return "", false
	}
	return documentDate(s)
}

// documentMonths are the month abbreviations Belgian identity documents
// print, in French, Dutch, German and English, upper-case, without the
// abbreviation's dot.
var documentMonths = map[string]time.Month{
	"JAN": 1, "JANV": 1, "JANVIER": 1, "JANUARI": 1, "JANUAR": 1, "JANUARY": 1,
	"FEB": 2, "FEV": 2, "FÉV": 2, "FEVR": 2, "FÉVR": 2, "FEBR": 2,
	"MAR": 3, "MARS": 3, "MAA": 3, "MAART": 3, "MÄR": 3, "MÄRZ": 3, "MRT": 3,
	"APR": 4, "AVR": 4, "AVRIL": 4, "APRIL": 4,
	"MAY": 5, "MAI": 5, "MEI": 5,
	"JUN": 6, "JUIN": 6, "JUNI": 6, "JUNE": 6,
	"JUL": 7, "JUIL": 7, "JUILLET": 7, "JULI": 7, "JULY": 7,
	"AUG": 8, "AOU": 8, "AOÛ": 8, "AOUT": 8, "AOÛT": 8,
	"SEP": 9, "SEPT": 9,
	"OCT": 10, "OKT": 10,
	"NOV": 11,
	"DEC": 12, "DÉC": 12, "DEZ": 12,
}

// documentDate reads a date as identity documents print it, day first:
// "01.11.1978" (also with '/' or '-') or "10 MAY 1988" (a month name
// from documentMonths, any case, an optional dot), and returns it as
// YYYY-MM-DD. A partial date ("00.00.1978", "1978") or one that is not
// on the calendar is not read: the attribute is then left out rather
// than guessed.
func documentDate(s string) (string, bool) {
	var day, month, year string
	if f := strings.Fields(s); len(f) == 3 {
		m, ok := documentMonths[strings.TrimSuffix(strings.ToUpper(f[1]), ".")]
		if !ok {
			return "", false
		}
		day, month, year = f[0], fmt.Sprintf("%02d", int(m)), f[2]
	} else if len(s) == 10 && (s[2] == '.' || s[2] == '/' || s[2] == '-') && s[5] == s[2] {
		day, month, year = s[:2], s[3:5], s[6:]
	} else {
		return "", false
	}
	if len(day) == 1 {
		day = "0" + day
	}
	if len(day) != 2 || len(month) != 2 || len(year) != 4 || !allDigits(day+month+year) {
		return "", false
	}
	iso := year + "-" + month + "-" + day
	if _, err := time.Parse(time.DateOnly, iso); err != nil {
		return "", false
	}
	return iso, true
}

// locale lower-cases itsme v2's "FR" to the contract's "fr".
func locale(_ string, claims map[string]any) (string, bool) {
	s, ok := text(claims["locale"])
	if !ok {
		return "", false
	}
	return strings.ToLower(s), true
}

// picture passes through an absolute http(s) URL.
func picture(_ string, claims map[string]any) (string, bool) {
	s, ok := text(claims["picture"])
	if !ok {
		return "", false
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", false
	}
	return s, true
}

// address uses address.formatted, else "street_address postal_code
// locality" from the parts present. The object may arrive JSON-encoded in
// a string (itsme v1 quirk); any other plain string is taken as formatted.
func address(_ string, claims map[string]any) (string, bool) {
	v := claims["address"]
	obj, ok := object(v)
	if !ok {
		return plainString(v)
	}
	if s, ok := member(obj, "formatted"); ok {
		return s, true
	}
	var parts []string
	for _, k := range []string{"street_address", "postal_code", "locality"} {
		if s, ok := text(obj[k]); ok {
			parts = append(parts, s)
		}
	}
	return clean(strings.Join(parts, " "))
}

// placeOfBirth uses place_of_birth.city, else .formatted, else the claim
// itself when it is a plain string.
func placeOfBirth(_ string, claims map[string]any) (string, bool) {
	v := claims[claimPlaceOfBirth]
	if obj, ok := object(v); ok {
		return member(obj, "city", "formatted")
	}
	return plainString(v)
}

// countryOfBirth uses place_of_birth.country.
func countryOfBirth(_ string, claims map[string]any) (string, bool) {
	obj, ok := object(claims[claimPlaceOfBirth])
	if !ok {
		return "", false
	}
	return member(obj, "country")
}

// eidNumber is the ID document number: BEeidSn, written xxx-xxxxxxx-yy
// when itsme sends the 12 digits bare, else IDDocumentSN.
func eidNumber(_ string, claims map[string]any) (string, bool) {
	if s, ok := text(claims[claimEIDSerial]); ok {
		if len(s) == 12 && allDigits(s) {
			s = s[:3] + "-" + s[3:10] + "-" + s[10:]
		}
		return s, true
	}
	return text(claims[claimDocumentSerial])
}

// metadataKeys are the keys a metadata claim's value is looked up under,
// best first; itsme keys its own claims by full URI, but accept the short
// names too.
var metadataKeys = []string{
	claimEIDSerial, strings.TrimPrefix(claimEIDSerial, itsme.ClaimPrefix),
	claimDocumentSerial, strings.TrimPrefix(claimDocumentSerial, itsme.ClaimPrefix),
}

// metadataValue reads an itsme metadata claim: an object keyed by the
// other requested claims. It picks the value keyed by BEeidSn, else by
// IDDocumentSN, else the only value (or the value all keys agree on). A
// plain string is accepted as the value itself.
func metadataValue(name string) extractor {
	return func(_ string, claims map[string]any) (string, bool) {
		v := claims[name]
		obj, ok := object(v)
		if !ok {
			return plainString(v)
		}
		if s, ok := member(obj, metadataKeys...); ok {
			return s, true
		}
		var only string
		for _, x := range obj {
			s, ok := text(x)
			if !ok || (only != "" && s != only) {
				return "", false
			}
			only = s
		}
		return only, only != ""
	}
}

// deviceField reads one field of the claim_device object, trying each
// spelling in turn.
func deviceField(fields ...string) extractor {
	return func(_ string, claims map[string]any) (string, bool) {
		obj, ok := object(claims[claimDevice])
		if !ok {
			return "", false
		}
		return member(obj, fields...)
	}
}
