// Package session defines where the bridge keeps the state of logins in
// flight: the Transaction that binds an itsme authorization (state, nonce,
// PKCE verifier) to the SAML AuthnRequest that started it, and the replay
// cache for AuthnRequest IDs.
//
// Expiry is always decided with the caller's clock (the now argument), so
// every backend behaves the same under a test clock; native TTLs in a
// backend only reclaim space. The conformance sub-package holds one test
// suite that every backend must pass unchanged.
package session
