// Package attributes turns validated itsme claims into the SAML attributes
// of the itsme attribute contract, and decides what each login asks itsme
// for.
//
// The contract is a fixed table of SAML attribute names ("name",
// "firstName", "nin", "nin.type", "itsmeEid", "idpId", ...), each derived
// from one or more itsme claims. The functions here are pure:
//
//   - Requested reads what an SP asks for from its metadata
//     (AttributeConsumingService), but never decides what it gets.
//   - Release intersects that with the bridge's per-SP allow-list, which
//     always wins (security catalogue REQ-18). National-number-class
//     attributes (Definition.Sensitive) are released only to SPs whose
//     allow-list names them.
//   - Plan turns the released names into the itsme service
//     (Authentication when only name claims are needed, Identification
//     otherwise) and the minimal "claims" request (PRIV-05).
//   - Map renders the validated claims as SAML attributes, omitting
//     anything absent or malformed; it never fails and never panics.
//     MapProfile does the same in an SP's attribute Profile (default,
//     oid for urn:oid: names, microsoft for ADFS claim-type URIs), and
//     RequestedFromNames and RequestedProfile translate the names an SP
//     asks for, in any of these vocabularies, back to contract names.
//   - PairwiseID derives the persistent NameID per SP from itsme's subject
//     (RESP-06); the national number is never an identifier.
//
// Nothing here logs: values may be national numbers.
package attributes
