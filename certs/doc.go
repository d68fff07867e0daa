// Package certs supplies the bridge's key material: RSA key pairs with
// self-signed X.509 certificates for SAML signing, and the JOSE signing and
// decryption keys used towards itsme, with their public JWKS.
//
// Keys come from PEM files. For the demo and for tests, LoadOrCreate
// generates missing keys into a state directory on first use; such keys are
// test keys and must never be used in production.
package certs
