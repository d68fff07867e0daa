package metadata

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/crewjam/saml"
)

// DefaultMaxBytes is the default size limit for a metadata document.
const DefaultMaxBytes = 1 << 20

// nsMetadata is the SAML 2.0 metadata namespace.
const nsMetadata = "urn:oasis:names:tc:SAML:2.0:metadata"

// ParseOptions tunes ParseServiceProviders. The zero value is the strict
// production setting.
type ParseOptions struct {
	// AllowInsecureACS allows http:// ACS endpoints on loopback hosts
	// (127.0.0.0/8, ::1, localhost), for local development. Other http://
	// endpoints are always rejected.
	AllowInsecureACS bool
	// Now returns the current time, for validUntil; nil means time.Now.
	Now func() time.Time
	// MaxBytes caps the document size; 0 means DefaultMaxBytes.
	MaxBytes int64
}

// ParseServiceProviders parses SP metadata: an EntityDescriptor, or an
// EntitiesDescriptor (nested ones allowed). Every EntityDescriptor with an
// SPSSODescriptor supporting the SAML 2.0 protocol becomes one
// ServiceProvider; other entities (IdPs in an aggregate) are skipped.
//
// The whole document is rejected if anything in it is invalid; the error
// wraps ErrInvalidMetadata and joins every problem found, each naming the
// entity and the element at fault. A document without any SAML 2.0 SP is an
// error too.
func ParseServiceProviders(data []byte, opts ParseOptions) ([]*ServiceProvider, error) {
	maxBytes := opts.MaxBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	if int64(len(data)) > maxBytes {
		return nil, fmt.Errorf("%w: document is %d bytes, the limit is %d", ErrInvalidMetadata, len(data), maxBytes)
	}
	if err := precheck(data); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidMetadata, err)
	}
	p := &parser{d: xml.NewDecoder(bytes.NewReader(data)), opts: opts, now: now()}
	if err := p.run(); err != nil {
		p.errs = append(p.errs, err)
	}
	seen := make(map[string]bool, len(p.sps))
	for _, sp := range p.sps {
		if seen[sp.EntityID] {
			p.errs = append(p.errs, fmt.Errorf("entity %.200q: defined more than once (MD-03)", sp.EntityID))
		}
		seen[sp.EntityID] = true
	}
	if len(p.errs) == 0 && len(p.sps) == 0 {
		p.errs = append(p.errs, errors.New("no EntityDescriptor with a SAML 2.0 SPSSODescriptor"))
	}
	if len(p.errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalidMetadata, errors.Join(p.errs...))
	}
	return p.sps, nil
}

// parser walks the document with one encoding/xml decoder, so that every
// EntityDescriptor is decoded in its real namespace context and problems
// can be attributed to its entityID.
type parser struct {
	d    *xml.Decoder
	opts ParseOptions
	now  time.Time
	sps  []*ServiceProvider
	errs []error
}

func (p *parser) run() error {
	for {
		tok, err := p.d.Token()
		if errors.Is(err, io.EOF) {
			return errors.New("no root element")
		}
		if err != nil {
			return fmt.Errorf("reading XML: %w", err)
		}
		start, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch {
		case start.Name.Space == nsMetadata && start.Name.Local == "EntitiesDescriptor":
			return p.entities(start, time.Time{})
		case start.Name.Space == nsMetadata && start.Name.Local == "EntityDescriptor":
			return p.entity(start, time.Time{})
		default:
			return fmt.Errorf("root element is {%.100s}%.60s, want an md:EntityDescriptor or md:EntitiesDescriptor", start.Name.Space, start.Name.Local)
		}
	}
}

// entities handles an EntitiesDescriptor whose start tag was just read.
// inherited is the earliest validUntil of its ancestors (zero: none).
func (p *parser) entities(start xml.StartElement, inherited time.Time) error {
	validUntil, err := p.validUntilAttr(start, "EntitiesDescriptor")
	if err != nil {
		return err
	}
	validUntil = earliest(inherited, validUntil)
	for {
		tok, err := p.d.Token()
		if err != nil {
			return fmt.Errorf("reading XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			switch {
			case t.Name.Space == nsMetadata && t.Name.Local == "EntitiesDescriptor":
				err = p.entities(t, validUntil)
			case t.Name.Space == nsMetadata && t.Name.Local == "EntityDescriptor":
				err = p.entity(t, validUntil)
			default: // ds:Signature, md:Extensions, ...
				err = p.d.Skip()
			}
			if err != nil {
				return err
			}
		}
	}
}

// entity decodes one EntityDescriptor and validates its SP role, if any.
// A decoding error stops the walk (the decoder is then somewhere inside the
// element); validation problems are collected and the walk goes on.
func (p *parser) entity(start xml.StartElement, inherited time.Time) error {
	entityID := attr(start, "entityID")
	var ed saml.EntityDescriptor
	if err := p.d.DecodeElement(&ed, &start); err != nil {
		// crewjam's endpoint decoder refuses some bad Locations itself
		// (non-http schemes); report them against the entity.
		return fmt.Errorf("entity %.200q: %w", entityID, err)
	}
	sp, errs := validateEntity(&ed, inherited, p.opts, p.now)
	p.errs = append(p.errs, errs...)
	if sp != nil && len(errs) == 0 {
		sp.ArtifactACS = artifactEndpoints(&ed)
		p.sps = append(p.sps, sp)
	}
	return nil
}

// artifactEndpoints returns the HTTP-Artifact assertion consumer services
// of ed's SAML 2.0 SP role, in document order. validateEntity has already
// checked every ACS Location and index, whatever its binding, and refused
// the entity if one was bad.
func artifactEndpoints(ed *saml.EntityDescriptor) []saml.IndexedEndpoint {
	var out []saml.IndexedEndpoint
	for _, role := range ed.SPSSODescriptors {
		if !slices.Contains(strings.Fields(role.ProtocolSupportEnumeration), nsProtocol) {
			continue
		}
		for _, e := range role.AssertionConsumerServices {
			if e.Binding == saml.HTTPArtifactBinding && e.Location != "" {
				out = append(out, e)
			}
		}
	}
	return out
}

func (p *parser) validUntilAttr(start xml.StartElement, element string) (time.Time, error) {
	v := attr(start, "validUntil")
	if v == "" {
		return time.Time{}, nil
	}
	var t saml.RelaxedTime
	if err := t.UnmarshalText([]byte(v)); err != nil {
		return time.Time{}, fmt.Errorf("%s: validUntil %.40q is not a dateTime", element, v)
	}
	if !time.Time(t).After(p.now) {
		return time.Time{}, fmt.Errorf("%s: validUntil %s has passed (MD-02)", element, time.Time(t).UTC().Format(time.RFC3339))
	}
	return time.Time(t), nil
}

func attr(start xml.StartElement, local string) string {
	for _, a := range start.Attr {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// earliest returns the earlier of two times, treating zero as "none".
func earliest(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero():
		return a
	case b.Before(a):
		return b
	}
	return a
}
