package metadata

import "github.com/samlbridge/samlbridge/xmlguard"

// maxMetadataDepth bounds element nesting. Real metadata (aggregates with
// nested EntitiesDescriptors, Extensions, KeyInfo) stays well below it; the
// bound keeps encoding/xml's recursive DecodeElement away from deep input
// (catalogue X-06, LIB-12).
const maxMetadataDepth = 64

// metadataLimits bounds SP metadata. Aggregates can be large, so only the
// depth is capped here; the size cap in ParseOptions bounds the rest.
var metadataLimits = xmlguard.Limits{MaxDepth: maxMetadataDepth}

// precheck runs the document-level checks that come before any binding;
// see package xmlguard.
func precheck(data []byte) error { return xmlguard.Check(data, metadataLimits) }
