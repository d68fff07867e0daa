package attributes

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
)

// PairwiseID returns the persistent, pairwise NameID of an itsme subject
// at one SP: base64url (unpadded) of HMAC-SHA256(secret, len(subject) as
// a big-endian uint64 ‖ subject ‖ spEntityID). The length prefix keeps
// (sub, entityID) pairs from colliding. Different SPs cannot correlate
// their NameIDs without the secret, and the value reveals neither the
// subject nor the national number. The secret must be at least 32 random
// bytes and stable: changing it changes every NameID.
func PairwiseID(secret []byte, subject, spEntityID string) string {
	mac := hmac.New(sha256.New, secret)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(subject)))
	mac.Write(n[:])
	mac.Write([]byte(subject))
	mac.Write([]byte(spEntityID))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}
