package server

import (
	"slices"

	"github.com/samlbridge/samlbridge/attributes"
	"github.com/samlbridge/samlbridge/metadata"
	"github.com/samlbridge/samlbridge/saml"
)

// Release decides what the bridge releases to sp for one request: what
// the request asks for by the req-attr extension (requested), by an
// AttributeConsumingServiceIndex (index, nil when absent) or, asking
// for neither, by the SP's metadata, all read in the SP's attribute
// profile; else the SP's default release; else fallback. The result is
// always within the SP's allow-list. It also returns what was asked, so
// that what is withheld can be told. The StatusError, when not nil, is
// the answer the SP gets instead. Logins and `samlbridge mint` both
// decide with it.
func Release(sp *metadata.ServiceProvider, requested []saml.RequestedAttribute, index *int, fallback []string) ([]string, attributes.Resolved, *saml.StatusError) {
	profile, err := attributes.ParseProfile(sp.AttributeProfile)
	if err != nil {
		return nil, attributes.Resolved{}, &saml.StatusError{Status: saml.StatusResponder,
			Message: "The identity provider is misconfigured for this application.", Err: err}
	}
	var wanted attributes.Resolved
	if len(requested) == 0 || index != nil {
		wanted, err = attributes.RequestedProfile(profile, sp.AttributeConsumingServices, index)
		if err != nil {
			return nil, attributes.Resolved{}, &saml.StatusError{Status: saml.StatusRequester, SubStatus: saml.StatusRequestUnsupported,
				Message: "The requested AttributeConsumingService is not in the SP's metadata.", Err: err}
		}
	}
	if len(requested) > 0 {
		w := make([]attributes.Wanted, len(requested))
		for i, a := range requested {
			w[i] = attributes.Wanted{Name: a.Name, NameFormat: a.NameFormat, FriendlyName: a.FriendlyName, IsRequired: a.IsRequired}
		}
		ext := attributes.RequestedFromNames(profile, w)
		for _, n := range ext.Names {
			if !slices.Contains(wanted.Names, n) {
				wanted.Names = append(wanted.Names, n)
			}
		}
		wanted.Required = append(wanted.Required, ext.Required...)
		wanted.Unknown = append(wanted.Unknown, ext.Unknown...)
	}
	names := wanted.Names
	if len(names) == 0 {
		names = sp.DefaultRelease
	}
	if len(names) == 0 {
		names = fallback
	}
	return attributes.Release(names, sp.AllowedAttributes), wanted, nil
}
