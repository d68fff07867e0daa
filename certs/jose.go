package certs

import (
	"crypto/rsa"
	"errors"
	"fmt"

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

// Validate reports whether both keys are present and every key is
// distinct: the signing, next signing, encryption and old encryption keys,
// compared by public key (key separation: a key that both decrypts and
// signs turns a decryption oracle into a signature oracle). Each key found
// twice is one error, joined.
func (k *JOSEKeys) Validate() error {
	if k == nil || k.Sig == nil || k.Enc == nil {
		return errors.New("certs: JOSE keys need one signing and one encryption key")
	}
	uses := []KeyUse{
		{Name: "the signing key", Purpose: "signing", Key: publicKey(k.Sig)},
		{Name: "the next signing key", Purpose: "signing", Key: publicKey(k.NextSig)},
		{Name: "the encryption key", Purpose: "decryption", Key: publicKey(k.Enc)},
	}
	for i, kp := range k.OldEnc {
		uses = append(uses, KeyUse{Name: fmt.Sprintf("old encryption key %d", i), Purpose: "decryption", Key: publicKey(kp)})
	}
	var errs []error
	for _, r := range FindKeyReuse(uses) {
		errs = append(errs, fmt.Errorf("certs: JOSE keys: %w", r))
	}
	return errors.Join(errs...)
}

// publicKey returns the public half of kp, or nil when kp is nil.
func publicKey(kp *KeyPair) *rsa.PublicKey {
	if kp == nil || kp.Key == nil {
		return nil
	}
	return &kp.Key.PublicKey
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
