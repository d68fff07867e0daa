// Package emulator is a local emulator of the itsme® OpenID Connect v2
// provider (itsme-oidc.md §9). The bridge's demo (samlbridge demo) and the
// end-to-end tests run against it because the real itsme cannot be reached
// from a test machine.
//
// The emulator enforces what the real provider enforces: registered
// clients, services and exact redirect URIs (never on a loopback host);
// request objects signed then encrypted (nested JWTs, a kid in every
// header) and checked against the client's JWK Set, with the query still
// carrying response_type, client_id and scope and agreeing with them;
// S256 PKCE; private_key_jwt client authentication with single-use jti;
// 3-minute single-use authorization codes; pairwise 36-character subjects;
// and ID tokens and userinfo answers that are signed RS256 and then
// encrypted to the client (nested JWTs). Instead of the itsme app, it
// shows a plain HTML "phone" page on which a tester picks a persona and
// approves or refuses the request.
//
// Endpoints, all under the path of Config.Issuer:
//
//	/.well-known/openid-configuration  discovery (itsme-oidc.md §1.3)
//	/jwkSet                            the emulator's public keys
//	/authorization                     GET, the front-channel request (§2)
//	/authorization/confirm             POST, the phone page's form
//	/token                             POST, code exchange (§3)
//	/userinfo                          GET or POST with a Bearer token (§4)
//	/picture                           GET with a Bearer token
//
// Tests can make the emulator misbehave: InjectFault makes an endpoint
// slow, answer an error status or a body that does not parse, or drop the
// connection; RotateSigningKey and RotateEncryptionKey replace its keys,
// with or without publishing them; Requests and FaultHits count what
// reached each endpoint.
//
// All state lives in memory, bounded in size and expired by the injected
// clock. The emulator is for tests and demos only.
package emulator
