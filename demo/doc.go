// Package demo assembles the embedded default: the bridge, the itsme
// emulator and a demo service provider, all served from one address, as
// run by "samlbridge demo" and by the end-to-end tests.
//
// The demo SP is crewjam/saml's ServiceProvider, a SAML implementation the
// bridge does not share code paths with for parsing responses: it checks
// the signatures, decrypts the assertion and validates the conditions
// independently.
package demo
