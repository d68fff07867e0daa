package metadata

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/crewjam/saml"
)

// Bounds on what one SP's metadata may declare (MD-05, MD-07).
const (
	maxEntityIDLen    = 1024 // SAML core §8.3.6
	maxEndpoints      = 64
	maxLocationLen    = 2048
	maxKeyDescriptors = 16
	maxACServices     = 64
)

// nsProtocol is the SAML 2.0 protocol URI of protocolSupportEnumeration.
const nsProtocol = "urn:oasis:names:tc:SAML:2.0:protocol"

// entityProblems collects validation problems, each naming the entity.
type entityProblems struct {
	entityID string
	errs     []error
}

func (e *entityProblems) addf(format string, args ...any) {
	e.errs = append(e.errs, fmt.Errorf("entity %.200q: "+format, append([]any{e.entityID}, args...)...))
}

// validateEntity turns a decoded EntityDescriptor into a ServiceProvider.
// It returns nil and no errors when the entity has no SAML 2.0 SP role.
func validateEntity(ed *saml.EntityDescriptor, inherited time.Time, opts ParseOptions, now time.Time) (*ServiceProvider, []error) {
	var roles []*saml.SPSSODescriptor
	for i := range ed.SPSSODescriptors {
		if slices.Contains(strings.Fields(ed.SPSSODescriptors[i].ProtocolSupportEnumeration), nsProtocol) {
			roles = append(roles, &ed.SPSSODescriptors[i])
		}
	}
	if len(roles) == 0 {
		return nil, nil
	}
	p := &entityProblems{entityID: ed.EntityID}
	if len(roles) > 1 {
		p.addf("%d SAML 2.0 SPSSODescriptors, want one", len(roles))
		return nil, p.errs
	}
	role := roles[0]
	checkEntityID(p, ed.EntityID)

	validUntil := inherited
	if !ed.ValidUntil.IsZero() {
		if !ed.ValidUntil.After(now) {
			p.addf("EntityDescriptor validUntil %s has passed (MD-02)", ed.ValidUntil.UTC().Format(time.RFC3339))
		}
		validUntil = earliest(validUntil, ed.ValidUntil)
	}
	if role.ValidUntil != nil && !role.ValidUntil.IsZero() {
		if !role.ValidUntil.After(now) {
			p.addf("SPSSODescriptor validUntil %s has passed (MD-02)", role.ValidUntil.UTC().Format(time.RFC3339))
		}
		validUntil = earliest(validUntil, *role.ValidUntil)
	}

	sp := &ServiceProvider{
		EntityID:             ed.EntityID,
		ValidUntil:           validUntil,
		AuthnRequestsSigned:  role.AuthnRequestsSigned != nil && *role.AuthnRequestsSigned,
		WantAssertionsSigned: role.WantAssertionsSigned != nil && *role.WantAssertionsSigned,
	}
	checkEndpoints(p, sp, role.AssertionConsumerServices, opts.AllowInsecureACS)
	checkKeys(p, sp, role.KeyDescriptors)
	checkLogoutEndpoints(p, sp, role.SingleLogoutServices, opts.AllowInsecureACS)
	for _, f := range role.NameIDFormats {
		if s := strings.TrimSpace(string(f)); s != "" && !slices.Contains(sp.NameIDFormats, s) {
			sp.NameIDFormats = append(sp.NameIDFormats, s)
		}
	}
	checkAttributeServices(p, role.AttributeConsumingServices)
	sp.AttributeConsumingServices = role.AttributeConsumingServices
	if sp.AuthnRequestsSigned && len(sp.SigningCerts) == 0 {
		p.addf(`AuthnRequestsSigned="true" but no signing KeyDescriptor (MD-04)`)
	}
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return sp, nil
}

// checkEntityID requires an absolute URI (or URN) of at most 1024
// characters without whitespace or control characters.
func checkEntityID(p *entityProblems, id string) {
	if id == "" {
		p.addf("entityID is empty")
		return
	}
	if len(id) > maxEntityIDLen {
		p.addf("entityID is %d characters, the limit is %d (SAML core §8.3.6)", len(id), maxEntityIDLen)
	}
	if strings.IndexFunc(id, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		p.addf("entityID contains whitespace or control characters")
		return
	}
	u, err := url.Parse(id)
	if err != nil || u.Scheme == "" {
		p.addf("entityID is not an absolute URI")
		return
	}
	if (u.Scheme == "http" || u.Scheme == "https") && u.Host == "" {
		p.addf("entityID URL has no host")
	}
}

// checkEndpoints validates every ACS and keeps the POST ones (MD-05,
// REQ-06, SAML metadata §2.2.3).
func checkEndpoints(p *entityProblems, sp *ServiceProvider, acs []saml.IndexedEndpoint, allowInsecure bool) {
	if len(acs) > maxEndpoints {
		p.addf("%d AssertionConsumerService elements, the limit is %d", len(acs), maxEndpoints)
		return
	}
	indices := make(map[int]bool, len(acs))
	for _, e := range acs {
		if e.Index < 0 || e.Index > 65535 {
			p.addf("AssertionConsumerService index %d is not an unsignedShort", e.Index)
		}
		if indices[e.Index] {
			p.addf("AssertionConsumerService index %d is used twice", e.Index)
		}
		indices[e.Index] = true
		if e.Location == "" {
			// crewjam blanks the Location of unknown bindings; such
			// endpoints are never used.
			if e.Binding == saml.HTTPPostBinding {
				p.addf("HTTP-POST AssertionConsumerService index %d has no Location", e.Index)
			}
			continue
		}
		if err := checkLocation(e.Location, allowInsecure); err != nil {
			p.addf("AssertionConsumerService index %d Location %.200q: %v", e.Index, e.Location, err)
			continue
		}
		if e.Binding == saml.HTTPPostBinding {
			sp.ACS = append(sp.ACS, e)
		}
	}
	if len(sp.ACS) == 0 {
		p.addf("no valid HTTP-POST AssertionConsumerService (the bridge needs one: errors and most answers go by POST)")
		return
	}
	sp.DefaultACS = defaultEndpoint(sp.ACS)
}

// defaultEndpoint applies SAML metadata §2.2.3: the first endpoint with
// isDefault="true", else the first without isDefault="false", else the
// first.
func defaultEndpoint(eps []saml.IndexedEndpoint) saml.IndexedEndpoint {
	for _, e := range eps {
		if e.IsDefault != nil && *e.IsDefault {
			return e
		}
	}
	for _, e := range eps {
		if e.IsDefault == nil {
			return e
		}
	}
	return eps[0]
}

// checkLocation accepts https URLs with a host and no user info or
// fragment; http only for loopback hosts when allowInsecure is set.
// javascript:, data: and other schemes fail the scheme check
// (CVE-2023-45683).
func checkLocation(loc string, allowInsecure bool) error {
	if len(loc) > maxLocationLen {
		return fmt.Errorf("longer than %d bytes", maxLocationLen)
	}
	if strings.IndexFunc(loc, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '\\' }) >= 0 {
		return fmt.Errorf("contains whitespace, control characters or a backslash")
	}
	u, err := url.Parse(loc)
	if err != nil {
		return fmt.Errorf("not a URL")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !allowInsecure || !isLoopback(u.Hostname()) {
			return fmt.Errorf("http is not allowed, use https (http only for loopback hosts in development)")
		}
	case "javascript", "data", "vbscript":
		return fmt.Errorf("scheme %q is forbidden", u.Scheme)
	default:
		return fmt.Errorf("scheme %.20q is not https", u.Scheme)
	}
	switch {
	case u.Opaque != "" || u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("no host")
	case u.User != nil:
		return fmt.Errorf("user info is not allowed")
	case u.Fragment != "" || strings.Contains(loc, "#"):
		return fmt.Errorf("fragment is not allowed")
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkAttributeServices bounds the AttributeConsumingService list and
// requires unique indices, so that a request's index is unambiguous.
func checkAttributeServices(p *entityProblems, acs []saml.AttributeConsumingService) {
	if len(acs) > maxACServices {
		p.addf("%d AttributeConsumingService elements, the limit is %d", len(acs), maxACServices)
		return
	}
	seen := make(map[int]bool, len(acs))
	for _, s := range acs {
		if seen[s.Index] {
			p.addf("AttributeConsumingService index %d is used twice", s.Index)
		}
		seen[s.Index] = true
	}
}
