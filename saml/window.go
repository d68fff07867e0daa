package saml

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/samlbridge/samlbridge/metadata"
)

// issueWindow bounds a message's IssueInstant (catalogue REQ-08, G4): at
// most skew in the future and at most age+skew in the past. Zero fields
// take DefaultMaxClockSkew and DefaultMaxRequestAge.
type issueWindow struct{ skew, age time.Duration }

func (w issueWindow) maxSkew() time.Duration {
	if w.skew > 0 {
		return w.skew
	}
	return DefaultMaxClockSkew
}

// maxAge is how long after its IssueInstant a message may be accepted:
// a replay marker for its ID must live at least this long.
func (w issueWindow) maxAge() time.Duration {
	age := w.age
	if age <= 0 {
		age = DefaultMaxRequestAge
	}
	return age + w.maxSkew()
}

// replayMargin is how long a replay marker outlives the last moment its
// message is accepted.
const replayMargin = time.Minute

// replayDeadline is until when a replay marker for a message issued at
// issueInstant must be kept: the last moment the window accepts it, plus
// replayMargin. It is counted from the IssueInstant, not from receipt: an
// IssueInstant up to the skew ahead of our clock keeps a message
// acceptable for longer than maxAge from now.
func (w issueWindow) replayDeadline(issueInstant time.Time) time.Time {
	return issueInstant.Add(w.maxAge() + replayMargin)
}

// check refuses an IssueInstant outside the window at now.
func (w issueWindow) check(issueInstant, now time.Time) error {
	switch {
	case issueInstant.After(now.Add(w.maxSkew())):
		return fmt.Errorf("IssueInstant %s is in the future", issueInstant.UTC().Format(time.RFC3339))
	case issueInstant.Before(now.Add(-w.maxAge())):
		return fmt.Errorf("IssueInstant %s is too old", issueInstant.UTC().Format(time.RFC3339))
	}
	return nil
}

// lookupSP finds the SP an inbound message's Issuer names. An unknown SP
// gives reason ErrUnknownSP, a failing registry ErrRegistryUnavailable;
// cause is the registry's error.
func lookupSP(ctx context.Context, reg metadata.Registry, issuer string) (sp *metadata.ServiceProvider, reason, cause error) {
	sp, err := reg.ServiceProvider(ctx, issuer)
	switch {
	case err == nil:
		return sp, nil, nil
	case errors.Is(err, metadata.ErrUnknownServiceProvider):
		return nil, ErrUnknownSP, err
	default:
		return nil, ErrRegistryUnavailable, err
	}
}
