package attributes

import "github.com/crewjam/saml"

// valueType is the xsi:type of every attribute value. crewjam's
// AttributeValue.Element declares the xs prefix on each value.
const valueType = "xs:string"

// Map is MapProfile under the default profile: the contract's names,
// without NameFormat, as in the contract's example.
func Map(subject string, claims map[string]any, release []string) []saml.Attribute {
	return MapProfile(nil, subject, claims, release)
}

// MapProfile produces the SAML attributes to release under profile p (nil
// means the default profile): for each contract name in release, in
// Definitions order (not input order), the value derived from subject
// (itsme's sub) and the validated claims, named as p names it (see
// Profile). Attributes whose claims are absent or malformed, or whose
// value cannot be written in p's format, are omitted, never sent empty;
// unknown names are ignored.
func MapProfile(p *Profile, subject string, claims map[string]any, release []string) []saml.Attribute {
	p = p.orDefault()
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
		attrs, mapped := p.mapped[e.Name]
		if !mapped {
			if v, ok := render(e.value, subject, claims); ok {
				out = append(out, saml.Attribute{Name: e.Name, Values: []saml.AttributeValue{{Type: valueType, Value: v}}})
			}
			continue
		}
		for _, a := range attrs {
			value := a.value
			if value == nil {
				value = e.value
			}
			if v, ok := render(value, subject, claims); ok {
				out = append(out, saml.Attribute{
					Name: a.name, NameFormat: p.nameFormat, FriendlyName: a.friendly,
					Values: []saml.AttributeValue{{Type: valueType, Value: v}},
				})
			}
		}
	}
	return out
}

// render runs an extractor and checks that its value can be sent.
func render(value extractor, subject string, claims map[string]any) (string, bool) {
	v, ok := value(subject, claims)
	if !ok {
		return "", false
	}
	return clean(v)
}
