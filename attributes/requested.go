package attributes

import (
	"fmt"
	"slices"

	"github.com/crewjam/saml"
)

// maxUnknown bounds Resolved.Unknown: it is for logging, and requests
// are attacker-controlled.
const maxUnknown = 20

// Wanted is one attribute an SP asks for, in whatever vocabulary: a
// RequestedAttribute of the request's req-attr extension
// (urn:oasis:names:tc:SAML:protocol:ext:req-attr) or of the SP's
// metadata AttributeConsumingService.
type Wanted struct {
	Name         string
	NameFormat   string
	FriendlyName string
	IsRequired   bool
}

// Resolved is what an SP asked for, translated to contract names. It is
// only a wish: Release applies the bridge's allow-list.
type Resolved struct {
	// Names are the contract names asked for, in request order, without
	// duplicates.
	Names []string
	// Required are those of Names that a request marked isRequired.
	Required []string
	// Unknown are the requested Names that matched nothing (in order,
	// without duplicates, at most 20), for logging; they are ignored.
	Unknown []string
}

// Withheld returns the Required names that released (Release's result)
// does not contain. SAML lets an IdP leave out a required attribute the
// SP may not have, and the allow-list always wins, so this is not an
// error; the server should log it.
func (r Resolved) Withheld(released []string) []string {
	var out []string
	for _, n := range r.Required {
		if !slices.Contains(released, n) {
			out = append(out, n)
		}
	}
	return out
}

// RequestedFromNames resolves the attributes of a request's req-attr
// extension under profile p (nil means the default profile). Each is
// matched by Name, then by FriendlyName: first against p's names, then
// against the contract's names, so an SP on the oid profile may ask for
// urn:oid:2.5.4.42 or givenName (firstName), and any SP may use the
// contract's names. Names are compared exactly; NameFormat is not
// compared, since the vocabularies' names do not collide and SPs often
// get NameFormat wrong. A name a profile sends for part of a contract
// attribute (the oid profile's postalCode) resolves to the whole contract
// attribute (address).
func RequestedFromNames(p *Profile, wanted []Wanted) Resolved {
	p = p.orDefault()
	var r Resolved
	seen := make(map[string]bool)
	required := make(map[string]bool)
	unknown := make(map[string]bool)
	for _, w := range wanted {
		name, ok := p.contractName(w)
		if !ok {
			if !unknown[w.Name] && len(r.Unknown) < maxUnknown {
				unknown[w.Name] = true
				r.Unknown = append(r.Unknown, w.Name)
			}
			continue
		}
		if !seen[name] {
			seen[name] = true
			r.Names = append(r.Names, name)
		}
		if w.IsRequired && !required[name] {
			required[name] = true
			r.Required = append(r.Required, name)
		}
	}
	return r
}

// contractName resolves one requested attribute under p.
func (p *Profile) contractName(w Wanted) (string, bool) {
	if c, ok := p.byName[w.Name]; ok {
		return c, true
	}
	if byName[w.Name] != nil {
		return w.Name, true
	}
	if w.FriendlyName == "" {
		return "", false
	}
	if c, ok := p.byFriendly[w.FriendlyName]; ok {
		return c, true
	}
	if byName[w.FriendlyName] != nil {
		return w.FriendlyName, true
	}
	return "", false
}

// Requested is RequestedProfile under the default profile, returning
// only the names.
func Requested(services []saml.AttributeConsumingService, index *int) ([]string, error) {
	r, err := RequestedProfile(nil, services, index)
	return r.Names, err
}

// RequestedProfile resolves what an SP asks for in its metadata
// AttributeConsumingServices under profile p (nil means the default
// profile): the service with the given index if index is not nil
// (ErrUnknownIndex if there is none), else the one marked
// isDefault="true", else the first, else none. Its RequestedAttributes
// are resolved as RequestedFromNames does.
func RequestedProfile(p *Profile, services []saml.AttributeConsumingService, index *int) (Resolved, error) {
	svc, err := pickService(services, index)
	if err != nil || svc == nil {
		return Resolved{}, err
	}
	wanted := make([]Wanted, 0, len(svc.RequestedAttributes))
	for _, ra := range svc.RequestedAttributes {
		wanted = append(wanted, Wanted{
			Name: ra.Name, NameFormat: ra.NameFormat, FriendlyName: ra.FriendlyName,
			IsRequired: ra.IsRequired != nil && *ra.IsRequired,
		})
	}
	return RequestedFromNames(p, wanted), nil
}

func pickService(services []saml.AttributeConsumingService, index *int) (*saml.AttributeConsumingService, error) {
	if index != nil {
		for i := range services {
			if services[i].Index == *index {
				return &services[i], nil
			}
		}
		return nil, fmt.Errorf("%w: %d", ErrUnknownIndex, *index)
	}
	for i := range services {
		if d := services[i].IsDefault; d != nil && *d {
			return &services[i], nil
		}
	}
	if len(services) > 0 {
		return &services[0], nil
	}
	return nil, nil
}
