// Package saml is the bridge's SAML 2.0 protocol layer, with no routing and
// no storage. It wraps crewjam/saml's types, goxmldsig and etree, and does
// itself what crewjam's IdP does not (security catalogue §0).
//
// # Incoming AuthnRequests
//
// [RequestParser.Parse] reads an AuthnRequest sent by the HTTP-Redirect
// (GET) or HTTP-POST binding and accepts it only if every check passes, in
// this order:
//
//  1. method, body and query size caps; duplicate binding parameters and
//     parameters in both URL and body are refused;
//  2. base64, then for Redirect a raw-DEFLATE inflate through a limit, so a
//     deflate bomb fails fast;
//  3. XML pre-checks on the raw bytes before any DOM or signature work:
//     UTF-8, no DOCTYPE or ENTITY, bounded depth, element count,
//     attributes and text, one root, no duplicate attributes, then
//     xml-roundtrip-validator (X-03..X-07, LIB-01);
//  4. the SAML shape: a 2.0 samlp:AuthnRequest with an NCName ID, an
//     Issuer that is plain text (no comments or CDATA: X-09) and no
//     foreign attribute shadowing a SAML one (X-08, G19);
//  5. the SP, looked up by Issuer in the metadata.Registry (REQ-01/02);
//  6. the signature: required when the SP's metadata or the bridge says
//     so, and verified whenever present (SIG-01/02). Redirect signatures
//     are checked over the raw query octets (SIG-03); POST signatures must
//     be one enveloped signature of the root with one Reference
//     (SIG-05/06/08), with allow-listed algorithms (SIG-04), and the
//     request is then decoded from the element goxmldsig verified;
//  7. Destination (REQ-07), IssueInstant within the allowed window
//     (REQ-08, G4), the ACS chosen from metadata only (REQ-03/04/05), and
//     a bounded, printable RelayState (REQ-19).
//
// A rejection is a *RequestError: a sentinel reason for errors.Is, a
// constant message for the person in front of the browser, and the cause
// for logs. Rejected requests are answered with a local error page, never
// at an ACS. The request ID's replay check is the caller's job.
//
// # Outgoing Responses
//
// [IDP.BuildResponse] and [IDP.BuildErrorResponse] build signed Responses
// with their assertion times taken at issuance; [PostForm] renders the
// auto-submitting form; [StatusError] carries a non-success SAML status.
package saml
