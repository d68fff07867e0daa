package itsme

import (
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/samlbridge/samlbridge/certs"
	"github.com/samlbridge/samlbridge/internal/breaker"
)

// Defaults applied by New for zero Config fields.
const (
	DefaultLeeway       = 60 * time.Second
	DefaultMaxBodyBytes = 512 << 10
	DefaultHTTPTimeout  = 10 * time.Second
	// DefaultAssertionStock is the default of Config.AssertionStock.
	DefaultAssertionStock = 4
	// DefaultRequestObjectStock is the default of Config.RequestObjectStock.
	DefaultRequestObjectStock = 4
	// MaxTokenBytes caps the size of an ID token or userinfo JWT.
	MaxTokenBytes = 256 << 10
	// MaxIssuedAtAge is how old an ID token's iat may be.
	MaxIssuedAtAge = 10 * time.Minute
	// JWKSRefetchCooldown is the minimum time between two JWK Set fetches
	// triggered by an unknown kid.
	JWKSRefetchCooldown = 30 * time.Second
	// MetadataTTL is how long discovery and the JWK Set are used before
	// they are fetched again.
	MetadataTTL = time.Hour
	// RequestObjectLifetime is exp-iat of the request object.
	RequestObjectLifetime = 5 * time.Minute
	// ClientAssertionLifetime is exp-iat of the client assertion.
	ClientAssertionLifetime = 60 * time.Second
)

// Config configures a Client. The zero values of the optional fields mean
// the defaults described on each field.
type Config struct {
	// Issuer is itsme's issuer, e.g. "https://idp.e2e.itsme.services/v2".
	// Discovery is read from Issuer+"/.well-known/openid-configuration"
	// and its issuer must equal Issuer exactly.
	Issuer string
	// ClientID is the partner code issued by itsme.
	ClientID string
	// RedirectURI is the bridge's registered callback URL.
	RedirectURI string
	// ServiceCodes maps each itsme.Service to its service code, sent as
	// the "service:<CODE>" scope.
	ServiceCodes map[Service]string
	// Keys are the bridge's signing and decryption keys.
	Keys *certs.JOSEKeys
	// EncryptRequestObject wraps the signed request object in a JWE to
	// itsme's use=enc key (RSA-OAEP-256 and A128CBC-HS256 unless discovery
	// only allows RSA-OAEP or A256GCM).
	EncryptRequestObject bool
	// HTTPClient is used for every call to itsme. Nil means a client with
	// no deadline of its own: every call is bounded by Timeout. Redirects
	// are never followed, whatever the client's CheckRedirect says
	// (OIDC-09).
	HTTPClient *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand is the randomness for jti values; nil means crypto/rand. It
	// must be safe for concurrent use.
	Rand io.Reader
	// Logger receives one event per step; nil discards.
	Logger *slog.Logger
	// Leeway is the symmetric clock skew allowed on exp, iat and nbf;
	// zero means 60 s.
	Leeway time.Duration
	// MaxBodyBytes caps every response body read from itsme; zero means
	// 512 KiB.
	MaxBodyBytes int64
	// Timeout bounds each HTTP call to itsme, reading the body included,
	// whatever HTTPClient says; zero means 10 s. One login makes at most
	// three calls (token, userinfo and a JWK Set refresh), so a slow itsme
	// delays the answer to the SP by at most three times Timeout.
	Timeout time.Duration
	// Breaker configures the circuit breaker in front of every call: after
	// Breaker.Threshold consecutive transport failures, timeouts, 5xx or
	// 429 answers, calls fail at once (CodeUnavailable, ErrCircuitOpen)
	// for Breaker.Cooldown, then one probe call decides. Zero values mean
	// 5 failures and 30 s. Its Now and OnChange are set by New.
	Breaker breaker.Config
	// Observer, when set, receives a measurement of every call (metrics).
	Observer Observer
	// AssertionStock is how many client assertions are kept signed ahead
	// of need, so that a login's token request does not wait for an RSA
	// signature: while token requests come at least twice within 20 s,
	// one is signed in the background for each one used, and none is used
	// more than 20 s after it was signed. Zero means 4; negative keeps
	// none.
	AssertionStock int
	// RequestObjectStock is how many request objects, with their state,
	// nonce and PKCE verifier, BeginAuth keeps signed ahead for each kind
	// of request, so that a login's redirect to itsme does not wait for an
	// RSA signature: one is signed in the background for each one used of
	// a kind asked for at least twice within 20 s, and none is used more
	// than 20 s after it was signed. Zero means 4; negative keeps none.
	RequestObjectStock int
}

// Observer receives measurements of the Client's calls to itsme. Its
// methods must be fast and safe for concurrent use.
type Observer interface {
	// ObserveCall reports one HTTP call: its stage (StageDiscovery,
	// StageJWKS, StageToken, StageUserInfo), its outcome (OutcomeOK,
	// OutcomeHTTPError, OutcomeUnavailable, OutcomeRefused) and how long
	// it took.
	ObserveCall(stage, outcome string, d time.Duration)
	// ObserveBreaker reports a change of the circuit breaker's state.
	ObserveBreaker(from, to breaker.State)
}

// Outcomes reported to Observer.ObserveCall.
const (
	// OutcomeOK: itsme answered (any status below 500 except 429).
	OutcomeOK = "ok"
	// OutcomeHTTPError: itsme answered 5xx or 429.
	OutcomeHTTPError = "http_error"
	// OutcomeUnavailable: the connection failed or timed out.
	OutcomeUnavailable = "unavailable"
	// OutcomeRefused: the circuit breaker refused the call; no request
	// was sent.
	OutcomeRefused = "refused"
)

func (cfg *Config) validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if err := checkBaseURL(cfg.Issuer); err != nil {
		add("Issuer: %w", err)
	}
	if cfg.ClientID == "" {
		add("ClientID: missing")
	}
	if err := checkBaseURL(cfg.RedirectURI); err != nil {
		add("RedirectURI: %w", err)
	}
	if len(cfg.ServiceCodes) == 0 {
		add("ServiceCodes: no service code configured")
	}
	for svc, code := range cfg.ServiceCodes {
		if code == "" || strings.ContainsAny(code, " \t\r\n\"\\") {
			add("ServiceCodes[%s]: empty or contains spaces or quotes", svc)
		}
	}
	if cfg.Keys == nil {
		add("Keys: missing")
	} else if err := cfg.Keys.Validate(); err != nil {
		add("Keys: %w", err)
	}
	if cfg.Leeway < 0 || cfg.Leeway > 5*time.Minute {
		add("Leeway: %s out of range [0, 5m]", cfg.Leeway)
	}
	if cfg.MaxBodyBytes < 0 {
		add("MaxBodyBytes: negative")
	}
	if cfg.Timeout < 0 || cfg.Timeout > 5*time.Minute {
		add("Timeout: %s out of range [0, 5m]", cfg.Timeout)
	}
	if cfg.Breaker.Threshold < 0 || cfg.Breaker.Cooldown < 0 {
		add("Breaker: threshold and cooldown must not be negative")
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrConfig, errors.Join(errs...))
}

// checkBaseURL accepts absolute http(s) URLs without fragment. Production
// configuration (cmd/samlbridge) additionally insists on https; plain http
// is allowed here for the local emulator.
func checkBaseURL(s string) error {
	if s == "" {
		return errors.New("missing")
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("not a URL: %w", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q must be an absolute http(s) URL without user info or fragment", s)
	}
	return nil
}

// noRedirects is the CheckRedirect of every client the Client uses.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// maxIdleConns is how many idle keep-alive connections to itsme the
// default client keeps.
const maxIdleConns = 64

// httpClient returns a copy of c (or a default client) that never follows
// redirects. The default client sets no overall or response-header
// deadline: Client.do bounds each call by Config.Timeout, and a second,
// fixed bound underneath would cut a longer configured timeout short.
func httpClient(c *http.Client) *http.Client {
	if c == nil {
		tr := &http.Transport{
			Proxy:             http.ProxyFromEnvironment,
			DialContext:       (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2: true,
			// itsme is one host: keep as many connections to it idle as
			// logins may be at their token or userinfo step at once, or
			// each call past the second opens a new connection (a TLS
			// handshake to real itsme). net/http keeps 2 by default.
			MaxIdleConns:        maxIdleConns,
			MaxIdleConnsPerHost: maxIdleConns,
			IdleConnTimeout:     90 * time.Second,
			TLSHandshakeTimeout: 5 * time.Second,
			TLSClientConfig:     &tls.Config{MinVersion: tls.VersionTLS12},
		}
		return &http.Client{Transport: tr, CheckRedirect: noRedirects}
	}
	cp := *c
	cp.CheckRedirect = noRedirects
	return &cp
}

func (cfg Config) withDefaults() Config {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = DefaultLeeway
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultHTTPTimeout
	}
	if cfg.AssertionStock == 0 {
		cfg.AssertionStock = DefaultAssertionStock
	}
	if cfg.RequestObjectStock == 0 {
		cfg.RequestObjectStock = DefaultRequestObjectStock
	}
	cfg.HTTPClient = httpClient(cfg.HTTPClient)
	svc := make(map[Service]string, len(cfg.ServiceCodes))
	for k, v := range cfg.ServiceCodes {
		svc[k] = v
	}
	cfg.ServiceCodes = svc
	return cfg
}
