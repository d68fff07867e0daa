package attributes

import (
	"strconv"
	"strings"

	"github.com/samlbridge/samlbridge/itsme"
)

// foreignNumbers are itsme's national-number claims for documents issued
// outside Belgium, by issuing country. itsme's docs spell Slovenia both
// SINationalNumber and SVNationalNumber; both map to SI.
//
// Plan requests only BENationalNumber: the contract's nin is the Belgian
// RRN, the foreign claims have inconsistent names, and asking for them
// would put more national numbers on the consent screen than the SP's
// contract needs (PRIV-05). Map still reads them should itsme send one.
var foreignNumbers = []struct{ claim, country string }{
	{"RONationalNumber", "RO"}, {"BGNationalNumber", "BG"}, {"CZNationalNumber", "CZ"},
	{"SKNationalNumber", "SK"}, {"HRNationalNumber", "HR"}, {"LTNationalNumber", "LT"},
	{"LVNationalNumber", "LV"}, {"MTNationalNumber", "MT"}, {"RSNationalNumber", "RS"},
	{"MDNationalNumber", "MD"}, {"SINationalNumber", "SI"}, {"SVNationalNumber", "SI"},
}

// stripSeparators removes the punctuation of "YY.MM.DD-xxx.cd".
var stripSeparators = strings.NewReplacer(".", "", "-", "", " ", "")

// belgianNumber returns BENationalNumber as its 11 digits.
func belgianNumber(claims map[string]any) (string, bool) {
	s, ok := text(claims[claimNationalNumber])
	if !ok {
		return "", false
	}
	s = stripSeparators.Replace(s)
	if len(s) != 11 || !allDigits(s) || !belgianCheckDigits(s) {
		return "", false
	}
	return s, true
}

// belgianCheckDigits reports whether the last two digits of an 11-digit
// Belgian national (or BIS) number are its check digits: 97 minus the
// first nine digits modulo 97, or, for people born from 2000 on, minus
// "2" followed by those nine digits modulo 97. A number that fails both
// is not a national number, whatever sent it.
func belgianCheckDigits(s string) bool {
	base, err := strconv.ParseUint(s[:9], 10, 64)
	if err != nil {
		return false
	}
	check, err := strconv.ParseUint(s[9:], 10, 64)
	if err != nil {
		return false
	}
	return check == 97-base%97 || check == 97-(2_000_000_000+base)%97
}

// nationalNumber returns the national number and its issuing country:
// the Belgian one first, else the first foreign one that is a plain
// run of ASCII letters and digits once separators are removed.
func nationalNumber(claims map[string]any) (number, country string, ok bool) {
	if s, ok := belgianNumber(claims); ok {
		return s, "BE", true
	}
	for _, f := range foreignNumbers {
		s, ok := text(claims[itsme.ClaimPrefix+f.claim])
		if !ok {
			continue
		}
		s = stripSeparators.Replace(s)
		if s != "" && alphanumeric(s) {
			return s, f.country, true
		}
	}
	return "", "", false
}

func alphanumeric(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') {
			return false
		}
	}
	return true
}

func ninValue(_ string, claims map[string]any) (string, bool) {
	s, _, ok := nationalNumber(claims)
	return s, ok
}

func ninType(_ string, claims map[string]any) (string, bool) {
	_, _, ok := nationalNumber(claims)
	return "PERSON", ok
}

func ninIssuingCountry(_ string, claims map[string]any) (string, bool) {
	_, c, ok := nationalNumber(claims)
	return c, ok
}

// nationalNumberFormatted is itsmeNationalNumber: the Belgian number as
// "YYMMDD xxx cd", as in the contract's example "860224 025 08".
func nationalNumberFormatted(_ string, claims map[string]any) (string, bool) {
	s, ok := belgianNumber(claims)
	if !ok {
		return "", false
	}
	return s[:6] + " " + s[6:9] + " " + s[9:], true
}
