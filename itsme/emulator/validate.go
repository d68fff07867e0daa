package emulator

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// minRSABits is the smallest RSA key the emulator accepts.
const minRSABits = 2048

// withDefaults fills the zero fields of cfg.
func withDefaults(cfg Config) Config {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{
			Timeout:       fetchTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if cfg.Personas == nil {
		cfg.Personas = DefaultPersonas()
	}
	if cfg.StoreLimit == 0 {
		cfg.StoreLimit = DefaultStoreLimit
	}
	if cfg.IDTokenKeyAlg == "" {
		cfg.IDTokenKeyAlg = jose.RSA_OAEP
	}
	if cfg.IDTokenContentEnc == "" {
		cfg.IDTokenContentEnc = jose.A128CBC_HS256
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&cfg.CodeTTL, DefaultCodeTTL}, {&cfg.TokenTTL, DefaultTokenTTL}, {&cfg.AccessTokenTTL, DefaultAccessTokenTTL}, {&cfg.PendingTTL, DefaultPendingTTL}} {
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	return cfg
}

// validate returns every problem of cfg (after withDefaults), each
// wrapping ErrConfig.
func validate(cfg Config) error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...))
	}
	if err := checkURL(cfg.Issuer, cfg.AllowInsecureRedirects, false); err != nil {
		bad("Issuer: %v", err)
	} else if strings.HasSuffix(cfg.Issuer, "/") {
		bad("Issuer must not end with a slash")
	}
	switch cfg.IDTokenKeyAlg {
	case jose.RSA_OAEP, jose.RSA_OAEP_256:
	default:
		bad("IDTokenKeyAlg %q: want RSA-OAEP or RSA-OAEP-256", cfg.IDTokenKeyAlg)
	}
	switch cfg.IDTokenContentEnc {
	case jose.A128CBC_HS256, jose.A256GCM:
	default:
		bad("IDTokenContentEnc %q: want A128CBC-HS256 or A256GCM", cfg.IDTokenContentEnc)
	}
	for name, d := range map[string]time.Duration{"CodeTTL": cfg.CodeTTL, "TokenTTL": cfg.TokenTTL, "AccessTokenTTL": cfg.AccessTokenTTL, "PendingTTL": cfg.PendingTTL} {
		if d < time.Second {
			bad("%s %s: must be at least one second", name, d)
		}
	}
	for name, k := range map[string]*rsa.PrivateKey{"SigningKey": cfg.SigningKey, "EncryptionKey": cfg.EncryptionKey} {
		if k != nil && k.N.BitLen() < minRSABits {
			bad("%s: RSA key of %d bits, want at least %d", name, k.N.BitLen(), minRSABits)
		}
	}
	if cfg.SigningKey != nil && cfg.EncryptionKey != nil && cfg.SigningKey.PublicKey.Equal(&cfg.EncryptionKey.PublicKey) {
		bad("SigningKey and EncryptionKey must differ")
	}
	if cfg.StoreLimit < 1 {
		bad("StoreLimit %d: must be positive", cfg.StoreLimit)
	}
	if cfg.SubjectSecret != nil && len(cfg.SubjectSecret) < 16 {
		bad("SubjectSecret: want at least 16 bytes")
	}
	if len(cfg.Clients) == 0 {
		bad("no Clients")
	}
	ids := map[string]bool{}
	for i, c := range cfg.Clients {
		if ids[c.ID] {
			bad("client %q registered twice", c.ID)
		}
		ids[c.ID] = true
		for _, err := range validateClient(c, cfg.AllowInsecureRedirects) {
			bad("client #%d %q: %v", i, c.ID, err)
		}
	}
	if len(cfg.Personas) == 0 {
		bad("Personas: empty list (nil means the defaults)")
	}
	pids := map[string]bool{}
	for i, p := range cfg.Personas {
		switch {
		case p.ID == "" || len(p.ID) > 64:
			bad("persona #%d: ID empty or longer than 64 bytes", i)
		case pids[p.ID]:
			bad("persona %q defined twice", p.ID)
		case p.Claims == nil:
			bad("persona %q: no Claims", p.ID)
		}
		pids[p.ID] = true
		if _, err := json.Marshal(p.Claims); err != nil {
			bad("persona %q: claims are not JSON: %v", p.ID, err)
		}
	}
	return errors.Join(errs...)
}

// validateClient returns the problems of one client registration.
func validateClient(c Client, insecure bool) []error {
	var errs []error
	if c.ID == "" || len(c.ID) > 255 || strings.ContainsFunc(c.ID, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		errs = append(errs, errors.New("ID must be 1-255 printable ASCII characters"))
	}
	if len(c.RedirectURIs) == 0 {
		errs = append(errs, errors.New("no RedirectURIs"))
	}
	for _, u := range c.RedirectURIs {
		if err := checkRegisteredURL(u, insecure, false); err != nil {
			errs = append(errs, fmt.Errorf("redirect URI %q: %w", u, err))
		}
	}
	for _, u := range c.RequestURIs {
		if err := checkRegisteredURL(u, insecure, true); err != nil {
			errs = append(errs, fmt.Errorf("request URI %q: %w", u, err))
		}
	}
	switch {
	case c.JWKS != nil:
		sig, enc, problems := splitKeys(*c.JWKS)
		errs = append(errs, problems...)
		if len(sig) == 0 || len(enc) == 0 {
			errs = append(errs, errors.New("JWKS needs at least one use=sig and one use=enc RSA key with a kid"))
		}
	case c.JWKSURL != "":
		if err := checkURL(c.JWKSURL, insecure, false); err != nil {
			errs = append(errs, fmt.Errorf("JWKSURL: %w", err))
		}
	default:
		errs = append(errs, errors.New("neither JWKS nor JWKSURL"))
	}
	if len(c.Services) == 0 {
		errs = append(errs, errors.New("no Services"))
	}
	codes := map[string]bool{}
	for _, s := range c.Services {
		if s.Code == "" || strings.ContainsFunc(s.Code, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
			errs = append(errs, fmt.Errorf("service code %q: must be printable ASCII without spaces", s.Code))
		}
		if codes[s.Code] {
			errs = append(errs, fmt.Errorf("service code %q listed twice", s.Code))
		}
		codes[s.Code] = true
		switch s.Type {
		case ServiceAuthentication, ServiceIdentification, ServiceConfirmation, ServiceDataSharing:
		default:
			errs = append(errs, fmt.Errorf("service %q: unknown type %q", s.Code, s.Type))
		}
	}
	return errs
}

// checkURL checks an absolute URL without fragment: https, or http on a
// loopback host when insecure is set. explicitPort requires https URLs to
// name port 443 (itsme's rule for request_uri, itsme-oidc.md §2.1).
func checkURL(raw string, insecure, explicitPort bool) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("not a URL: %w", err)
	case u.Host == "" || u.Opaque != "" || u.User != nil:
		return errors.New("must be an absolute URL without user info")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return errors.New("must not have a fragment")
	case u.Scheme == "https":
		if explicitPort && u.Port() != "443" {
			return errors.New("https request URIs must name port :443")
		}
		return nil
	case u.Scheme == "http" && insecure && isLoopback(u.Hostname()):
		return nil
	case u.Scheme == "http" && insecure:
		return errors.New("http is accepted only on loopback hosts")
	default:
		return errors.New("must use https")
	}
}

// checkRegisteredURL is checkURL for a redirect URI or request URI a
// client registers: itsme refuses loopback hosts there, whatever the
// scheme (its localhost exception was removed; a request_uri must be
// publicly reachable, itsme-oidc.md §2, §2.1), so they need insecure.
func checkRegisteredURL(raw string, insecure, explicitPort bool) error {
	if err := checkURL(raw, insecure, explicitPort); err != nil {
		return err
	}
	if u, _ := url.Parse(raw); !insecure && isLoopback(u.Hostname()) {
		return errors.New("loopback hosts (localhost, 127.0.0.0/8, ::1) are accepted only with AllowInsecureRedirects")
	}
	return nil
}

// isLoopback reports whether host is localhost (or a name under
// .localhost, RFC 6761 §6.3) or a loopback IP.
func isLoopback(host string) bool {
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// splitKeys returns the usable public RSA keys of set by use, and the
// problems of the others (private material, missing kid, weak keys).
func splitKeys(set jose.JSONWebKeySet) (sig, enc []jose.JSONWebKey, problems []error) {
	for i, k := range set.Keys {
		pub, ok := k.Key.(*rsa.PublicKey)
		switch {
		case !k.IsPublic():
			problems = append(problems, fmt.Errorf("JWKS key #%d holds private material", i))
			continue
		case !ok:
			problems = append(problems, fmt.Errorf("JWKS key #%d (kid %q) is not RSA", i, k.KeyID))
			continue
		case k.KeyID == "":
			problems = append(problems, fmt.Errorf("JWKS key #%d has no kid", i))
			continue
		case pub.N.BitLen() < minRSABits:
			problems = append(problems, fmt.Errorf("JWKS key %q has %d bits", k.KeyID, pub.N.BitLen()))
			continue
		}
		switch k.Use {
		case "sig":
			sig = append(sig, k)
		case "enc":
			enc = append(enc, k)
		default:
			problems = append(problems, fmt.Errorf("JWKS key %q: use %q, want sig or enc", k.KeyID, k.Use))
		}
	}
	return sig, enc, problems
}
