package authncontext

import (
	"errors"
	"strings"
	"testing"

	"github.com/samlbridge/samlbridge/itsme"
)

func TestResolve(t *testing.T) {
	const (
		ppt      = PasswordProtectedTransport
		mobile2f = MobileTwoFactorContract
		card     = SmartcardPKI
		basic    = itsme.ACRBasic
		advanced = itsme.ACRAdvanced
		unknown  = "urn:example:ac:classes:Retina"
	)
	tests := []struct {
		name    string
		req     *Requested
		want    string // asserted class
		wantACR string
		wantErr error
	}{
		{"nothing requested: default", nil, card, basic, nil},
		{"exact PPT (node-saml's default)", &Requested{Comparison: Exact, ClassRefs: []string{ppt}}, ppt, basic, nil},
		{"no Comparison means exact", &Requested{ClassRefs: []string{mobile2f}}, mobile2f, basic, nil},
		{"exact picks the SP's first known class", &Requested{Comparison: Exact, ClassRefs: []string{unknown, advanced, ppt}}, advanced, advanced, nil},
		{"exact with only unknown classes", &Requested{Comparison: Exact, ClassRefs: []string{unknown}}, "", "", ErrNoAuthnContext},
		{"exact with a declaration only", &Requested{Comparison: Exact, DeclRefs: []string{"urn:decl"}}, "", "", ErrNoAuthnContext},
		{"minimum PPT: the default is stronger", &Requested{Comparison: Minimum, ClassRefs: []string{ppt}}, card, basic, nil},
		{"minimum SmartcardPKI: the default", &Requested{Comparison: Minimum, ClassRefs: []string{card}}, card, basic, nil},
		{"minimum advanced: advanced", &Requested{Comparison: Minimum, ClassRefs: []string{advanced}}, advanced, advanced, nil},
		{"minimum of several: the weakest bounds", &Requested{Comparison: Minimum, ClassRefs: []string{advanced, ppt}}, card, basic, nil},
		{"better PPT: the default", &Requested{Comparison: Better, ClassRefs: []string{ppt}}, card, basic, nil},
		{"better SmartcardPKI: advanced", &Requested{Comparison: Better, ClassRefs: []string{card}}, advanced, advanced, nil},
		{"better acr_basic: advanced", &Requested{Comparison: Better, ClassRefs: []string{basic}}, advanced, advanced, nil},
		{"better than the strongest", &Requested{Comparison: Better, ClassRefs: []string{advanced}}, "", "", ErrNoAuthnContext},
		{"better of several: stronger than all", &Requested{Comparison: Better, ClassRefs: []string{ppt, card}}, advanced, advanced, nil},
		{"maximum advanced: the default", &Requested{Comparison: Maximum, ClassRefs: []string{advanced}}, card, basic, nil},
		{"maximum PPT: PPT", &Requested{Comparison: Maximum, ClassRefs: []string{ppt}}, ppt, basic, nil},
		{"maximum MobileTwoFactor: the strongest not above it", &Requested{Comparison: Maximum, ClassRefs: []string{mobile2f, ppt}}, mobile2f, basic, nil},
		{"maximum of unknown only", &Requested{Comparison: Maximum, ClassRefs: []string{unknown}}, "", "", ErrNoAuthnContext},
		{"bad comparison", &Requested{Comparison: "EXACT", ClassRefs: []string{card}}, "", "", ErrBadRequest},
		{"no class at all", &Requested{Comparison: Minimum}, "", "", ErrBadRequest},
		{"whitespace around the reference", &Requested{ClassRefs: []string{"  " + card + "\n"}}, card, basic, nil},
	}
	table := DefaultTable()
	if err := table.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := table.Resolve(tt.req)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("got %+v, %v; want %v", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got.Ref != tt.want || got.ACR != tt.wantACR {
				t.Fatalf("got %+v, %v; want %s with %s", got, err, tt.want, tt.wantACR)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	bad := Table{Classes: []Class{
		{Ref: SmartcardPKI, Rank: 1, ACR: itsme.ACRBasic},
		{Ref: SmartcardPKI, Rank: 2, ACR: itsme.ACRBasic},
		{Ref: "", Rank: 3, ACR: itsme.ACRBasic},
		{Ref: PasswordProtectedTransport, Rank: 0, ACR: "urn:other"},
	}, Default: Unspecified}
	err := bad.Validate()
	for _, want := range []string{"listed twice", "empty reference", "not an itsme acr", "default class"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to mention %q", err, want)
		}
	}
}
