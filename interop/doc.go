//go:build interop

// Package interop proves the bridge against real third-party software: SAML
// service providers from other stacks (Shibboleth, mellon, SimpleSAMLphp,
// node-saml, pysaml2), panva's oidc-provider as an itsme-like upstream, and
// headless Chromium. Every peer runs as the real thing on 127.0.0.1 and is
// stopped by its PID. The suite prints a matrix, one row per peer and
// scenario.
//
// It is built only with the "interop" build tag; run it with ./interop/run,
// which installs the peers first.
package interop
