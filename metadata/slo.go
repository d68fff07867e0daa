package metadata

import (
	"github.com/crewjam/saml"
)

// checkLogoutEndpoints validates the SP's SingleLogoutService endpoints
// like its ACS (MD-05) and keeps the HTTP-Redirect and HTTP-POST ones,
// which the bridge can reach through the browser. An SP without any
// simply takes no part in Single Logout.
func checkLogoutEndpoints(p *entityProblems, sp *ServiceProvider, eps []saml.Endpoint, allowInsecure bool) {
	if len(eps) > maxEndpoints {
		p.addf("%d SingleLogoutService elements, the limit is %d", len(eps), maxEndpoints)
		return
	}
	for _, e := range eps {
		if e.Binding != saml.HTTPRedirectBinding && e.Binding != saml.HTTPPostBinding {
			continue
		}
		if err := checkLocation(e.Location, allowInsecure); err != nil {
			p.addf("SingleLogoutService Location %.200q: %v", e.Location, err)
			continue
		}
		if e.ResponseLocation != "" {
			if err := checkLocation(e.ResponseLocation, allowInsecure); err != nil {
				p.addf("SingleLogoutService ResponseLocation %.200q: %v", e.ResponseLocation, err)
				continue
			}
		}
		sp.SingleLogoutServices = append(sp.SingleLogoutServices, e)
	}
}

// LogoutEndpoint returns the SP's SingleLogoutService to send a message
// through the browser, HTTP-Redirect preferred, and whether it has one.
// For a LogoutResponse, use Endpoint.ResponseLocation when it is set.
func (sp *ServiceProvider) LogoutEndpoint() (saml.Endpoint, bool) {
	for _, b := range []string{saml.HTTPRedirectBinding, saml.HTTPPostBinding} {
		for _, e := range sp.SingleLogoutServices {
			if e.Binding == b {
				return e, true
			}
		}
	}
	return saml.Endpoint{}, false
}
