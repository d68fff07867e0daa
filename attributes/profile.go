package attributes

import (
	"errors"
	"fmt"
)

// ErrUnknownProfile means a name is not one of the attribute profiles.
var ErrUnknownProfile = errors.New("attributes: unknown attribute profile")

// Attribute NameFormats (SAML core §2.7.3.1 and §8.2).
const (
	// NameFormatURI says the Name is a URI (urn:oid:..., http://...).
	NameFormatURI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
	// NameFormatUnspecified leaves the Name's interpretation to the
	// parties; an absent NameFormat means the same.
	NameFormatUnspecified = "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified"
)

// The names of the attribute profiles, as configuration spells them.
const (
	// ProfileDefault sends the contract's names (seed 003: "firstName",
	// "nin", ...) without NameFormat or FriendlyName, as the contract's
	// example does.
	ProfileDefault = "default"
	// ProfileOID sends urn:oid: names (NameFormat uri, FriendlyName set)
	// from the LDAP schemas that Shibboleth, SimpleSAMLphp and the
	// research-and-education federations (InCommon, eduGAIN) decode:
	// RFC 4519, RFC 4524, RFC 2798 (inetOrgPerson) and SCHAC.
	ProfileOID = "oid"
	// ProfileMicrosoft sends the claim-type URIs of ADFS and Entra ID
	// (http://schemas.xmlsoap.org/ws/2005/05/identity/claims/...).
	ProfileMicrosoft = "microsoft"
)

// Profile is the vocabulary an SP receives its attributes in. The
// contract (Definitions) stays the only thing the bridge reasons about:
// allow-lists, Release, Plan and the Sensitive flag all use contract
// names, and a profile only renames (and, where the target vocabulary
// demands it, reformats) what Map emits, and translates the names an SP
// asks for back to contract names.
//
// A contract attribute the profile has no standard equivalent for (for
// example itsmeEid, or the itsme device attributes) keeps its contract
// name and value, without NameFormat, exactly as under ProfileDefault:
// an SP admin can still map it, and nothing is renamed into a vocabulary
// it does not belong to. A contract attribute the profile does map is
// sent only under the profile's names, each value in the format that
// name's definition requires; a value that cannot be put in that format
// is omitted, never sent malformed.
//
// A nil *Profile is the default profile. Profiles are immutable and safe
// for concurrent use.
type Profile struct {
	name       string
	nameFormat string
	// mapped holds, by contract name, the attributes that replace it.
	mapped map[string][]profileAttr
	// byName and byFriendly map the profile's Names and FriendlyNames
	// back to contract names.
	byName, byFriendly map[string]string
}

// profileAttr is one attribute a profile emits for a contract attribute.
type profileAttr struct {
	name, friendly string
	// value derives the value; nil means the contract attribute's value
	// as it is.
	value extractor
}

// ProfileAttribute describes how a profile sends one attribute.
type ProfileAttribute struct {
	// Contract is the contract attribute it is derived from; allow-lists
	// and Release use this name.
	Contract string
	// Name, NameFormat and FriendlyName are as they appear in assertions.
	Name, NameFormat, FriendlyName string
	// Sensitive is the contract attribute's Sensitive flag: national-number
	// class data stays sensitive under every name.
	Sensitive bool
}

var (
	defaultProfile   = newProfile(ProfileDefault, "", nil)
	oidProfile       = newProfile(ProfileOID, NameFormatURI, oidAttributes)
	microsoftProfile = newProfile(ProfileMicrosoft, NameFormatUnspecified, microsoftAttributes)
)

// ProfileNames lists the profile names ParseProfile accepts.
func ProfileNames() []string {
	return []string{ProfileDefault, ProfileOID, ProfileMicrosoft}
}

// ParseProfile returns the named profile; "" means ProfileDefault. Names
// are case-sensitive. An unknown name fails with ErrUnknownProfile.
func ParseProfile(name string) (*Profile, error) {
	switch name {
	case "", ProfileDefault:
		return defaultProfile, nil
	case ProfileOID:
		return oidProfile, nil
	case ProfileMicrosoft:
		return microsoftProfile, nil
	}
	return nil, fmt.Errorf("%w: %.64q (want %s, %s or %s)", ErrUnknownProfile, name, ProfileDefault, ProfileOID, ProfileMicrosoft)
}

// orDefault returns p, or the default profile for nil.
func (p *Profile) orDefault() *Profile {
	if p == nil {
		return defaultProfile
	}
	return p
}

// Name returns the profile's name (ProfileDefault for nil).
func (p *Profile) Name() string {
	return p.orDefault().name
}

// Attributes lists every attribute the profile can send, in Definitions
// order, a contract attribute's profile attributes in the order Map
// emits them.
func (p *Profile) Attributes() []ProfileAttribute {
	p = p.orDefault()
	var out []ProfileAttribute
	for i := range table {
		e := &table[i]
		attrs, ok := p.mapped[e.Name]
		if !ok {
			out = append(out, ProfileAttribute{Contract: e.Name, Name: e.Name, Sensitive: e.Sensitive})
			continue
		}
		for _, a := range attrs {
			out = append(out, ProfileAttribute{Contract: e.Name, Name: a.name, NameFormat: p.nameFormat, FriendlyName: a.friendly, Sensitive: e.Sensitive})
		}
	}
	return out
}

// newProfile indexes a profile's table. It panics on a table that names a
// contract attribute that does not exist or reuses a name: both are
// programming errors in this file, caught by any test run.
func newProfile(name, nameFormat string, mapped map[string][]profileAttr) *Profile {
	p := &Profile{name: name, nameFormat: nameFormat, mapped: mapped,
		byName: map[string]string{}, byFriendly: map[string]string{}}
	for contract, attrs := range mapped {
		if byName[contract] == nil {
			panic("attributes: profile " + name + " maps unknown attribute " + contract)
		}
		for _, a := range attrs {
			if _, dup := p.byName[a.name]; dup || byName[a.name] != nil {
				panic("attributes: profile " + name + " reuses the name " + a.name)
			}
			p.byName[a.name] = contract
			if a.friendly != "" {
				if _, dup := p.byFriendly[a.friendly]; dup || byName[a.friendly] != nil {
					panic("attributes: profile " + name + " reuses the friendly name " + a.friendly)
				}
				p.byFriendly[a.friendly] = contract
			}
		}
	}
	return p
}

// oidAttributes is the urn:oid: profile. Names and syntaxes:
//   - RFC 4519 (LDAP user schema): cn 2.5.4.3, sn 2.5.4.4, c 2.5.4.6
//     (two-letter ISO 3166 code), l 2.5.4.7, street 2.5.4.9,
//     postalAddress 2.5.4.16 (RFC 4517 §3.3.28: lines joined by "$"),
//     postalCode 2.5.4.17, givenName 2.5.4.42;
//   - RFC 4524 (COSINE): mail 0.9.2342.19200300.100.1.3, mobile
//     0.9.2342.19200300.100.1.41;
//   - RFC 2798 (inetOrgPerson): preferredLanguage 2.16.840.1.113730.3.1.39,
//     displayName 2.16.840.1.113730.3.1.241;
//   - SCHAC (REFEDS SCHema for ACademia, schac schema 1.3.6.1.4.1.25178.1.2):
//     schacGender .2 (ISO 5218 code), schacDateOfBirth .3 (YYYYMMDD, digits
//     only), schacPlaceOfBirth .4 (free text), schacCountryOfCitizenship .5
//     (two-letter ISO 3166 code), schacPersonalUniqueID .15
//     (urn:schac:personalUniqueID:<country>:<ID-type>:<ID>).
//
// No standard attribute carries the picture URL, the country of birth,
// nin.type or nin.issuingCountry (schacPersonalUniqueID already encodes
// the country), the pre-formatted itsmeNationalNumber, the ID document,
// the device, or idpId: those keep their contract names.
var oidAttributes = map[string][]profileAttr{
	"name": {
		{name: "urn:oid:2.16.840.1.113730.3.1.241", friendly: "displayName"},
		{name: "urn:oid:2.5.4.3", friendly: "cn"},
	},
	"firstName":    {{name: "urn:oid:2.5.4.42", friendly: "givenName"}},
	"lastName":     {{name: "urn:oid:2.5.4.4", friendly: "sn"}},
	"gender":       {{name: "urn:oid:1.3.6.1.4.1.25178.1.2.2", friendly: "schacGender", value: genderISO5218}},
	"dateOfBirth":  {{name: "urn:oid:1.3.6.1.4.1.25178.1.2.3", friendly: "schacDateOfBirth", value: dateOfBirthCompact}},
	"locale":       {{name: "urn:oid:2.16.840.1.113730.3.1.39", friendly: "preferredLanguage"}},
	"nin":          {{name: "urn:oid:1.3.6.1.4.1.25178.1.2.15", friendly: "schacPersonalUniqueID", value: ninSCHAC}},
	"email":        {{name: "urn:oid:0.9.2342.19200300.100.1.3", friendly: "mail"}},
	"phoneNumber":  {{name: "urn:oid:0.9.2342.19200300.100.1.41", friendly: "mobile"}},
	"nationality":  {{name: "urn:oid:1.3.6.1.4.1.25178.1.2.5", friendly: "schacCountryOfCitizenship", value: citizenshipCode}},
	"placeOfBirth": {{name: "urn:oid:1.3.6.1.4.1.25178.1.2.4", friendly: "schacPlaceOfBirth"}},
	"address": {
		{name: "urn:oid:2.5.4.16", friendly: "postalAddress", value: postalAddress},
		{name: "urn:oid:2.5.4.9", friendly: "street", value: addressPart("street_address")},
		{name: "urn:oid:2.5.4.17", friendly: "postalCode", value: addressPart("postal_code")},
		{name: "urn:oid:2.5.4.7", friendly: "l", value: addressPart("locality")},
		{name: "urn:oid:2.5.4.6", friendly: "c", value: addressCountry},
	},
}

// claimsURI is the namespace of the claim types of the OASIS Identity
// Metasystem Interoperability 1.0 profile (§7.5), which ADFS and Entra ID
// emit as SAML attribute names.
const claimsURI = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/"

// microsoftAttributes is the claims-URI profile. ADFS emits these names
// with NameFormat unspecified by default, and without FriendlyName. The
// IMI claim definitions fix the value formats: dateofbirth an xs:date
// (YYYY-MM-DD), gender "0" (unspecified), "1" (male) or "2" (female),
// country a two-letter ISO 3166 code (c of RFC 2256), the address parts
// street, l and postalCode. displayname is Entra ID's display-name claim.
//
// There are no claim types for the locale, the picture, the nationality
// or places of birth, the national number, the ID document, the device
// or idpId: those keep their contract names. An address that itsme sends
// only pre-formatted has no parts to send here and is omitted.
var microsoftAttributes = map[string][]profileAttr{
	"name": {
		{name: claimsURI + "name"},
		{name: "http://schemas.microsoft.com/identity/claims/displayname"},
	},
	"firstName":   {{name: claimsURI + "givenname"}},
	"lastName":    {{name: claimsURI + "surname"}},
	"gender":      {{name: claimsURI + "gender", value: genderIMI}},
	"dateOfBirth": {{name: claimsURI + "dateofbirth"}},
	"email":       {{name: claimsURI + "emailaddress"}},
	"phoneNumber": {{name: claimsURI + "mobilephone"}},
	"address": {
		{name: claimsURI + "streetaddress", value: addressPart("street_address")},
		{name: claimsURI + "locality", value: addressPart("locality")},
		{name: claimsURI + "postalcode", value: addressPart("postal_code")},
		{name: claimsURI + "country", value: addressCountry},
	},
}
