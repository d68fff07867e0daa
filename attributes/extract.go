package attributes

import (
	"net/url"
	"strings"

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

// dateOfBirth passes birthdate through when it has the YYYY-MM-DD shape.
func dateOfBirth(_ string, claims map[string]any) (string, bool) {
	s, ok := text(claims["birthdate"])
	if !ok || len(s) != 10 || s[4] != '-' || s[7] != '-' ||
		!allDigits(s[:4]) || !allDigits(s[5:7]) || !allDigits(s[8:]) {
		return "", false
	}
	return s, true
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
