package emulator

import (
	"maps"
	"slices"
	"strings"

	"github.com/samlbridge/samlbridge/itsme"
)

// The acr values (itsme-oidc.md §2).
const (
	acrBasic    = itsme.ACRBasic
	acrAdvanced = itsme.ACRAdvanced
)

// scopeClaims maps the user-data scopes to their claims (itsme-oidc.md
// §5.1). Since 2024-10 they are returned by userinfo only (pitfall 2).
var scopeClaims = map[string][]string{
	"profile":    {"family_name", "given_name", "name", "gender", "locale", "picture", "birthdate"},
	"email":      {"email", "email_verified"},
	"address":    {"address"},
	"phone":      {"phone_number", "phone_number_verified"},
	"eid":        {p + "BENationalNumber", p + "BEeidSn"},
	"idDocument": {p + "IDDocumentSN", p + "IDDocumentType", p + "IDIssuingCountry", p + "validityFrom", p + "validityTo"},
}

// extraClaims are the other claims itsme documents (itsme-oidc.md §5.2)
// that the personas may carry.
var extraClaims = []string{
	"age_gte_16", "age_gte_18", "age_gte_21", "age_gte_30",
	p + "birthdate_as_string", p + "official_gender", p + "physical_person_photo",
	p + "claim_citizenship", p + "claim_citizenship_as_iso", p + "place_of_birth",
	p + "verificationDate", p + "issuance_locality", p + "claim_device",
	p + "app", p + "account", p + "identification_mode", p + "transaction_ip", p + "ongoing_call",
}

// documentSerials are the claims the document metadata applies to.
var documentSerials = []string{p + "BEeidSn", p + "IDDocumentSN"}

// metadataClaims are itsme's metadata claims (D-UD): their value is an
// object keyed by the other requested claims they apply to. The value
// lists which claims: nil means every requested document-derived claim.
var metadataClaims = map[string][]string{
	p + "validityFrom":      documentSerials,
	p + "validityTo":        documentSerials,
	p + "issuance_locality": documentSerials,
	p + "verificationDate":  nil,
	p + "IDIssuingCountry":  nil,
}

// notFromDocument are claims that do not come from the identity document,
// so verificationDate and IDIssuingCountry never key them.
var notFromDocument = []string{
	"email", "email_verified", "phone_number", "phone_number_verified", "locale",
	p + "claim_device", p + "app", p + "account", p + "identification_mode", p + "transaction_ip", p + "ongoing_call",
}

// protocolClaims are never user claims.
var protocolClaims = []string{"sub", "iss", "aud", "exp", "iat", "nbf", "nonce", "acr", "amr", "azp", "auth_time", "at_hash", "jti", "sid"}

// approvalPrefix marks the WYSIWYS claims of Confirmation (§6).
const approvalPrefix = p + "claim_approval_"

// isUserClaim reports whether name asks for user data.
func isUserClaim(name string) bool {
	return !slices.Contains(protocolClaims, name) && !strings.HasPrefix(name, approvalPrefix)
}

// scopeClaimNames returns the claims of the user-data scopes in scopes.
func scopeClaimNames(scopes []string) []string {
	var out []string
	for _, s := range scopes {
		for _, n := range scopeClaims[s] {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// releaseClaims returns the claims named in names that persona has,
// omitting the others (never null, itsme-oidc.md §5.2). Metadata claims
// become objects keyed by the other released claims they apply to, and
// are left out when there are none.
func (e *Emulator) releaseClaims(persona *Persona, names []string) map[string]any {
	out := map[string]any{}
	for _, n := range names {
		if _, meta := metadataClaims[n]; meta || !isUserClaim(n) {
			continue
		}
		v, ok := persona.Claims[n]
		if !ok || v == nil {
			continue
		}
		if n == "picture" && v == PicturePlaceholder {
			v = e.endpoint(PathPicture)
		}
		out[n] = cloneJSON(v)
	}
	released := maps.Clone(out)
	for _, n := range names {
		applies, meta := metadataClaims[n]
		if !meta {
			continue
		}
		v, ok := persona.Claims[n]
		if !ok || v == nil {
			continue
		}
		obj := map[string]any{}
		for _, k := range names {
			if _, ok := released[k]; !ok {
				continue
			}
			if applies != nil && !slices.Contains(applies, k) {
				continue
			}
			if applies == nil && slices.Contains(notFromDocument, k) {
				continue
			}
			if m, isMap := v.(map[string]any); isMap {
				if x, ok := m[k]; ok {
					obj[k] = cloneJSON(x)
				}
				continue
			}
			obj[k] = cloneJSON(v)
		}
		if len(obj) > 0 {
			out[n] = obj
		}
	}
	return out
}
