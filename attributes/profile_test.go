package attributes

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/crewjam/saml"
)

const (
	uriFmt   = NameFormatURI
	unsFmt   = NameFormatUnspecified
	msClaims = claimsURI
)

func mustProfile(t *testing.T, name string) *Profile {
	t.Helper()
	p, err := ParseProfile(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseProfile(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "", want: ProfileDefault},
		{in: "default", want: ProfileDefault},
		{in: "oid", want: ProfileOID},
		{in: "microsoft", want: ProfileMicrosoft},
		{in: "OID", wantErr: true},
		{in: "saml2", wantErr: true},
		{in: " oid", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := ParseProfile(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrUnknownProfile) || !strings.Contains(err.Error(), tt.in) || p != nil {
					t.Fatalf("ParseProfile(%q) = %v, %v; want ErrUnknownProfile naming the input", tt.in, p, err)
				}
				return
			}
			if err != nil || p.Name() != tt.want {
				t.Fatalf("ParseProfile(%q) = %v, %v; want %s", tt.in, p.Name(), err, tt.want)
			}
		})
	}
	var nilProfile *Profile
	if nilProfile.Name() != ProfileDefault {
		t.Errorf("nil profile is %q, want default", nilProfile.Name())
	}
	if got := ProfileNames(); !slices.Equal(got, []string{"default", "oid", "microsoft"}) {
		t.Errorf("ProfileNames() = %q", got)
	}
}

// attr is a one-valued attribute, for exact comparisons.
type attr struct{ name, format, friendly, value string }

func flatten(t *testing.T, attrs []saml.Attribute) []attr {
	t.Helper()
	out := make([]attr, 0, len(attrs))
	for _, a := range attrs {
		if len(a.Values) != 1 || a.Values[0].Type != valueType {
			t.Fatalf("attribute %s: values %+v, want one xs:string", a.Name, a.Values)
		}
		out = append(out, attr{a.Name, a.NameFormat, a.FriendlyName, a.Values[0].Value})
	}
	return out
}

// mappedContract lists the contract attributes each non-default profile
// renames; the rest keep their contract names.
var mappedContract = map[string][]string{
	ProfileOID: {"name", "firstName", "lastName", "gender", "dateOfBirth", "locale", "nin",
		"email", "phoneNumber", "address", "nationality", "placeOfBirth"},
	ProfileMicrosoft: {"name", "firstName", "lastName", "gender", "dateOfBirth", "email",
		"phoneNumber", "address"},
}

// TestMapProfile_persona asserts, per profile, the exact names,
// NameFormats, FriendlyNames and values of every renamed attribute for
// the seed persona, and that every other attribute is sent exactly as
// the default profile sends it.
func TestMapProfile_persona(t *testing.T) {
	claimSet := loadClaims(t, "maxence_claims.json")
	sub, _ := claimSet["sub"].(string)
	tests := []struct {
		profile string
		want    []attr
	}{
		{profile: ProfileOID, want: []attr{
			{"urn:oid:2.16.840.1.113730.3.1.241", uriFmt, "displayName", "Maxence Legrand"},
			{"urn:oid:2.5.4.3", uriFmt, "cn", "Maxence Legrand"},
			{"urn:oid:2.5.4.42", uriFmt, "givenName", "Maxence"},
			{"urn:oid:2.5.4.4", uriFmt, "sn", "Legrand"},
			{"urn:oid:1.3.6.1.4.1.25178.1.2.2", uriFmt, "schacGender", "2"},
			{"urn:oid:1.3.6.1.4.1.25178.1.2.3", uriFmt, "schacDateOfBirth", "19810424"},
			{"urn:oid:2.16.840.1.113730.3.1.39", uriFmt, "preferredLanguage", "fr"},
			{"urn:oid:1.3.6.1.4.1.25178.1.2.15", uriFmt, "schacPersonalUniqueID", "urn:schac:personalUniqueID:be:RRN:81042419835"},
			{"urn:oid:0.9.2342.19200300.100.1.3", uriFmt, "mail", "test@itsme.be"},
			{"urn:oid:0.9.2342.19200300.100.1.41", uriFmt, "mobile", "+32 453519681"},
			{"urn:oid:2.5.4.16", uriFmt, "postalAddress", "Rue Royale 82$1000 Bruxelles"},
			{"urn:oid:2.5.4.9", uriFmt, "street", "Rue Royale 82"},
			{"urn:oid:2.5.4.17", uriFmt, "postalCode", "1000"},
			{"urn:oid:2.5.4.7", uriFmt, "l", "Bruxelles"},
			{"urn:oid:1.3.6.1.4.1.25178.1.2.5", uriFmt, "schacCountryOfCitizenship", "BE"},
			{"urn:oid:1.3.6.1.4.1.25178.1.2.4", uriFmt, "schacPlaceOfBirth", "Bruxelles"},
		}},
		{profile: ProfileMicrosoft, want: []attr{
			{msClaims + "name", unsFmt, "", "Maxence Legrand"},
			{"http://schemas.microsoft.com/identity/claims/displayname", unsFmt, "", "Maxence Legrand"},
			{msClaims + "givenname", unsFmt, "", "Maxence"},
			{msClaims + "surname", unsFmt, "", "Legrand"},
			{msClaims + "gender", unsFmt, "", "2"},
			{msClaims + "dateofbirth", unsFmt, "", "1981-04-24"},
			{msClaims + "emailaddress", unsFmt, "", "test@itsme.be"},
			{msClaims + "mobilephone", unsFmt, "", "+32 453519681"},
			{msClaims + "streetaddress", unsFmt, "", "Rue Royale 82"},
			{msClaims + "locality", unsFmt, "", "Bruxelles"},
			{msClaims + "postalcode", unsFmt, "", "1000"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			p := mustProfile(t, tt.profile)
			got := flatten(t, MapProfile(p, sub, claimSet, mappedContract[tt.profile]))
			if !slices.Equal(got, tt.want) {
				t.Errorf("renamed attributes:\n got %q\nwant %q", got, tt.want)
			}
			var rest []string
			for _, n := range allNames() {
				if !slices.Contains(mappedContract[tt.profile], n) {
					rest = append(rest, n)
				}
			}
			gotRest := flatten(t, MapProfile(p, sub, claimSet, rest))
			wantRest := flatten(t, Map(sub, claimSet, rest))
			if len(wantRest) == 0 || !slices.Equal(gotRest, wantRest) {
				t.Errorf("attributes without an equivalent:\n got %q\nwant %q", gotRest, wantRest)
			}
		})
	}
}

// TestMapProfile_maxence renders every attribute for the seed persona
// under each profile and compares the XML with a golden file; the default
// profile must produce exactly Map's golden file.
func TestMapProfile_maxence(t *testing.T) {
	claimSet := loadClaims(t, "maxence_claims.json")
	sub, _ := claimSet["sub"].(string)
	for _, name := range ProfileNames() {
		t.Run(name, func(t *testing.T) {
			xml := statementXML(t, MapProfile(mustProfile(t, name), sub, claimSet, allNames()))
			checkGolden(t, filepath.Join("testdata", "TestMapProfile_maxence", name+".golden"), xml)
			if name != ProfileDefault {
				return
			}
			want, err := os.ReadFile(filepath.Join("testdata", "TestMap_maxence.golden"))
			if err != nil {
				t.Fatal(err)
			}
			if xml != string(want) {
				t.Error("the default profile differs from Map's golden file")
			}
		})
	}
}

// TestMapProfile_formats checks the value formats each vocabulary
// demands, and that what cannot be written in them is omitted.
func TestMapProfile_formats(t *testing.T) {
	const sub = "a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p6q7r8"
	oidGender := "urn:oid:1.3.6.1.4.1.25178.1.2.2"
	oidDOB := "urn:oid:1.3.6.1.4.1.25178.1.2.3"
	oidPUID := "urn:oid:1.3.6.1.4.1.25178.1.2.15"
	oidCitizen := "urn:oid:1.3.6.1.4.1.25178.1.2.5"
	richAddress := map[string]any{"street_address": "Rue du $ 1\nBoîte 3", "postal_code": 1000.0, "locality": `Bru\xelles`, "country": "be"}
	tests := []struct {
		name    string
		profile string
		claims  map[string]any
		release []string
		want    map[string]string // exactly the attributes expected
	}{
		{name: "oid male", profile: ProfileOID, claims: map[string]any{"gender": "male"}, release: []string{"gender"}, want: map[string]string{oidGender: "1"}},
		{name: "oid Female", profile: ProfileOID, claims: map[string]any{"gender": "Female"}, release: []string{"gender"}, want: map[string]string{oidGender: "2"}},
		{name: "oid unknown", profile: ProfileOID, claims: map[string]any{"gender": "unknown"}, release: []string{"gender"}, want: map[string]string{oidGender: "0"}},
		{name: "oid n/a", profile: ProfileOID, claims: map[string]any{"gender": "n/a"}, release: []string{"gender"}, want: map[string]string{oidGender: "9"}},
		{name: "oid other gender omitted", profile: ProfileOID, claims: map[string]any{"gender": "x"}, release: []string{"gender"}, want: map[string]string{}},
		{name: "microsoft male", profile: ProfileMicrosoft, claims: map[string]any{"gender": "MALE"}, release: []string{"gender"}, want: map[string]string{msClaims + "gender": "1"}},
		{name: "microsoft n/a", profile: ProfileMicrosoft, claims: map[string]any{"gender": "n/a"}, release: []string{"gender"}, want: map[string]string{msClaims + "gender": "0"}},
		{name: "microsoft gender trimmed", profile: ProfileMicrosoft, claims: map[string]any{"gender": "female "}, release: []string{"gender"}, want: map[string]string{msClaims + "gender": "2"}},
		{name: "default gender unchanged", profile: ProfileDefault, claims: map[string]any{"gender": "x"}, release: []string{"gender"}, want: map[string]string{"gender": "x"}},
		{name: "oid bad date omitted", profile: ProfileOID, claims: map[string]any{"birthdate": "24/04/1981"}, release: []string{"dateOfBirth"}, want: map[string]string{}},
		{name: "oid date", profile: ProfileOID, claims: map[string]any{"birthdate": "2001-12-31"}, release: []string{"dateOfBirth"}, want: map[string]string{oidDOB: "20011231"}},
		{name: "microsoft bad date omitted", profile: ProfileMicrosoft, claims: map[string]any{"birthdate": "1981-4-24"}, release: []string{"dateOfBirth"}, want: map[string]string{}},
		{name: "oid citizenship lower-case", profile: ProfileOID, claims: map[string]any{P + "claim_citizenship": "be"}, release: []string{"nationality"}, want: map[string]string{oidCitizen: "BE"}},
		{name: "oid citizenship alpha-3 omitted", profile: ProfileOID, claims: map[string]any{P + "claim_citizenship": "NLD"}, release: []string{"nationality"}, want: map[string]string{}},
		{name: "default citizenship alpha-3 kept", profile: ProfileDefault, claims: map[string]any{P + "claim_citizenship": "NLD"}, release: []string{"nationality"}, want: map[string]string{"nationality": "NLD"}},
		{name: "microsoft keeps nationality", profile: ProfileMicrosoft, claims: map[string]any{P + "claim_citizenship": "NLD"}, release: []string{"nationality"}, want: map[string]string{"nationality": "NLD"}},
		{
			name: "oid address escaped, lines, country", profile: ProfileOID,
			claims: map[string]any{"address": richAddress}, release: []string{"address"},
			want: map[string]string{
				"urn:oid:2.5.4.16": `Rue du \24 1$Boîte 3$1000 Bru\5Cxelles`,
				"urn:oid:2.5.4.9":  "Rue du $ 1, Boîte 3",
				"urn:oid:2.5.4.17": "1000",
				"urn:oid:2.5.4.7":  `Bru\xelles`,
				"urn:oid:2.5.4.6":  "BE",
			},
		},
		{
			name: "microsoft address parts and country", profile: ProfileMicrosoft,
			claims: map[string]any{"address": richAddress}, release: []string{"address"},
			want: map[string]string{
				msClaims + "streetaddress": "Rue du $ 1, Boîte 3",
				msClaims + "locality":      `Bru\xelles`,
				msClaims + "postalcode":    "1000",
				msClaims + "country":       "BE",
			},
		},
		{
			name: "oid formatted-only address", profile: ProfileOID,
			claims:  map[string]any{"address": map[string]any{"formatted": "Rue Royale 82 1000 Bruxelles", "country": "Belgium"}},
			release: []string{"address"},
			want:    map[string]string{"urn:oid:2.5.4.16": "Rue Royale 82 1000 Bruxelles"},
		},
		{
			name: "microsoft formatted-only address omitted", profile: ProfileMicrosoft,
			claims:  map[string]any{"address": `{"formatted":"Rue Royale 82 1000 Bruxelles"}`},
			release: []string{"address"},
			want:    map[string]string{},
		},
		{
			name: "oid plain-string address", profile: ProfileOID,
			claims:  map[string]any{"address": "Rue Royale 82 1000 Bruxelles"},
			release: []string{"address"},
			want:    map[string]string{"urn:oid:2.5.4.16": "Rue Royale 82 1000 Bruxelles"},
		},
		{
			name: "oid JSON-string address parts", profile: ProfileOID,
			claims:  map[string]any{"address": `{"postal_code":"1000","locality":"Bruxelles"}`},
			release: []string{"address"},
			want:    map[string]string{"urn:oid:2.5.4.16": "1000 Bruxelles", "urn:oid:2.5.4.17": "1000", "urn:oid:2.5.4.7": "Bruxelles"},
		},
		{
			name: "oid foreign national number: no SCHAC ID, contract parts kept", profile: ProfileOID,
			claims:  map[string]any{P + "RONationalNumber": "1800101221144"},
			release: []string{"nin", "nin.type", "nin.issuingCountry", "itsmeNationalNumber"},
			want:    map[string]string{"nin.type": "PERSON", "nin.issuingCountry": "RO"},
		},
		{
			name: "oid dotted Belgian number", profile: ProfileOID,
			claims:  map[string]any{P + "BENationalNumber": "81.04.24-198.35"},
			release: []string{"nin", "itsmeNationalNumber"},
			want:    map[string]string{oidPUID: "urn:schac:personalUniqueID:be:RRN:81042419835", "itsmeNationalNumber": "810424 198 35"},
		},
		{
			name: "oid malformed Belgian number omitted", profile: ProfileOID,
			claims:  map[string]any{P + "BENationalNumber": "8104241983"},
			release: []string{"nin"},
			want:    map[string]string{},
		},
		{
			name: "microsoft national number keeps contract name", profile: ProfileMicrosoft,
			claims:  map[string]any{P + "BENationalNumber": "81042419835"},
			release: []string{"nin"},
			want:    map[string]string{"nin": "81042419835"},
		},
		{
			name: "oid control character in value omitted", profile: ProfileOID,
			claims:  map[string]any{"given_name": "Max\x00ence", "family_name": "  Legrand "},
			release: []string{"firstName", "lastName"},
			want:    map[string]string{"urn:oid:2.5.4.4": "Legrand"},
		},
		{
			name: "idpId keeps its name everywhere", profile: ProfileMicrosoft,
			claims: map[string]any{}, release: []string{"idpId", "bogus"},
			want: map[string]string{"idpId": sub},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := values(t, MapProfile(mustProfile(t, tt.profile), sub, tt.claims, tt.release))
			if len(got) != len(tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			for n, v := range tt.want {
				if got[n] != v {
					t.Errorf("%s = %q, want %q (all: %q)", n, got[n], v, got)
				}
			}
		})
	}
}

// TestProfileAttributes checks each profile's vocabulary as a whole:
// unique names, the right NameFormat, the Sensitive flag carried over
// from the contract, and the names issue 4 requires.
func TestProfileAttributes(t *testing.T) {
	sensitive := map[string]bool{}
	for _, d := range Definitions() {
		sensitive[d.Name] = d.Sensitive
	}
	for _, name := range ProfileNames() {
		t.Run(name, func(t *testing.T) {
			p := mustProfile(t, name)
			seen := map[string]bool{}
			contracts := map[string]bool{}
			for _, a := range p.Attributes() {
				if seen[a.Name] {
					t.Errorf("name %s used twice", a.Name)
				}
				seen[a.Name] = true
				contracts[a.Contract] = true
				if a.Sensitive != sensitive[a.Contract] {
					t.Errorf("%s (%s): Sensitive = %v", a.Name, a.Contract, a.Sensitive)
				}
				renamed := slices.Contains(mappedContract[name], a.Contract)
				switch {
				case !renamed:
					if a.Name != a.Contract || a.NameFormat != "" || a.FriendlyName != "" {
						t.Errorf("%s: %+v, want the contract's name alone", a.Contract, a)
					}
				case name == ProfileOID:
					if !strings.HasPrefix(a.Name, "urn:oid:") || a.NameFormat != NameFormatURI || a.FriendlyName == "" {
						t.Errorf("%+v: want urn:oid:, NameFormat uri and a FriendlyName", a)
					}
				case name == ProfileMicrosoft:
					if !strings.HasPrefix(a.Name, "http://schemas.") || a.NameFormat != NameFormatUnspecified || a.FriendlyName != "" {
						t.Errorf("%+v: want a claim-type URI, NameFormat unspecified, no FriendlyName", a)
					}
				}
			}
			if len(contracts) != len(Definitions()) {
				t.Errorf("profile covers %d contract attributes, want %d", len(contracts), len(Definitions()))
			}
		})
	}
	// The names the issue asks for, exactly.
	oid := map[string]ProfileAttribute{}
	for _, a := range mustProfile(t, ProfileOID).Attributes() {
		oid[a.FriendlyName] = a
	}
	for friendly, want := range map[string]string{
		"givenName": "urn:oid:2.5.4.42", "sn": "urn:oid:2.5.4.4", "mail": "urn:oid:0.9.2342.19200300.100.1.3",
		"displayName": "urn:oid:2.16.840.1.113730.3.1.241", "schacDateOfBirth": "urn:oid:1.3.6.1.4.1.25178.1.2.3",
	} {
		if oid[friendly].Name != want {
			t.Errorf("oid %s = %q, want %q", friendly, oid[friendly].Name, want)
		}
	}
	if a := oid["schacPersonalUniqueID"]; a.Contract != "nin" || !a.Sensitive {
		t.Errorf("schacPersonalUniqueID = %+v, want the sensitive nin", a)
	}
}

func TestRequestedFromNames(t *testing.T) {
	unknown := make([]Wanted, 30)
	for i := range unknown {
		unknown[i] = Wanted{Name: "urn:oid:9." + strings.Repeat("1", i+1)}
	}
	tests := []struct {
		name        string
		profile     string
		wanted      []Wanted
		want        []string
		wantReq     []string
		wantUnknown []string
	}{
		{
			name: "oid by Name", profile: ProfileOID,
			wanted: []Wanted{
				{Name: "urn:oid:2.5.4.42", NameFormat: uriFmt, FriendlyName: "givenName", IsRequired: true},
				{Name: "urn:oid:2.5.4.4", NameFormat: uriFmt},
				{Name: "urn:oid:0.9.2342.19200300.100.1.3", NameFormat: uriFmt, IsRequired: true},
				{Name: "urn:oid:1.3.6.1.4.1.25178.1.2.3"},
			},
			want: []string{"firstName", "lastName", "email", "dateOfBirth"}, wantReq: []string{"firstName", "email"},
		},
		{
			name: "oid by FriendlyName and by contract name", profile: ProfileOID,
			wanted: []Wanted{{Name: "urn:example:mail", FriendlyName: "mail"}, {Name: "lastName"}, {Name: "x", FriendlyName: "nin"}},
			want:   []string{"email", "lastName", "nin"}, wantUnknown: nil,
		},
		{
			name: "oid address parts collapse", profile: ProfileOID,
			wanted: []Wanted{{Name: "urn:oid:2.5.4.17"}, {Name: "urn:oid:2.5.4.16", IsRequired: true}, {Name: "urn:oid:2.5.4.7", IsRequired: true}},
			want:   []string{"address"}, wantReq: []string{"address"},
		},
		{
			name: "oid national number", profile: ProfileOID,
			wanted: []Wanted{{Name: "urn:oid:1.3.6.1.4.1.25178.1.2.15", IsRequired: true}},
			want:   []string{"nin"}, wantReq: []string{"nin"},
		},
		{
			name: "oid unknown reported", profile: ProfileOID,
			wanted:      []Wanted{{Name: "urn:oid:1.3.6.1.4.1.5923.1.1.1.6", FriendlyName: "eduPersonPrincipalName", IsRequired: true}, {Name: "urn:oid:2.5.4.42"}},
			want:        []string{"firstName"},
			wantUnknown: []string{"urn:oid:1.3.6.1.4.1.5923.1.1.1.6"},
		},
		{
			name: "NameFormat is not compared", profile: ProfileOID,
			wanted: []Wanted{{Name: "urn:oid:2.5.4.42", NameFormat: "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"}},
			want:   []string{"firstName"},
		},
		{
			name: "default by seed name", profile: ProfileDefault,
			wanted: []Wanted{{Name: "firstName"}, {Name: "nin.type", IsRequired: true}, {Name: "itsmeDeviceModel"}},
			want:   []string{"firstName", "nin.type", "itsmeDeviceModel"}, wantReq: []string{"nin.type"},
		},
		{
			name: "default by FriendlyName, not by oid", profile: ProfileDefault,
			wanted:      []Wanted{{Name: "urn:oid:2.5.4.42", FriendlyName: "firstName"}, {Name: "urn:oid:2.5.4.4", FriendlyName: "sn"}},
			want:        []string{"firstName"},
			wantUnknown: []string{"urn:oid:2.5.4.4"},
		},
		{
			name: "microsoft claim types", profile: ProfileMicrosoft,
			wanted: []Wanted{
				{Name: msClaims + "givenname", IsRequired: true}, {Name: msClaims + "emailaddress"},
				{Name: "http://schemas.microsoft.com/identity/claims/displayname"}, {Name: msClaims + "country"},
				{Name: msClaims + "upn"}, {Name: msClaims + "GivenName"}, {Name: "locale"},
			},
			want:        []string{"firstName", "email", "name", "address", "locale"},
			wantReq:     []string{"firstName"},
			wantUnknown: []string{msClaims + "upn", msClaims + "GivenName"},
		},
		{
			name: "microsoft does not read oid names", profile: ProfileMicrosoft,
			wanted:      []Wanted{{Name: "urn:oid:2.5.4.42", FriendlyName: "givenName"}},
			wantUnknown: []string{"urn:oid:2.5.4.42"},
		},
		{
			name: "duplicates collapse, required once", profile: ProfileOID,
			wanted: []Wanted{{Name: "email", IsRequired: true}, {Name: "urn:oid:0.9.2342.19200300.100.1.3", IsRequired: true}, {Name: "bogus"}, {Name: "bogus"}},
			want:   []string{"email"}, wantReq: []string{"email"}, wantUnknown: []string{"bogus"},
		},
		{name: "unknown capped", profile: ProfileOID, wanted: unknown, wantUnknown: func() []string {
			var out []string
			for _, w := range unknown[:20] {
				out = append(out, w.Name)
			}
			return out
		}()},
		{name: "nothing", profile: ProfileOID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := RequestedFromNames(mustProfile(t, tt.profile), tt.wanted)
			if !slices.Equal(r.Names, tt.want) || !slices.Equal(r.Required, tt.wantReq) || !slices.Equal(r.Unknown, tt.wantUnknown) {
				t.Errorf("got %q required %q unknown %q\nwant %q required %q unknown %q",
					r.Names, r.Required, r.Unknown, tt.want, tt.wantReq, tt.wantUnknown)
			}
		})
	}
}

// TestRequestedAllowListWins follows a request in the oid vocabulary
// through Release: what the allow-list lacks is withheld (reported, not an
// error), and the national number needs the allow-list to name nin.
func TestRequestedAllowListWins(t *testing.T) {
	r := RequestedFromNames(mustProfile(t, ProfileOID), []Wanted{
		{Name: "urn:oid:2.5.4.42", IsRequired: true},
		{Name: "urn:oid:1.3.6.1.4.1.25178.1.2.15", IsRequired: true},
		{Name: "urn:oid:0.9.2342.19200300.100.1.3"},
	})
	tests := []struct {
		name         string
		allowed      []string
		wantRelease  []string
		wantWithheld []string
	}{
		{name: "nin not allowed", allowed: []string{"firstName", "email", "itsmeNationalNumber"}, wantRelease: []string{"firstName", "email"}, wantWithheld: []string{"nin"}},
		{name: "nin allowed", allowed: []string{"firstName", "nin"}, wantRelease: []string{"firstName", "nin"}},
		{name: "nothing allowed", allowed: nil, wantWithheld: []string{"firstName", "nin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release := Release(r.Names, tt.allowed)
			if !slices.Equal(release, tt.wantRelease) {
				t.Errorf("released %q, want %q", release, tt.wantRelease)
			}
			if got := r.Withheld(release); !slices.Equal(got, tt.wantWithheld) {
				t.Errorf("withheld %q, want %q", got, tt.wantWithheld)
			}
		})
	}
}

// TestRequestedProfile resolves metadata RequestedAttributes under each
// profile, isRequired included.
func TestRequestedProfile(t *testing.T) {
	services := []saml.AttributeConsumingService{
		{Index: 0, RequestedAttributes: []saml.RequestedAttribute{
			{Attribute: saml.Attribute{Name: "urn:oid:2.5.4.42", NameFormat: uriFmt, FriendlyName: "givenName"}, IsRequired: ptr(true)},
			{Attribute: saml.Attribute{Name: "urn:oid:2.5.4.4", NameFormat: uriFmt, FriendlyName: "sn"}, IsRequired: ptr(false)},
			{Attribute: saml.Attribute{Name: msClaims + "emailaddress"}},
			{Attribute: saml.Attribute{Name: "lastName"}, IsRequired: ptr(true)},
		}},
	}
	tests := []struct {
		profile  string
		index    *int
		want     []string
		wantReq  []string
		wantUnkn []string
		wantErr  error
	}{
		{profile: ProfileOID, want: []string{"firstName", "lastName"}, wantReq: []string{"firstName", "lastName"}, wantUnkn: []string{msClaims + "emailaddress"}},
		{profile: ProfileMicrosoft, want: []string{"email", "lastName"}, wantReq: []string{"lastName"}, wantUnkn: []string{"urn:oid:2.5.4.42", "urn:oid:2.5.4.4"}},
		{profile: ProfileDefault, want: []string{"lastName"}, wantReq: []string{"lastName"}, wantUnkn: []string{"urn:oid:2.5.4.42", "urn:oid:2.5.4.4", msClaims + "emailaddress"}},
		{profile: ProfileOID, index: ptr(3), wantErr: ErrUnknownIndex},
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			r, err := RequestedProfile(mustProfile(t, tt.profile), services, tt.index)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !slices.Equal(r.Names, tt.want) || !slices.Equal(r.Required, tt.wantReq) || !slices.Equal(r.Unknown, tt.wantUnkn) {
				t.Errorf("got %q required %q unknown %q\nwant %q required %q unknown %q", r.Names, r.Required, r.Unknown, tt.want, tt.wantReq, tt.wantUnkn)
			}
		})
	}
}
