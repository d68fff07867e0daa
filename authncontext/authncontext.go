// Package authncontext is the bridge's policy table between SAML
// authentication contexts and itsme's acr levels. A SAML
// RequestedAuthnContext (saml-core §3.3.2.2.1: exact, minimum, better,
// maximum) resolves to one Class: the acr the bridge asks itsme for, the
// acr itsme must prove it used, and the AuthnContextClassRef the assertion
// carries. A request the table cannot meet is ErrNoAuthnContext, which the
// SP receives as the NoAuthnContext status.
package authncontext

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/samlbridge/samlbridge/itsme"
)

// SAML authentication context classes the default table knows (saml-authn-context).
const (
	PasswordProtectedTransport = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
	MobileTwoFactorContract    = "urn:oasis:names:tc:SAML:2.0:ac:classes:MobileTwoFactorContract"
	SmartcardPKI               = "urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI"
	Unspecified                = "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified"
)

// Comparison methods of a RequestedAuthnContext; empty means Exact.
const (
	Exact   = "exact"
	Minimum = "minimum"
	Better  = "better"
	Maximum = "maximum"
)

// ErrNoAuthnContext is returned when no class of the table meets the
// request. The SP gets Responder/NoAuthnContext.
var ErrNoAuthnContext = errors.New("authncontext: the requested authentication context cannot be met")

// ErrBadRequest is returned for a RequestedAuthnContext that is not
// well-formed: an unknown Comparison, or no class reference. The SP gets
// Requester/RequestUnsupported.
var ErrBadRequest = errors.New("authncontext: malformed RequestedAuthnContext")

// Class is one row of the policy table.
type Class struct {
	// Ref is the AuthnContextClassRef, as requested and as asserted.
	Ref string
	// Rank orders the rows by strength; equal ranks are equally strong.
	Rank int
	// ACR is the itsme acr value the bridge requests for this class; the
	// ID token's acr must be at least as strong, which the itsme client
	// checks (itsme.ACRBasic or
	// itsme.ACRAdvanced).
	ACR string
}

// Table is an ordered policy table plus the class asserted when the SP
// requests nothing.
type Table struct {
	Classes []Class
	// Default is the Ref asserted when the request has no
	// RequestedAuthnContext; it must be one of Classes.
	Default string
}

// DefaultTable is the bridge's documented default (docs/saml.md):
//
//	rank  class                                         itsme acr
//	10    PasswordProtectedTransport                    acr_basic
//	20    MobileTwoFactorContract                       acr_basic
//	30    SmartcardPKI (default)                        acr_basic
//	30    http://itsme.services/v2/claim/acr_basic      acr_basic
//	40    http://itsme.services/v2/claim/acr_advanced   acr_advanced
//
// Every itsme login uses a key held in the phone's secure element and a
// second factor (biometrics or the itsme code), so the bridge may assert
// the weaker classes when an SP asks for them exactly. acr_advanced (the
// itsme code is forced) is the strongest row; SPs that know itsme may ask
// for its acr URIs directly.
func DefaultTable() Table {
	return Table{
		Classes: []Class{
			{Ref: PasswordProtectedTransport, Rank: 10, ACR: itsme.ACRBasic},
			{Ref: MobileTwoFactorContract, Rank: 20, ACR: itsme.ACRBasic},
			{Ref: SmartcardPKI, Rank: 30, ACR: itsme.ACRBasic},
			{Ref: itsme.ACRBasic, Rank: 30, ACR: itsme.ACRBasic},
			{Ref: itsme.ACRAdvanced, Rank: 40, ACR: itsme.ACRAdvanced},
		},
		Default: SmartcardPKI,
	}
}

// Validate checks the table: known acr values, unique refs, a default
// that is in the table.
func (t Table) Validate() error {
	var errs []error
	seen := map[string]bool{}
	for i, c := range t.Classes {
		switch {
		case strings.TrimSpace(c.Ref) == "":
			errs = append(errs, fmt.Errorf("class %d: empty reference", i))
		case seen[c.Ref]:
			errs = append(errs, fmt.Errorf("class %q: listed twice", c.Ref))
		}
		seen[c.Ref] = true
		if c.ACR != itsme.ACRBasic && c.ACR != itsme.ACRAdvanced {
			errs = append(errs, fmt.Errorf("class %q: acr %q is not an itsme acr", c.Ref, c.ACR))
		}
	}
	if _, ok := t.lookup(t.Default); !ok {
		errs = append(errs, fmt.Errorf("default class %q is not in the table", t.Default))
	}
	return errors.Join(errs...)
}

func (t Table) lookup(ref string) (Class, bool) {
	i := slices.IndexFunc(t.Classes, func(c Class) bool { return c.Ref == ref })
	if i < 0 {
		return Class{}, false
	}
	return t.Classes[i], true
}

// Requested is a RequestedAuthnContext as the SP sent it. Only class
// references are supported; declaration references are refused as not met.
type Requested struct {
	Comparison string
	ClassRefs  []string
	DeclRefs   []string
}

// Resolve chooses the class to run and assert for a request; nil means
// the SP requested nothing and gets the default.
//
//   - exact: the first requested class the table knows (the SP's order is
//     its preference);
//   - minimum: the default if it is at least as strong as the weakest
//     known requested class, else the weakest row that is;
//   - better: as minimum, but strictly stronger than every known requested
//     class;
//   - maximum: the default if it is no stronger than the strongest known
//     requested class, else the strongest row that is not.
//
// Unknown class references are ignored; when none is known the request
// cannot be met.
func (t Table) Resolve(r *Requested) (Class, error) {
	def, ok := t.lookup(t.Default)
	if !ok {
		return Class{}, fmt.Errorf("authncontext: default class %q is not in the table", t.Default)
	}
	if r == nil {
		return def, nil
	}
	cmp := r.Comparison
	if cmp == "" {
		cmp = Exact
	}
	if cmp != Exact && cmp != Minimum && cmp != Better && cmp != Maximum {
		return Class{}, fmt.Errorf("%w: Comparison %.40q", ErrBadRequest, cmp)
	}
	if len(r.ClassRefs) == 0 && len(r.DeclRefs) == 0 {
		return Class{}, fmt.Errorf("%w: no AuthnContextClassRef", ErrBadRequest)
	}
	var known []Class
	for _, ref := range r.ClassRefs {
		if c, ok := t.lookup(strings.TrimSpace(ref)); ok {
			known = append(known, c)
		}
	}
	if len(known) == 0 {
		return Class{}, fmt.Errorf("%w: none of %d requested classes is offered", ErrNoAuthnContext, len(r.ClassRefs))
	}
	if cmp == Exact {
		return known[0], nil
	}
	lo, hi := known[0].Rank, known[0].Rank
	for _, c := range known[1:] {
		lo, hi = min(lo, c.Rank), max(hi, c.Rank)
	}
	var fits func(Class) bool
	switch cmp {
	case Minimum:
		fits = func(c Class) bool { return c.Rank >= lo }
	case Better:
		fits = func(c Class) bool { return c.Rank > hi }
	default: // Maximum
		fits = func(c Class) bool { return c.Rank <= hi }
	}
	if fits(def) {
		return def, nil
	}
	var best *Class
	for i := range t.Classes {
		c := &t.Classes[i]
		if !fits(*c) {
			continue
		}
		// minimum/better: the weakest that fits (least friction);
		// maximum: the strongest that fits.
		if best == nil || (cmp == Maximum && c.Rank > best.Rank) || (cmp != Maximum && c.Rank < best.Rank) {
			best = c
		}
	}
	if best == nil {
		return Class{}, fmt.Errorf("%w: nothing is %s the requested classes", ErrNoAuthnContext, map[string]string{
			Minimum: "at least as strong as", Better: "stronger than", Maximum: "no stronger than"}[cmp])
	}
	return *best, nil
}
