package attributes

import (
	"fmt"

	"github.com/crewjam/saml"
)

// Requested resolves what an SP asks for from its metadata
// AttributeConsumingServices: the service with the given index if index is
// not nil (ErrUnknownIndex if there is none), else the one marked
// isDefault="true", else the first, else none (nil, nil). Each
// RequestedAttribute is matched by Name, else FriendlyName, against the
// contract; unknown ones are ignored and duplicates collapse. The result
// is only a wish: Release applies the bridge's allow-list.
func Requested(services []saml.AttributeConsumingService, index *int) ([]string, error) {
	svc, err := pickService(services, index)
	if err != nil || svc == nil {
		return nil, err
	}
	var names []string
	seen := make(map[string]bool)
	for _, ra := range svc.RequestedAttributes {
		name := ""
		switch {
		case byName[ra.Name] != nil:
			name = ra.Name
		case byName[ra.FriendlyName] != nil:
			name = ra.FriendlyName
		default:
			continue
		}
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	return names, nil
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
