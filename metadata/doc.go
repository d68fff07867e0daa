// Package metadata holds the bridge's view of SAML metadata: the registry of
// service providers (SPs) it trusts, loaded from SP metadata XML and
// validated strictly at load time, and the IdP metadata it publishes about
// itself.
//
// crewjam/saml's types are used for XML binding only. Every security
// decision is made here, because crewjam accepts metadata the bridge must
// refuse (security catalogue §5 MD-*, G9, G10, G18, G19, REQ-06):
//
//   - documents with a DOCTYPE, duplicate attributes, excessive depth or
//     size, or that do not survive an encoding/xml round trip (xrv);
//   - assertion consumer service (ACS) endpoints that are not https (http is
//     allowed for loopback hosts only, and only when asked for), carry
//     user info or a fragment, or use javascript:/data: schemes
//     (CVE-2023-45683);
//   - SPs without an HTTP-POST ACS, the only binding the bridge answers with;
//   - KeyDescriptors without a certificate (crewjam panics on them at login,
//     G9), unparsable certificates and RSA keys shorter than 2048 bits;
//   - metadata whose validUntil lies in the past (MD-02).
//
// Certificate expiry is deliberately not enforced on SP certificates: in
// SAML metadata a certificate is only a container for a trusted public key,
// and long-expired self-signed certificates are common (catalogue G13).
//
// The ACS the bridge answers to is chosen by [ServiceProvider.ResolveACS]
// from metadata only, never from the request alone (SAML core §3.4.1,
// profiles §4.1.4.1).
package metadata
