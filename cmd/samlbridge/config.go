package main

import (
	"bytes"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// Config is the YAML configuration of "samlbridge serve".
type Config struct {
	// ExternalURL is the bridge's public base URL.
	ExternalURL string `yaml:"external_url"`
	// Listen is the address to listen on.
	Listen string `yaml:"listen"`
	// TLS, when set, makes the bridge terminate TLS itself.
	TLS *TLSConfig `yaml:"tls"`
	// SAML configures the IdP side.
	SAML SAMLConfig `yaml:"saml"`
	// Itsme configures the upstream.
	Itsme ItsmeConfig `yaml:"itsme"`
	// PairwiseSecret keys pairwise NameIDs (≥ 32 bytes, hex).
	PairwiseSecret Secret `yaml:"pairwise_secret"`
	// Session chooses where logins in flight and the replay cache live.
	Session SessionConfig `yaml:"session"`
	// ServiceProviders lists the SPs and what each may receive.
	ServiceProviders []SPConfig `yaml:"service_providers"`
	// Log configures logging.
	Log LogConfig `yaml:"log"`
	// Audit says where the audit events go.
	Audit AuditConfig `yaml:"audit"`
	// HTTP configures the HTTP front: rate limits and trusted proxies.
	HTTP HTTPConfig `yaml:"http"`
	// SSOSession configures the bridge's own SSO session (off by
	// default: itsme keeps none).
	SSOSession SSOSessionConfig `yaml:"sso_session"`
	// Artifact offers the HTTP-Artifact binding for responses, with the
	// SOAP ArtifactResolve endpoint at /saml/artifact (off by default).
	Artifact ArtifactConfig `yaml:"artifact"`
	// AuthnContexts replaces the built-in policy table between SAML
	// authentication context classes and itsme's acr (docs/saml.md).
	AuthnContexts *AuthnContextsConfig `yaml:"authn_contexts"`
	// Metrics configures the admin listener with Prometheus metrics.
	Metrics MetricsConfig `yaml:"metrics"`

	dir string // directory of the config file; relative paths are resolved against it
}

// TLSConfig names the certificate and key files.
type TLSConfig struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// SAMLConfig configures the SAML IdP.
type SAMLConfig struct {
	// SigningKeyFile and SigningCertFile are the current signing key: it
	// signs responses and the IdP metadata.
	SigningKeyFile  string `yaml:"signing_key_file"`
	SigningCertFile string `yaml:"signing_cert_file"`
	// AdditionalSigningCertFiles are certificates published in the IdP
	// metadata next to the current one but never used to sign: the next
	// key before a rollover, the previous one during the overlap after it.
	AdditionalSigningCertFiles []string      `yaml:"additional_signing_cert_files"`
	WantAuthnRequestsSigned    bool          `yaml:"want_authn_requests_signed"`
	MetadataValidFor           time.Duration `yaml:"metadata_valid_for"`
	OrganizationName           string        `yaml:"organization_name"`
	OrganizationURL            string        `yaml:"organization_url"`
}

// ItsmeConfig configures the itsme client.
type ItsmeConfig struct {
	// Issuer is https://idp.e2e.itsme.services/v2 (sandbox) or
	// https://idp.prd.itsme.services/v2 (production).
	Issuer                string            `yaml:"issuer"`
	ClientID              string            `yaml:"client_id"`
	Services              map[string]string `yaml:"services"`
	SigningKeyFile        string            `yaml:"signing_key_file"`
	EncryptionKeyFile     string            `yaml:"encryption_key_file"`
	OldEncryptionKeyFiles []string          `yaml:"old_encryption_key_files"`
	// NextSigningKeyFile is published in /jwks next to the signing key but
	// signs nothing, so itsme knows it before it becomes the signing key.
	NextSigningKeyFile   string `yaml:"next_signing_key_file"`
	EncryptRequestObject *bool  `yaml:"encrypt_request_object"`
	// Timeout bounds each call to itsme (default 10s, at most 60s). A
	// login makes at most three calls after the user confirms.
	Timeout time.Duration `yaml:"timeout"`
	// Breaker is the circuit breaker in front of itsme.
	Breaker BreakerConfig `yaml:"breaker"`
}

// BreakerConfig configures the circuit breaker in front of itsme: after
// Threshold consecutive failed calls (transport errors, timeouts, 5xx,
// 429) logins fail at once with a clear page for Cooldown, then one
// probe call decides whether itsme is back.
type BreakerConfig struct {
	// Threshold defaults to 5.
	Threshold int `yaml:"threshold"`
	// Cooldown defaults to 30s.
	Cooldown time.Duration `yaml:"cooldown"`
}

// MetricsConfig configures the admin listener.
type MetricsConfig struct {
	// Listen, when set, serves /metrics (Prometheus), /healthz and
	// /readyz on this address, apart from the public listener. Keep it
	// on loopback or a management network.
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
// policy that applies to each of them.
type SPConfig struct {
	MetadataFile string `yaml:"metadata_file"`
	// MetadataURL is fetched at start and refreshed; the document's root
	// signature must verify with MetadataSigningCertFiles (MD-01).
	MetadataURL string `yaml:"metadata_url"`
	// MDQURL is the base URL of a Metadata Query service: SPs not
	// otherwise registered are looked up there by entity ID.
	MDQURL string `yaml:"mdq_url"`
	// MetadataSigningCertFiles pin the keys metadata from a URL or MDQ
	// must be signed with (several, for the signer's rollover).
	MetadataSigningCertFiles []string `yaml:"metadata_signing_cert_files"`
	// MetadataAllowUnsigned accepts unsigned metadata over https (or
	// loopback http) when no signing certificate is pinned.
	MetadataAllowUnsigned bool `yaml:"metadata_allow_unsigned"`
	// MetadataRefresh is how often a metadata URL is fetched (default
	// 1h; a shorter cacheDuration in the document wins).
	MetadataRefresh time.Duration `yaml:"metadata_refresh"`
	// MetadataCacheFile keeps the last good copy of a metadata URL, used
	// when it cannot be fetched at start (until its validUntil).
	MetadataCacheFile string `yaml:"metadata_cache_file"`
	// MetadataRequireValidUntil refuses documents without validUntil.
	MetadataRequireValidUntil bool `yaml:"metadata_require_valid_until"`

	// Attributes are what the SP may receive (its allow-list).
	Attributes []string `yaml:"attributes"`
	// Release is what the SP gets when it requests no attributes (in its
	// AuthnRequest or its metadata); a subset of Attributes. Empty means
	// the Authentication set (name, firstName, lastName).
	Release []string `yaml:"release"`
	// SignResponse is the older spelling of signing: both.
	SignResponse bool `yaml:"sign_response"`
	// Signing is what is signed in a successful Response: assertion
	// (default), response or both.
	Signing string `yaml:"signing"`
	// SignatureAlgorithm is rsa-sha256 (default), rsa-sha384, rsa-sha512,
	// or rsa-sha1 together with legacy_sha1.
	SignatureAlgorithm string `yaml:"signature_algorithm"`
	// LegacySHA1 marks an SP that can verify nothing but RSA-SHA1.
	LegacySHA1 bool `yaml:"legacy_sha1"`
	// AllowUnsolicited permits IdP-initiated logins for this SP at
	// /saml/unsolicited (legacy portals).
	AllowUnsolicited bool `yaml:"allow_unsolicited"`
	// AllowInsecureACS permits http:// ACS URLs on loopback hosts only.
	AllowInsecureACS bool `yaml:"allow_insecure_acs"`
	// AttributeProfile is the vocabulary of the SP's attributes: default
	// (the contract's names), oid (urn:oid: names) or microsoft (ADFS
	// claim-type URIs); empty means default.
	AttributeProfile string `yaml:"attribute_profile"`
}

// SessionConfig chooses the session store. Several nodes must share a
// Redis store; the in-memory store suits a single node.
type SessionConfig struct {
	// Store is "memory" (default) or "redis".
	Store string `yaml:"store"`
	// URL is the Redis URL (redis://, rediss://, redis+sentinel://,
	// redis+cluster://).
	URL string `yaml:"url"`
	// Secret keys and encrypts what is stored (≥ 32 bytes, hex), the same
	// on every node.
	Secret Secret `yaml:"secret"`
	// KeyPrefix starts every Redis key (default "samlbridge:"), so that
	// several deployments can share one Redis; the same on every node.
	KeyPrefix string `yaml:"key_prefix"`
}

// AuthnContextsConfig is the policy table in YAML.
type AuthnContextsConfig struct {
	// Classes are the AuthnContextClassRefs the bridge will assert, each
	// with its strength rank and the itsme acr that proves it.
	Classes []AuthnContextClass `yaml:"classes"`
	// Default is the class asserted when the SP requests none.
	Default string `yaml:"default"`
}

// AuthnContextClass is one row of the policy table.
type AuthnContextClass struct {
	Ref  string `yaml:"ref"`
	Rank int    `yaml:"rank"`
	// ACR is acr_basic or acr_advanced (short or full URI).
	ACR string `yaml:"acr"`
}

// ArtifactConfig configures the HTTP-Artifact binding.
type ArtifactConfig struct {
	// Enabled publishes the ArtifactResolutionService and lets SPs ask
	// for the Response by artifact.
	Enabled bool `yaml:"enabled"`
	// Lifetime bounds how long an artifact can be resolved (default 1m).
	Lifetime time.Duration `yaml:"lifetime"`
}

// SSOSessionConfig configures the bridge's optional SSO session.
type SSOSessionConfig struct {
	// Enabled lets one itsme confirmation serve later logins (IsPassive
	// included) from the same browser, and makes Single Logout end them.
	Enabled bool `yaml:"enabled"`
	// Lifetime bounds a session from its first login (default 1h).
	Lifetime time.Duration `yaml:"lifetime"`
}

// HTTPConfig configures the HTTP front of the bridge.
type HTTPConfig struct {
	// RateLimit limits the SSO and callback endpoints per client address.
	RateLimit RateLimitConfig `yaml:"rate_limit"`
	// TrustedProxies are the CIDR prefixes (or single addresses) of the
	// reverse proxies in front of the bridge; only their X-Forwarded-For
	// is believed. Empty: the peer address is the client.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// RateLimitConfig is server.RateLimit in YAML; zero values take the
// server's defaults.
type RateLimitConfig struct {
	PerMinute  int  `yaml:"per_minute"`
	Burst      int  `yaml:"burst"`
	MaxClients int  `yaml:"max_clients"`
	Disabled   bool `yaml:"disabled"`
}

// AuditConfig chooses the audit sink: one JSON line per login outcome,
// pseudonymous, with attribute names but never values.
type AuditConfig struct {
	// File is appended to; empty or "-" means standard output (logs go to
	// standard error).
	File string `yaml:"file"`
}

// LogConfig configures logging.
type LogConfig struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// Secret is a secret given by file or environment variable, never inline.
type Secret struct {
	File string `yaml:"file"`
	Env  string `yaml:"env"`
}

// LoadConfig reads path with strict decoding: an unknown key is an error
// that names the key and its line.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	c.dir = filepath.Dir(path)
	return &c, nil
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
	// TrustedProxies are the parsed http.trusted_proxies.
	TrustedProxies []netip.Prefix
	// AuthnContexts is the configured policy table (nil: the default).
	AuthnContexts *authncontext.Table
	// SAMLAdditionalCerts are the loaded saml.additional_signing_cert_files,
	// published in the IdP metadata after SAMLKey's certificate.
	SAMLAdditionalCerts []*x509.Certificate
}

// Resolve validates c and loads everything it refers to. It reports every
// problem at once (errors.Join), each naming the setting concerned.
func (c *Config) Resolve(now time.Time) (*Resolved, error) {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	r := &Resolved{Config: c}

	if u, err := url.Parse(c.ExternalURL); c.ExternalURL == "" || err != nil || u.Host == "" || (u.Scheme != "https" && !isLoopbackHTTP(u)) {
		add("external_url: %q must be an absolute https URL (http only on loopback)", c.ExternalURL)
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if c.TLS != nil && (c.TLS.CertFile == "" || c.TLS.KeyFile == "") {
		add("tls: cert_file and key_file are both required")
	}
	// SAML signing key.
	if c.SAML.SigningKeyFile == "" {
		add("saml.signing_key_file: missing")
	} else if kp, err := certs.LoadFiles(c.path(c.SAML.SigningKeyFile), c.path(c.SAML.SigningCertFile)); err != nil {
		add("saml.signing_key_file: %w", err)
	} else if kp.Cert == nil {
		add("saml.signing_cert_file: no certificate for the SAML signing key")
	} else {
		if now.After(kp.Cert.NotAfter) {
			add("saml.signing_cert_file: the certificate expired on %s", kp.Cert.NotAfter.Format(time.DateOnly))
		}
		r.SAMLKey = kp
	}
	for i, f := range c.SAML.AdditionalSigningCertFiles {
		where := fmt.Sprintf("saml.additional_signing_cert_files[%d]", i)
		data, err := os.ReadFile(c.path(f))
		if err != nil {
			add("%s: %w", where, err)
			continue
		}
		cert, err := metadata.ParseSigningCert(data, now)
		if err != nil {
			add("%s (%s): %w", where, f, err)
			continue
		}
		if r.SAMLKey != nil && cert.Equal(r.SAMLKey.Cert) {
			add("%s (%s): this is the current signing certificate (saml.signing_cert_file); list only the next or the previous one", where, f)
			continue
		}
		if slices.ContainsFunc(r.SAMLAdditionalCerts, cert.Equal) {
			add("%s (%s): listed twice", where, f)
			continue
		}
		r.SAMLAdditionalCerts = append(r.SAMLAdditionalCerts, cert)
	}
	if (c.SAML.OrganizationName == "") != (c.SAML.OrganizationURL == "") {
		add("saml: organization_name and organization_url must be given together (the metadata schema requires both)")
	}
	if c.SAML.MetadataValidFor == 0 {
		c.SAML.MetadataValidFor = 7 * 24 * time.Hour
	}
	// itsme.
	if c.Itsme.Issuer == "" {
		add("itsme.issuer: missing (https://idp.e2e.itsme.services/v2 or https://idp.prd.itsme.services/v2)")
	} else if u, err := url.Parse(c.Itsme.Issuer); err != nil || (u.Scheme != "https" && !isLoopbackHTTP(u)) {
		// Plain http only reaches a local emulator (samlbridge emulator).
		add("itsme.issuer: %q must be an https URL (http only on loopback, for the emulator)", c.Itsme.Issuer)
	}
	if c.Itsme.ClientID == "" {
		add("itsme.client_id: missing (the partner code from itsme onboarding)")
	}
	for k, v := range c.Itsme.Services {
		if k != "authentication" && k != "identification" {
			add("itsme.services: unknown service %q (want authentication or identification)", k)
		}
		if v == "" {
			add("itsme.services.%s: empty service code", k)
		}
	}
	if c.Itsme.Services["identification"] == "" && c.Itsme.Services["authentication"] == "" {
		add("itsme.services: at least one of authentication or identification needs a service code")
	}
	r.Services = c.Itsme.Services
	if c.Itsme.Timeout < 0 || c.Itsme.Timeout > time.Minute {
		add("itsme.timeout: %s must be between 0 (the default, 10s) and 1m", c.Itsme.Timeout)
	}
	if c.Itsme.Breaker.Threshold < 0 || c.Itsme.Breaker.Threshold > 1000 {
		add("itsme.breaker.threshold: %d must be between 0 (the default, 5) and 1000", c.Itsme.Breaker.Threshold)
	}
	if c.Itsme.Breaker.Cooldown < 0 || c.Itsme.Breaker.Cooldown > time.Hour {
		add("itsme.breaker.cooldown: %s must be between 0 (the default, 30s) and 1h", c.Itsme.Breaker.Cooldown)
	}
	if c.Metrics.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Metrics.Listen); err != nil {
			add("metrics.listen: %q is not host:port: %w", c.Metrics.Listen, err)
		}
	} else if c.Metrics.Pprof {
		add("metrics.pprof: true needs metrics.listen: profiles are served on the admin listener only")
	}
	jose := &certs.JOSEKeys{}
	for _, k := range []struct {
		name, file string
		dst        **certs.KeyPair
	}{{"itsme.signing_key_file", c.Itsme.SigningKeyFile, &jose.Sig}, {"itsme.encryption_key_file", c.Itsme.EncryptionKeyFile, &jose.Enc}} {
		if k.file == "" {
			add("%s: missing", k.name)
			continue
		}
		kp, err := certs.LoadFiles(c.path(k.file), "")
		if err != nil {
			add("%s: %w", k.name, err)
			continue
		}
		*k.dst = kp
	}
	for i, f := range c.Itsme.OldEncryptionKeyFiles {
		kp, err := certs.LoadFiles(c.path(f), "")
		if err != nil {
			add("itsme.old_encryption_key_files[%d]: %w", i, err)
			continue
		}
		jose.OldEnc = append(jose.OldEnc, kp)
	}
	if f := c.Itsme.NextSigningKeyFile; f != "" {
		if kp, err := certs.LoadFiles(c.path(f), ""); err != nil {
			add("itsme.next_signing_key_file: %w", err)
		} else {
			jose.NextSig = kp
		}
	}
	if jose.Sig != nil && jose.Enc != nil {
		if err := jose.Validate(); err != nil {
			add("itsme keys: %w", err)
		}
		r.JOSE = jose
	}
	// Pairwise secret.
	if secret, err := c.PairwiseSecret.load(c); err != nil {
		add("pairwise_secret: %w", err)
	} else {
		r.Secret = secret
	}
	// Session store.
	switch c.Session.Store {
	case "", "memory":
		if c.Session.URL != "" {
			add("session.url: only used with store: redis")
		}
	case "redis":
		if _, err := sessionredis.ParseURL(c.Session.URL); err != nil {
			add("session.url: %w", err)
		}
		if len(c.Session.KeyPrefix) > 64 || strings.ContainsAny(c.Session.KeyPrefix, " \t\r\n{}") {
			add("session.key_prefix: %q must be at most 64 characters, without spaces or braces", c.Session.KeyPrefix)
		}
		if secret, err := c.Session.Secret.load(c); err != nil {
			add("session.secret: %w", err)
		} else {
			r.StoreSecret = secret
		}
	default:
		add("session.store: %q is not memory or redis", c.Session.Store)
	}
	// SPs.
	if len(c.ServiceProviders) == 0 {
		add("service_providers: none configured")
	}
	known := map[string]bool{}
	for _, d := range attributes.Definitions() {
		known[d.Name] = true
	}
	for i, spc := range c.ServiceProviders {
		where := fmt.Sprintf("service_providers[%d]", i)
		policy, perrs := spc.policy(where, known)
		errs = append(errs, perrs...)
		n := 0
		for _, v := range []string{spc.MetadataFile, spc.MetadataURL, spc.MDQURL} {
			if v != "" {
				n++
			}
		}
		if n != 1 {
			add("%s: give exactly one of metadata_file, metadata_url or mdq_url", where)
			continue
		}
		if spc.MetadataFile == "" {
			c.remoteSP(r, spc, where, policy, add)
			continue
		}
		data, err := os.ReadFile(c.path(spc.MetadataFile))
		if err != nil {
			add("%s.metadata_file: %w", where, err)
			continue
		}
		sps, err := metadata.ParseServiceProviders(data, metadata.ParseOptions{AllowInsecureACS: spc.AllowInsecureACS, Now: func() time.Time { return now }})
		if err != nil {
			add("%s (%s): %w", where, spc.MetadataFile, err)
			continue
		}
		for _, sp := range sps {
			if err := policy(sp); err != nil {
				add("%s (%s): %w", where, sp.EntityID, err)
			}
			r.SPs = append(r.SPs, sp)
		}
	}
	if reg, err := metadata.NewStaticRegistry(r.SPs...); err != nil {
		add("service_providers: %w", err)
	} else {
		r.SPRegistry = reg
	}
	if len(r.Sources) > 0 || r.MDQ != nil {
		reg, err := remote.NewRegistry(remote.RegistryConfig{Static: r.SPs, Sources: r.Sources, MDQ: r.MDQ})
		if err != nil {
			add("service_providers: %w", err)
		} else {
			r.Remote, r.SPRegistry = reg, reg
		}
	}
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
				add("authn_contexts.classes[%d].acr: %q is not acr_basic or acr_advanced", i, cl.ACR)
			}
			t.Classes = append(t.Classes, authncontext.Class{Ref: cl.Ref, Rank: cl.Rank, ACR: acr})
		}
		if err := t.Validate(); err != nil {
			add("authn_contexts: %w", err)
		} else {
			r.AuthnContexts = &t
		}
	}
	if c.Artifact.Lifetime < 0 || c.Artifact.Lifetime > 10*time.Minute {
		add("artifact.lifetime: %s must be between 0 (the default, 1m) and 10m", c.Artifact.Lifetime)
	}
	if c.SSOSession.Lifetime < 0 || c.SSOSession.Lifetime > 24*time.Hour {
		add("sso_session.lifetime: %s must be between 0 (the default, 1h) and 24h", c.SSOSession.Lifetime)
	}
	// HTTP front.
	for _, f := range []struct {
		name string
		v    int
	}{{"per_minute", c.HTTP.RateLimit.PerMinute}, {"burst", c.HTTP.RateLimit.Burst}, {"max_clients", c.HTTP.RateLimit.MaxClients}} {
		if f.v < 0 {
			add("http.rate_limit.%s: %d must not be negative (0 means the default)", f.name, f.v)
		}
	}
	for i, s := range c.HTTP.TrustedProxies {
		p, err := parseTrustedProxy(s)
		if err != nil {
			add("http.trusted_proxies[%d]: %w", i, err)
			continue
		}
		r.TrustedProxies = append(r.TrustedProxies, p)
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Format == "" {
		c.Log.Format = "json"
	}
	if _, err := newLogger(os.Stderr, c.Log.Level, c.Log.Format); err != nil {
		add("log: %w", err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
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

// policy validates spc's settings (each problem named under where) and
// returns the function that applies them to one SP from its metadata; the
// function reports an SP the settings cannot apply to.
func (spc SPConfig) policy(where string, known map[string]bool) (func(*metadata.ServiceProvider) error, []error) {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	profile, err := attributes.ParseProfile(spc.AttributeProfile)
	if err != nil {
		add("%s.attribute_profile: %w", where, err)
	}
	for _, a := range spc.Attributes {
		if !known[a] {
			add("%s.attributes: unknown attribute %q", where, a)
		}
	}
	for _, a := range spc.Release {
		if !slices.Contains(spc.Attributes, a) {
			add("%s.release: %q is not in its attributes", where, a)
		}
	}
	signing := spc.Signing
	if spc.SignResponse {
		if signing != "" && signing != "both" {
			add("%s: sign_response: true contradicts signing: %s (use signing only)", where, signing)
		}
		signing = "both"
	}
	if _, err := saml.ParseSigning(signing); err != nil {
		add("%s.signing: %q is not assertion, response or both", where, spc.Signing)
	}
	sigAlg, err := saml.SignatureMethodByName(spc.SignatureAlgorithm)
	if err != nil {
		add("%s.signature_algorithm: %q is not rsa-sha256, rsa-sha384, rsa-sha512 or rsa-sha1", where, spc.SignatureAlgorithm)
	} else if sigAlg == saml.SignatureRSASHA1 && !spc.LegacySHA1 {
		add("%s.signature_algorithm: rsa-sha1 is broken and needs legacy_sha1: true, for an SP that can verify nothing else", where)
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
		if len(sp.EncryptionCerts) == 0 && entitledToSensitive(spc.Attributes) {
			// PRIV-06: national numbers travel only in encrypted assertions.
			errs = append(errs, errors.New("may receive the national number but its metadata has no encryption key"))
		}
		return errors.Join(errs...)
	}, errs
}

// remoteSP sets up a metadata URL or the MDQ service of spc.
func (c *Config) remoteSP(r *Resolved, spc SPConfig, where string, policy remote.Policy, add func(string, ...any)) {
	trust := remote.Trust{AllowUnsigned: spc.MetadataAllowUnsigned, RequireValidUntil: spc.MetadataRequireValidUntil, AllowInsecureACS: spc.AllowInsecureACS}
	for j, f := range spc.MetadataSigningCertFiles {
		cert, err := readCertificate(c.path(f))
		if err != nil {
			add("%s.metadata_signing_cert_files[%d]: %w", where, j, err)
			continue
		}
		trust.Certificates = append(trust.Certificates, cert)
	}
	if spc.MetadataURL != "" {
		src, err := remote.NewSource(remote.SourceConfig{URL: spc.MetadataURL, Trust: trust, CacheFile: c.path(spc.MetadataCacheFile),
			Refresh: spc.MetadataRefresh, Policy: policy})
		if err != nil {
			add("%s.metadata_url: %w", where, err)
			return
		}
		r.Sources = append(r.Sources, src)
		return
	}
	if r.MDQ != nil {
		add("%s.mdq_url: only one Metadata Query service may be configured", where)
		return
	}
	mdq, err := remote.NewMDQ(remote.MDQConfig{BaseURL: spc.MDQURL, Trust: trust, Policy: policy})
	if err != nil {
		add("%s.mdq_url: %w", where, err)
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

func entitledToSensitive(attrs []string) bool {
	for _, a := range attrs {
		if d, ok := attributes.Lookup(a); ok && d.Sensitive {
			return true
		}
	}
	return false
}

func isLoopbackHTTP(u *url.URL) bool {
	h := u.Hostname()
	return u.Scheme == "http" && (h == "127.0.0.1" || h == "::1" || h == "localhost")
}

func (s Secret) load(c *Config) ([]byte, error) {
	var raw string
	switch {
	case s.File != "" && s.Env != "":
		return nil, errors.New("give either file or env, not both")
	case s.File != "":
		b, err := os.ReadFile(c.path(s.File))
		if err != nil {
			return nil, err
		}
		raw = string(b)
	case s.Env != "":
		v, ok := os.LookupEnv(s.Env)
		if !ok {
			return nil, fmt.Errorf("environment variable %s is not set", s.Env)
		}
		raw = v
	default:
		return nil, errors.New("missing: give file or env (a hex string of at least 32 bytes)")
	}
	b, err := hex.DecodeString(strings.TrimSpace(raw))
	if err != nil || len(b) < 32 {
		return nil, errors.New("must be a hex string of at least 32 bytes (64 hex characters)")
	}
	return b, nil
}
