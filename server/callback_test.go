package server

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/audit"
	"github.com/samlbridge/samlbridge/internal/htmlform"
	"github.com/samlbridge/samlbridge/internal/samltest"
	"github.com/samlbridge/samlbridge/itsme"
	"github.com/samlbridge/samlbridge/metadata/remote"
)

// countingItsme is fakeItsme counting the codes it redeems.
type countingItsme struct {
	fakeItsme
	exchanges int
}

func (c *countingItsme) Exchange(ctx context.Context, code string, req itsme.AuthRequest) (*itsme.Identity, error) {
	c.exchanges++
	return c.fakeItsme.Exchange(ctx, code, req)
}

// spMetadataServer serves the hygiene SP's metadata document over HTTP,
// as an SP's metadata_url, so that a test can change it between fetches.
type spMetadataServer struct {
	srv *httptest.Server
	mu  sync.Mutex
	doc string
}

func newSPMetadataServer(t *testing.T, doc string) *spMetadataServer {
	t.Helper()
	m := &spMetadataServer{doc: doc}
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		m.mu.Lock()
		defer m.mu.Unlock()
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		_, _ = w.Write([]byte(m.doc))
	}))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *spMetadataServer) set(doc string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.doc = doc
}

// spMetadata is an SP's metadata with one HTTP-POST ACS per location, the
// first at index 0 (the default).
func spMetadata(entityID string, acs ...string) string {
	var eps strings.Builder
	for i, loc := range acs {
		fmt.Fprintf(&eps, `<md:AssertionConsumerService Binding="%s" Location="%s" index="%d"/>`, crewjam.HTTPPostBinding, loc, i)
	}
	return `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="` + entityID + `">` +
		`<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` + eps.String() +
		`</md:SPSSODescriptor></md:EntityDescriptor>`
}

// TestCallbackRechecksTheACS: the SP's metadata is reloaded while the user
// is at itsme, and the login finishes after it. The ACS the login chose
// must still be in the SP's metadata; if it is not (or the SP is gone),
// the callback answers with the local sp_gone page, audited, without
// redeeming the code and without posting anything, not even an error to
// the SP's default ACS.
func TestCallbackRechecksTheACS(t *testing.T) {
	const (
		ext        = "https://idp.example"
		defaultACS = "https://sp.example/acs"
		chosenACS  = "https://sp.example/acs-old"
	)
	tests := []struct {
		name     string
		reloaded string // the SP's metadata when the login finishes
		wantGone bool
	}{
		// Reordered, so another index, but the same endpoint.
		{name: "ACS still listed", reloaded: spMetadata(hygieneSP, chosenACS, defaultACS)},
		{name: "ACS removed", reloaded: spMetadata(hygieneSP, defaultACS), wantGone: true},
		{name: "SP removed", reloaded: spMetadata("https://other-sp.example/", defaultACS), wantGone: true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			md := newSPMetadataServer(t, spMetadata(hygieneSP, defaultACS, chosenACS))
			src, err := remote.NewSource(remote.SourceConfig{URL: md.srv.URL + "/sp.xml", Trust: remote.Trust{AllowUnsigned: true},
				Client: md.srv.Client(), Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			if err := src.Refresh(context.Background()); err != nil {
				t.Fatal(err)
			}
			reg, err := remote.NewRegistry(remote.RegistryConfig{Sources: []*remote.Source{src}, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Fatal(err)
			}
			up := &countingItsme{}
			b := newHygieneBridge(t, ext, func(c *Config) {
				c.Registry, c.Parser.Registry, c.Upstream = reg, reg, up
			})

			// The SP asks for its second ACS by URL; the bridge sends the
			// browser to itsme.
			id := fmt.Sprint("_acs_recheck", i)
			xml := fmt.Sprintf(`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="%s" Version="2.0" IssueInstant="%s" Destination="%s" AssertionConsumerServiceURL="%s" ProtocolBinding="%s"><saml:Issuer>%s</saml:Issuer></samlp:AuthnRequest>`,
				id, b.now.Format(time.RFC3339), ext+PathSSO, chosenACS, crewjam.HTTPPostBinding, hygieneSP)
			q, err := samltest.RedirectQuery([]byte(xml), "rs-acs", nil, "")
			if err != nil {
				t.Fatal(err)
			}
			rec := b.do(http.MethodGet, PathSSO+"?"+q, "192.0.2.7:1")
			loc, _ := url.Parse(rec.Header().Get("Location"))
			if rec.Code != http.StatusFound || loc == nil || loc.Host != "itsme.example" {
				t.Fatalf("SSO answered %d (Location %q), want a redirect to itsme:\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
			}
			state := loc.Query().Get("state")

			// While the user is at itsme, the SP's metadata is reloaded.
			md.set(tc.reloaded)
			if err := src.Refresh(context.Background()); err != nil {
				t.Fatal(err)
			}

			cb := httptest.NewRequest(http.MethodGet, PathCallback+"?code=code-1&state="+url.QueryEscape(state), nil)
			cb.RemoteAddr = "192.0.2.7:1"
			for _, c := range rec.Result().Cookies() {
				cb.AddCookie(c)
			}
			res := httptest.NewRecorder()
			b.srv.ServeHTTP(res, cb)
			body := res.Body.String()

			if !tc.wantGone {
				action, vals, ok := htmlform.AsFound(body)
				if res.Code != http.StatusOK || !ok || action != chosenACS || vals.Get("RelayState") != "rs-acs" {
					t.Fatalf("callback answered %d, form to %q; want the response posted to %s:\n%s", res.Code, action, chosenACS, body)
				}
				if raw, err := base64.StdEncoding.DecodeString(vals.Get("SAMLResponse")); err != nil || !strings.Contains(string(raw), `:status:Success"`) {
					t.Fatalf("the posted response is not a Success (%v):\n%s", err, raw)
				}
				return
			}
			if res.Code != http.StatusBadRequest || !strings.Contains(body, `data-code="`+codeSPGone+`"`) {
				t.Fatalf("callback answered %d, want the local %s page:\n%s", res.Code, codeSPGone, body)
			}
			if strings.Contains(body, "<form") || strings.Contains(body, "SAMLResponse") ||
				strings.Contains(body, chosenACS) || strings.Contains(body, defaultACS) {
				t.Fatalf("the sp_gone page posts or points to an ACS:\n%s", body)
			}
			if up.exchanges != 0 {
				t.Errorf("the code was redeemed %d times for a login that cannot be answered", up.exchanges)
			}
			var evs []audit.Event
			for _, e := range b.audit.events {
				if e.Stage == audit.StageCallback {
					e.Time = time.Time{}
					evs = append(evs, e)
				}
			}
			want := audit.Event{Stage: audit.StageCallback, Outcome: audit.Rejected, Reason: reasonSPGone, SP: hygieneSP, RequestID: id}
			if len(evs) != 1 || !reflect.DeepEqual(evs[0], want) {
				t.Errorf("callback audit events %+v, want one %+v", evs, want)
			}
		})
	}
}
