package attributes

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/samlbridge/samlbridge/itsme"
)

func TestPlan(t *testing.T) {
	doc := []string{P + "BEeidSn", P + "IDDocumentSN"}
	tests := []struct {
		name        string
		names       []string
		wantService itsme.Service
		wantClaims  []string
		wantErr     error
	}{
		{name: "nothing", names: nil, wantService: itsme.ServiceAuthentication},
		{name: "idpId only", names: []string{"idpId"}, wantService: itsme.ServiceAuthentication},
		{
			name: "authentication set", names: AuthenticationSet(),
			wantService: itsme.ServiceAuthentication,
			wantClaims:  []string{"name", "given_name", "family_name"},
		},
		{
			name: "duplicates collapse", names: []string{"firstName", "firstName", "lastName"},
			wantService: itsme.ServiceAuthentication,
			wantClaims:  []string{"given_name", "family_name"},
		},
		{
			name: "one identification attribute switches service", names: []string{"name", "dateOfBirth"},
			wantService: itsme.ServiceIdentification,
			wantClaims:  []string{"name", "birthdate", P + "birthdate_as_string"},
		},
		{
			name: "nin family asks only the Belgian number", names: []string{"nin", "nin.type", "nin.issuingCountry"},
			wantService: itsme.ServiceIdentification,
			wantClaims:  []string{P + "BENationalNumber"},
		},
		{
			name: "itsmeNationalNumber", names: []string{"itsmeNationalNumber"},
			wantService: itsme.ServiceIdentification,
			wantClaims:  []string{P + "BENationalNumber"},
		},
		{
			name: "metadata claim pulls document numbers", names: []string{"itsmeValidityTo"},
			wantService: itsme.ServiceIdentification,
			wantClaims:  append([]string{P + "validityTo"}, doc...),
		},
		{
			name: "all metadata claims", names: []string{"itsmeIssuanceLocality", "itsmeValidityFrom", "itsmeValidityTo", "itsmeReadDate"},
			wantService: itsme.ServiceIdentification,
			wantClaims:  append([]string{P + "issuance_locality", P + "validityFrom", P + "validityTo", P + "verificationDate"}, doc...),
		},
		{
			name: "itsmeEid", names: []string{"itsmeEid"},
			wantService: itsme.ServiceIdentification,
			wantClaims:  doc,
		},
		{
			name: "place and country of birth share one claim", names: []string{"placeOfBirth", "countryOfBirth"},
			wantService: itsme.ServiceIdentification,
			wantClaims:  []string{P + "place_of_birth"},
		},
		{
			name: "device attributes share one claim", names: []string{"itsmeOs", "itsmeRooted", "itsmeDeviceId"},
			wantService: itsme.ServiceIdentification,
			wantClaims:  []string{P + "claim_device"},
		},
		{
			name: "contact data", names: []string{"email", "phoneNumber", "address", "locale", "gender", "picture", "nationality"},
			wantService: itsme.ServiceIdentification,
			wantClaims:  []string{"email", "phone_number", "address", "locale", "gender", "picture", P + "claim_citizenship"},
		},
		{name: "unknown name", names: []string{"name", "urn:oid:2.5.4.42"}, wantErr: ErrUnknownAttribute},
		{name: "case matters", names: []string{"Name"}, wantErr: ErrUnknownAttribute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			service, claims, err := Plan(tt.names)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if service != tt.wantService {
				t.Errorf("service = %q, want %q", service, tt.wantService)
			}
			if claims.IDToken != nil {
				t.Errorf("IDToken = %v, want nil", claims.IDToken)
			}
			got := slices.Sorted(maps.Keys(claims.UserInfo))
			want := slices.Sorted(slices.Values(tt.wantClaims))
			if !slices.Equal(got, want) {
				t.Errorf("userinfo claims:\n got %q\nwant %q", got, want)
			}
			for k, v := range claims.UserInfo {
				if v != nil {
					t.Errorf("claim %s has spec %+v, want null", k, v)
				}
			}
		})
	}
}

// TestPlanJSON pins the wire form of the claims request.
func TestPlanJSON(t *testing.T) {
	_, claims, err := Plan([]string{"firstName", "nin"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"userinfo":{"given_name":null,"http://itsme.services/v2/claim/BENationalNumber":null}}`
	if string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestPlanCoversMap checks that for every attribute, the claims Plan
// requests are enough for Map to produce it from the persona.
func TestPlanCoversMap(t *testing.T) {
	full := loadClaims(t, "maxence_claims.json")
	for _, name := range allNames() {
		if name == "picture" {
			continue // the persona has no picture
		}
		t.Run(name, func(t *testing.T) {
			_, req, err := Plan([]string{name})
			if err != nil {
				t.Fatal(err)
			}
			only := map[string]any{}
			for c := range req.UserInfo {
				if v, ok := full[c]; ok {
					only[c] = v
				}
			}
			if got := Map("a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8", only, []string{name}); len(got) != 1 {
				t.Errorf("Map with only the planned claims %q gave %d attributes", slices.Sorted(maps.Keys(req.UserInfo)), len(got))
			}
		})
	}
}
