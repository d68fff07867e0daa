package demo

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/certs"
	"github.com/samlbridge/samlbridge/metadata"
)

// TestExtraSPOverPOSTBinding registers a second SP from its metadata, as
// --sp-metadata does. It requests no attributes and sends an unsigned
// AuthnRequest by HTTP-POST; it must get the Authentication set only, and
// the itsme Authentication service must run.
func TestExtraSPOverPOSTBinding(t *testing.T) {
	tests := []struct {
		name      string
		configure func(*metadata.ServiceProvider)
		want      []string
		service   string
	}{
		{"nothing requested, no default of its own", nil, []string{"name", "firstName", "lastName"}, ServiceLogin},
		{"nothing requested, the SP's own default within its allow-list", func(sp *metadata.ServiceProvider) {
			if strings.HasSuffix(sp.EntityID, "/other/metadata") {
				sp.AllowedAttributes = []string{"firstName", "dateOfBirth", "email"}
				sp.DefaultRelease = []string{"dateOfBirth", "nin", "firstName"}
			}
		}, []string{"firstName", "dateOfBirth"}, ServiceIdentify},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { testExtraSPOverPOSTBinding(t, tt.configure, tt.want, tt.service) })
	}
}

func testExtraSPOverPOSTBinding(t *testing.T, configure func(*metadata.ServiceProvider), want []string, service string) {
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	base := "http://" + srv.Listener.Addr().String()

	kp, err := certs.Generate(nil, 2048, "extra SP (TEST KEY)", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	md, _ := url.Parse(base + "/other/metadata")
	acs, _ := url.Parse(base + "/other/acs")
	other := &crewjam.ServiceProvider{EntityID: md.String(), Key: kp.Key, Certificate: kp.Cert, MetadataURL: *md, AcsURL: *acs}
	otherMD, err := xml.Marshal(other.Metadata())
	if err != nil {
		t.Fatal(err)
	}

	stack, err := New(context.Background(), Options{BaseURL: base, ExtraSPMetadata: [][]byte{otherMD}, ConfigureSP: configure, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = stack.Handler
	srv.Start()
	defer srv.Close()
	other.IDPMetadata = stack.SP.SAML.IDPMetadata

	req, err := other.MakeAuthenticationRequest(base+"/saml/sso", crewjam.HTTPPostBinding, crewjam.HTTPPostBinding)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := xml.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	phone := b.post(base+"/saml/sso", url.Values{
		"SAMLRequest": {base64.StdEncoding.EncodeToString(doc)},
		"RelayState":  {""},
	})
	if phone.status != http.StatusOK || !strings.Contains(phone.body, service) {
		t.Fatalf("want the emulator page for service %s, got %d:\n%s", service, phone.status, phone.body)
	}
	action, vals := phone.form(t)
	final := b.post(action, vals)
	_, form := samlResponseFrom(t, final, acs.String())
	if rs, ok := form["RelayState"]; !ok || rs[0] != "" {
		t.Errorf("an empty RelayState must come back empty, got %q (present %v)", rs, ok)
	}
	raw, err := base64.StdEncoding.DecodeString(form.Get("SAMLResponse"))
	if err != nil {
		t.Fatal(err)
	}
	assertion, err := other.ParseXMLResponse(raw, []string{req.ID}, *acs)
	if err != nil {
		var ire *crewjam.InvalidResponseError
		if ok := asInvalid(err, &ire); ok {
			err = ire.PrivateErr
		}
		t.Fatalf("the extra SP rejected the response: %v", err)
	}
	var names []string
	for _, st := range assertion.AttributeStatements {
		for _, a := range st.Attributes {
			names = append(names, a.Name)
		}
	}
	if !slices.Equal(names, want) {
		t.Errorf("released %q, want %q", names, want)
	}
	if assertion.Subject.NameID.Value == "" || !regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`).MatchString(assertion.Subject.NameID.Value) {
		t.Errorf("NameID %q is not a pairwise identifier", assertion.Subject.NameID.Value)
	}
}
