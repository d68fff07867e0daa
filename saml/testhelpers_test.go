package saml

import (
	"errors"

	crewjam "github.com/crewjam/saml"
)

func asBadStatus(err error, target *crewjam.ErrBadStatus) bool {
	return errors.As(err, target)
}

// describe unwraps crewjam's InvalidResponseError, whose Error() hides the
// private cause.
func describe(err error) error {
	var ire *crewjam.InvalidResponseError
	if errors.As(err, &ire) {
		return ire.PrivateErr
	}
	return err
}
