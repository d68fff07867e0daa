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
)

// TestExtraSPOverPOSTBinding registers a second SP from its metadata, as
// --sp-metadata does. It requests no attributes and sends an unsigned
// AuthnRequest by HTTP-POST; it must get the Authentication set only, and
// the itsme Authentication service must run.
func TestExtraSPOverPOSTBinding(t *testing.T) {
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

	stack, err := New(context.Background(), Options{BaseURL: base, ExtraSPMetadata: [][]byte{otherMD}, Logger: testLogger(t)})
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
	if phone.status != http.StatusOK || !strings.Contains(phone.body, ServiceLogin) {
		t.Fatalf("want the emulator page for the Authentication service (%s), got %d:\n%s", ServiceLogin, phone.status, phone.body)
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
	if !slices.Equal(names, []string{"name", "firstName", "lastName"}) {
		t.Errorf("released %q, want the Authentication set", names)
	}
	if assertion.Subject.NameID.Value == "" || !regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`).MatchString(assertion.Subject.NameID.Value) {
		t.Errorf("NameID %q is not a pairwise identifier", assertion.Subject.NameID.Value)
	}
}
