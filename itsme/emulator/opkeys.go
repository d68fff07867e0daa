package emulator

import (
	"crypto/rsa"
	"fmt"
	"maps"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/samlbridge/samlbridge/certs"
)

// Rotation says what a key rotation does with the keys in use before it.
type Rotation int

// The rotations. The zero Rotation is invalid.
const (
	// DropOld publishes the new key alone: the old signing keys leave the
	// JWK Set, and old encryption keys are neither published nor accepted.
	DropOld Rotation = iota + 1
	// KeepOld publishes the new key first, followed by the keys published
	// before; old encryption keys are still accepted, as itsme does during
	// its own rotations.
	KeepOld
	// Unpublished uses a new key but leaves the JWK Set unchanged (a rogue
	// rotation): ID tokens and userinfo answers are signed with a kid no
	// client can find, or request objects encrypted to a published key no
	// longer decrypt.
	Unpublished
)

// String names the rotation.
func (r Rotation) String() string {
	switch r {
	case DropOld:
		return "DropOld"
	case KeepOld:
		return "KeepOld"
	case Unpublished:
		return "Unpublished"
	}
	return fmt.Sprintf("Rotation(%d)", int(r))
}

// keySet is the emulator's own key material. It is never modified once
// stored: a rotation builds a new set.
type keySet struct {
	sig    *rsa.PrivateKey // signs ID tokens and userinfo answers
	sigKID string
	enc    *rsa.PrivateKey // decrypts request objects and client assertions
	encKID string
	// pubSig and pubEnc are the published public keys, by use.
	pubSig, pubEnc []jose.JSONWebKey
	// oldEnc are earlier encryption keys still accepted, by kid.
	oldEnc map[string]*rsa.PrivateKey
}

// newKeySet publishes sig and enc.
func newKeySet(sig, enc *rsa.PrivateKey) *keySet {
	ks := &keySet{sig: sig, enc: enc, sigKID: certs.PublicKeyID(&sig.PublicKey), encKID: certs.PublicKeyID(&enc.PublicKey)}
	ks.pubSig = []jose.JSONWebKey{sigJWK(ks.sig, ks.sigKID)}
	ks.pubEnc = []jose.JSONWebKey{encJWK(ks.enc, ks.encKID)}
	return ks
}

// sigJWK is the published form of a signing key.
func sigJWK(k *rsa.PrivateKey, kid string) jose.JSONWebKey {
	return jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Use: "sig", Algorithm: string(jose.RS256)}
}

// encJWK is the published form of an encryption key.
func encJWK(k *rsa.PrivateKey, kid string) jose.JSONWebKey {
	return jose.JSONWebKey{Key: &k.PublicKey, KeyID: kid, Use: "enc"}
}

// decryptionKey returns the accepted encryption key named kid.
func (ks *keySet) decryptionKey(kid string) (*rsa.PrivateKey, bool) {
	if kid == ks.encKID {
		return ks.enc, true
	}
	k, ok := ks.oldEnc[kid]
	return k, ok
}

// ownKeys returns the current key set.
func (e *Emulator) ownKeys() *keySet { return e.opKeys.Load() }

// RotateSigningKey starts signing ID tokens and userinfo answers with a
// new RS256 key of the current key's size, read from Config.Rand, and
// returns its kid. How the JWK Set changes is set by how. It is safe to
// call while requests are in flight; a token being signed keeps the key
// it started with.
func (e *Emulator) RotateSigningKey(how Rotation) (string, error) {
	return e.rotate(how, true)
}

// RotateEncryptionKey replaces the key clients encrypt request objects
// and client assertions to with a new one of the current key's size,
// read from Config.Rand, and returns its kid. How the JWK Set and the
// accepted keys change is set by how. It is safe to call while requests
// are in flight.
func (e *Emulator) RotateEncryptionKey(how Rotation) (string, error) {
	return e.rotate(how, false)
}

// rotate replaces the signing key (sig) or the encryption key.
func (e *Emulator) rotate(how Rotation, sig bool) (string, error) {
	switch how {
	case DropOld, KeepOld, Unpublished:
	default:
		return "", fmt.Errorf("emulator: rotation: unknown Rotation %d", int(how))
	}
	e.rotateMu.Lock()
	defer e.rotateMu.Unlock()
	cur := e.ownKeys()
	old := cur.enc
	if sig {
		old = cur.sig
	}
	key, err := rsa.GenerateKey(e.cfg.Rand, max(old.N.BitLen(), minRSABits))
	if err != nil {
		return "", fmt.Errorf("emulator: rotation: generating a key: %w", err)
	}
	kid := certs.PublicKeyID(&key.PublicKey)
	next := *cur
	if sig {
		next.sig, next.sigKID = key, kid
		switch how {
		case DropOld:
			next.pubSig = []jose.JSONWebKey{sigJWK(key, kid)}
		case KeepOld:
			next.pubSig = append([]jose.JSONWebKey{sigJWK(key, kid)}, cur.pubSig...)
		}
	} else {
		next.enc, next.encKID = key, kid
		switch how {
		case DropOld, Unpublished:
			next.oldEnc = nil
			if how == DropOld {
				next.pubEnc = []jose.JSONWebKey{encJWK(key, kid)}
			}
		case KeepOld:
			next.pubEnc = append([]jose.JSONWebKey{encJWK(key, kid)}, cur.pubEnc...)
			next.oldEnc = maps.Clone(cur.oldEnc)
			if next.oldEnc == nil {
				next.oldEnc = map[string]*rsa.PrivateKey{}
			}
			next.oldEnc[cur.encKID] = cur.enc
		}
	}
	e.opKeys.Store(&next)
	use := "enc"
	if sig {
		use = "sig"
	}
	e.log.Info("emulator: key rotated", "use", use, "kid", kid, "rotation", how.String())
	return kid, nil
}
