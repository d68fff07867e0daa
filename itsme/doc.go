// Package itsme is the bridge's OpenID Connect client for itsme® (Belgian
// Mobile ID) OIDC v2: discovery, the signed (and optionally encrypted)
// request object, PKCE S256, private_key_jwt client authentication, and the
// decryption and verification of the nested (signed, then encrypted) ID
// token and userinfo response.
//
// The types in itsme.go (AuthRequest, Identity, Error) are the contract
// between the client and the bridge's flow in package server. The emulator
// in itsme/emulator implements the provider side.
//
// References: OpenID Connect Core 1.0 §3.1.3.7 (ID token validation), §5.3.2
// (userinfo sub check), §6 (request object), §10.2 (sign then encrypt);
// RFC 7636 (PKCE); RFC 7523 (JWT client authentication); and the itsme
// documentation summarised in shared/docs/itsme-oidc.md.
package itsme
