package attributes

import "github.com/crewjam/saml"

// valueType is the xsi:type of every attribute value. crewjam's
// AttributeValue.Element declares the xs prefix on each value.
const valueType = "xs:string"

// Map produces the SAML attributes to release: for each name in release,
// in Definitions order (not input order), the value derived from subject
// (itsme's sub) and the validated claims. Attributes whose claims are
// absent or malformed are omitted, never sent empty; unknown names are
// ignored. Attributes carry no NameFormat, as in the contract's example.
func Map(subject string, claims map[string]any, release []string) []saml.Attribute {
	want := make(map[string]bool, len(release))
	for _, n := range release {
		want[n] = true
	}
	var out []saml.Attribute
	for i := range table {
		e := &table[i]
		if !want[e.Name] {
			continue
		}
		v, ok := e.value(subject, claims)
		if !ok {
			continue
		}
		if v, ok = clean(v); !ok {
			continue
		}
		out = append(out, saml.Attribute{
			Name:   e.Name,
			Values: []saml.AttributeValue{{Type: valueType, Value: v}},
		})
	}
	return out
}
