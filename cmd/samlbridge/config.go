package main

//go:generate go run ./internal/gendocs -root ../..

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/samlbridge/samlbridge/attributes"
	"github.com/samlbridge/samlbridge/authncontext"
	"github.com/samlbridge/samlbridge/certs"
	"github.com/samlbridge/samlbridge/itsme"
	"github.com/samlbridge/samlbridge/metadata"
	"github.com/samlbridge/samlbridge/metadata/remote"
	"github.com/samlbridge/samlbridge/saml"
	sessionredis "github.com/samlbridge/samlbridge/session/redis"
)

// Config is the YAML configuration of "samlbridge serve": one file, every
// key below, secrets by file or environment variable only. Relative paths
// are resolved against the directory of the configuration file.
type Config struct {
	// ExternalURL is the bridge's public base URL; the IdP entityID is
	// external_url + /saml/metadata, and itsme must know
	// external_url + /oidc/callback (redirect URI) and
	// external_url + /jwks (JWKS URI). Required: an absolute https URL
	// (http only on a loopback host).
	ExternalURL string `yaml:"external_url"`
	// Listen is the host:port of the public HTTP listener. Default
	// 127.0.0.1:8080; a change takes effect only at restart.
	Listen string `yaml:"listen"`
	// TLS makes the bridge terminate TLS itself. Optional: by default it
	// serves plain HTTP behind a TLS-terminating proxy; a change takes
	// effect only at restart.
	TLS *TLSConfig `yaml:"tls"`
	// SAML configures the IdP side: the signing key and the published
	// metadata. Required.
	SAML SAMLConfig `yaml:"saml"`
	// Itsme configures the OpenID Connect client of itsme. Required.
	Itsme ItsmeConfig `yaml:"itsme"`
	// PairwiseSecret keys the pairwise persistent NameIDs, one per user
	// and SP. Required: a hex string of at least 32 bytes (64 hex
	// characters); changing it changes every persistent NameID.
	PairwiseSecret Secret `yaml:"pairwise_secret"`
	// Session chooses where logins in flight and the replay cache live.
	// Default: memory (one node); a change takes effect only at restart.
	Session SessionConfig `yaml:"session"`
	// ServiceProviders lists the SPs and what each may receive. Required:
	// at least one entry.
	ServiceProviders []SPConfig `yaml:"service_providers"`
	// Log configures the process log (standard error). Default: level
	// info, format json; a change takes effect only at restart.
	Log LogConfig `yaml:"log"`
	// Audit says where the audit events go. Default: standard output; a
	// change takes effect only at restart.
	Audit AuditConfig `yaml:"audit"`
	// HTTP configures the HTTP front: rate limits and trusted proxies.
	// Optional; the defaults suit a bridge reached directly.
	HTTP HTTPConfig `yaml:"http"`
	// SSOSession configures the bridge's own SSO session. Default: off
	// (itsme keeps none, so every login asks the user to confirm).
	SSOSession SSOSessionConfig `yaml:"sso_session"`
	// Artifact offers the HTTP-Artifact binding for responses, with the
	// SOAP ArtifactResolve endpoint at /saml/artifact. Default: off.
	Artifact ArtifactConfig `yaml:"artifact"`
	// AuthnContexts replaces the built-in policy table between SAML
	// authentication context classes and itsme's acr (docs/saml.md).
	// Optional: the built-in table applies when it is absent.
	AuthnContexts *AuthnContextsConfig `yaml:"authn_contexts"`
	// Metrics configures the admin listener with Prometheus metrics.
	// Default: off; a change takes effect only at restart.
	Metrics MetricsConfig `yaml:"metrics"`

	dir   string    // directory of the config file; relative paths are resolved against it
	lines lineIndex // where each key is in the file, for problem reports
}

// TLSConfig names the certificate and key the bridge serves HTTPS with.
type TLSConfig struct {
	// CertFile is the PEM certificate chain. Required when tls is set.
	CertFile string `yaml:"cert_file"`
	// KeyFile is the PEM private key of cert_file. Required when tls is
	// set.
	KeyFile string `yaml:"key_file"`
}

// SAMLConfig configures the SAML IdP.
type SAMLConfig struct {
	// SigningKeyFile is the current SAML signing key: it signs responses
	// and the IdP metadata. Required: an RSA key of at least 2048 bits,
	// PKCS#1 or PKCS#8 PEM, used for nothing else (not an itsme key).
	SigningKeyFile string `yaml:"signing_key_file"`
	// SigningCertFile is the certificate of signing_key_file, published
	// in the IdP metadata. Required unless signing_key_file also holds
	// it; it must be valid now (check warns 30 days before it expires).
	SigningCertFile string `yaml:"signing_cert_file"`
	// AdditionalSigningCertFiles are certificates published in the IdP
	// metadata next to the current one but never used to sign: the next
	// key before a rollover, the previous one during the overlap after it.
	// Optional (default none); each file holds one PEM certificate with an
	// RSA key of 2048 to 8192 bits, not expired, listed once, not the
	// current certificate, and not for a key of the itsme section.
	AdditionalSigningCertFiles []string `yaml:"additional_signing_cert_files"`
	// WantAuthnRequestsSigned makes every SP sign its AuthnRequests, and
	// says so in the IdP metadata. Default false.
	WantAuthnRequestsSigned bool `yaml:"want_authn_requests_signed"`
	// MetadataValidFor sets the validUntil of the published IdP metadata
	// (now + metadata_valid_for). Default 168h (7 days); at most 8760h (a
	// year).
	MetadataValidFor time.Duration `yaml:"metadata_valid_for"`
	// OrganizationName is published as the Organization of the IdP
	// metadata. Optional (default none), but required together with
	// organization_url: the metadata schema needs both.
	OrganizationName string `yaml:"organization_name"`
	// OrganizationURL is the Organization's URL in the IdP metadata.
	// Optional (default none), but required together with
	// organization_name.
	OrganizationURL string `yaml:"organization_url"`
}

// ItsmeConfig configures the itsme client.
type ItsmeConfig struct {
	// Issuer is itsme's issuer URL: https://idp.e2e.itsme.services/v2
	// (sandbox) or https://idp.prd.itsme.services/v2 (production).
	// Required: https (http only on loopback, for samlbridge emulator).
	Issuer string `yaml:"issuer"`
	// ClientID is the partner code from itsme onboarding. Required.
	ClientID string `yaml:"client_id"`
	// Services maps the itsme services, authentication and
	// identification, to the service codes from onboarding. Required: the
	// authentication code when some SP's default login needs only
	// name, firstName and lastName, and the identification code when some
	// SP may receive any other attribute; no other service names.
	Services map[string]string `yaml:"services"`
	// SigningKeyFile signs the request objects and the client assertions
	// sent to itsme; published in /jwks with use=sig. Required: an RSA key
	// of at least 2048 bits, PEM, different from every other key of the
	// configuration.
	SigningKeyFile string `yaml:"signing_key_file"`
	// EncryptionKeyFile decrypts what itsme encrypts for the bridge;
	// published in /jwks with use=enc. Required: an RSA key of at least
	// 2048 bits, PEM, different from every other key of the configuration.
	EncryptionKeyFile string `yaml:"encryption_key_file"`
	// OldEncryptionKeyFiles are rotated-out encryption keys, still tried
	// for decryption and published in /jwks; keep each at least 24 h after
	// it was replaced. Optional (default none); each listed once, and
	// neither encryption_key_file nor any other key of the configuration.
	OldEncryptionKeyFiles []string `yaml:"old_encryption_key_files"`
	// NextSigningKeyFile is published in /jwks next to the signing key but
	// signs nothing, so that itsme knows it before it becomes
	// signing_key_file (publish it 24 h before). Optional (default none);
	// it must differ from every other key of the configuration.
	NextSigningKeyFile string `yaml:"next_signing_key_file"`
	// EncryptRequestObject encrypts the request object to itsme's
	// encryption key. Default true. itsme requires it of clients that
	// authenticate with private_key_jwt, as the bridge does, so false is
	// for another provider only, and check warns about it.
	EncryptRequestObject *bool `yaml:"encrypt_request_object"`
	// Timeout bounds each call to itsme; a login makes at most three
	// calls after the user confirms. Default 10s; at most 1m.
	Timeout time.Duration `yaml:"timeout"`
	// Breaker is the circuit breaker in front of itsme. Optional: the
	// defaults are threshold 5 and cooldown 30s.
	Breaker BreakerConfig `yaml:"breaker"`
}

// BreakerConfig configures the circuit breaker in front of itsme: after
// threshold consecutive failed calls (transport errors, timeouts, 5xx,
// 429) logins fail at once with a clear page for cooldown, then one
// probe call decides whether itsme is back.
type BreakerConfig struct {
	// Threshold is how many consecutive failed calls open the breaker.
	// Default 5; at most 1000.
	Threshold int `yaml:"threshold"`
	// Cooldown is how long an open breaker fails logins at once before it
	// probes itsme again. Default 30s; at most 1h.
	Cooldown time.Duration `yaml:"cooldown"`
}

// MetricsConfig configures the admin listener.
type MetricsConfig struct {
	// Listen, when set, serves /metrics (Prometheus), /healthz and
	// /readyz on this host:port, apart from the public listener; keep it
	// on loopback or a management network. Default empty: off.
	Listen string `yaml:"listen"`
	// Pprof also serves Go's runtime profiles (net/http/pprof) under
	// /debug/pprof/ on the metrics listener, for performance work:
	// samlbench reads the live heap there. Off by default. Profiles hold
	// code paths and memory figures, not secrets, but a CPU or trace
	// profile costs CPU while it runs. Needs metrics.listen.
	Pprof bool `yaml:"pprof"`
}

// SPConfig registers one or more SPs from a metadata file, a metadata URL
// (an SP or a federation aggregate), or a Metadata Query service, with the
// policy that applies to each of them. Give exactly one of metadata_file,
// metadata_url and mdq_url.
type SPConfig struct {
	// MetadataFile is the SP's SAML metadata (one EntityDescriptor or an
	// EntitiesDescriptor), trusted as configuration. One of metadata_file,
	// metadata_url or mdq_url is required.
	MetadataFile string `yaml:"metadata_file"`
	// MetadataURL is fetched at start and refreshed; the document's root
	// signature must verify with metadata_signing_cert_files (MD-01).
	// check fetches it once and reports it when it cannot be fetched or
	// verified. https (http only on loopback). Optional.
	MetadataURL string `yaml:"metadata_url"`
	// MDQURL is the base URL of a Metadata Query service: SPs not
	// otherwise registered are looked up there by entity ID. Optional; at
	// most one entry may have it.
	MDQURL string `yaml:"mdq_url"`
	// MetadataSigningCertFiles pin the keys that metadata from
	// metadata_url or mdq_url must be signed with (several, for the
	// signer's rollover). Required with metadata_url and mdq_url unless
	// metadata_allow_unsigned is true.
	MetadataSigningCertFiles []string `yaml:"metadata_signing_cert_files"`
	// MetadataAllowUnsigned accepts unsigned metadata over https (or
	// loopback http) when no signing certificate is pinned. Default false.
	MetadataAllowUnsigned bool `yaml:"metadata_allow_unsigned"`
	// MetadataRefresh is how often metadata_url is fetched; a shorter
	// cacheDuration in the document wins. Default 1h; at least 1m.
	MetadataRefresh time.Duration `yaml:"metadata_refresh"`
	// MetadataCacheFile keeps the last good copy of metadata_url, used
	// when it cannot be fetched at start (until its validUntil). Optional
	// (default none).
	MetadataCacheFile string `yaml:"metadata_cache_file"`
	// MetadataRequireValidUntil refuses metadata documents without
	// validUntil. Default false.
	MetadataRequireValidUntil bool `yaml:"metadata_require_valid_until"`
	// Attributes are what the SP may receive: its allow-list of attribute
	// names (docs/attributes.md), which always wins over what it asks for.
	// Default none: the SP gets a NameID and no attributes. An SP that may
	// receive a national-number attribute (nin, nin.type,
	// nin.issuingCountry, itsmeNationalNumber) needs an encryption key in
	// its metadata.
	Attributes []string `yaml:"attributes"`
	// Release is what the SP gets when it requests no attributes (in its
	// AuthnRequest or its metadata). Default: name, firstName, lastName
	// (each only if in attributes); every entry must be in attributes.
	Release []string `yaml:"release"`
	// SignResponse is the older spelling of signing: both. Default false;
	// it contradicts any other signing value.
	SignResponse bool `yaml:"sign_response"`
	// Signing is what is signed in a successful Response: assertion,
	// response or both. Default assertion; response is refused for an SP
	// whose metadata says WantAssertionsSigned.
	Signing string `yaml:"signing"`
	// SignatureAlgorithm is rsa-sha256, rsa-sha384, rsa-sha512, or
	// rsa-sha1 together with legacy_sha1. Default rsa-sha256.
	SignatureAlgorithm string `yaml:"signature_algorithm"`
	// LegacySHA1 marks an SP that can verify nothing but RSA-SHA1, and
	// allows signature_algorithm: rsa-sha1. Default false.
	LegacySHA1 bool `yaml:"legacy_sha1"`
	// AllowUnsolicited permits IdP-initiated logins for this SP at
	// /saml/unsolicited?providerId=<entityID>&target=<RelayState>
	// (legacy portals). Default false.
	AllowUnsolicited bool `yaml:"allow_unsolicited"`
	// AllowInsecureACS permits http:// ACS URLs on loopback hosts only,
	// for local test SPs. Default false.
	AllowInsecureACS bool `yaml:"allow_insecure_acs"`
	// AttributeProfile is the vocabulary of the SP's attribute names:
	// default (the contract's names), oid (urn:oid: names, Shibboleth and
	// InCommon) or microsoft (ADFS and Entra ID claim-type URIs); see
	// docs/attributes.md. Default default.
	AttributeProfile string `yaml:"attribute_profile"`
}

// SessionConfig chooses the session store. Several nodes must share a
// Redis store; the in-memory store suits a single node.
type SessionConfig struct {
	// Store is memory or redis. Default memory (one node; logins in
	// flight are lost at restart).
	Store string `yaml:"store"`
	// URL is the Redis URL: redis://, rediss:// (TLS),
	// redis+sentinel://h1:26379,h2:26379/master or
	// redis+cluster://h1:7000,h2:7001. Required with store: redis, and
	// only then; it must not hold a password (use password).
	URL string `yaml:"url"`
	// Password is the Redis password, by file or env. Optional (default
	// none).
	Password Secret `yaml:"password"`
	// Secret keys and encrypts what is stored: Redis keys are HMACs and
	// values are AES-GCM sealed. Required with store: redis: a hex string
	// of at least 32 bytes, the same on every node.
	Secret Secret `yaml:"secret"`
	// KeyPrefix starts every Redis key, so that several deployments can
	// share one Redis; the same on every node. Default "samlbridge:"; at
	// most 64 characters, without spaces or braces.
	KeyPrefix string `yaml:"key_prefix"`
}

// AuthnContextsConfig is the policy table between SAML authentication
// context classes and itsme's acr, in YAML.
type AuthnContextsConfig struct {
	// Classes are the AuthnContextClassRefs the bridge will assert, each
	// with its strength rank and the itsme acr that proves it. Required
	// when authn_contexts is set; each ref listed once.
	Classes []AuthnContextClass `yaml:"classes"`
	// Default is the class asserted when the SP requests none. Required
	// when authn_contexts is set: one of the classes' ref.
	Default string `yaml:"default"`
}

// AuthnContextClass is one row of the policy table.
type AuthnContextClass struct {
	// Ref is the AuthnContextClassRef URI. Required; not empty.
	Ref string `yaml:"ref"`
	// Rank orders the classes by strength for comparisons (minimum,
	// better, maximum); equal ranks are equally strong. Default 0.
	Rank int `yaml:"rank"`
	// ACR is the itsme acr that proves the class: acr_basic or
	// acr_advanced (short or full URI). Required.
	ACR string `yaml:"acr"`
}

// ArtifactConfig configures the HTTP-Artifact binding.
type ArtifactConfig struct {
	// Enabled publishes the ArtifactResolutionService and lets SPs ask
	// for the Response by artifact. Default false.
	Enabled bool `yaml:"enabled"`
	// Lifetime bounds how long an artifact can be resolved. Default 1m;
	// at most 10m.
	Lifetime time.Duration `yaml:"lifetime"`
}

// SSOSessionConfig configures the bridge's optional SSO session.
type SSOSessionConfig struct {
	// Enabled lets one itsme confirmation serve later logins (IsPassive
	// included) from the same browser, and makes Single Logout end them.
	// Default false.
	Enabled bool `yaml:"enabled"`
	// Lifetime bounds a session from its first login. Default 1h; at most
	// 24h.
	Lifetime time.Duration `yaml:"lifetime"`
}

// HTTPConfig configures the HTTP front of the bridge.
type HTTPConfig struct {
	// RateLimit limits /saml/sso and /oidc/callback per client address.
	// Optional: on by default, with the defaults below.
	RateLimit RateLimitConfig `yaml:"rate_limit"`
	// TrustedProxies are the CIDR prefixes (or single addresses) of the
	// reverse proxies in front of the bridge; only their X-Forwarded-For
	// is believed. Default none: the peer address is the client. A
	// prefix with bits set after its length, or one that contains every
	// address (0.0.0.0/0, ::/0), is refused.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// RateLimitConfig is the per-client rate limit; zero values take the
// defaults.
type RateLimitConfig struct {
	// PerMinute is the sustained requests per minute per client (one login
	// is two requests). Default 60; not negative.
	PerMinute int `yaml:"per_minute"`
	// Burst is how many requests a client may make at once. Default 30;
	// not negative.
	Burst int `yaml:"burst"`
	// MaxClients is how many client addresses are tracked; the least
	// recently seen is forgotten first. Default 100000; not negative.
	MaxClients int `yaml:"max_clients"`
	// Disabled turns the limit off, when a proxy in front limits. Default
	// false.
	Disabled bool `yaml:"disabled"`
}

// AuditConfig chooses the audit sink: one JSON line per login outcome,
// pseudonymous, with attribute names but never values.
type AuditConfig struct {
	// File is appended to (created with mode 0600). Default empty, which
	// like "-" means standard output (logs go to standard error).
	File string `yaml:"file"`
}

// LogConfig configures logging.
type LogConfig struct {
	// Level is debug, info, warn or error. Default info.
	Level string `yaml:"level"`
	// Format is json or text. Default json.
	Format string `yaml:"format"`
}

// Secret is given by file or environment variable, never inline: exactly
// one of file and env.
type Secret struct {
	// File is read for the secret (surrounding white space is ignored).
	// Optional when env is given.
	File string `yaml:"file"`
	// Env names the environment variable holding the secret. Optional
	// when file is given.
	Env string `yaml:"env"`
}

// LoadConfig reads path with strict decoding: an unknown key, a value of
// the wrong type, a key given twice or a secret written inline is an
// error that names the key path and its line. Every such problem is
// reported at once.
func LoadConfig(path string) (*Config, error) {
	c, problems := decodeConfig(path)
	switch len(problems) {
	case 0:
		return c, nil
	case 1:
		return nil, fmt.Errorf("config %s: %w", path, problems[0])
	}
	return nil, fmt.Errorf("config %s has problems:\n%s", path, indent(joinProblems(problems).Error()))
}

// decodeConfig reads path and returns what could be decoded of it, with
// every decoding problem. The Config is nil only when the file cannot be
// read or parsed as YAML at all.
func decodeConfig(path string) (*Config, []Problem) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, []Problem{{Err: err}}
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, []Problem{{Err: errors.New("the file is empty")}}
		}
		return nil, []Problem{{Err: fmt.Errorf("not valid YAML: %w", err)}}
	}
	c := &Config{dir: filepath.Dir(path), lines: lineIndex{}}
	d := &decoder{lines: c.lines}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		d.add("", extra.Line, "a second YAML document starts here; the configuration is one document")
	} else if !errors.Is(err, io.EOF) {
		d.add("", 0, "not valid YAML after the first document: %v", err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.MappingNode {
		return nil, append(d.problems, Problem{Line: root.Line, Err: errors.New("the configuration must be a mapping of keys (external_url: ..., saml: ...)")})
	}
	d.walk(root, reflect.TypeFor[Config](), "")
	// The walk reported every unknown key and mistyped value; decoding
	// without KnownFields fills in the rest, so that check can go on to
	// report the other problems too.
	if err := root.Decode(c); err != nil && len(d.problems) == 0 {
		d.add("", 0, "%v", err)
	}
	return c, d.problems
}

// lineIndex maps YAML key paths ("saml.signing_key_file",
// "service_providers[2].metadata_file") to the line they are on.
type lineIndex map[string]int

// locate returns where path is: its line, or when the file does not have
// it, the nearest enclosing key that it does have and that key's line.
func (l lineIndex) locate(path string) (line int, within string) {
	if n, ok := l[path]; ok {
		return n, ""
	}
	for p := parentPath(path); p != ""; p = parentPath(p) {
		if n, ok := l[p]; ok {
			return n, p
		}
	}
	return 0, ""
}

// parentPath strips the last element of a key path: "a.b[2]" → "a.b",
// "a.b" → "a", "a" → "".
func parentPath(p string) string {
	if strings.HasSuffix(p, "]") {
		if i := strings.LastIndexByte(p, '['); i >= 0 {
			return p[:i]
		}
	}
	if i := strings.LastIndexByte(p, '.'); i >= 0 {
		return p[:i]
	}
	return ""
}

// Problem is one thing wrong with a configuration and where it is.
type Problem struct {
	// Path is the YAML key path ("service_providers[2].metadata_file");
	// empty for the file as a whole.
	Path string
	// Line is the line of Path in the file, or of Within when the file
	// lacks Path; 0 when unknown.
	Line int
	// Within is the nearest enclosing key the file has when it lacks Path
	// (a missing key); empty otherwise.
	Within string
	// Err says what is wrong.
	Err error
}

// Error renders the problem as "path (line N): what", or for a missing
// key "path (in parent, line N): what".
func (p Problem) Error() string {
	var where string
	switch {
	case p.Path == "" && p.Line > 0:
		where = fmt.Sprintf("line %d", p.Line)
	case p.Path == "":
	case p.Line == 0:
		where = p.Path
	case p.Within != "":
		where = fmt.Sprintf("%s (in %s, line %d)", p.Path, p.Within, p.Line)
	default:
		where = fmt.Sprintf("%s (line %d)", p.Path, p.Line)
	}
	if where == "" {
		return p.Err.Error()
	}
	return where + ": " + p.Err.Error()
}

// Unwrap returns Err.
func (p Problem) Unwrap() error { return p.Err }

// joinProblems joins problems into one error, one per line, in order.
func joinProblems(problems []Problem) error {
	errs := make([]error, len(problems))
	for i, p := range problems {
		errs[i] = p
	}
	return errors.Join(errs...)
}

// decoder walks the YAML tree against the Config types, recording each
// key's line and every unknown key, duplicate key and mistyped value.
type decoder struct {
	lines    lineIndex
	problems []Problem
}

func (d *decoder) add(path string, line int, format string, a ...any) {
	d.problems = append(d.problems, Problem{Path: path, Line: line, Err: fmt.Errorf(format, a...)})
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	secretType   = reflect.TypeFor[Secret]()
)

// eachKey calls fn with each key of mapping node n, its value and its
// path, once per key: a key given again is reported with the line of its
// first use and skipped.
func (d *decoder) eachKey(n *yaml.Node, path string, fn func(k, v *yaml.Node, p string)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := joinPath(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.add(p, k.Line, "given twice (first on line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		fn(k, v, p)
	}
}

// walk checks node n, at path, against type t.
func (d *decoder) walk(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // an empty value leaves the default
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == secretType && n.Kind != yaml.MappingNode:
		d.add(path, n.Line, "secrets are never written inline: give {file: PATH} or {env: VARIABLE}")
	case t.Kind() == reflect.Struct && t != durationType:
		if n.Kind != yaml.MappingNode {
			d.add(path, n.Line, "want a mapping of keys, not %s", describe(n))
			return
		}
		fields := yamlFields(t)
		d.eachKey(n, path, func(k, v *yaml.Node, p string) {
			f, ok := fields[k.Value]
			if !ok {
				d.add(p, k.Line, "unknown key%s", suggest(k.Value, fields))
				return
			}
			d.lines[p] = k.Line
			d.walk(v, f.Type, p)
		})
	case t.Kind() == reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.add(path, n.Line, "want a list, not %s", describe(n))
			return
		}
		for i, e := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			d.lines[p] = e.Line
			d.walk(e, t.Elem(), p)
		}
	case t.Kind() == reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.add(path, n.Line, "want a mapping, not %s", describe(n))
			return
		}
		d.eachKey(n, path, func(k, v *yaml.Node, p string) {
			d.lines[p] = k.Line
			d.walk(v, t.Elem(), p)
		})
	default:
		if n.Kind != yaml.ScalarNode {
			d.add(path, n.Line, "want %s, not %s", scalarKind(t), describe(n))
			return
		}
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			d.add(path, n.Line, "want %s, not %q", scalarKind(t), n.Value)
		}
	}
}

// yamlFields indexes the exported fields of struct type t by YAML key.
func yamlFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if f.IsExported() && name != "" && name != "-" {
			out[name] = f
		}
	}
	return out
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// describe names the kind of YAML node n, for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("%.40q", n.Value)
}

// scalarKind says what a scalar of type t looks like, for messages.
func scalarKind(t reflect.Type) string {
	switch {
	case t == durationType:
		return "a duration such as 30s, 10m or 1h"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.Int:
		return "a whole number"
	}
	return "a string"
}

// suggest proposes the known key closest to an unknown one, when one is
// close enough to be a typo.
func suggest(key string, fields map[string]reflect.StructField) string {
	best, bestDist := "", 4
	for name := range fields {
		if d := editDistance(key, name); d < bestDist || (d == bestDist && name < best) {
			best, bestDist = name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func (c *Config) path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

// Resolved is a validated configuration with its files loaded.
type Resolved struct {
	Config  *Config
	SAMLKey *certs.KeyPair
	JOSE    *certs.JOSEKeys
	Secret  []byte
	SPs     []*metadata.ServiceProvider
	// Sources and MDQ fetch SP metadata from URLs (nil when none).
	Sources []*remote.Source
	MDQ     *remote.MDQ
	// Remote serves the SPs from files, then Sources', then MDQ's (nil
	// when every SP comes from a file).
	Remote *remote.Registry
	// SPRegistry is what the bridge serves SPs from: Remote when set,
	// else a static registry of the SPs from files (built once, which
	// also refuses duplicates).
	SPRegistry metadata.Registry
	Services   map[string]string
	// StoreSecret is the Redis store secret (nil for memory).
	StoreSecret []byte
	// StorePassword is the Redis password from session.password (empty
	// when none).
	StorePassword string
	// TrustedProxies are the parsed http.trusted_proxies.
	TrustedProxies []netip.Prefix
	// AuthnContexts is the configured policy table (nil: the default).
	AuthnContexts *authncontext.Table
	// SAMLAdditionalCerts are the loaded saml.additional_signing_cert_files,
	// published in the IdP metadata after SAMLKey's certificate.
	SAMLAdditionalCerts []*x509.Certificate

	// sourcePaths[i] is the key path of Sources[i], for check's reports.
	sourcePaths []string
	// keyUses are the loaded keys with their settings, in configuration
	// order, for checkKeySeparation.
	keyUses []certs.KeyUse
	// Warnings are what check reports as warnings (a certificate close to
	// its expiry, an SP certificate outside its dates, a setting itsme
	// refuses); they do not stop the bridge, which logs them at start and
	// on reload.
	Warnings []Problem
}

// The purposes of the configured keys, as key separation problems name
// them.
const (
	purposeSAMLSigning     = "SAML signing"
	purposeItsmeSigning    = "itsme signing"
	purposeItsmeDecryption = "itsme decryption"
)

// certWarningWindow is how long before a certificate's expiry check
// starts warning about it.
const certWarningWindow = 30 * 24 * time.Hour

// Resolve validates c and loads everything it refers to, as the bridge
// would at now: remote metadata sources judge validUntil and expiry by
// now, not by the running clock (for the tools and their --now). It
// reports every problem at once (errors.Join of Problem), each naming the
// key path and, where the file has it, its line.
func (c *Config) Resolve(now time.Time) (*Resolved, error) {
	return c.resolveReported(now, func() time.Time { return now })
}

// ResolveLive is Resolve for a running bridge: now is the current time,
// and remote metadata sources follow the real clock as they refresh.
func (c *Config) ResolveLive() (*Resolved, error) {
	return c.resolveReported(time.Now(), nil)
}

// resolveReported is resolve with its problems joined into one error.
func (c *Config) resolveReported(now time.Time, clock func() time.Time) (*Resolved, error) {
	r, v := c.resolve(now, clock, nil)
	if len(v.errs) > 0 {
		return nil, joinProblems(v.errs)
	}
	r.Warnings = v.warnings
	return r, nil
}

// validation collects the problems of one resolution.
type validation struct {
	lines          lineIndex
	errs, warnings []Problem
}

// problems locates the error fmt.Errorf(format, a...) at path. When its
// last error argument has several lines (errors.Join), each line becomes a
// problem of its own, formatted the same way, so that every line keeps
// its context ("sp.xml: ...").
func (v *validation) problems(path, format string, a ...any) []Problem {
	line, within := v.lines.locate(path)
	at := func(err error) Problem { return Problem{Path: path, Line: line, Within: within, Err: err} }
	last := -1
	for i, x := range a {
		if _, ok := x.(error); ok {
			last = i
		}
	}
	if last < 0 || !strings.Contains(a[last].(error).Error(), "\n") {
		return []Problem{at(fmt.Errorf(format, a...))}
	}
	var out []Problem
	for _, m := range strings.Split(a[last].(error).Error(), "\n") {
		if m = strings.TrimSpace(m); m != "" {
			b := slices.Clone(a)
			b[last] = errors.New(m)
			out = append(out, at(fmt.Errorf(format, b...)))
		}
	}
	return out
}

// add records an error at path.
func (v *validation) add(path, format string, a ...any) {
	v.errs = append(v.errs, v.problems(path, format, a...)...)
}

// warn records a warning at path: worth fixing, but the bridge runs.
func (v *validation) warn(path, format string, a ...any) {
	v.warnings = append(v.warnings, v.problems(path, format, a...)...)
}

// certDates checks the validity dates of a certificate the bridge signs
// with or publishes: an error when fatal is set and it is not valid at
// now, else a warning; a warning when it expires within
// certWarningWindow.
func (v *validation) certDates(path string, cert *x509.Certificate, now time.Time, fatal bool) {
	report := v.warn
	if fatal {
		report = v.add
	}
	switch {
	case now.After(cert.NotAfter):
		report(path, "the certificate expired on %s", cert.NotAfter.UTC().Format(time.DateOnly))
	case now.Before(cert.NotBefore):
		report(path, "the certificate is not valid until %s", cert.NotBefore.UTC().Format(time.DateTime))
	case cert.NotAfter.Sub(now) < certWarningWindow:
		v.warn(path, "the certificate expires on %s; roll the key over before then (docs/operations.md)", cert.NotAfter.UTC().Format(time.DateOnly))
	}
}

// spCertDates warns about SP certificates outside their validity dates.
// They are not errors: in SAML metadata a certificate only carries a
// trusted key, and SPs commonly publish expired self-signed ones
// (catalogue G13), which the bridge keeps using; the warning says so.
func (v *validation) spCertDates(path string, sp *metadata.ServiceProvider, now time.Time) {
	for _, use := range []struct {
		name  string
		certs []*x509.Certificate
	}{{"signing", sp.SigningCerts}, {"encryption", sp.EncryptionCerts}} {
		for _, c := range use.certs {
			switch {
			case now.After(c.NotAfter):
				v.warn(path, "%s: its %s certificate %q expired on %s (still used: metadata keys are trusted as registered); ask the SP for new metadata",
					sp.EntityID, use.name, c.Subject.CommonName, c.NotAfter.UTC().Format(time.DateOnly))
			case now.Before(c.NotBefore):
				v.warn(path, "%s: its %s certificate %q is not valid until %s (still used: metadata keys are trusted as registered)",
					sp.EntityID, use.name, c.Subject.CommonName, c.NotBefore.UTC().Format(time.DateTime))
			}
		}
	}
}

// remoteAudit collects, for check, what the policy of a metadata_url
// entry refused and which fetched certificates are out of their dates.
// The bridge itself passes none: it logs refusals as it fetches.
type remoteAudit struct {
	mu sync.Mutex
	v  *validation
}

func (a *remoteAudit) note(path string, sp *metadata.ServiceProvider, err error, now time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil {
		a.v.add(path, "%s: %w", sp.EntityID, err)
	}
	a.v.spCertDates(path, sp, now)
}

// resolve is Resolve, returning what it could build and every problem and
// warning. clock is the remote metadata sources' clock (nil: the real
// one). audit, when not nil, collects what fetching metadata URLs later
// reveals, for check's report.
func (c *Config) resolve(now time.Time, clock func() time.Time, audit *remoteAudit) (*Resolved, *validation) {
	v := &validation{lines: c.lines}
	if audit != nil {
		audit.v = v
	}
	r := &Resolved{Config: c}

	if u, err := url.Parse(c.ExternalURL); c.ExternalURL == "" {
		v.add("external_url", "missing (the bridge's public https URL)")
	} else if err != nil || u.Host == "" || (u.Scheme != "https" && !isLoopbackHTTP(u)) {
		v.add("external_url", "%q must be an absolute https URL (http only on loopback)", c.ExternalURL)
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	} else if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		v.add("listen", "%q is not host:port: %w", c.Listen, err)
	}
	if c.TLS != nil {
		if c.TLS.CertFile == "" {
			v.add("tls.cert_file", "missing (required when tls is set)")
		}
		if c.TLS.KeyFile == "" {
			v.add("tls.key_file", "missing (required when tls is set)")
		}
	}
	c.resolveSAML(r, v, now)
	c.resolveItsme(r, v)
	checkKeySeparation(r, v)
	// Pairwise secret.
	if secret, err := c.PairwiseSecret.load(c); err != nil {
		v.add("pairwise_secret", "%w", err)
	} else {
		r.Secret = secret
	}
	c.resolveSession(r, v)
	c.resolveSPs(r, v, now, clock, audit)
	c.checkServices(v)
	if ac := c.AuthnContexts; ac != nil {
		t := authncontext.Table{Default: ac.Default}
		for i, cl := range ac.Classes {
			acr := cl.ACR
			switch acr {
			case "acr_basic":
				acr = itsme.ACRBasic
			case "acr_advanced":
				acr = itsme.ACRAdvanced
			case itsme.ACRBasic, itsme.ACRAdvanced:
			default:
				v.add(fmt.Sprintf("authn_contexts.classes[%d].acr", i), "%q is not acr_basic or acr_advanced", cl.ACR)
			}
			t.Classes = append(t.Classes, authncontext.Class{Ref: cl.Ref, Rank: cl.Rank, ACR: acr})
		}
		if err := t.Validate(); err != nil {
			v.add("authn_contexts", "%w", err)
		} else {
			r.AuthnContexts = &t
		}
	}
	if c.Artifact.Lifetime < 0 || c.Artifact.Lifetime > 10*time.Minute {
		v.add("artifact.lifetime", "%s must be between 0 (the default, 1m) and 10m", c.Artifact.Lifetime)
	}
	if c.SSOSession.Lifetime < 0 || c.SSOSession.Lifetime > 24*time.Hour {
		v.add("sso_session.lifetime", "%s must be between 0 (the default, 1h) and 24h", c.SSOSession.Lifetime)
	}
	// HTTP front.
	for _, f := range []struct {
		name string
		v    int
	}{{"per_minute", c.HTTP.RateLimit.PerMinute}, {"burst", c.HTTP.RateLimit.Burst}, {"max_clients", c.HTTP.RateLimit.MaxClients}} {
		if f.v < 0 {
			v.add("http.rate_limit."+f.name, "%d must not be negative (0 means the default)", f.v)
		}
	}
	for i, s := range c.HTTP.TrustedProxies {
		p, err := parseTrustedProxy(s)
		if err != nil {
			v.add(fmt.Sprintf("http.trusted_proxies[%d]", i), "%w", err)
			continue
		}
		r.TrustedProxies = append(r.TrustedProxies, p)
	}
	if c.Metrics.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Metrics.Listen); err != nil {
			v.add("metrics.listen", "%q is not host:port: %w", c.Metrics.Listen, err)
		}
	} else if c.Metrics.Pprof {
		v.add("metrics.pprof", "true needs metrics.listen: profiles are served on the admin listener only")
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Format == "" {
		c.Log.Format = "json"
	}
	if _, err := newLogger(io.Discard, c.Log.Level, "text"); err != nil {
		v.add("log.level", "%w", err)
	}
	if _, err := newLogger(io.Discard, "info", c.Log.Format); err != nil {
		v.add("log.format", "%w", err)
	}
	return r, v
}

// resolveSAML loads the SAML signing key and the published certificates.
func (c *Config) resolveSAML(r *Resolved, v *validation, now time.Time) {
	if c.SAML.SigningKeyFile == "" {
		v.add("saml.signing_key_file", "missing (the PEM RSA key that signs responses and metadata)")
	} else if kp, err := certs.LoadFiles(c.path(c.SAML.SigningKeyFile), c.path(c.SAML.SigningCertFile)); err != nil {
		v.add("saml.signing_key_file", "%w", err)
	} else {
		r.keyUses = append(r.keyUses, certs.KeyUse{Name: "saml.signing_key_file", Purpose: purposeSAMLSigning, Key: &kp.Key.PublicKey})
		if kp.Cert == nil {
			v.add("saml.signing_cert_file", "missing (no certificate for the SAML signing key)")
		} else {
			v.certDates("saml.signing_cert_file", kp.Cert, now, true)
			r.SAMLKey = kp
		}
	}
	for i, f := range c.SAML.AdditionalSigningCertFiles {
		where := fmt.Sprintf("saml.additional_signing_cert_files[%d]", i)
		data, err := os.ReadFile(c.path(f))
		if err != nil {
			v.add(where, "%w", err)
			continue
		}
		cert, err := metadata.ParseSigningCert(data, now)
		if err != nil {
			v.add(where, "%s: %w", f, err)
			continue
		}
		if r.SAMLKey != nil && cert.Equal(r.SAMLKey.Cert) {
			v.add(where, "%s: this is the current signing certificate (saml.signing_cert_file); list only the next or the previous one", f)
			continue
		}
		if slices.ContainsFunc(r.SAMLAdditionalCerts, cert.Equal) {
			v.add(where, "%s: listed twice", f)
			continue
		}
		v.certDates(where, cert, now, false)
		r.SAMLAdditionalCerts = append(r.SAMLAdditionalCerts, cert)
		// A SAML signing key may be published in several certificates
		// (one renewed for the same key): only its first is compared with
		// the keys of other purposes.
		sameSAMLKey := func(u certs.KeyUse) bool { return u.Purpose == purposeSAMLSigning && u.Key.Equal(cert.PublicKey) }
		if pub, ok := cert.PublicKey.(*rsa.PublicKey); ok && !slices.ContainsFunc(r.keyUses, sameSAMLKey) {
			r.keyUses = append(r.keyUses, certs.KeyUse{Name: where, Purpose: purposeSAMLSigning, Key: pub})
		}
	}
	if (c.SAML.OrganizationName == "") != (c.SAML.OrganizationURL == "") {
		where := "saml.organization_url"
		if c.SAML.OrganizationName == "" {
			where = "saml.organization_name"
		}
		v.add(where, "missing: organization_name and organization_url must be given together (the metadata schema requires both)")
	}
	switch d := c.SAML.MetadataValidFor; {
	case d == 0:
		c.SAML.MetadataValidFor = 7 * 24 * time.Hour
	case d < 0 || d > 365*24*time.Hour:
		v.add("saml.metadata_valid_for", "%s must be between 0 (the default, 168h) and 8760h", d)
	}
}

// resolveItsme checks the itsme client settings and loads its keys.
func (c *Config) resolveItsme(r *Resolved, v *validation) {
	if c.Itsme.Issuer == "" {
		v.add("itsme.issuer", "missing (https://idp.e2e.itsme.services/v2 or https://idp.prd.itsme.services/v2)")
	} else if u, err := url.Parse(c.Itsme.Issuer); err != nil || (u.Scheme != "https" && !isLoopbackHTTP(u)) {
		// Plain http only reaches a local emulator (samlbridge emulator).
		v.add("itsme.issuer", "%q must be an https URL (http only on loopback, for the emulator)", c.Itsme.Issuer)
	}
	if c.Itsme.ClientID == "" {
		v.add("itsme.client_id", "missing (the partner code from itsme onboarding)")
	}
	if e := c.Itsme.EncryptRequestObject; e != nil && !*e {
		v.warn("itsme.encrypt_request_object", "false: itsme refuses request objects that are signed but not encrypted from a private_key_jwt client such as the bridge (invalid_request_object); leave it true unless the provider is not itsme")
	}
	for _, k := range slices.Sorted(maps.Keys(c.Itsme.Services)) {
		if k != string(itsme.ServiceAuthentication) && k != string(itsme.ServiceIdentification) {
			v.add("itsme.services."+k, "unknown service %q (want authentication or identification)", k)
		}
		if c.Itsme.Services[k] == "" {
			v.add("itsme.services."+k, "empty service code")
		}
	}
	r.Services = c.Itsme.Services
	if c.Itsme.Timeout < 0 || c.Itsme.Timeout > time.Minute {
		v.add("itsme.timeout", "%s must be between 0 (the default, 10s) and 1m", c.Itsme.Timeout)
	}
	if c.Itsme.Breaker.Threshold < 0 || c.Itsme.Breaker.Threshold > 1000 {
		v.add("itsme.breaker.threshold", "%d must be between 0 (the default, 5) and 1000", c.Itsme.Breaker.Threshold)
	}
	if c.Itsme.Breaker.Cooldown < 0 || c.Itsme.Breaker.Cooldown > time.Hour {
		v.add("itsme.breaker.cooldown", "%s must be between 0 (the default, 30s) and 1h", c.Itsme.Breaker.Cooldown)
	}
	jose := &certs.JOSEKeys{}
	use := func(name, purpose string, kp *certs.KeyPair) {
		r.keyUses = append(r.keyUses, certs.KeyUse{Name: name, Purpose: purpose, Key: &kp.Key.PublicKey})
	}
	for _, k := range []struct {
		name, file, purpose string
		dst                 **certs.KeyPair
	}{
		{"itsme.signing_key_file", c.Itsme.SigningKeyFile, purposeItsmeSigning, &jose.Sig},
		{"itsme.encryption_key_file", c.Itsme.EncryptionKeyFile, purposeItsmeDecryption, &jose.Enc},
	} {
		if k.file == "" {
			v.add(k.name, "missing (a PEM RSA key, published in /jwks)")
			continue
		}
		kp, err := certs.LoadFiles(c.path(k.file), "")
		if err != nil {
			v.add(k.name, "%w", err)
			continue
		}
		*k.dst = kp
		use(k.name, k.purpose, kp)
	}
	for i, f := range c.Itsme.OldEncryptionKeyFiles {
		where := fmt.Sprintf("itsme.old_encryption_key_files[%d]", i)
		kp, err := certs.LoadFiles(c.path(f), "")
		if err != nil {
			v.add(where, "%w", err)
			continue
		}
		jose.OldEnc = append(jose.OldEnc, kp)
		use(where, purposeItsmeDecryption, kp)
	}
	if f := c.Itsme.NextSigningKeyFile; f != "" {
		if kp, err := certs.LoadFiles(c.path(f), ""); err != nil {
			v.add("itsme.next_signing_key_file", "%w", err)
		} else {
			jose.NextSig = kp
			use("itsme.next_signing_key_file", purposeItsmeSigning, kp)
		}
	}
	if jose.Sig != nil && jose.Enc != nil {
		r.JOSE = jose
	}
}

// checkKeySeparation refuses every key configured twice, compared by
// public key across the SAML signing key and the certificates published
// for its rollover, the itsme signing and next signing keys, and the itsme
// encryption and old encryption keys (catalogue OIDC-20: a key that both
// decrypts and signs turns a decryption oracle into a signature oracle).
// Each reuse is a problem at the later setting, naming the earlier one.
// The JOSE keys are among these uses, so what their own Validate would
// find is found here, with the settings named.
func checkKeySeparation(r *Resolved, v *validation) {
	for _, k := range certs.FindKeyReuse(r.keyUses) {
		v.add(k.Again.Name, "holds the same key as %s: %s", k.First.Name, k.Advice())
	}
}

// resolveSession checks the session store settings and loads its secrets.
func (c *Config) resolveSession(r *Resolved, v *validation) {
	switch c.Session.Store {
	case "", "memory":
		if c.Session.URL != "" {
			v.add("session.url", "only used with store: redis")
		}
	case "redis":
		if c.Session.URL == "" {
			v.add("session.url", "missing (required with store: redis)")
		} else if _, err := sessionredis.ParseURL(c.Session.URL); err != nil {
			v.add("session.url", "%w", err)
		} else if urlHasPassword(c.Session.URL) {
			v.add("session.url", "holds a password; secrets are never written inline: give it as session.password {file: PATH} or {env: VARIABLE}")
		}
		if len(c.Session.KeyPrefix) > 64 || strings.ContainsAny(c.Session.KeyPrefix, " \t\r\n{}") {
			v.add("session.key_prefix", "%q must be at most 64 characters, without spaces or braces", c.Session.KeyPrefix)
		}
		if secret, err := c.Session.Secret.load(c); err != nil {
			v.add("session.secret", "%w", err)
		} else {
			r.StoreSecret = secret
		}
		if c.Session.Password != (Secret{}) {
			if pw, err := c.Session.Password.text(c); err != nil {
				v.add("session.password", "%w", err)
			} else {
				r.StorePassword = pw
			}
		}
	default:
		v.add("session.store", "%q is not memory or redis", c.Session.Store)
	}
}

// urlHasPassword reports whether a store URL carries user:password@.
func urlHasPassword(raw string) bool {
	_, rest, _ := strings.Cut(raw, "://")
	hosts, _, _ := strings.Cut(rest, "/")
	at := strings.LastIndex(hosts, "@")
	return at >= 0 && strings.Contains(hosts[:at], ":")
}

// resolveSPs loads the service providers of every entry and applies each
// entry's policy to them.
func (c *Config) resolveSPs(r *Resolved, v *validation, now time.Time, clock func() time.Time, audit *remoteAudit) {
	if len(c.ServiceProviders) == 0 {
		v.add("service_providers", "none configured (give at least one, with metadata_file, metadata_url or mdq_url)")
	}
	known := map[string]bool{}
	for _, d := range attributes.Definitions() {
		known[d.Name] = true
	}
	for i, spc := range c.ServiceProviders {
		where := fmt.Sprintf("service_providers[%d]", i)
		policy := spc.policy(where, known, v)
		n := 0
		for _, s := range []string{spc.MetadataFile, spc.MetadataURL, spc.MDQURL} {
			if s != "" {
				n++
			}
		}
		if n != 1 {
			v.add(where, "give exactly one of metadata_file, metadata_url or mdq_url")
			continue
		}
		if spc.MetadataRefresh < 0 || (spc.MetadataRefresh > 0 && spc.MetadataRefresh < remote.DefaultMinRefresh) {
			v.add(where+".metadata_refresh", "%s must be 0 (the default, 1h) or at least %s", spc.MetadataRefresh, remote.DefaultMinRefresh)
			continue
		}
		if spc.MetadataFile == "" {
			c.remoteSP(r, spc, where, policy, v, now, clock, audit)
			continue
		}
		where += ".metadata_file"
		data, err := os.ReadFile(c.path(spc.MetadataFile))
		if err != nil {
			v.add(where, "%w", err)
			continue
		}
		sps, err := metadata.ParseServiceProviders(data, metadata.ParseOptions{AllowInsecureACS: spc.AllowInsecureACS, Now: func() time.Time { return now }})
		if err != nil {
			v.add(where, "%s: %w", spc.MetadataFile, err)
			continue
		}
		for _, sp := range sps {
			if err := policy(sp); err != nil {
				v.add(where, "%s: %w", sp.EntityID, err)
			}
			v.spCertDates(where, sp, now)
			r.SPs = append(r.SPs, sp)
		}
	}
	if reg, err := metadata.NewStaticRegistry(r.SPs...); err != nil {
		v.add("service_providers", "%w", err)
	} else {
		r.SPRegistry = reg
	}
	if len(r.Sources) > 0 || r.MDQ != nil {
		reg, err := remote.NewRegistry(remote.RegistryConfig{Static: r.SPs, Sources: r.Sources, MDQ: r.MDQ})
		if err != nil {
			v.add("service_providers", "%w", err)
		} else {
			r.Remote, r.SPRegistry = reg, reg
		}
	}
}

// checkServices reports an itsme service code missing for a service that
// some SP entry needs (attributes.Plan decides the service of a login):
// identification when the entry may receive an Identification attribute,
// authentication when its default login (what it gets when it requests
// nothing) needs only Authentication attributes.
func (c *Config) checkServices(v *validation) {
	if len(c.ServiceProviders) == 0 {
		if c.Itsme.Services[string(itsme.ServiceIdentification)] == "" && c.Itsme.Services[string(itsme.ServiceAuthentication)] == "" {
			v.add("itsme.services", "missing: at least one of authentication or identification needs a service code")
		}
		return
	}
	need := map[itsme.Service][]string{}
	why := map[itsme.Service]string{}
	for i, spc := range c.ServiceProviders {
		where := fmt.Sprintf("service_providers[%d]", i)
		var ident []string
		for _, a := range spc.Attributes {
			if d, ok := attributes.Lookup(a); ok && d.Identification && !slices.Contains(ident, a) {
				ident = append(ident, a)
			}
		}
		if len(ident) > 0 {
			need[itsme.ServiceIdentification] = append(need[itsme.ServiceIdentification], where)
			if why[itsme.ServiceIdentification] == "" {
				why[itsme.ServiceIdentification] = fmt.Sprintf("%s may receive %s", where, strings.Join(ident, ", "))
			}
		}
		release := spc.Release
		if len(release) == 0 {
			release = attributes.AuthenticationSet()
		}
		if svc, _, err := attributes.Plan(attributes.Release(release, spc.Attributes)); err == nil && svc == itsme.ServiceAuthentication {
			need[itsme.ServiceAuthentication] = append(need[itsme.ServiceAuthentication], where)
			if why[itsme.ServiceAuthentication] == "" {
				why[itsme.ServiceAuthentication] = fmt.Sprintf("the default login of %s asks only for name attributes", where)
			}
		}
	}
	for _, svc := range []itsme.Service{itsme.ServiceAuthentication, itsme.ServiceIdentification} {
		if users := need[svc]; len(users) > 0 && c.Itsme.Services[string(svc)] == "" {
			more := ""
			if len(users) > 1 {
				more = fmt.Sprintf(" (and %d more)", len(users)-1)
			}
			v.add("itsme.services."+string(svc), "missing: the %s service needs a service code from itsme onboarding: %s%s",
				titleCase(string(svc)), why[svc], more)
		}
	}
}

// titleCase upper-cases the first letter of an ASCII word.
func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// parseTrustedProxy parses a CIDR prefix or a single address. A prefix
// with host bits set is refused (likely a typo), as is one that contains
// every address: trusting everyone lets any client choose its own
// address.
func parseTrustedProxy(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		a, aerr := netip.ParseAddr(s)
		if aerr != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR prefix (10.0.0.0/8) or an IP address", s)
		}
		p = netip.PrefixFrom(a.WithZone(""), a.BitLen())
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("%q has bits set after the prefix length; did you mean %s?", s, p.Masked())
	}
	if p.Bits() == 0 {
		return netip.Prefix{}, fmt.Errorf("%q trusts every address: any client could then choose the address it is limited by", s)
	}
	return p, nil
}

// policy validates spc's settings (each problem recorded in v under where)
// and returns the function that applies them to one SP from its metadata;
// the function reports an SP the settings cannot apply to.
func (spc SPConfig) policy(where string, known map[string]bool, v *validation) func(*metadata.ServiceProvider) error {
	profile, err := attributes.ParseProfile(spc.AttributeProfile)
	if err != nil {
		v.add(where+".attribute_profile", "%w", err)
	}
	for i, a := range spc.Attributes {
		if !known[a] {
			v.add(fmt.Sprintf("%s.attributes[%d]", where, i), "unknown attribute %q (docs/attributes.md lists them)", a)
		}
	}
	for i, a := range spc.Release {
		if !slices.Contains(spc.Attributes, a) {
			v.add(fmt.Sprintf("%s.release[%d]", where, i), "%q is not in its attributes", a)
		}
	}
	signing := spc.Signing
	if spc.SignResponse {
		if signing != "" && signing != "both" {
			v.add(where+".sign_response", "true contradicts signing: %s (use signing only)", signing)
		}
		signing = "both"
	}
	if _, err := saml.ParseSigning(signing); err != nil {
		v.add(where+".signing", "%q is not assertion, response or both", spc.Signing)
	}
	sigAlg, err := saml.SignatureMethodByName(spc.SignatureAlgorithm)
	if err != nil {
		v.add(where+".signature_algorithm", "%q is not rsa-sha256, rsa-sha384, rsa-sha512 or rsa-sha1", spc.SignatureAlgorithm)
	} else if sigAlg == saml.SignatureRSASHA1 && !spc.LegacySHA1 {
		v.add(where+".signature_algorithm", "rsa-sha1 is broken and needs legacy_sha1: true, for an SP that can verify nothing else")
	}
	return func(sp *metadata.ServiceProvider) error {
		sp.AllowedAttributes = slices.Clone(spc.Attributes)
		sp.DefaultRelease = slices.Clone(spc.Release)
		sp.Signing = signing
		sp.SignatureAlgorithm = sigAlg
		sp.LegacySHA1 = spc.LegacySHA1
		sp.AllowUnsolicited = spc.AllowUnsolicited
		sp.AttributeProfile = profile.Name()
		var errs []error
		if signing == "response" && sp.WantAssertionsSigned {
			errs = append(errs, errors.New(`signing: response, but its metadata says WantAssertionsSigned="true"`))
		}
		if len(sp.EncryptionCerts) == 0 {
			if s := sensitiveAttributes(spc.Attributes); len(s) > 0 {
				// PRIV-06: national numbers travel only in encrypted assertions.
				errs = append(errs, fmt.Errorf("may receive the national number (%s) but its metadata has no encryption key", strings.Join(s, ", ")))
			}
		}
		return errors.Join(errs...)
	}
}

// remoteSP sets up a metadata URL or the MDQ service of spc.
func (c *Config) remoteSP(r *Resolved, spc SPConfig, where string, policy remote.Policy, v *validation, now time.Time, clock func() time.Time, audit *remoteAudit) {
	trust := remote.Trust{AllowUnsigned: spc.MetadataAllowUnsigned, RequireValidUntil: spc.MetadataRequireValidUntil, AllowInsecureACS: spc.AllowInsecureACS}
	for j, f := range spc.MetadataSigningCertFiles {
		cert, err := readCertificate(c.path(f))
		if err != nil {
			v.add(fmt.Sprintf("%s.metadata_signing_cert_files[%d]", where, j), "%w", err)
			continue
		}
		trust.Certificates = append(trust.Certificates, cert)
	}
	if spc.MetadataURL != "" {
		where += ".metadata_url"
		if audit != nil {
			inner := policy
			policy = func(sp *metadata.ServiceProvider) error {
				err := inner(sp)
				audit.note(where, sp, err, now)
				return err
			}
		}
		var log *slog.Logger // nil: slog.Default()
		if audit != nil {
			log = slog.New(slog.DiscardHandler) // check reports what matters itself
		}
		// check (audit set) reads the cached copy but writes nothing.
		src, err := remote.NewSource(remote.SourceConfig{URL: spc.MetadataURL, Trust: trust, CacheFile: c.path(spc.MetadataCacheFile),
			CacheReadOnly: audit != nil, Refresh: spc.MetadataRefresh, Policy: policy, Logger: log, Now: clock})
		if err != nil {
			v.add(where, "%w", err)
			return
		}
		r.Sources = append(r.Sources, src)
		r.sourcePaths = append(r.sourcePaths, where)
		return
	}
	if r.MDQ != nil {
		v.add(where+".mdq_url", "only one Metadata Query service may be configured")
		return
	}
	mdq, err := remote.NewMDQ(remote.MDQConfig{BaseURL: spc.MDQURL, Trust: trust, Policy: policy, Now: clock})
	if err != nil {
		v.add(where+".mdq_url", "%w", err)
		return
	}
	r.MDQ = mdq
}

// readCertificate reads the first PEM certificate of path. Its dates are
// not checked: a pinned metadata signing key is trusted as configured
// (catalogue G13).
func readCertificate(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no PEM CERTIFICATE block")
		}
		if b.Type == "CERTIFICATE" {
			return x509.ParseCertificate(b.Bytes)
		}
	}
}

// sensitiveAttributes returns the national-number-class attributes
// (Definition.Sensitive) among attrs.
func sensitiveAttributes(attrs []string) []string {
	var out []string
	for _, a := range attrs {
		if d, ok := attributes.Lookup(a); ok && d.Sensitive && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

func isLoopbackHTTP(u *url.URL) bool {
	h := u.Hostname()
	return u.Scheme == "http" && (h == "127.0.0.1" || h == "::1" || h == "localhost")
}

// read returns the secret's raw text from its file or variable.
func (s Secret) read(c *Config) (string, error) {
	switch {
	case s.File != "" && s.Env != "":
		return "", errors.New("give either file or env, not both")
	case s.File != "":
		b, err := os.ReadFile(c.path(s.File))
		if err != nil {
			return "", err
		}
		return strings.TrimSpace(string(b)), nil
	case s.Env != "":
		v, ok := os.LookupEnv(s.Env)
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set", s.Env)
		}
		return strings.TrimSpace(v), nil
	}
	return "", errors.New("missing: give file or env")
}

// load reads a key: a hex string of at least 32 bytes.
func (s Secret) load(c *Config) ([]byte, error) {
	raw, err := s.read(c)
	if err != nil {
		if s == (Secret{}) {
			return nil, errors.New("missing: give {file: PATH} or {env: VARIABLE} holding a hex string of at least 32 bytes")
		}
		return nil, err
	}
	b, err := hex.DecodeString(raw)
	if err != nil || len(b) < 32 {
		return nil, errors.New("must be a hex string of at least 32 bytes (64 hex characters)")
	}
	return b, nil
}

// text reads a password: any non-empty text.
func (s Secret) text(c *Config) (string, error) {
	raw, err := s.read(c)
	if err != nil {
		return "", err
	}
	if raw == "" {
		return "", errors.New("is empty")
	}
	return raw, nil
}
