package emulator

import (
	"encoding/base64"

	"github.com/samlbridge/samlbridge/itsme"
)

// PicturePlaceholder, as the value of a persona's "picture" claim, is
// replaced by the URL of the emulator's /picture endpoint.
const PicturePlaceholder = "emulator:picture"

// p abbreviates itsme's claim namespace.
const p = itsme.ClaimPrefix

// DefaultPersonas returns the fixture users, each call a fresh copy:
//
//   - maxence: Maxence Legrand, a Belgian eID holder with every claim
//     (the seed's example user);
//   - daan: Daan de Vries, holder of a Dutch passport, with the subset a
//     Dutch document gives (no address, no Belgian claims, no gender;
//     itsme-oidc.md §5.2);
//   - lucas: Lucas Peeters, a Belgian man without an e-mail address.
func DefaultPersonas() []Persona {
	return []Persona{maxence(), daan(), lucas()}
}

func maxence() Persona {
	return Persona{ID: "maxence", Label: "Maxence Legrand (Belgian eID, all claims)", Claims: map[string]any{
		"name":                  "Maxence Legrand",
		"given_name":            "Maxence",
		"family_name":           "Legrand",
		"gender":                "female",
		"birthdate":             "1981-04-24",
		"locale":                "FR",
		"picture":               PicturePlaceholder,
		"email":                 "test@itsme.be",
		"email_verified":        false,
		"phone_number":          "+32 453519681",
		"phone_number_verified": true,
		"address": map[string]any{
			"formatted":      "Rue Royale 82 1000 Bruxelles",
			"street_address": "Rue Royale 82",
			"postal_code":    "1000",
			"locality":       "Bruxelles",
		},
		"age_gte_16":                   true,
		"age_gte_18":                   true,
		"age_gte_21":                   true,
		"age_gte_30":                   true,
		p + "BENationalNumber":         "81042419835",
		p + "BEeidSn":                  "123-4567890-02",
		p + "place_of_birth":           map[string]any{"formatted": "Bruxelles", "city": "Bruxelles", "country": "BE"},
		p + "claim_citizenship":        "BE",
		p + "claim_citizenship_as_iso": "BEL",
		p + "IDDocumentSN":             "123-4567890-02",
		p + "IDDocumentType":           "I",
		p + "IDIssuingCountry":         "BEL",
		p + "validityFrom":             "2019-03-01T00:00:00Z",
		p + "validityTo":               "2029-03-01T00:00:00Z",
		p + "verificationDate":         "2024-04-01T10:00:00Z",
		p + "issuance_locality":        "Bruxelles",
		p + "claim_device": map[string]any{
			"os": "iOS", "appName": "itsme", "appRelease": "5.2.1", "deviceLabel": "Maxence's iPhone",
			"debugEnabled": false, "deviceId": "d3c0b1e2-5a4f-4c1e-9b7a-2f8e6d4c3b1a", "osRelease": "17.4",
			"manufacturer": "Apple", "deviceLockLevel": "BIOMETRIC", "smsEnabled": true, "rooted": false,
			"deviceModel": "iPhone 7", "sdkRelease": "1.0",
		},
	}}
}

func daan() Persona {
	return Persona{ID: "daan", Label: "Daan de Vries (Dutch passport)", Claims: map[string]any{
		"name":                  "Daan de Vries",
		"given_name":            "Daan",
		"family_name":           "de Vries",
		"birthdate":             "1992-07-15",
		"locale":                "NL",
		"picture":               PicturePlaceholder,
		"email":                 "daan.devries@example.nl",
		"email_verified":        false,
		"phone_number":          "+31 612345678",
		"phone_number_verified": true,
		"age_gte_16":            true,
		"age_gte_18":            true,
		"age_gte_21":            true,
		"age_gte_30":            true,
		p + "physical_person_photo": map[string]any{
			"format": "image/jpeg",
			"value":  base64.StdEncoding.EncodeToString(placeholderJPEG()),
		},
		p + "claim_citizenship":        "NLD",
		p + "claim_citizenship_as_iso": "NLD",
		p + "IDDocumentSN":             "SPECI2014",
		p + "IDDocumentType":           "P",
		p + "IDIssuingCountry":         "NLD",
		p + "validityTo":               "2031-09-30T00:00:00Z",
		p + "verificationDate":         "2025-01-15T09:30:00Z",
	}}
}

func lucas() Persona {
	return Persona{ID: "lucas", Label: "Lucas Peeters (Belgian eID, no e-mail)", Claims: map[string]any{
		"name":                  "Lucas Peeters",
		"given_name":            "Lucas",
		"family_name":           "Peeters",
		"gender":                "male",
		"birthdate":             "1990-11-02",
		"locale":                "NL",
		"phone_number":          "+32 478123456",
		"phone_number_verified": true,
		"address": map[string]any{
			"formatted":      "Grote Markt 1 2000 Antwerpen",
			"street_address": "Grote Markt 1",
			"postal_code":    "2000",
			"locality":       "Antwerpen",
		},
		"age_gte_16":                   true,
		"age_gte_18":                   true,
		"age_gte_21":                   true,
		"age_gte_30":                   true,
		p + "BENationalNumber":         "90110212338",
		p + "BEeidSn":                  "592-1234567-32",
		p + "place_of_birth":           map[string]any{"formatted": "Antwerpen", "city": "Antwerpen", "country": "BE"},
		p + "claim_citizenship":        "belge",
		p + "claim_citizenship_as_iso": "BEL",
		p + "IDDocumentSN":             "592-1234567-32",
		p + "IDDocumentType":           "I",
		p + "IDIssuingCountry":         "BEL",
		p + "validityFrom":             "2021-05-10T00:00:00Z",
		p + "validityTo":               "2031-05-10T00:00:00Z",
		p + "verificationDate":         "2025-02-03T14:12:00Z",
		p + "issuance_locality":        "Antwerpen",
	}}
}
