// Package server wires the SAML front end to the itsme upstream and runs
// one SSO transaction as a small state machine:
//
//  1. /saml/sso: saml.RequestParser validates the AuthnRequest (caps,
//     XML checks, Issuer → SP, signature, Destination, IssueInstant, ACS
//     from metadata). Any failure here shows a local error page and never
//     redirects: nothing about the request can be trusted yet.
//  2. The request ID is marked seen in the session.Store (replay cache,
//     shared by every node).
//  3. The attributes the SP asked for (AttributeConsumingService, or the
//     Authentication set) are intersected with what it may receive, and
//     attributes.Plan picks the itsme service and the minimal claims.
//  4. A Transaction with fresh state, nonce and PKCE verifier is stored,
//     bound to a per-flow browser cookie, and the browser is sent to
//     itsme with a signed request object.
//  5. /oidc/callback: the transaction is taken (single use) by state, the
//     browser binding is checked, and an itsme error becomes a SAML
//     status. Otherwise the code is exchanged and the nested ID token and
//     userinfo are verified (package itsme).
//  6. The claims are mapped to SAML attributes, a pairwise NameID is
//     derived, and a signed (and, when the SP has a key, encrypted)
//     assertion is posted to the ACS taken from metadata in step 1.
//
// After step 1 every failure is answered to the validated ACS as a signed
// SAML Response with a non-success status, so the SP can tell its user.
package server
