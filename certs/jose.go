package certs

import (
	"crypto/rsa"
	"errors"

	jose "github.com/go-jose/go-jose/v4"
)

// JOSEKeys holds the bridge's two RSA keys towards an OpenID provider: one
// for signatures (request objects, client assertions) and one that the
// provider encrypts ID tokens and userinfo to. Old decryption keys are kept
// so tokens encrypted to a rotated-out key still decrypt during the grace
// period.
type JOSEKeys struct {
	Sig    *KeyPair
	Enc    *KeyPair
	OldEnc []*KeyPair
	// NextSig, when set, is published in the JWK Set with use "sig" but
	// signs nothing: the provider caches the set, so the next signing key
	// is published ahead of the switch.
	NextSig *KeyPair
}

// Validate reports whether both keys are present and distinct.
func (k *JOSEKeys) Validate() error {
	if k == nil || k.Sig == nil || k.Enc == nil {
		return errors.New("certs: JOSE keys need one signing and one encryption key")
	}
	if k.Sig.Key.PublicKey.Equal(&k.Enc.Key.PublicKey) {
		return errors.New("certs: the JOSE signing and encryption keys must differ (key separation)")
	}
	if k.NextSig != nil {
		for _, kp := range append([]*KeyPair{k.Sig, k.Enc}, k.OldEnc...) {
			if kp != nil && k.NextSig.Key.PublicKey.Equal(&kp.Key.PublicKey) {
				return errors.New("certs: the next JOSE signing key must differ from the current signing and encryption keys")
			}
		}
	}
	return nil
}

// SigningKey returns the private signing key with its kid, ready for
// jose.NewSigner.
func (k *JOSEKeys) SigningKey() jose.SigningKey {
	return jose.SigningKey{
		Algorithm: jose.RS256,
		Key:       jose.JSONWebKey{Key: k.Sig.Key, KeyID: k.Sig.KeyID(), Algorithm: string(jose.RS256), Use: "sig"},
	}
}

// DecryptionKey returns the private decryption key whose kid is kid, or nil.
func (k *JOSEKeys) DecryptionKey(kid string) *rsa.PrivateKey {
	for _, kp := range append([]*KeyPair{k.Enc}, k.OldEnc...) {
		if kp != nil && kp.KeyID() == kid {
			return kp.Key
		}
	}
	return nil
}

// PublicJWKS returns the public keys as a JWK Set: the signing key (and
// the next one) with use "sig" and every decryption key with use "enc". It never contains
// private members.
func (k *JOSEKeys) PublicJWKS() jose.JSONWebKeySet {
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{
		Key: &k.Sig.Key.PublicKey, KeyID: k.Sig.KeyID(), Use: "sig", Algorithm: string(jose.RS256),
	}}}
	if k.NextSig != nil {
		set.Keys = append(set.Keys, jose.JSONWebKey{
			Key: &k.NextSig.Key.PublicKey, KeyID: k.NextSig.KeyID(), Use: "sig", Algorithm: string(jose.RS256),
		})
	}
	for _, kp := range append([]*KeyPair{k.Enc}, k.OldEnc...) {
		if kp == nil {
			continue
		}
		set.Keys = append(set.Keys, jose.JSONWebKey{
			Key: &kp.Key.PublicKey, KeyID: kp.KeyID(), Use: "enc", Algorithm: string(jose.RSA_OAEP_256),
		})
	}
	return set
}
