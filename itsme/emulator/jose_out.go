package emulator

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"

	jose "github.com/go-jose/go-jose/v4"
)

// seal signs claims RS256 with the emulator's current signing key (kid in
// the header) and encrypts the JWS to one of c's use=enc keys, picked at
// random like itsme does (itsme-oidc.md §4.1, pitfall 7), with the configured algorithms,
// the key's kid and cty "JWT".
func (e *Emulator) seal(ctx context.Context, c *Client, claims map[string]any) (string, error) {
	keys, err := e.keysFor(ctx, c, "")
	if err != nil {
		return "", err
	}
	if len(keys.enc) == 0 {
		return "", fmt.Errorf("%w: client %q has no use=enc key", ErrUnknownKey, c.ID)
	}
	target := keys.enc[0]
	if len(keys.enc) > 1 {
		n, err := rand.Int(e.cfg.Rand, big.NewInt(int64(len(keys.enc))))
		if err != nil {
			return "", fmt.Errorf("emulator: random: %w", err)
		}
		target = keys.enc[n.Int64()]
	}
	payload, err := marshalJSON(claims)
	if err != nil {
		return "", err
	}
	ks := e.ownKeys()
	signer, err := jose.NewSigner(jose.SigningKey{
		Algorithm: jose.RS256,
		Key:       jose.JSONWebKey{Key: ks.sig, KeyID: ks.sigKID},
	}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("emulator: signer: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("emulator: signing: %w", err)
	}
	signed, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("emulator: signing: %w", err)
	}
	enc, err := jose.NewEncrypter(e.cfg.IDTokenContentEnc,
		jose.Recipient{Algorithm: e.cfg.IDTokenKeyAlg, Key: target.Key, KeyID: target.KeyID},
		(&jose.EncrypterOptions{}).WithContentType("JWT").WithType("JWT"))
	if err != nil {
		return "", fmt.Errorf("emulator: encrypter: %w", err)
	}
	obj, err := enc.Encrypt([]byte(signed))
	if err != nil {
		return "", fmt.Errorf("emulator: encrypting: %w", err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("emulator: encrypting: %w", err)
	}
	return out, nil
}
