package attributes

import (
	"errors"
	"slices"
	"testing"

	"github.com/crewjam/saml"
)

func acs(index int, isDefault *bool, names ...string) saml.AttributeConsumingService {
	s := saml.AttributeConsumingService{Index: index, IsDefault: isDefault}
	for _, n := range names {
		s.RequestedAttributes = append(s.RequestedAttributes, saml.RequestedAttribute{Attribute: saml.Attribute{Name: n}})
	}
	return s
}

func ptr[T any](v T) *T { return &v }

func TestRequested(t *testing.T) {
	friendly := saml.AttributeConsumingService{Index: 7, RequestedAttributes: []saml.RequestedAttribute{
		{Attribute: saml.Attribute{Name: "urn:oid:2.5.4.42", FriendlyName: "firstName"}},
		{Attribute: saml.Attribute{Name: "urn:oid:2.5.4.4", FriendlyName: "sn"}},
		{Attribute: saml.Attribute{Name: "email", FriendlyName: "nin"}, IsRequired: ptr(true)},
	}}
	three := []saml.AttributeConsumingService{
		acs(1, nil, "name", "email"),
		acs(2, ptr(true), "nin", "firstName"),
		acs(3, ptr(false), "lastName"),
	}
	tests := []struct {
		name     string
		services []saml.AttributeConsumingService
		index    *int
		want     []string
		wantErr  error
	}{
		{name: "no services", services: nil, want: nil},
		{name: "no services, index", services: nil, index: ptr(0), wantErr: ErrUnknownIndex},
		{name: "by index", services: three, index: ptr(3), want: []string{"lastName"}},
		{name: "index beats default", services: three, index: ptr(1), want: []string{"name", "email"}},
		{name: "unknown index", services: three, index: ptr(9), wantErr: ErrUnknownIndex},
		{name: "negative index", services: three, index: ptr(-1), wantErr: ErrUnknownIndex},
		{name: "default", services: three, want: []string{"nin", "firstName"}},
		{name: "first when no default", services: []saml.AttributeConsumingService{acs(5, ptr(false), "gender"), acs(0, nil, "name")}, want: []string{"gender"}},
		{name: "index 0 exists", services: []saml.AttributeConsumingService{acs(5, nil, "gender"), acs(0, nil, "name")}, index: ptr(0), want: []string{"name"}},
		{name: "unknown ignored, duplicates collapse", services: []saml.AttributeConsumingService{acs(0, nil, "bogus", "email", "Email", "email", "nin.type")}, want: []string{"email", "nin.type"}},
		{name: "friendly name fallback, Name first", services: []saml.AttributeConsumingService{friendly}, want: []string{"firstName", "email"}},
		{name: "nothing known", services: []saml.AttributeConsumingService{acs(0, nil, "urn:oid:0.9.2342.19200300.100.1.3")}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Requested(tt.services, tt.index)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
