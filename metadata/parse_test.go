package metadata

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml"
)

func TestParseCrewjamSPMetadata(t *testing.T) {
	t.Parallel()
	for _, signed := range []bool{false, true} {
		t.Run(fmt.Sprintf("signed=%v", signed), func(t *testing.T) {
			t.Parallel()
			kp := key(t, "a")
			md, _ := url.Parse(testEntityID)
			acs, _ := url.Parse(testACS)
			sp := &saml.ServiceProvider{EntityID: md.String(), Key: kp.Key, Certificate: kp.Cert, MetadataURL: *md, AcsURL: *acs}
			if signed {
				sp.SignatureMethod = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
			}
			data, err := xml.Marshal(sp.Metadata())
			if err != nil {
				t.Fatal(err)
			}
			sps, err := ParseServiceProviders(data, ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(sps) != 1 {
				t.Fatalf("got %d SPs, want 1", len(sps))
			}
			got := sps[0]
			if got.EntityID != testEntityID {
				t.Errorf("EntityID = %q", got.EntityID)
			}
			if len(got.ACS) != 1 || got.ACS[0].Binding != saml.HTTPPostBinding || got.ACS[0].Location != testACS || got.ACS[0].Index != 1 {
				t.Errorf("ACS = %+v, want only the POST endpoint", got.ACS)
			}
			if got.DefaultACS.Location != testACS {
				t.Errorf("DefaultACS = %+v", got.DefaultACS)
			}
			if got.AuthnRequestsSigned != signed || !got.WantAssertionsSigned {
				t.Errorf("AuthnRequestsSigned=%v WantAssertionsSigned=%v", got.AuthnRequestsSigned, got.WantAssertionsSigned)
			}
			wantSigning := 0
			if signed {
				wantSigning = 1
			}
			if len(got.SigningCerts) != wantSigning || len(got.EncryptionCerts) != 1 || !got.EncryptionCerts[0].Equal(kp.Cert) {
				t.Errorf("signing=%d encryption=%d certs", len(got.SigningCerts), len(got.EncryptionCerts))
			}
			if len(got.EncryptionMethods) != 4 || got.EncryptionMethods[0] != "http://www.w3.org/2001/04/xmlenc#aes128-cbc" {
				t.Errorf("EncryptionMethods = %v", got.EncryptionMethods)
			}
			if got.ValidUntil.IsZero() {
				t.Error("ValidUntil not recorded")
			}
		})
	}
}

func TestParseKeyUse(t *testing.T) {
	t.Parallel()
	a, b := key(t, "a").Cert, key(t, "b").Cert
	tests := []struct {
		name                 string
		keys                 []string
		wantSigning, wantEnc int
		wantMethods          int
	}{
		{"no use means both", []string{keyDesc("", a)}, 1, 1, 1},
		{"signing only", []string{keyDesc("signing", a)}, 1, 0, 0},
		{"encryption only", []string{keyDesc("encryption", a)}, 0, 1, 1},
		{"rollover: two signing keys", []string{keyDesc("signing", a), keyDesc("signing", b)}, 2, 0, 0},
		{"same key twice is kept once", []string{keyDesc("", a), keyDesc("signing", a)}, 1, 1, 1},
		{"two encryption keys", []string{keyDesc("encryption", a), keyDesc("encryption", b)}, 0, 2, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := defaultDoc(t)
			d.keys = tt.keys
			sps, err := ParseServiceProviders(d.bytes(), ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			sp := sps[0]
			if len(sp.SigningCerts) != tt.wantSigning || len(sp.EncryptionCerts) != tt.wantEnc || len(sp.EncryptionMethods) != tt.wantMethods {
				t.Errorf("signing=%d encryption=%d methods=%v, want %d/%d/%d", len(sp.SigningCerts), len(sp.EncryptionCerts), sp.EncryptionMethods, tt.wantSigning, tt.wantEnc, tt.wantMethods)
			}
		})
	}
}

func TestParseDefaultACS(t *testing.T) {
	t.Parallel()
	post := saml.HTTPPostBinding
	tests := []struct {
		name      string
		acs       []string
		wantIndex int
		wantACS   int
	}{
		{"first POST", []string{acsEl(saml.HTTPArtifactBinding, "https://sp.example.org/art", 0, "true"), acsEl(post, "https://sp.example.org/a", 1, ""), acsEl(post, "https://sp.example.org/b", 2, "")}, 1, 2},
		{"isDefault true wins", []string{acsEl(post, "https://sp.example.org/a", 1, ""), acsEl(post, "https://sp.example.org/b", 2, "true")}, 2, 2},
		{"isDefault false skipped", []string{acsEl(post, "https://sp.example.org/a", 1, "false"), acsEl(post, "https://sp.example.org/b", 2, "")}, 2, 2},
		{"all false: first", []string{acsEl(post, "https://sp.example.org/a", 1, "false"), acsEl(post, "https://sp.example.org/b", 2, "false")}, 1, 2},
		{"two isDefault: first of them", []string{acsEl(post, "https://sp.example.org/a", 1, "true"), acsEl(post, "https://sp.example.org/b", 2, "true")}, 1, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := defaultDoc(t)
			d.acs = tt.acs
			sps, err := ParseServiceProviders(d.bytes(), ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if sps[0].DefaultACS.Index != tt.wantIndex || len(sps[0].ACS) != tt.wantACS {
				t.Errorf("DefaultACS index %d (want %d), %d POST ACS (want %d)", sps[0].DefaultACS.Index, tt.wantIndex, len(sps[0].ACS), tt.wantACS)
			}
		})
	}
}

func TestParseInsecureACSForLoopback(t *testing.T) {
	t.Parallel()
	for _, loc := range []string{"http://127.0.0.1:8080/acs", "http://localhost/acs", "http://[::1]:9000/acs"} {
		d := defaultDoc(t)
		d.acs = []string{acsEl(saml.HTTPPostBinding, loc, 1, "")}
		if _, err := ParseServiceProviders(d.bytes(), ParseOptions{AllowInsecureACS: true}); err != nil {
			t.Errorf("%s with AllowInsecureACS: %v", loc, err)
		}
		if _, err := ParseServiceProviders(d.bytes(), ParseOptions{}); !errors.Is(err, ErrInvalidMetadata) {
			t.Errorf("%s without AllowInsecureACS: err = %v, want ErrInvalidMetadata", loc, err)
		}
	}
}

func TestParseAggregate(t *testing.T) {
	t.Parallel()
	a := key(t, "a").Cert
	entity := func(id string) string {
		d := defaultDoc(t)
		d.entityID = id
		s := string(d.bytes())
		return s[strings.Index(s, "<md:EntityDescriptor"):]
	}
	idpOnly := `<md:EntityDescriptor entityID="https://idp.example.org/"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
		`<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.org/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>`
	saml1Only := `<md:EntityDescriptor entityID="https://old.example.org/"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:1.1:protocol">` +
		keyDesc("", a) + acsEl("urn:oasis:names:tc:SAML:1.0:profiles:browser-post", "https://old.example.org/acs", 1, "") + `</md:SPSSODescriptor></md:EntityDescriptor>`
	doc := `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" validUntil="2099-01-01T00:00:00Z" Name="fed">` +
		`<md:Extensions><x:Anything xmlns:x="urn:x"/></md:Extensions>` +
		entity("https://one.example.org/sp") +
		`<md:EntitiesDescriptor validUntil="2098-01-01T00:00:00Z">` + entity("https://two.example.org/sp") + idpOnly + saml1Only + `</md:EntitiesDescriptor>` +
		`</md:EntitiesDescriptor>`
	sps, err := ParseServiceProviders([]byte(doc), ParseOptions{Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if len(sps) != 2 || sps[0].EntityID != "https://one.example.org/sp" || sps[1].EntityID != "https://two.example.org/sp" {
		t.Fatalf("got %d SPs: %+v", len(sps), sps)
	}
	if want := time.Date(2098, 1, 1, 0, 0, 0, 0, time.UTC); !sps[1].ValidUntil.Equal(want) {
		t.Errorf("nested ValidUntil = %v, want %v (the earliest)", sps[1].ValidUntil, want)
	}
	if want := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC); !sps[0].ValidUntil.Equal(want) {
		t.Errorf("ValidUntil = %v, want %v", sps[0].ValidUntil, want)
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	a := key(t, "a").Cert
	post := saml.HTTPPostBinding
	withACS := func(acs ...string) func(*spDoc) { return func(d *spDoc) { d.acs = acs } }
	tests := []struct {
		name   string
		edit   func(*spDoc)
		raw    string // used instead of the spDoc when set
		opts   ParseOptions
		substr string // the error must mention this
	}{
		{name: "javascript ACS", edit: withACS(acsEl(post, "javascript:alert(document.domain)", 1, "")), substr: "javascript"},
		{name: "JaVaScRiPt ACS", edit: withACS(acsEl(post, "JaVaScRiPt:alert(1)", 1, "")), substr: "javascript"},
		{name: "data ACS", edit: withACS(acsEl(post, "data:text/html,x", 1, "")), substr: "data"},
		{name: "scheme-relative ACS", edit: withACS(acsEl(post, "//evil.example/acs", 1, "")), substr: "scheme"},
		{name: "http ACS", edit: withACS(acsEl(post, "http://sp.example.org/acs", 1, "")), substr: "http is not allowed"},
		{name: "http ACS non-loopback even when insecure allowed", edit: withACS(acsEl(post, "http://sp.example.org/acs", 1, "")), opts: ParseOptions{AllowInsecureACS: true}, substr: "http is not allowed"},
		{name: "user info in ACS", edit: withACS(acsEl(post, "https://sp.example.org@evil.example/acs", 1, "")), substr: "user info"},
		{name: "fragment in ACS", edit: withACS(acsEl(post, "https://sp.example.org/acs#frag", 1, "")), substr: "fragment"},
		{name: "backslash in ACS", edit: withACS(acsEl(post, `https://sp.example.org\@evil.example/acs`, 1, "")), substr: "invalid"},
		{name: "backslash in ACS path", edit: withACS(acsEl(post, `https://sp.example.org/acs\\x`, 1, "")), substr: "backslash"},
		{name: "no POST ACS", edit: withACS(acsEl(saml.HTTPArtifactBinding, testACS, 1, "")), substr: "HTTP-POST"},
		{name: "no ACS at all", edit: withACS(), substr: "HTTP-POST"},
		{name: "duplicate ACS index", edit: withACS(acsEl(post, testACS, 1, ""), acsEl(post, testACS+"2", 1, "")), substr: "index 1 is used twice"},
		{name: "negative ACS index", edit: withACS(acsEl(post, testACS, -1, "")), substr: "unsignedShort"},
		{name: "too many ACS", edit: func(d *spDoc) {
			d.acs = nil
			for i := range 65 {
				d.acs = append(d.acs, acsEl(post, testACS, i, ""))
			}
		}, substr: "limit is 64"},
		{name: "empty KeyInfo", edit: func(d *spDoc) {
			d.keys = []string{`<md:KeyDescriptor use="signing"><ds:KeyInfo></ds:KeyInfo></md:KeyDescriptor>`}
		}, substr: "no X509Certificate"},
		{name: "empty encryption KeyInfo", edit: func(d *spDoc) {
			d.keys = []string{`<md:KeyDescriptor use="encryption"><ds:KeyInfo><ds:X509Data><ds:X509Certificate></ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`}
		}, substr: "empty certificate"},
		{name: "certificate not base64", edit: func(d *spDoc) {
			d.keys = []string{`<md:KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>!!!</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`}
		}, substr: "base64"},
		{name: "certificate garbage", edit: func(d *spDoc) {
			d.keys = []string{`<md:KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>AAAA</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`}
		}, substr: "does not parse"},
		{name: "1024-bit key", edit: func(d *spDoc) { d.keys = []string{keyDesc("signing", key(t, "weak").Cert)} }, substr: "1024 bits"},
		{name: "unknown key use", edit: func(d *spDoc) { d.keys = []string{keyDesc("both", a)} }, substr: "neither signing nor encryption"},
		{name: "signed requests without signing key", edit: func(d *spDoc) {
			d.keys = []string{keyDesc("encryption", a)}
			d.roleAttrs = ` AuthnRequestsSigned="true"`
		}, substr: "no signing KeyDescriptor"},
		{name: "expired validUntil", edit: func(d *spDoc) { d.rootAttrs = ` validUntil="2020-01-01T00:00:00Z"` }, substr: "validUntil"},
		{name: "expired role validUntil", edit: func(d *spDoc) { d.roleAttrs = ` validUntil="2020-01-01T00:00:00Z"` }, substr: "SPSSODescriptor validUntil"},
		{name: "expired aggregate", raw: `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" validUntil="2020-01-01T00:00:00Z"></md:EntitiesDescriptor>`, substr: "validUntil"},
		{name: "empty entityID", edit: func(d *spDoc) { d.entityID = "" }, substr: "entityID is empty"},
		{name: "relative entityID", edit: func(d *spDoc) { d.entityID = "sp" }, substr: "absolute URI"},
		{name: "entityID with space", edit: func(d *spDoc) { d.entityID = "https://sp.example.org/ x" }, substr: "whitespace"},
		{name: "entityID too long", edit: func(d *spDoc) { d.entityID = "https://sp.example.org/" + strings.Repeat("a", 1100) }, substr: "limit is 1024"},
		{name: "DOCTYPE", edit: func(d *spDoc) { d.prolog = `<!DOCTYPE md:EntityDescriptor SYSTEM "http://127.0.0.1:1/x.dtd">` }, substr: "DOCTYPE"},
		{name: "entity declaration", edit: func(d *spDoc) {
			d.prolog = `<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>`
		}, substr: "DOCTYPE"},
		{name: "duplicate attribute", edit: func(d *spDoc) { d.rootAttrs = ` entityID="https://evil.example/"` }, substr: "twice"},
		{name: "too large", opts: ParseOptions{MaxBytes: 100}, substr: "limit is 100"},
		{name: "not XML", raw: "hello", substr: "start with"},
		{name: "two roots", raw: `<a/><b/>`, substr: "more than one root"},
		{name: "wrong root", raw: `<md:EntityDescriptorX xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"/>`, substr: "root element"},
		{name: "no SP role", raw: `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.org/"/>`, substr: "no EntityDescriptor with a SAML 2.0 SPSSODescriptor"},
		{name: "deep nesting", raw: `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x">` + strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100) + `</md:EntityDescriptor>`, substr: "deeper"},
		{name: "duplicate entity in one document", raw: `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">` + entityOnly(t) + entityOnly(t) + `</md:EntitiesDescriptor>`, substr: "more than once"},
		{name: "two SAML 2.0 SP roles", edit: func(d *spDoc) {
			d.extraRoles = `<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` + acsEl(post, testACS, 1, "") + `</md:SPSSODescriptor>`
		}, substr: "want one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := []byte(tt.raw)
			if tt.raw == "" {
				d := defaultDoc(t)
				if tt.edit != nil {
					tt.edit(&d)
				}
				data = d.bytes()
			}
			if tt.opts.Now == nil {
				tt.opts.Now = fixedNow
			}
			sps, err := ParseServiceProviders(data, tt.opts)
			if !errors.Is(err, ErrInvalidMetadata) {
				t.Fatalf("err = %v, want ErrInvalidMetadata", err)
			}
			if sps != nil {
				t.Errorf("got SPs along with the error")
			}
			if !strings.Contains(err.Error(), tt.substr) {
				t.Errorf("error %q does not mention %q", err, tt.substr)
			}
		})
	}
}

func entityOnly(t *testing.T) string {
	s := string(defaultDoc(t).bytes())
	s = s[strings.Index(s, "<md:EntityDescriptor"):]
	return strings.Replace(s, `xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" `, "", 1)
}

func TestParseJoinsAllProblems(t *testing.T) {
	t.Parallel()
	d := defaultDoc(t)
	d.keys = []string{keyDesc("signing", key(t, "weak").Cert)}
	d.acs = []string{acsEl(saml.HTTPPostBinding, "http://sp.example.org/acs", 1, ""), acsEl(saml.HTTPPostBinding, "https://sp.example.org/acs#x", 2, "")}
	_, err := ParseServiceProviders(d.bytes(), ParseOptions{})
	if !errors.Is(err, ErrInvalidMetadata) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{testEntityID, "1024 bits", "http is not allowed", "fragment", "no valid HTTP-POST"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %q:\n%v", want, err)
		}
	}
}

func TestParseIgnoresCertificateExpiry(t *testing.T) {
	t.Parallel()
	// The test keys' certificates are valid for a day around now; ten
	// years later they have expired, which metadata practice tolerates.
	d := defaultDoc(t)
	sps, err := ParseServiceProviders(d.bytes(), ParseOptions{Now: func() time.Time { return time.Now().AddDate(10, 0, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(sps[0].SigningCerts) != 1 || !time.Now().AddDate(10, 0, 0).After(sps[0].SigningCerts[0].NotAfter) {
		t.Error("expected an expired certificate to be kept")
	}
}

// TestParseArtifactACS checks that HTTP-Artifact assertion consumer
// services are kept, in document order, apart from the POST ones, that
// crewjam's SP metadata (one URL with both bindings) is read that way, and
// that an artifact endpoint is held to the same Location rules as a POST
// one.
func TestParseArtifactACS(t *testing.T) {
	t.Parallel()
	post, art := saml.HTTPPostBinding, saml.HTTPArtifactBinding
	t.Run("document order, POST default unchanged", func(t *testing.T) {
		t.Parallel()
		d := defaultDoc(t)
		d.acs = []string{
			acsEl(art, "https://sp.example.org/art-b", 3, "true"),
			acsEl(post, "https://sp.example.org/acs", 1, ""),
			acsEl(art, "https://sp.example.org/art-a", 2, ""),
			acsEl("urn:oasis:names:tc:SAML:2.0:bindings:PAOS", "https://sp.example.org/ecp", 4, ""),
		}
		sps, err := ParseServiceProviders(d.bytes(), ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sp := sps[0]
		if len(sp.ArtifactACS) != 2 || sp.ArtifactACS[0].Index != 3 || sp.ArtifactACS[1].Index != 2 ||
			sp.ArtifactACS[0].Binding != art || sp.ArtifactACS[1].Location != "https://sp.example.org/art-a" {
			t.Errorf("ArtifactACS = %+v, want indices 3 and 2 in document order", sp.ArtifactACS)
		}
		if len(sp.ACS) != 1 || sp.DefaultACS.Binding != post || sp.DefaultACS.Index != 1 {
			t.Errorf("ACS = %+v, DefaultACS = %+v; the artifact isDefault must not change the POST default", sp.ACS, sp.DefaultACS)
		}
	})
	t.Run("crewjam metadata", func(t *testing.T) {
		t.Parallel()
		kp := key(t, "a")
		md, _ := url.Parse(testEntityID)
		acs, _ := url.Parse(testACS)
		csp := &saml.ServiceProvider{EntityID: md.String(), Key: kp.Key, Certificate: kp.Cert, MetadataURL: *md, AcsURL: *acs,
			SignatureMethod: "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"}
		data, err := xml.Marshal(csp.Metadata())
		if err != nil {
			t.Fatal(err)
		}
		sps, err := ParseServiceProviders(data, ParseOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := sps[0].ArtifactACS
		if len(got) != 1 || got[0].Location != testACS || got[0].Binding != art || got[0].Index != 2 {
			t.Errorf("ArtifactACS = %+v, want crewjam's artifact endpoint (index 2)", got)
		}
	})
	for _, tc := range []struct {
		name, loc, substr string
		opts              ParseOptions
	}{
		{"http artifact ACS", "http://sp.example.org/art", "http is not allowed", ParseOptions{}},
		{"http artifact ACS, non-loopback, insecure allowed", "http://sp.example.org/art", "http is not allowed", ParseOptions{AllowInsecureACS: true}},
		{"javascript artifact ACS", "javascript:alert(1)", "javascript", ParseOptions{}},
		{"fragment in artifact ACS", "https://sp.example.org/art#x", "fragment", ParseOptions{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := defaultDoc(t)
			d.acs = append(d.acs, acsEl(art, tc.loc, 2, ""))
			_, err := ParseServiceProviders(d.bytes(), tc.opts)
			if !errors.Is(err, ErrInvalidMetadata) || !strings.Contains(strings.ToLower(err.Error()), tc.substr) {
				t.Errorf("err = %v, want ErrInvalidMetadata mentioning %q", err, tc.substr)
			}
		})
	}
	t.Run("loopback http artifact ACS in development", func(t *testing.T) {
		t.Parallel()
		d := defaultDoc(t)
		d.acs = append(d.acs, acsEl(art, "http://127.0.0.1:8080/art", 2, ""))
		sps, err := ParseServiceProviders(d.bytes(), ParseOptions{AllowInsecureACS: true})
		if err != nil || len(sps[0].ArtifactACS) != 1 {
			t.Fatalf("got %v, %v; want the loopback artifact endpoint kept", sps, err)
		}
	})
}
