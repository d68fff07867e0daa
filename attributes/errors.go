package attributes

import "errors"

// ErrUnknownAttribute means a name is not an attribute of the contract.
var ErrUnknownAttribute = errors.New("attributes: unknown attribute")

// ErrUnknownIndex means an AuthnRequest named an AttributeConsumingService
// index that the SP's metadata does not define.
var ErrUnknownIndex = errors.New("attributes: unknown AttributeConsumingService index")
