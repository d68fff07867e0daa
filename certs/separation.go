package certs

import (
	"crypto/rsa"
	"fmt"
)

// KeyUse is one configured use of an RSA key, for FindKeyReuse.
type KeyUse struct {
	// Name says where the key is configured, as a message names it: a
	// setting such as "itsme.encryption_key_file".
	Name string
	// Purpose is what the key does, such as "SAML signing" or "itsme
	// decryption".
	Purpose string
	// Key is the public half of the key; uses without one are skipped.
	Key *rsa.PublicKey
}

// KeyReuseError is one key configured twice: Again holds the same public
// key as First, an earlier use.
type KeyReuseError struct {
	First, Again KeyUse
}

// Advice says what to do about the reuse: across purposes, use a key for
// each purpose (a key that both decrypts and signs turns a decryption
// oracle into a signature oracle, NIST SP 800-57 Part 1 §5.2); within one
// purpose, configure each key once.
func (r *KeyReuseError) Advice() string {
	if r.First.Purpose != r.Again.Purpose {
		return fmt.Sprintf("use a different key for each purpose (here %s and %s)", r.Again.Purpose, r.First.Purpose)
	}
	return "configure each key once: remove the duplicate, or generate a new key for it"
}

// Error reports the reuse as "Again holds the same key as First: advice".
func (r *KeyReuseError) Error() string {
	return fmt.Sprintf("%s holds the same key as %s: %s", r.Again.Name, r.First.Name, r.Advice())
}

// FindKeyReuse compares the public key of every use with every other and
// returns one KeyReuseError for each use whose key an earlier use already
// holds, naming the first such use; nil when all keys differ. Keys are
// compared by value, so one key in two files is found.
func FindKeyReuse(uses []KeyUse) []*KeyReuseError {
	var found []*KeyReuseError
	for j, again := range uses {
		if again.Key == nil {
			continue
		}
		for _, first := range uses[:j] {
			if first.Key != nil && first.Key.Equal(again.Key) {
				found = append(found, &KeyReuseError{First: first, Again: again})
				break
			}
		}
	}
	return found
}
