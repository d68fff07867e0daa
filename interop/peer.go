//go:build interop

package interop

import (
	"context"
	"io"
)

// Env is what the harness gives an SP peer when it starts it.
type Env struct {
	// Dir is the peer's own scratch directory (config, keys, logs).
	Dir string
	// Port is a free TCP port on 127.0.0.1 for the peer's HTTP server.
	Port int
	// IdPMetadataFile holds the bridge's IdP metadata XML (also IdPMetadata).
	IdPMetadataFile string
	IdPMetadata     []byte
	// IdPEntityID and IdPSSOURL are the bridge's entityID and SSO endpoint.
	IdPEntityID string
	IdPSSOURL   string
	// IdPCertPEM is the bridge's signing certificate, PEM-encoded.
	IdPCertPEM []byte
	// Log receives the output of the peer's processes.
	Log io.Writer
}

// RequestTraits is what a peer's AuthnRequest looks like. The harness
// checks the request it sees against it, so that the matrix proves the
// bridge accepted that kind of request.
type RequestTraits struct {
	// Signed: a Redirect request with SigAlg and Signature, or a POST
	// request with an enveloped signature.
	Signed bool
	// Binding is "redirect" or "post".
	Binding string
	// ACSURL: the request names AssertionConsumerServiceURL.
	ACSURL bool
	// NameIDPolicy is the requested Format, "" when there is none.
	NameIDPolicy string
	// RequestedAuthnContext: the request carries one.
	RequestedAuthnContext bool
}

// RunningSP is an SP peer that is up.
type RunningSP struct {
	// Version of the peer software, as it reports it.
	Version string
	// EntityID and Metadata are the SP's own, as it generated them.
	EntityID string
	Metadata []byte
	// LoginURL starts an SP-initiated login with a GET. After the SAML
	// round trip the SP answers on its protected page with 200 and the
	// Identity JSON; when it rejects a response it answers anything else.
	LoginURL string
	// Request describes the SP's AuthnRequest.
	Request RequestTraits
	// Encryption: the SP decrypts encrypted assertions (its metadata has
	// an encryption key).
	Encryption bool
	// Quirks the bridge has to tolerate, for docs/interop.md.
	Quirks []string
	// Stop stops every process the peer started, by PID, and waits.
	Stop func() error
}

// Identity is the JSON an SP's protected page prints after it accepted a
// response: what the SP itself extracted, not what the bridge sent.
type Identity struct {
	NameID       string              `json:"nameID"`
	NameIDFormat string              `json:"nameIDFormat"`
	Attributes   map[string][]string `json:"attributes"`
}

// SPPeer starts one SP peer.
type SPPeer struct {
	// Name is the row label, e.g. "shibboleth".
	Name string
	// Start brings the peer up. It must not return before the peer
	// answers HTTP, and must stop what it started when it fails.
	Start func(ctx context.Context, env *Env) (*RunningSP, error)
}

var spPeers []SPPeer

// registerSP adds an SP peer to the suite; each peer's file calls it from
// init.
func registerSP(p SPPeer) { spPeers = append(spPeers, p) }
