package attributes

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"slices"

	crewjam "github.com/crewjam/saml"
)

// The NameID formats the bridge can issue (saml-core §8.3).
const (
	FormatPersistent  = string(crewjam.PersistentNameIDFormat)
	FormatTransient   = string(crewjam.TransientNameIDFormat)
	FormatEmail       = string(crewjam.EmailAddressNameIDFormat)
	FormatUnspecified = string(crewjam.UnspecifiedNameIDFormat)
)

// ErrInvalidNameIDPolicy means the SP's NameIDPolicy cannot be met; the SP
// gets the InvalidNameIDPolicy status (saml-core §3.4.1.1).
var ErrInvalidNameIDPolicy = errors.New("attributes: NameIDPolicy cannot be met")

// NameIDPolicy is what an AuthnRequest's NameIDPolicy asks for; the zero
// value means no policy.
type NameIDPolicy struct {
	Format          string
	SPNameQualifier string
}

// ChooseNameIDFormat decides the NameID format of a login before it
// starts (security catalogue REQ-14):
//
//   - an explicit Format must be persistent, transient, emailAddress or
//     unspecified; emailAddress only for an SP allowed to receive "email"
//     (the address comes from itsme, which does not verify it);
//   - no Format, or unspecified, takes the first format the SP's metadata
//     lists that the bridge supports, else persistent;
//   - an SPNameQualifier other than the SP's own entityID needs an
//     affiliation, which the bridge does not support.
//
// The national number is never a NameID format the bridge offers.
func ChooseNameIDFormat(policy NameIDPolicy, spEntityID string, spFormats, allowed []string) (string, error) {
	if policy.SPNameQualifier != "" && policy.SPNameQualifier != spEntityID {
		return "", fmt.Errorf("%w: SPNameQualifier %.100q is not the SP itself (affiliations are not supported)", ErrInvalidNameIDPolicy, policy.SPNameQualifier)
	}
	usable := func(f string) bool {
		switch f {
		case FormatPersistent, FormatTransient:
			return true
		case FormatEmail:
			return slices.Contains(allowed, "email")
		}
		return false
	}
	switch policy.Format {
	case "", FormatUnspecified:
		for _, f := range spFormats {
			if usable(f) {
				return f, nil
			}
		}
		return FormatPersistent, nil
	case FormatEmail:
		if !usable(FormatEmail) {
			return "", fmt.Errorf("%w: emailAddress asked by an SP that may not receive the e-mail address", ErrInvalidNameIDPolicy)
		}
		return FormatEmail, nil
	case FormatPersistent, FormatTransient:
		return policy.Format, nil
	}
	return "", fmt.Errorf("%w: format %.100q is not supported", ErrInvalidNameIDPolicy, policy.Format)
}

// NeedsClaims returns the attributes that must be asked of itsme for a
// NameID format on top of the released ones ("email" for emailAddress).
func NeedsClaims(format string) []string {
	if format == FormatEmail {
		return []string{"email"}
	}
	return nil
}

// NameIDValue computes the NameID for a login in the chosen format:
// persistent is the pairwise PairwiseID; transient is 256 random bits,
// new at every login; emailAddress is the e-mail address itsme released
// (ErrInvalidNameIDPolicy when the user has none).
func NameIDValue(format string, secret []byte, subject, spEntityID string, claims map[string]any, rnd io.Reader) (string, error) {
	switch format {
	case FormatPersistent:
		return PairwiseID(secret, subject, spEntityID), nil
	case FormatTransient:
		b := make([]byte, 32)
		if _, err := io.ReadFull(rnd, b); err != nil {
			return "", fmt.Errorf("attributes: transient NameID: %w", err)
		}
		return base64.RawURLEncoding.EncodeToString(b), nil
	case FormatEmail:
		if v := Map(subject, claims, []string{"email"}); len(v) == 1 && len(v[0].Values) == 1 {
			return v[0].Values[0].Value, nil
		}
		return "", fmt.Errorf("%w: the user has no e-mail address at itsme", ErrInvalidNameIDPolicy)
	}
	return "", fmt.Errorf("%w: format %.100q is not supported", ErrInvalidNameIDPolicy, format)
}
