package attributes

import (
	"fmt"

	"github.com/samlbridge/samlbridge/itsme"
)

// Plan returns the itsme service and the minimal OIDC claims request for
// the given SAML attribute names. The service is Authentication iff every
// name is one of name, firstName, lastName and idpId, Identification
// otherwise. The claims go under ClaimsRequest.UserInfo (itsme returns
// scope claims only via userinfo), each as JSON null ("requested, no
// constraints"); duplicates collapse and no names means no claims. The
// metadata attributes (itsmeIssuanceLocality, itsmeValidityFrom/To,
// itsmeReadDate) pull BEeidSn and IDDocumentSN in, since itsme answers
// a metadata claim only about other requested claims. An unknown name
// fails with ErrUnknownAttribute.
func Plan(names []string) (itsme.Service, itsme.ClaimsRequest, error) {
	service := itsme.ServiceAuthentication
	var claims map[string]*itsme.ClaimSpec
	for _, n := range names {
		e, ok := byName[n]
		if !ok {
			return "", itsme.ClaimsRequest{}, fmt.Errorf("%w: %.64q", ErrUnknownAttribute, n)
		}
		if e.Identification {
			service = itsme.ServiceIdentification
		}
		for _, c := range e.Claims {
			if claims == nil {
				claims = make(map[string]*itsme.ClaimSpec)
			}
			claims[c] = nil
		}
	}
	return service, itsme.ClaimsRequest{UserInfo: claims}, nil
}
