package docgen

import (
	"fmt"
	"strings"

	"github.com/samlbridge/samlbridge/attributes"
	"github.com/samlbridge/samlbridge/itsme"
)

// exampleSubject is the contract's example idpId (seed 003, the REST
// response example).
const exampleSubject = "rpx5rrbsn4ktvhm3m0q4uh2iepsdat34i9vf"

// exampleClaims are itsme claims, as the bridge validates them, holding
// the example values of the attribute contract (seed 003: the SAML
// response example's user, Maxence Legrand, and the Example column of its
// tables). Attributes the contract gives no example for have no claim
// here. The reference shows what the mapping code makes of them under
// each profile.
func exampleClaims() map[string]any {
	const p = itsme.ClaimPrefix
	document := func(v string) map[string]any { return map[string]any{p + "BEeidSn": v} }
	return map[string]any{
		"name":         "Maxence Legrand",
		"given_name":   "Maxence",
		"family_name":  "Legrand",
		"gender":       "female",
		"birthdate":    "1981-04-24",
		"locale":       "en",
		"email":        "test@itsme.be",
		"phone_number": "+32 453519681",
		"address": map[string]any{
			"formatted":      "Rue Royale 82 1000 Bruxelles",
			"street_address": "Rue Royale 82",
			"postal_code":    "1000",
			"locality":       "Bruxelles",
		},
		p + "BENationalNumber": "81042419835",
		p + "BEeidSn":          "123-4567890-02",
		p + "place_of_birth":   map[string]any{"city": "Bruxelles"},
		p + "validityFrom":     document("1899-01-31T00:00:00+00Z"),
		p + "validityTo":       document("1899-01-31T00:00:00+00Z"),
		p + "verificationDate": document("1899-01-31T00:00:00+00Z"),
		p + "claim_device": map[string]any{
			"os": "iOS", "debugEnabled": false, "smsEnabled": true, "rooted": false, "deviceModel": "iPhone 7",
		},
	}
}

// example returns the value the mapping code sends for contract attribute
// name under profile p as the attribute called as, or "—" when the
// contract has no example for it.
func example(p *attributes.Profile, contract, as string) string {
	for _, a := range attributes.MapProfile(p, exampleSubject, exampleClaims(), []string{contract}) {
		if a.Name == as && len(a.Values) > 0 {
			return "`" + a.Values[0].Value + "`"
		}
	}
	return "—"
}

// claimNames lists the itsme claims of d, itsme's own claims as itsme:NAME.
func claimNames(d attributes.Definition) string {
	if len(d.Claims) == 0 {
		return "`sub` (ID token)"
	}
	out := make([]string, len(d.Claims))
	for i, c := range d.Claims {
		if rest, ok := strings.CutPrefix(c, itsme.ClaimPrefix); ok {
			c = "itsme:" + rest
		}
		out[i] = "`" + c + "`"
	}
	return strings.Join(out, ", ")
}

func service(d attributes.Definition) string {
	if d.Identification {
		return "Identification"
	}
	return "Authentication"
}

func yesNo(b bool) string {
	if b {
		return "**yes**"
	}
	return "no"
}

// AttributeReference renders every attribute the bridge can release: the
// contract's attributes (attribute_profile: default), then for each other
// profile the names it sends instead, each with its itsme claims, itsme
// service, sensitivity and the contract's example value as the mapping
// code renders it.
func AttributeReference() (string, error) {
	var b strings.Builder
	b.WriteString("Generated from the `attributes` package by `go generate ./cmd/samlbridge`; edit the code, not this section.\n\n")
	fmt.Fprintf(&b, "`itsme:NAME` stands for the claim `%sNAME`. Every value is an `xs:string`. ", itsme.ClaimPrefix)
	b.WriteString("*Sensitive* attributes (national-number class) are released only to an SP whose `attributes` list names them, and only in an encrypted assertion: its metadata must have an encryption key. ")
	b.WriteString("The *service* is the itsme service a login needs for the attribute: a login uses Identification as soon as one attribute it releases needs it. ")
	b.WriteString("An example of — means the contract gives none.\n\n")

	b.WriteString("### Contract names (`attribute_profile: default`)\n\n")
	b.WriteString("Sent under the contract's names, without NameFormat or FriendlyName, as in the contract's example response. These are also the names of `attributes` and `release` in the configuration, whatever the profile.\n\n")
	b.WriteString("| SAML Name | itsme claims | Service | Sensitive | Example |\n|---|---|---|---|---|\n")
	for _, d := range attributes.Definitions() {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", d.Name, claimNames(d), service(d), yesNo(d.Sensitive), example(nil, d.Name, d.Name))
	}
	b.WriteString("\n")
	for _, name := range attributes.ProfileNames() {
		if name == attributes.ProfileDefault {
			continue
		}
		p, err := attributes.ParseProfile(name)
		if err != nil {
			return "", fmt.Errorf("docgen: %w", err)
		}
		fmt.Fprintf(&b, "### `attribute_profile: %s`\n\n", name)
		b.WriteString("These attributes are sent under the names below instead of their contract names, in the format each name's definition requires; a value that cannot be put in that format is left out. Every other attribute keeps its contract name and value, without NameFormat, as in the table above.\n\n")
		b.WriteString("| SAML Name | FriendlyName | NameFormat | Contract attribute | Sensitive | Example |\n|---|---|---|---|---|---|\n")
		for _, a := range p.Attributes() {
			if a.Name == a.Contract && a.NameFormat == "" {
				continue // kept under its contract name
			}
			friendly := "—"
			if a.FriendlyName != "" {
				friendly = "`" + a.FriendlyName + "`"
			}
			format := "—"
			if a.NameFormat != "" {
				format = "`" + a.NameFormat + "`"
			}
			fmt.Fprintf(&b, "| `%s` | %s | %s | `%s` | %s | %s |\n", a.Name, friendly, format, a.Contract, yesNo(a.Sensitive), example(p, a.Contract, a.Name))
		}
		b.WriteString("\n")
	}
	return b.String(), nil
}
