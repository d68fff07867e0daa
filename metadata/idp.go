package metadata

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"slices"
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
	// SingleLogoutURL, when set, is the SingleLogoutService location,
	// published for both the HTTP-Redirect and the HTTP-POST binding.
	SingleLogoutURL string
	// ArtifactResolutionURL, when set, is the ArtifactResolutionService
	// location (SOAP binding, index 0).
	ArtifactResolutionURL string
	// SigningCerts are the certificates SPs must trust, current first.
	// During a key rollover publish the old and the new one (RESP-09,
	// G10): the next key before the switch, the previous one during the
	// overlap after it. Each must hold an RSA key of 2048 to 8192 bits.
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
	// Sign, when set, signs the EntityDescriptor with an enveloped XML
	// signature and returns the signed element; pass the current key's
	// saml.Signer.SignEnveloped. The EntityDescriptor then carries an ID
	// (derived from the unsigned document, so the output stays
	// deterministic) that the signature's Reference points to.
	Sign func(*etree.Element) (*etree.Element, error)
}

// nsDSig is the XML Signature namespace (KeyInfo, Signature).
const nsDSig = "http://www.w3.org/2000/09/xmldsig#"

// IDPMetadata renders the bridge's IdP metadata. The output is
// deterministic for a given configuration (golden-testable): an
// EntityDescriptor with validUntil/cacheDuration, one IDPSSODescriptor for
// the SAML 2.0 protocol with, in schema order, one KeyDescriptor
// use="signing" per certificate, the optional ArtifactResolutionService
// (SOAP) and SingleLogoutService endpoints (HTTP-Redirect and HTTP-POST),
// the NameID formats and the SingleSignOnService endpoints for
// HTTP-Redirect and HTTP-POST, then the optional Organization and
// ContactPerson. With cfg.Sign the EntityDescriptor gets an ID and an
// enveloped ds:Signature as its first child element (the EntityDescriptor
// schema in SAML metadata §2.3.2; signature processing in §3).
// Configuration errors wrap ErrInvalidMetadata.
func IDPMetadata(cfg IDPConfig) ([]byte, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("%w: IdP configuration: %w", ErrInvalidMetadata, err)
	}
	doc := buildIDPMetadata(&cfg, "")
	if cfg.Sign == nil {
		return writeDoc(doc)
	}
	unsigned, err := writeDoc(doc)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(unsigned)
	doc = buildIDPMetadata(&cfg, "_"+hex.EncodeToString(sum[:20]))
	signed, err := cfg.Sign(doc.Root())
	if err != nil {
		return nil, fmt.Errorf("metadata: signing IdP metadata: %w", err)
	}
	if signed == nil {
		return nil, errors.New("metadata: signing IdP metadata: the signer returned no element")
	}
	ed, err := signatureFirst(signed)
	if err != nil {
		return nil, err
	}
	doc.SetRoot(ed)
	return writeDoc(doc)
}

// buildIDPMetadata builds the (indented, unsigned) document; id, when not
// empty, becomes the EntityDescriptor's ID attribute.
func buildIDPMetadata(cfg *IDPConfig, id string) *etree.Document {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	ed := doc.CreateElement("md:EntityDescriptor")
	ed.CreateAttr("xmlns:md", nsMetadata)
	ed.CreateAttr("xmlns:ds", nsDSig)
	if id != "" {
		ed.CreateAttr("ID", id)
	}
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
	if cfg.ArtifactResolutionURL != "" {
		ars := idp.CreateElement("md:ArtifactResolutionService")
		ars.CreateAttr("Binding", saml.SOAPBinding)
		ars.CreateAttr("Location", cfg.ArtifactResolutionURL)
		ars.CreateAttr("index", "0")
	}
	if cfg.SingleLogoutURL != "" {
		for _, b := range []string{saml.HTTPRedirectBinding, saml.HTTPPostBinding} {
			slo := idp.CreateElement("md:SingleLogoutService")
			slo.CreateAttr("Binding", b)
			slo.CreateAttr("Location", cfg.SingleLogoutURL)
		}
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
	// Indent before signing: the whitespace is part of what is signed, so
	// the signed document must be written as it is, never re-indented.
	doc.Indent(2)
	return doc
}

// signatureFirst checks that the signed EntityDescriptor has exactly one
// ds:Signature and returns a copy with the Signature as its first child
// element, where the metadata schema wants it. Moving it keeps the
// signature valid: the enveloped-signature transform removes it wherever
// it is, and every other token stays where it was. The child list is
// rebuilt by hand because a signer may append the Signature without
// setting its parent and index (goxmldsig does), and etree's RemoveChild
// trusts them.
func signatureFirst(signed *etree.Element) (*etree.Element, error) {
	ed := signed.Copy()
	var sig *etree.Element
	rest := make([]etree.Token, 0, len(ed.Child))
	for _, tok := range ed.Child {
		if c, ok := tok.(*etree.Element); ok && c.Tag == "Signature" && c.NamespaceURI() == nsDSig {
			if sig != nil {
				return nil, errors.New("metadata: signing IdP metadata: more than one Signature")
			}
			sig = c
			continue
		}
		rest = append(rest, tok)
	}
	if sig == nil {
		return nil, errors.New("metadata: signing IdP metadata: the signer added no Signature")
	}
	if len(rest) == 0 {
		return nil, errors.New("metadata: signing IdP metadata: the signed EntityDescriptor is empty")
	}
	ed.Child = rest
	// InsertChildAt renumbers every child from 0.
	ed.InsertChildAt(0, sig.Copy())
	return ed, nil
}

func writeDoc(doc *etree.Document) ([]byte, error) {
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
			continue
		}
		if err := checkSigningKey(c); err != nil {
			errs = append(errs, fmt.Errorf("signing certificate #%d: %w", i+1, err))
		}
		if slices.ContainsFunc(cfg.SigningCerts[:i], c.Equal) {
			errs = append(errs, fmt.Errorf("signing certificate #%d is listed twice", i+1))
		}
	}
	for _, e := range []struct{ name, url string }{{"SingleLogoutURL", cfg.SingleLogoutURL}, {"ArtifactResolutionURL", cfg.ArtifactResolutionURL}} {
		if e.url == "" {
			continue
		}
		if u, err := url.Parse(e.url); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("%s must be an absolute http(s) URL", e.name))
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

// checkSigningKey checks that c holds an RSA key of 2048 to 8192 bits.
func checkSigningKey(c *x509.Certificate) error {
	pub, ok := c.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("the key is %T; only RSA keys are supported", c.PublicKey)
	}
	if bits := pub.N.BitLen(); bits < minRSABits || bits > maxRSABits {
		return fmt.Errorf("the RSA key is %d bits, want %d to %d", bits, minRSABits, maxRSABits)
	}
	return nil
}

// ParseSigningCert reads a certificate to publish in the IdP metadata
// without signing with it: the next key before a rollover, or the previous
// one during the overlap after it. pemData must hold exactly one PEM
// CERTIFICATE (other blocks, such as a private key, are ignored) with an
// RSA key of 2048 to 8192 bits, valid at now.
func ParseSigningCert(pemData []byte, now time.Time) (*x509.Certificate, error) {
	var found []*pem.Block
	for rest := pemData; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			found = append(found, b)
		}
	}
	switch len(found) {
	case 0:
		return nil, errors.New("no PEM CERTIFICATE found")
	case 1:
	default:
		return nil, fmt.Errorf("%d certificates found; give one per entry", len(found))
	}
	c, err := x509.ParseCertificate(found[0].Bytes)
	if err != nil {
		return nil, fmt.Errorf("the certificate does not parse: %w", err)
	}
	if err := checkSigningKey(c); err != nil {
		return nil, err
	}
	if now.After(c.NotAfter) {
		return nil, fmt.Errorf("the certificate expired on %s", c.NotAfter.UTC().Format(time.DateOnly))
	}
	return c, nil
}
