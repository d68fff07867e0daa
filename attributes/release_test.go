package attributes

import (
	"slices"
	"testing"
)

func TestRelease(t *testing.T) {
	tests := []struct {
		name      string
		requested []string
		allowed   []string
		want      []string
	}{
		{name: "nin dropped unless allowed", requested: []string{"name", "nin", "nin.type", "itsmeNationalNumber"}, allowed: []string{"name", "email"}, want: []string{"name"}},
		{name: "nin released when allowed", requested: []string{"nin", "name"}, allowed: []string{"name", "nin"}, want: []string{"name", "nin"}},
		{name: "allow-list wins over metadata", requested: []string{"email", "address", "phoneNumber"}, allowed: []string{"email"}, want: []string{"email"}},
		{name: "nil allow-list releases nothing", requested: AuthenticationSet(), allowed: nil, want: nil},
		{name: "nothing requested", requested: nil, allowed: []string{"name"}, want: nil},
		{name: "definitions order, no duplicates", requested: []string{"idpId", "email", "name", "email"}, allowed: []string{"email", "idpId", "name"}, want: []string{"name", "email", "idpId"}},
		{name: "unknown names dropped", requested: []string{"bogus", "name"}, allowed: []string{"bogus", "name"}, want: []string{"name"}},
		{name: "sensitive siblings individually", requested: []string{"nin", "nin.type", "nin.issuingCountry"}, allowed: []string{"nin"}, want: []string{"nin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Release(tt.requested, tt.allowed)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			for _, n := range got {
				if d, _ := Lookup(n); d.Sensitive && !slices.Contains(tt.allowed, n) {
					t.Errorf("sensitive %s released without being allowed", n)
				}
			}
			if _, _, err := Plan(got); err != nil {
				t.Errorf("Plan(Release(...)) = %v", err)
			}
		})
	}
}
