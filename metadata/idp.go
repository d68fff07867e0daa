package metadata

import (
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
)

// IDPConfig describes the bridge as a SAML IdP, for its published metadata.
type IDPConfig struct {
	// EntityID is the bridge's entity ID.
	EntityID string
	// SSOURL is the SingleSignOnService location, published for both the
	// HTTP-Redirect and the HTTP-POST binding.
	SSOURL string
	// SigningCerts are the certificates SPs must trust, current first.
	// During a key rollover publish the old and the new one (RESP-09,
	// G10).
	SigningCerts []*x509.Certificate
	// WantAuthnRequestsSigned is published as the IDPSSODescriptor
	// attribute.
	WantAuthnRequestsSigned bool
	// NameIDFormats lists the NameID formats the bridge supports.
	NameIDFormats []string
	// ValidUntil and CacheDuration are published on the EntityDescriptor
	// when non-zero (SAML metadata §2.3.1 asks for at least one).
	ValidUntil    time.Time
	CacheDuration time.Duration
	// OrganizationName and OrganizationURL, when set (both or neither),
	// become an Organization element; ContactEmail a technical
	// ContactPerson.
	OrganizationName, OrganizationURL, ContactEmail string
}

// nsDSig is the XML Signature namespace (KeyInfo).
const nsDSig = "http://www.w3.org/2000/09/xmldsig#"

// IDPMetadata renders the bridge's IdP metadata. The output is
// deterministic for a given configuration (golden-testable): an
// EntityDescriptor with validUntil/cacheDuration, one IDPSSODescriptor for
// the SAML 2.0 protocol with one KeyDescriptor use="signing" per
// certificate, the NameID formats and SingleSignOnService endpoints for
// HTTP-Redirect and HTTP-POST, then the optional Organization and
// ContactPerson. Configuration errors wrap ErrInvalidMetadata.
func IDPMetadata(cfg IDPConfig) ([]byte, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("%w: IdP configuration: %w", ErrInvalidMetadata, err)
	}
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	ed := doc.CreateElement("md:EntityDescriptor")
	ed.CreateAttr("xmlns:md", nsMetadata)
	ed.CreateAttr("xmlns:ds", nsDSig)
	ed.CreateAttr("entityID", cfg.EntityID)
	if !cfg.ValidUntil.IsZero() {
		ed.CreateAttr("validUntil", cfg.ValidUntil.UTC().Truncate(time.Second).Format("2006-01-02T15:04:05Z"))
	}
	if cfg.CacheDuration > 0 {
		ed.CreateAttr("cacheDuration", xsDuration(cfg.CacheDuration))
	}

	idp := ed.CreateElement("md:IDPSSODescriptor")
	idp.CreateAttr("protocolSupportEnumeration", nsProtocol)
	idp.CreateAttr("WantAuthnRequestsSigned", fmt.Sprint(cfg.WantAuthnRequestsSigned))
	for _, c := range cfg.SigningCerts {
		kd := idp.CreateElement("md:KeyDescriptor")
		kd.CreateAttr("use", "signing")
		kd.CreateElement("ds:KeyInfo").CreateElement("ds:X509Data").
			CreateElement("ds:X509Certificate").SetText(base64.StdEncoding.EncodeToString(c.Raw))
	}
	for _, f := range cfg.NameIDFormats {
		idp.CreateElement("md:NameIDFormat").SetText(f)
	}
	for _, b := range []string{saml.HTTPRedirectBinding, saml.HTTPPostBinding} {
		sso := idp.CreateElement("md:SingleSignOnService")
		sso.CreateAttr("Binding", b)
		sso.CreateAttr("Location", cfg.SSOURL)
	}

	if cfg.OrganizationName != "" {
		org := ed.CreateElement("md:Organization")
		for _, n := range []struct{ tag, text string }{
			{"md:OrganizationName", cfg.OrganizationName},
			{"md:OrganizationDisplayName", cfg.OrganizationName},
			{"md:OrganizationURL", cfg.OrganizationURL},
		} {
			el := org.CreateElement(n.tag)
			el.CreateAttr("xml:lang", "en")
			el.SetText(n.text)
		}
	}
	if cfg.ContactEmail != "" {
		cp := ed.CreateElement("md:ContactPerson")
		cp.CreateAttr("contactType", "technical")
		email := cfg.ContactEmail
		if !strings.HasPrefix(email, "mailto:") {
			email = "mailto:" + email
		}
		cp.CreateElement("md:EmailAddress").SetText(email)
	}

	doc.Indent(2)
	out, err := doc.WriteToBytes()
	if err != nil {
		return nil, fmt.Errorf("metadata: writing IdP metadata: %w", err)
	}
	return out, nil
}

func (cfg *IDPConfig) validate() error {
	var errs []error
	if cfg.EntityID == "" || len(cfg.EntityID) > maxEntityIDLen {
		errs = append(errs, errors.New("EntityID must be 1 to 1024 characters"))
	}
	if u, err := url.Parse(cfg.SSOURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, errors.New("SSOURL must be an absolute http(s) URL"))
	}
	if len(cfg.SigningCerts) == 0 {
		errs = append(errs, errors.New("at least one signing certificate is needed"))
	}
	for i, c := range cfg.SigningCerts {
		if c == nil || len(c.Raw) == 0 {
			errs = append(errs, fmt.Errorf("signing certificate #%d is empty", i+1))
		}
	}
	if (cfg.OrganizationName == "") != (cfg.OrganizationURL == "") {
		errs = append(errs, errors.New("OrganizationName and OrganizationURL go together (SAML metadata §2.3.2.1)"))
	}
	if cfg.CacheDuration < 0 {
		errs = append(errs, errors.New("CacheDuration is negative"))
	}
	return errors.Join(errs...)
}

// xsDuration formats a positive duration as an xs:duration (PTnHnMnS).
func xsDuration(d time.Duration) string {
	var b strings.Builder
	b.WriteString("PT")
	if h := d / time.Hour; h > 0 {
		fmt.Fprintf(&b, "%dH", h)
	}
	if m := d % time.Hour / time.Minute; m > 0 {
		fmt.Fprintf(&b, "%dM", m)
	}
	if s := d % time.Minute; s > 0 || d < time.Minute {
		secs := fmt.Sprintf("%.9f", s.Seconds())
		secs = strings.TrimRight(strings.TrimRight(secs, "0"), ".")
		fmt.Fprintf(&b, "%sS", secs)
	}
	return b.String()
}
