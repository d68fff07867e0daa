package attributes

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestMap(t *testing.T) {
	const sub = "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8"
	all := allNames()
	tests := []struct {
		name    string
		claims  map[string]any
		subject string
		release []string
		want    map[string]string // exactly the attributes expected
	}{
		{
			name:    "nothing released",
			claims:  map[string]any{"name": "Maxence Legrand"},
			subject: sub,
			release: nil,
			want:    map[string]string{},
		},
		{
			name:    "missing claims omitted",
			claims:  map[string]any{"given_name": "Maxence"},
			subject: sub,
			release: append(AuthenticationSet(), "idpId"),
			want:    map[string]string{"firstName": "Maxence", "idpId": sub},
		},
		{
			name:    "empty subject omits idpId",
			claims:  map[string]any{"name": "Jane Doe"},
			release: append(AuthenticationSet(), "idpId"),
			want:    map[string]string{"name": "Jane Doe"},
		},
		{
			name:    "unknown release names ignored",
			claims:  map[string]any{"name": "Jane Doe"},
			release: []string{"name", "bogus", "given_name"},
			want:    map[string]string{"name": "Jane Doe"},
		},
		{
			name:    "values trimmed, blank omitted",
			claims:  map[string]any{"name": "  Jane Doe\n", "given_name": "   ", "family_name": ""},
			release: all,
			want:    map[string]string{"name": "Jane Doe"},
		},
		{
			name:    "locale lower-cased",
			claims:  map[string]any{"locale": "NL"},
			release: all,
			want:    map[string]string{"locale": "nl"},
		},
		{
			name:    "address as JSON string",
			claims:  map[string]any{"address": `{"formatted":"Rue Royale 82 1000 Bruxelles"}`},
			release: []string{"address"},
			want:    map[string]string{"address": "Rue Royale 82 1000 Bruxelles"},
		},
		{
			name:    "address from parts",
			claims:  map[string]any{"address": map[string]any{"street_address": "Rue Royale 82", "postal_code": "1000", "locality": "Bruxelles"}},
			release: []string{"address"},
			want:    map[string]string{"address": "Rue Royale 82 1000 Bruxelles"},
		},
		{
			name:    "address from some parts, blank formatted",
			claims:  map[string]any{"address": map[string]any{"formatted": " ", "postal_code": 1000, "locality": "Bruxelles"}},
			release: []string{"address"},
			want:    map[string]string{"address": "1000 Bruxelles"},
		},
		{
			name:    "address JSON string from parts",
			claims:  map[string]any{"address": `{"street_address":"Rue Royale 82","locality":"Bruxelles"}`},
			release: []string{"address"},
			want:    map[string]string{"address": "Rue Royale 82 Bruxelles"},
		},
		{
			name:    "address plain string",
			claims:  map[string]any{"address": "Rue Royale 82 1000 Bruxelles"},
			release: []string{"address"},
			want:    map[string]string{"address": "Rue Royale 82 1000 Bruxelles"},
		},
		{
			name: "address malformed or empty",
			claims: map[string]any{"address": `{"formatted":`, "email": map[string]any{},
				P + "place_of_birth": `{}`},
			release: all,
			want:    map[string]string{},
		},
		{
			name:    "BEeidSn without dashes",
			claims:  map[string]any{P + "BEeidSn": "431522485012"},
			release: []string{"itsmeEid"},
			want:    map[string]string{"itsmeEid": "431-5224850-12"},
		},
		{
			name:    "foreign resident card number as given",
			claims:  map[string]any{P + "BEeidSn": "B 1234567 89", P + "IDDocumentSN": "X"},
			release: []string{"itsmeEid"},
			want:    map[string]string{"itsmeEid": "B 1234567 89"},
		},
		{
			name:    "IDDocumentSN fallback",
			claims:  map[string]any{P + "IDDocumentSN": "SPECI2014"},
			release: []string{"itsmeEid"},
			want:    map[string]string{"itsmeEid": "SPECI2014"},
		},
		{
			name:    "national number with punctuation",
			claims:  map[string]any{P + "BENationalNumber": "81.04.24-198.35"},
			release: all,
			want: map[string]string{"nin": "81042419835", "nin.type": "PERSON", "nin.issuingCountry": "BE",
				"itsmeNationalNumber": "810424 198 35"},
		},
		{
			name:    "national number wrong length or letters",
			claims:  map[string]any{P + "BENationalNumber": "8104241983"},
			release: all,
			want:    map[string]string{},
		},
		{
			name:    "national number with wrong check digits",
			claims:  map[string]any{P + "BENationalNumber": "81042419836"},
			release: all,
			want:    map[string]string{},
		},
		{
			name:    "national number of someone born in 2001 (check digits over 2 and the nine digits)",
			claims:  map[string]any{P + "BENationalNumber": "01020300170"},
			release: []string{"nin"},
			want:    map[string]string{"nin": "01020300170"},
		},
		{
			name:    "the same nine digits with the check digits of a 1901 birth",
			claims:  map[string]any{P + "BENationalNumber": "01020300141"},
			release: []string{"nin"},
			want:    map[string]string{"nin": "01020300141"},
		},
		{
			name:    "all zeros",
			claims:  map[string]any{P + "BENationalNumber": "00000000000"},
			release: all,
			want:    map[string]string{},
		},
		{
			name:    "national number with letters",
			claims:  map[string]any{P + "BENationalNumber": "8104241983X"},
			release: all,
			want:    map[string]string{},
		},
		{
			name:    "national number as JSON number",
			claims:  map[string]any{P + "BENationalNumber": float64(81042419835)},
			release: []string{"nin", "itsmeNationalNumber"},
			want:    map[string]string{"nin": "81042419835", "itsmeNationalNumber": "810424 198 35"},
		},
		{
			name:    "foreign national number",
			claims:  map[string]any{P + "RONationalNumber": "1800101-221144"},
			release: all,
			want:    map[string]string{"nin": "1800101221144", "nin.type": "PERSON", "nin.issuingCountry": "RO"},
		},
		{
			name:    "Slovenia spelled SV",
			claims:  map[string]any{P + "SVNationalNumber": "0101006500006"},
			release: []string{"nin", "nin.issuingCountry"},
			want:    map[string]string{"nin": "0101006500006", "nin.issuingCountry": "SI"},
		},
		{
			name:    "Belgian number wins",
			claims:  map[string]any{P + "MTNationalNumber": "1234567M", P + "BENationalNumber": "81042419835"},
			release: []string{"nin", "nin.issuingCountry"},
			want:    map[string]string{"nin": "81042419835", "nin.issuingCountry": "BE"},
		},
		{
			name:    "nin released but nin.type not",
			claims:  map[string]any{P + "BENationalNumber": "81042419835"},
			release: []string{"nin"},
			want:    map[string]string{"nin": "81042419835"},
		},
		{
			name: "metadata claims",
			claims: map[string]any{
				P + "validityFrom":      map[string]any{"birthdate": "2023-06-01T13:04:26Z", P + "BEeidSn": "2019-03-01T00:00:00Z"},
				P + "validityTo":        map[string]any{"BEeidSn": "2029-03-01T00:00:00Z"},
				P + "verificationDate":  map[string]any{"given_name": "2024-01-02T03:04:05Z"},
				P + "issuance_locality": "BRUXELLES",
			},
			release: all,
			want: map[string]string{
				"itsmeValidityFrom": "2019-03-01T00:00:00Z", "itsmeValidityTo": "2029-03-01T00:00:00Z",
				"itsmeReadDate": "2024-01-02T03:04:05Z", "itsmeIssuanceLocality": "BRUXELLES",
			},
		},
		{
			name: "metadata claim keyed by IDDocumentSN, or by several agreeing keys",
			claims: map[string]any{
				P + "validityTo":       map[string]any{P + "IDDocumentSN": "2030-01-01T00:00:00Z", "birthdate": "x"},
				P + "verificationDate": map[string]any{"name": "2024-01-02T03:04:05Z", "birthdate": "2024-01-02T03:04:05Z"},
			},
			release: all,
			want:    map[string]string{"itsmeValidityTo": "2030-01-01T00:00:00Z", "itsmeReadDate": "2024-01-02T03:04:05Z"},
		},
		{
			name: "ambiguous or empty metadata claim skipped",
			claims: map[string]any{
				P + "validityTo":        map[string]any{"name": "2030-01-01T00:00:00Z", "birthdate": "2031-01-01T00:00:00Z"},
				P + "validityFrom":      map[string]any{},
				P + "verificationDate":  map[string]any{"name": map[string]any{"x": "y"}},
				P + "issuance_locality": []any{"BRUXELLES"},
			},
			release: all,
			want:    map[string]string{},
		},
		{
			name: "device: booleans, numbers, deviceId spelling",
			claims: map[string]any{P + "claim_device": map[string]any{
				"os": "ANDROID", "debugEnabled": true, "smsEnabled": false, "rooted": "false",
				"deviceId": "abc", "deviceID": "ignored", "deviceLockLevel": float64(3), "appRelease": 5.1,
				"imei": json.Number("356938035643809"), "sdkRelease": nil, "deviceModel": []any{"x"},
			}},
			release: all,
			want: map[string]string{
				"itsmeOs": "ANDROID", "itsmeDebugEnabled": "true", "itsmeSmsEnabled": "false", "itsmeRooted": "false",
				"itsmeDeviceId": "abc", "itsmeDeviceLockLevel": "3", "itsmeAppRelease": "5.1", "itsmeImei": "356938035643809",
			},
		},
		{
			name:    "device as JSON string",
			claims:  map[string]any{P + "claim_device": `{"os":"iOS","deviceID":"D1"}`},
			release: []string{"itsmeOs", "itsmeDeviceId"},
			want:    map[string]string{"itsmeOs": "iOS", "itsmeDeviceId": "D1"},
		},
		{
			name: "place of birth fallbacks",
			claims: map[string]any{P + "place_of_birth": map[string]any{"formatted": "Liège", "country": "BE"},
				P + "claim_citizenship": "belge"},
			release: all,
			want:    map[string]string{"placeOfBirth": "Liège", "countryOfBirth": "BE", "nationality": "belge"},
		},
		{
			name:    "place of birth plain string",
			claims:  map[string]any{P + "place_of_birth": "Bruxelles"},
			release: all,
			want:    map[string]string{"placeOfBirth": "Bruxelles"},
		},
		{
			name: "wrong types skipped",
			claims: map[string]any{
				"name": map[string]any{"first": "x"}, "given_name": []any{"Jane"}, "family_name": nil,
				"email": true, "gender": map[string]string{"a": "b"}, "address": 42.0,
				P + "place_of_birth": 7.0, P + "claim_device": "iOS", P + "BEeidSn": map[string]any{},
				P + "BENationalNumber": []any{"81042419835"}, "locale": struct{}{},
			},
			release: all,
			want:    map[string]string{"email": "true"},
		},
		{
			name:    "numbers rendered canonically",
			claims:  map[string]any{"name": 1e21, "given_name": 12.0, "family_name": -0.5, "gender": int64(7)},
			release: all,
			want:    map[string]string{"name": "1e+21", "firstName": "12", "lastName": "-0.5", "gender": "7"},
		},
		{
			name:    "dateOfBirth shape checked",
			claims:  map[string]any{"birthdate": "24.04.1981"},
			release: all,
			want:    map[string]string{},
		},
		{
			name:    "dateOfBirth must be on the calendar",
			claims:  map[string]any{"birthdate": "1981-02-30"},
			release: all,
			want:    map[string]string{},
		},
		{
			name:    "dateOfBirth from the document's date when birthdate is absent (Belgian users)",
			claims:  map[string]any{P + "birthdate_as_string": "01.11.1978"},
			release: all,
			want:    map[string]string{"dateOfBirth": "1978-11-01"},
		},
		{
			name:    "birthdate wins over the document's date",
			claims:  map[string]any{"birthdate": "1978-11-02", P + "birthdate_as_string": "01.11.1978"},
			release: all,
			want:    map[string]string{"dateOfBirth": "1978-11-02"},
		},
		{
			name:    "a malformed birthdate is not replaced by the document's date",
			claims:  map[string]any{"birthdate": "1978", P + "birthdate_as_string": "01.11.1978"},
			release: all,
			want:    map[string]string{},
		},
		{
			name:    "picture must be an http(s) URL",
			claims:  map[string]any{"picture": "javascript:alert(1)"},
			release: all,
			want:    map[string]string{},
		},
		{
			name:    "picture URL",
			claims:  map[string]any{"picture": "https://idp.e2e.itsme.services/v2/picture"},
			release: all,
			want:    map[string]string{"picture": "https://idp.e2e.itsme.services/v2/picture"},
		},
		{
			name:    "characters XML cannot carry, oversized values",
			claims:  map[string]any{"name": "Jane\x00Doe", "given_name": "\x1b[31m", "family_name": strings.Repeat("x", maxValueLen+1), "email": "a\xffb"},
			release: all,
			want:    map[string]string{},
		},
		{
			name:    "markup passes as text",
			claims:  map[string]any{"name": `<b>"Jane" & Doe</b>`},
			release: []string{"name"},
			want:    map[string]string{"name": `<b>"Jane" & Doe</b>`},
		},
		{
			name:    "nil claims",
			claims:  nil,
			subject: sub,
			release: all,
			want:    map[string]string{"idpId": sub},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			attrs := Map(tt.subject, tt.claims, tt.release)
			got := values(t, attrs)
			if !maps.Equal(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			for _, a := range attrs {
				if a.NameFormat != "" || a.FriendlyName != "" {
					t.Errorf("%s: NameFormat %q FriendlyName %q, want none", a.Name, a.NameFormat, a.FriendlyName)
				}
				if a.Values[0].Type != "xs:string" || a.Values[0].NameID != nil {
					t.Errorf("%s: value %+v, want a plain xs:string", a.Name, a.Values[0])
				}
			}
		})
	}
}

// TestMapOrder checks that attributes follow Definitions order, not the
// order of the release list.
func TestMapOrder(t *testing.T) {
	claims := loadClaims(t, "maxence_claims.json")
	attrs := Map("s", claims, []string{"idpId", "email", "nin", "name", "email"})
	var got []string
	for _, a := range attrs {
		got = append(got, a.Name)
	}
	if want := []string{"name", "nin", "email", "idpId"}; !slices.Equal(got, want) {
		t.Errorf("order = %q, want %q", got, want)
	}
}

// TestDocumentDate: the dates identity documents print are read day
// first, with a month number or name; anything partial, off the calendar
// or ambiguous is left unread rather than guessed.
func TestDocumentDate(t *testing.T) {
	for _, tt := range []struct {
		in, want string // want "" means not read
	}{
		{"01.11.1978", "1978-11-01"},
		{"01/11/1978", "1978-11-01"},
		{"01-11-1978", "1978-11-01"},
		{"10 MAY 1988", "1988-05-10"},
		{"10 MAI 1988", "1988-05-10"},
		{"10 mei 1988", "1988-05-10"},
		{"1 JANV. 1970", "1970-01-01"},
		{"29 FÉV 2000", "2000-02-29"},
		{"15 MÄR 1975", "1975-03-15"},
		{"31 DEZ 1999", "1999-12-31"},
		{"29 FEB 2001", ""}, // not on the calendar
		{"00.00.1978", ""},  // partial
		{"00 JAN 1978", ""},
		{"1978", ""},
		{"11.1978", ""},
		{"01.11-1978", ""},
		{"1978-11-01", ""}, // not day first: birthdate's shape, not the document's
		{"10 XYZ 1988", ""},
		{"10 MAY 88", ""},
		{"+1.11.1978", ""},
		{"01.13.1978", ""},
		{"", ""},
	} {
		got, ok := documentDate(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("documentDate(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}
