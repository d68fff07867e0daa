package attributes

import (
	"slices"

	"github.com/samlbridge/samlbridge/itsme"
)

// Definition describes one SAML attribute of the contract.
type Definition struct {
	// Name is the SAML attribute name, e.g. "firstName", "nin.type".
	Name string
	// Claims are the itsme claim names that must be requested to produce
	// it: full URIs for itsme's own claims (itsme.ClaimPrefix+"BEeidSn"),
	// plain OIDC names otherwise.
	Claims []string
	// Identification is true if requesting it requires the itsme
	// Identification service.
	Identification bool
	// Sensitive marks national-number-class data, released only to SPs
	// whose allow-list names the attribute explicitly.
	Sensitive bool
}

// extractor derives an attribute's value from itsme's subject and the
// validated claims; ok is false when the value is absent or malformed.
type extractor func(subject string, claims map[string]any) (value string, ok bool)

type entry struct {
	Definition
	value extractor
}

// Claim names used by the contract.
const (
	claimNationalNumber = itsme.ClaimPrefix + "BENationalNumber"
	claimEIDSerial      = itsme.ClaimPrefix + "BEeidSn"
	claimDocumentSerial = itsme.ClaimPrefix + "IDDocumentSN"
	claimCitizenship    = itsme.ClaimPrefix + "claim_citizenship"
	claimPlaceOfBirth   = itsme.ClaimPrefix + "place_of_birth"
	// claimBirthdateAsString is the date of birth as the identity document
	// prints it; itsme may give only this for Belgian users.
	claimBirthdateAsString = itsme.ClaimPrefix + "birthdate_as_string"
	claimIssuance          = itsme.ClaimPrefix + "issuance_locality"
	claimValidityFrom      = itsme.ClaimPrefix + "validityFrom"
	claimValidityTo        = itsme.ClaimPrefix + "validityTo"
	claimReadDate          = itsme.ClaimPrefix + "verificationDate"
	claimDevice            = itsme.ClaimPrefix + "claim_device"
)

// documentClaims must accompany every itsme metadata claim: a metadata
// claim is keyed by the other requested claims, and itsme returns nothing
// for it when it is requested alone.
var documentClaims = []string{claimEIDSerial, claimDocumentSerial}

func authn(name, claim string) entry {
	return entry{Definition: Definition{Name: name, Claims: []string{claim}}, value: plainClaim(claim)}
}

func ident(name string, claims []string, value extractor) entry {
	return entry{Definition: Definition{Name: name, Claims: claims, Identification: true}, value: value}
}

func sensitive(name string, value extractor) entry {
	return entry{Definition: Definition{Name: name, Claims: []string{claimNationalNumber}, Identification: true, Sensitive: true}, value: value}
}

func metadataClaim(name, claim string) entry {
	return ident(name, append([]string{claim}, documentClaims...), metadataValue(claim))
}

func deviceAttr(name string, fields ...string) entry {
	return ident(name, []string{claimDevice}, deviceField(fields...))
}

// table is the contract, in the order of the seed's "SAML 2.0 attributes"
// tables; nin.type and nin.issuingCountry follow nin, and idpId (only in
// the seed's response example) comes last.
var table = []entry{
	authn("name", "name"),
	authn("firstName", "given_name"),
	authn("lastName", "family_name"),
	ident("gender", []string{"gender"}, plainClaim("gender")),
	ident("dateOfBirth", []string{"birthdate", claimBirthdateAsString}, dateOfBirth),
	ident("locale", []string{"locale"}, locale),
	ident("picture", []string{"picture"}, picture),
	sensitive("nin", ninValue),
	sensitive("nin.type", ninType),
	sensitive("nin.issuingCountry", ninIssuingCountry),
	ident("email", []string{"email"}, plainClaim("email")),
	ident("phoneNumber", []string{"phone_number"}, plainClaim("phone_number")),
	ident("address", []string{"address"}, address),
	ident("nationality", []string{claimCitizenship}, plainClaim(claimCitizenship)),
	ident("placeOfBirth", []string{claimPlaceOfBirth}, placeOfBirth),
	ident("countryOfBirth", []string{claimPlaceOfBirth}, countryOfBirth),
	ident("itsmeEid", slices.Clone(documentClaims), eidNumber),
	metadataClaim("itsmeIssuanceLocality", claimIssuance),
	metadataClaim("itsmeValidityFrom", claimValidityFrom),
	metadataClaim("itsmeValidityTo", claimValidityTo),
	metadataClaim("itsmeReadDate", claimReadDate),
	sensitive("itsmeNationalNumber", nationalNumberFormatted),
	deviceAttr("itsmeOs", "os"),
	deviceAttr("itsmeAppName", "appName"),
	deviceAttr("itsmeAppRelease", "appRelease"),
	deviceAttr("itsmeDeviceLabel", "deviceLabel"),
	deviceAttr("itsmeDebugEnabled", "debugEnabled"),
	deviceAttr("itsmeDeviceId", "deviceId", "deviceID"),
	deviceAttr("itsmeOsRelease", "osRelease"),
	deviceAttr("itsmeManufacturer", "manufacturer"),
	deviceAttr("itsmeDeviceLockLevel", "deviceLockLevel"),
	deviceAttr("itsmeSmsEnabled", "smsEnabled"),
	deviceAttr("itsmeRooted", "rooted"),
	deviceAttr("itsmeImei", "imei"),
	deviceAttr("itsmeDeviceModel", "deviceModel"),
	deviceAttr("itsmeSdkRelease", "sdkRelease"),
	{Definition: Definition{Name: "idpId"}, value: subjectValue},
}

// byName indexes table by attribute name.
var byName = func() map[string]*entry {
	m := make(map[string]*entry, len(table))
	for i := range table {
		m[table[i].Name] = &table[i]
	}
	return m
}()

func (d Definition) clone() Definition {
	d.Claims = slices.Clone(d.Claims)
	return d
}

// Definitions returns the attributes of the contract in the seed's table
// order. The result is a fresh copy the caller may modify.
func Definitions() []Definition {
	out := make([]Definition, len(table))
	for i := range table {
		out[i] = table[i].clone()
	}
	return out
}

// Lookup returns the definition of the named attribute (exact,
// case-sensitive match).
func Lookup(name string) (Definition, bool) {
	e, ok := byName[name]
	if !ok {
		return Definition{}, false
	}
	return e.clone(), true
}

// AuthenticationSet is what an SP that requests nothing gets: name,
// firstName and lastName, the attributes of the itsme Authentication
// service. idpId (itsme's sub) is not in it: that sub is the same for every
// SP behind the bridge, so releasing it by default would let SPs link a
// user across each other; the pairwise NameID identifies the user instead.
func AuthenticationSet() []string {
	return []string{"name", "firstName", "lastName"}
}
