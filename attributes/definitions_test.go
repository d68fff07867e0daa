package attributes

import (
	"slices"
	"strings"
	"testing"
)

func TestDefinitions(t *testing.T) {
	defs := Definitions()
	wantOrder := []string{
		"name", "firstName", "lastName", "gender", "dateOfBirth", "locale", "picture",
		"nin", "nin.type", "nin.issuingCountry", "email", "phoneNumber", "address",
		"nationality", "placeOfBirth", "countryOfBirth", "itsmeEid", "itsmeIssuanceLocality",
		"itsmeValidityFrom", "itsmeValidityTo", "itsmeReadDate", "itsmeNationalNumber",
		"itsmeOs", "itsmeAppName", "itsmeAppRelease", "itsmeDeviceLabel", "itsmeDebugEnabled",
		"itsmeDeviceId", "itsmeOsRelease", "itsmeManufacturer", "itsmeDeviceLockLevel",
		"itsmeSmsEnabled", "itsmeRooted", "itsmeImei", "itsmeDeviceModel", "itsmeSdkRelease",
		"idpId",
	}
	if got := allNames(); !slices.Equal(got, wantOrder) {
		t.Fatalf("order:\n got %q\nwant %q", got, wantOrder)
	}
	sensitive := []string{"nin", "nin.type", "nin.issuingCountry", "itsmeNationalNumber"}
	auth := AuthenticationSet()
	for _, d := range defs {
		t.Run(d.Name, func(t *testing.T) {
			if got, want := d.Sensitive, slices.Contains(sensitive, d.Name); got != want {
				t.Errorf("Sensitive = %v, want %v", got, want)
			}
			if got, want := d.Identification, !slices.Contains(auth, d.Name) && d.Name != "idpId"; got != want {
				t.Errorf("Identification = %v, want %v", got, want)
			}
			// Every Identification attribute requests at least one claim,
			// as itsme's Identification service requires.
			if d.Identification && len(d.Claims) == 0 {
				t.Error("no claims")
			}
			for _, c := range d.Claims {
				if strings.Contains(c, "://") && !strings.HasPrefix(c, P) {
					t.Errorf("claim %q is not an itsme claim URI", c)
				}
			}
			l, ok := Lookup(d.Name)
			if !ok || l.Name != d.Name || !slices.Equal(l.Claims, d.Claims) {
				t.Errorf("Lookup = %+v, %v", l, ok)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"nin", true}, {"nin.type", true}, {"idpId", true},
		{"NIN", false}, {"", false}, {"urn:oid:2.5.4.42", false}, {"firstname", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := Lookup(tt.name); ok != tt.ok {
				t.Errorf("Lookup(%q) ok = %v, want %v", tt.name, ok, tt.ok)
			}
		})
	}
}

// TestDefinitionsCopy checks that callers cannot corrupt the contract.
func TestDefinitionsCopy(t *testing.T) {
	d := Definitions()
	d[0].Claims[0] = "tampered"
	d2, _ := Lookup("name")
	d2.Claims[0] = "tampered"
	AuthenticationSet()[0] = "tampered"
	if got, _ := Lookup("name"); got.Claims[0] != "name" {
		t.Errorf("claims of name = %q after caller modification", got.Claims)
	}
	if got := AuthenticationSet(); !slices.Equal(got, []string{"name", "firstName", "lastName"}) {
		t.Errorf("AuthenticationSet = %q", got)
	}
}
