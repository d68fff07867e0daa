package emulator

import (
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
)

// TestReleaseClaims checks the selection of claims and itsme's metadata
// semantics (D-UD): objects keyed by the other released claims, nothing
// when requested alone, unavailable claims omitted.
func TestReleaseClaims(t *testing.T) {
	t.Parallel()
	keys(t)
	e, err := New(validConfig())
	if err != nil {
		t.Fatal(err)
	}
	eid, doc := p+"BEeidSn", p+"IDDocumentSN"
	tests := []struct {
		name    string
		persona string
		names   []string
		want    map[string]any
	}{
		{"metadata alone gives nothing", "maxence", []string{p + "validityTo", p + "verificationDate"}, map[string]any{}},
		{"validityTo keyed by the document number", "maxence", []string{p + "validityTo", doc, "email"},
			map[string]any{doc: "123-4567890-02", "email": "test@itsme.be", p + "validityTo": map[string]any{doc: "2029-03-01T00:00:00Z"}}},
		{"verificationDate keys document claims only", "maxence", []string{p + "verificationDate", "birthdate", "email", "phone_number"},
			map[string]any{"birthdate": "1981-04-24", "email": "test@itsme.be", "phone_number": "+32 453519681", p + "verificationDate": map[string]any{"birthdate": "2024-04-01T10:00:00Z"}}},
		{"metadata does not key metadata", "maxence", []string{p + "validityFrom", p + "issuance_locality", eid},
			map[string]any{eid: "123-4567890-02", p + "validityFrom": map[string]any{eid: "2019-03-01T00:00:00Z"}, p + "issuance_locality": map[string]any{eid: "Bruxelles"}}},
		{"Dutch document: no BE claims, no address, no gender", "daan", []string{"address", "gender", p + "BENationalNumber", eid, doc, p + "validityFrom", p + "validityTo"},
			map[string]any{doc: "SPECI2014", p + "validityTo": map[string]any{doc: "2031-09-30T00:00:00Z"}}},
		{"no email", "lucas", []string{"email", "email_verified", "family_name"}, map[string]any{"family_name": "Peeters"}},
		{"protocol and approval claims are never released", "maxence", []string{"sub", "iss", "nonce", approvalPrefix + "text_key"}, map[string]any{}},
		{"picture placeholder becomes the endpoint", "maxence", []string{"picture"}, map[string]any{"picture": "https://idp.example/v2/picture"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var persona *Persona
			for i := range e.personas {
				if e.personas[i].ID == tt.persona {
					persona = &e.personas[i]
				}
			}
			got := e.releaseClaims(persona, tt.names)
			if !reflect.DeepEqual(got, tt.want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(tt.want)
				t.Errorf("got  %s\nwant %s", g, w)
			}
		})
	}
}

// TestReleaseClaimsCopies: tampering with released claims leaves the
// persona intact.
func TestReleaseClaimsCopies(t *testing.T) {
	t.Parallel()
	keys(t)
	e, err := New(validConfig())
	if err != nil {
		t.Fatal(err)
	}
	got := e.releaseClaims(&e.personas[0], []string{"address"})
	got["address"].(map[string]any)["locality"] = "Elsewhere"
	if e.personas[0].Claims["address"].(map[string]any)["locality"] != "Bruxelles" {
		t.Error("the persona was modified through released claims")
	}
}

// TestDefaultPersonas checks the fixture data: Belgian national numbers
// and card numbers carry valid mod-97 check digits matching the birth
// date and gender, the Dutch document number has the NL shape.
func TestDefaultPersonas(t *testing.T) {
	t.Parallel()
	ps := DefaultPersonas()
	if len(ps) != 3 || ps[0].ID != "maxence" {
		t.Fatalf("personas %v", ps)
	}
	for _, pe := range ps {
		t.Run(pe.ID, func(t *testing.T) {
			nn, isBE := pe.Claims[p+"BENationalNumber"].(string)
			if !isBE {
				if _, ok := pe.Claims["address"]; ok {
					t.Error("a non-Belgian document gives no address")
				}
				if sn, _ := pe.Claims[p+"IDDocumentSN"].(string); len(sn) != 9 {
					t.Errorf("Dutch document number %q is not 9 characters", sn)
				}
				return
			}
			if len(nn) != 11 {
				t.Fatalf("national number %q", nn)
			}
			body, _ := strconv.Atoi(nn[:9])
			check, _ := strconv.Atoi(nn[9:])
			if 97-body%97 != check {
				t.Errorf("national number %s: check digits %d, want %d", nn, check, 97-body%97)
			}
			bd := pe.Claims["birthdate"].(string)
			if nn[:6] != bd[2:4]+bd[5:7]+bd[8:10] {
				t.Errorf("national number %s does not start with birthdate %s", nn, bd)
			}
			seq, _ := strconv.Atoi(nn[6:9])
			if wantOdd := pe.Claims["gender"] == "male"; (seq%2 == 1) != wantOdd {
				t.Errorf("sequence %d does not match gender %v", seq, pe.Claims["gender"])
			}
			card := pe.Claims[p+"BEeidSn"].(string)
			digits := card[:3] + card[4:11]
			n, _ := strconv.Atoi(digits)
			want := n % 97
			if want == 0 {
				want = 97
			}
			if c, _ := strconv.Atoi(card[12:]); c != want {
				t.Errorf("card number %s: check %d, want %d", card, c, want)
			}
		})
	}
}
