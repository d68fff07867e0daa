// Package cryptofloor performs exactly the public- and private-key
// operations one bridge login needs, with the bridge's key sizes and
// algorithms, and nothing else. The CPU they take is the floor under the
// bridge's CPU per login: what remains above it (XML, canonicalisation,
// JSON, HTTP, allocation) is the bridge's own overhead. samlbench measures
// both in one run and prints their ratio.
package cryptofloor

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // RSA-OAEP (SHA-1) is itsme's default JWE key algorithm and XML Encryption's rsa-oaep-mgf1p
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
)

// Shape says which optional operations a login of a given configuration
// performs. The zero Shape is the smallest login: an unsigned
// AuthnRequest, a signed but unencrypted request object, the ID token only
// and a signed, unencrypted assertion.
type Shape struct {
	// VerifyAuthnRequest: the SP signs its AuthnRequests (RSA-SHA256).
	VerifyAuthnRequest bool
	// EncryptRequestObject: the request object is encrypted to itsme
	// (RSA-OAEP-256 key wrap), as the bridge does by default.
	EncryptRequestObject bool
	// UserInfo: the login needs userinfo claims (the Identification
	// service), so a second JWT is decrypted and verified.
	UserInfo bool
	// SignResponse and SignAssertion: what the SP's signing setting signs
	// (assertion is the default, both signs twice).
	SignResponse, SignAssertion bool
	// EncryptAssertion: the SP's metadata has an encryption key
	// (RSA-OAEP key transport of the content key).
	EncryptAssertion bool
	// FromSession: the login is answered from the bridge's SSO session,
	// with no itsme round trip, so only the SAML operations remain (what
	// the comparison with SimpleSAMLphp measures).
	FromSession bool
}

// Kind is whether an operation uses a private key or a public one.
type Kind string

// Operation kinds.
const (
	Private Kind = "private"
	Public  Kind = "public"
)

// Op is one asymmetric operation of a login.
type Op struct {
	// Name says what the bridge does with it.
	Name string
	// Kind is Private or Public.
	Kind Kind
}

// Ops lists the operations of one login of shape s, in the order the
// bridge performs them.
func (s Shape) Ops() []Op {
	var ops []Op
	for _, st := range steps {
		if st.on(s) {
			ops = append(ops, st.Op)
		}
	}
	return ops
}

// step is one operation: when a login does it, and how.
type step struct {
	Op
	on func(Shape) bool
	do func(k *Keys, rand io.Reader) error
}

// itsme is true when the login goes to itsme.
func itsme(s Shape) bool { return !s.FromSession }

// steps is every operation a login may do, in the bridge's order.
var steps = []step{
	{Op{"verify the AuthnRequest signature (RSA-SHA256)", Public}, func(s Shape) bool { return s.VerifyAuthnRequest },
		func(k *Keys, _ io.Reader) error { return k.verify(&k.spSig.PublicKey, k.requestSig) }},
	{Op{"sign the request object (RS256)", Private}, itsme,
		func(k *Keys, _ io.Reader) error { return k.sign(k.joseSig) }},
	{Op{"encrypt the request object key (RSA-OAEP-256)", Public}, func(s Shape) bool { return s.EncryptRequestObject && itsme(s) },
		func(k *Keys, r io.Reader) error { return k.wrap(sha256.New(), &k.itsmeEnc.PublicKey, r) }},
	{Op{"sign the client assertion (RS256)", Private}, itsme,
		func(k *Keys, _ io.Reader) error { return k.sign(k.joseSig) }},
	{Op{"decrypt the ID token key (RSA-OAEP)", Private}, itsme,
		func(k *Keys, _ io.Reader) error { return k.unwrap(k.idTokenKey) }},
	{Op{"verify the ID token signature (RS256)", Public}, itsme,
		func(k *Keys, _ io.Reader) error { return k.verify(&k.itsmeSig.PublicKey, k.idTokenSig) }},
	{Op{"decrypt the userinfo key (RSA-OAEP)", Private}, func(s Shape) bool { return s.UserInfo && itsme(s) },
		func(k *Keys, _ io.Reader) error { return k.unwrap(k.userinfoKey) }},
	{Op{"verify the userinfo signature (RS256)", Public}, func(s Shape) bool { return s.UserInfo && itsme(s) },
		func(k *Keys, _ io.Reader) error { return k.verify(&k.itsmeSig.PublicKey, k.userinfoSig) }},
	{Op{"sign the assertion (RSA-SHA256)", Private}, func(s Shape) bool { return s.SignAssertion },
		func(k *Keys, _ io.Reader) error { return k.sign(k.samlSig) }},
	{Op{"encrypt the assertion key (RSA-OAEP)", Public}, func(s Shape) bool { return s.EncryptAssertion },
		func(k *Keys, r io.Reader) error { return k.wrap(sha1.New(), &k.spEnc.PublicKey, r) }},
	{Op{"sign the response (RSA-SHA256)", Private}, func(s Shape) bool { return s.SignResponse },
		func(k *Keys, _ io.Reader) error { return k.sign(k.samlSig) }},
}

// Keys are the key pairs a login touches: the bridge's (SAML signing,
// itsme signing and decryption), itsme's (signing, encryption) and the
// SP's (signing, encryption). Only the bridge's private keys are used;
// the others stand in for the peers' public keys and for the inputs the
// peers would have produced.
type Keys struct {
	samlSig, joseSig, joseEnc *rsa.PrivateKey
	itsmeSig, itsmeEnc        *rsa.PrivateKey
	spSig, spEnc              *rsa.PrivateKey

	// Inputs made once by the peers: itsme's signatures over the ID
	// token and userinfo, their wrapped content keys, and the SP's
	// AuthnRequest signature.
	idTokenSig, userinfoSig []byte
	idTokenKey, userinfoKey []byte
	requestSig              []byte
	digest                  [sha256.Size]byte
	cek                     []byte
}

// NewKeys makes the seven key pairs with bits-bit RSA moduli (the bridge
// uses 2048) and the peers' inputs.
func NewKeys(bits int, rand io.Reader) (*Keys, error) {
	if bits < 2048 {
		return nil, fmt.Errorf("cryptofloor: %d-bit keys: want at least 2048", bits)
	}
	k := &Keys{cek: make([]byte, 32)}
	for _, p := range []**rsa.PrivateKey{&k.samlSig, &k.joseSig, &k.joseEnc, &k.itsmeSig, &k.itsmeEnc, &k.spSig, &k.spEnc} {
		key, err := rsa.GenerateKey(rand, bits)
		if err != nil {
			return nil, fmt.Errorf("cryptofloor: generating a key: %w", err)
		}
		*p = key
	}
	if _, err := io.ReadFull(rand, k.cek); err != nil {
		return nil, fmt.Errorf("cryptofloor: content key: %w", err)
	}
	k.digest = sha256.Sum256([]byte("a JWS signing input or an XML SignedInfo"))
	var err error
	sign := func(key *rsa.PrivateKey) []byte {
		if err != nil {
			return nil
		}
		var s []byte
		s, err = rsa.SignPKCS1v15(nil, key, crypto.SHA256, k.digest[:])
		return s
	}
	wrap := func(pub *rsa.PublicKey) []byte {
		if err != nil {
			return nil
		}
		var c []byte
		c, err = rsa.EncryptOAEP(sha1.New(), rand, pub, k.cek, nil)
		return c
	}
	k.idTokenSig, k.userinfoSig, k.requestSig = sign(k.itsmeSig), sign(k.itsmeSig), sign(k.spSig)
	k.idTokenKey, k.userinfoKey = wrap(&k.joseEnc.PublicKey), wrap(&k.joseEnc.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("cryptofloor: peer inputs: %w", err)
	}
	return k, nil
}

// errMismatch is returned when an operation's result is wrong, which
// would mean the operation was not really performed.
var errMismatch = errors.New("cryptofloor: operation result mismatch")

// Login performs the asymmetric operations of one login of shape s, each
// for real (signatures made, keys unwrapped, signatures checked), and
// fails if any result is wrong. rand feeds the OAEP encryptions.
func (k *Keys) Login(s Shape, rand io.Reader) error {
	for _, st := range steps {
		if !st.on(s) {
			continue
		}
		if err := st.do(k, rand); err != nil {
			return fmt.Errorf("cryptofloor: %s: %w", st.Name, err)
		}
	}
	return nil
}

func (k *Keys) sign(key *rsa.PrivateKey) error {
	_, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, k.digest[:])
	return err
}

func (k *Keys) verify(pub *rsa.PublicKey, sig []byte) error {
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, k.digest[:], sig); err != nil {
		return fmt.Errorf("%w: %w", errMismatch, err)
	}
	return nil
}

func (k *Keys) unwrap(c []byte) error {
	got, err := rsa.DecryptOAEP(sha1.New(), nil, k.joseEnc, c, nil)
	if err != nil {
		return err
	}
	if len(got) != len(k.cek) {
		return errMismatch
	}
	return nil
}

func (k *Keys) wrap(h hash.Hash, pub *rsa.PublicKey, rand io.Reader) error {
	_, err := rsa.EncryptOAEP(h, rand, pub, k.cek, nil)
	return err
}
