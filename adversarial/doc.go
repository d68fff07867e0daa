// Package adversarial is the bridge's attack suite: the security
// catalogue's top 25 (../shared/docs/security-catalogue.md §11) as tests
// that build the hostile input, send it through the real HTTP handlers of
// a complete stack (bridge, itsme emulator, demo SP), and assert the exact
// outcome: the HTTP status, the SAML status posted to the SP, that nothing
// was posted anywhere else, that no itsme flow was started, that exactly
// one audit event was recorded, and that the process is still healthy and
// spent bounded memory and CPU on the request.
//
// Test names carry the catalogue IDs (X-, SIG-, REQ-, RESP-, MD-, OIDC-,
// SES-, PRIV-) so that coverage can be read off; docs/security.md maps
// each top-25 item to its tests. The package has no production code.
package adversarial
