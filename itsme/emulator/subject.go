package emulator

import (
	"crypto/hmac"
	"crypto/sha512"
)

// subjectAlphabet is the character set of itsme subs (itsme-oidc.md §7).
const subjectAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// Subject returns the pairwise sub of a persona for a client: 36
// lowercase letters and digits, stable per (persona, client) and
// unlinkable across clients without the emulator's secret. itsme's unit is
// the partner (client_id), itsme-oidc.md §7.
func (e *Emulator) Subject(personaID, clientID string) string {
	return PairwiseSubject(e.secret, personaID, clientID)
}

// PairwiseSubject is the sub an emulator keyed with secret (its
// Config.SubjectSecret) gives persona personaID at client clientID, for
// tools that need it without running an emulator ("samlbridge mint").
func PairwiseSubject(secret []byte, personaID, clientID string) string {
	m := hmac.New(sha512.New, secret)
	m.Write([]byte("itsme-emulator pairwise sub\x00"))
	m.Write([]byte(clientID))
	m.Write([]byte{0})
	m.Write([]byte(personaID))
	sum := m.Sum(nil)
	out := make([]byte, 36)
	for i := range out {
		out[i] = subjectAlphabet[int(sum[i])%len(subjectAlphabet)]
	}
	return string(out)
}
