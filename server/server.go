package server

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/samlbridge/samlbridge/audit"
	"github.com/samlbridge/samlbridge/authncontext"
	"github.com/samlbridge/samlbridge/itsme"
	"github.com/samlbridge/samlbridge/metadata"
	"github.com/samlbridge/samlbridge/metrics"
	"github.com/samlbridge/samlbridge/saml"
	"github.com/samlbridge/samlbridge/session"
)

// Upstream is the identity provider behind the bridge (itsme). Errors are
// *itsme.Error where the upstream or the transport failed.
type Upstream interface {
	// BeginAuth makes req's per-flow secrets and returns req with them and
	// the authorization URL (see itsme.Client.BeginAuth).
	BeginAuth(ctx context.Context, req itsme.AuthRequest) (itsme.AuthRequest, string, error)
	// Exchange redeems the authorization code of req's flow and returns
	// the verified identity.
	Exchange(ctx context.Context, code string, req itsme.AuthRequest) (*itsme.Identity, error)
}

// Paths served by the bridge.
const (
	PathSSO      = "/saml/sso"
	PathMetadata = "/saml/metadata"
	PathCallback = "/oidc/callback"
	PathJWKS     = "/jwks"
	PathHealthz  = "/healthz"
	// PathArtifactResolve is the SOAP ArtifactResolutionService (served
	// only when the Artifact binding is on).
	PathArtifactResolve = "/saml/artifact"
)

// Config configures a Server. Values must not change after New.
type Config struct {
	// ExternalURL is the bridge's public base URL (scheme, host, optional
	// path prefix), from configuration only, never from request headers.
	ExternalURL string
	// Registry knows the SPs.
	Registry metadata.Registry
	// Parser validates AuthnRequests. Its SSOURL must be
	// ExternalURL+PathSSO.
	Parser *saml.RequestParser
	// IDP builds signed responses.
	IDP *saml.IDP
	// IDPMetadata is the pre-serialised metadata served at PathMetadata.
	IDPMetadata []byte
	// Upstream is the itsme client.
	Upstream Upstream
	// UpstreamIssuer is itsme's issuer. When set, an "iss" parameter on
	// the callback must equal it (RFC 9207, mix-up defence).
	UpstreamIssuer string
	// JWKS is the bridge's public JWK Set served at PathJWKS.
	JWKS jose.JSONWebKeySet
	// Store keeps transactions and the replay cache.
	Store session.Store
	// PairwiseSecret keys the pairwise NameID HMAC (at least 32 bytes).
	PairwiseSecret []byte
	// DefaultRelease is what an SP gets when it requests nothing and its
	// configuration sets no DefaultRelease of its own (the Authentication
	// set); the SP's allow-list still applies.
	DefaultRelease []string
	// AuthnContexts is the policy table between RequestedAuthnContext and
	// itsme's acr; nil means authncontext.DefaultTable().
	AuthnContexts *authncontext.Table
	// Audit receives one event per login outcome; nil discards them.
	Audit audit.Sink
	// RateLimit limits SSO and callback requests per client address;
	// the zero value is the default limit (see RateLimit).
	RateLimit RateLimit
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed for the client address; empty means the peer address is
	// the client, whatever headers say (SES-10). A trusted proxy's
	// X-Request-Id is also logged beside the bridge's own request ID.
	TrustedProxies []netip.Prefix
	// Artifact turns on the HTTP-Artifact binding for responses and the
	// SOAP ArtifactResolve endpoint (off by default). IDPMetadata must
	// then advertise ExternalURL+PathArtifactResolve, and not otherwise.
	Artifact ArtifactBinding
	// SSOSession configures the bridge's optional SSO session (off by
	// default).
	SSOSession SSOSession
	// FlowTTL bounds how long a user may take at itsme (default 15 min).
	FlowTTL time.Duration
	// Metrics, when set, counts flows, store operations and HTTP
	// requests; the server wraps Audit and Store with it. Serving the
	// metrics is the caller's business (an admin listener).
	Metrics *metrics.Metrics
	// Now, Rand and Logger: nil means time.Now, crypto/rand, discard.
	Now    func() time.Time
	Rand   io.Reader
	Logger *slog.Logger
}

// Server is the bridge's HTTP front end.
type Server struct {
	cfg      Config
	secure   bool
	auditKey []byte
	log      *slog.Logger
	mux      *http.ServeMux
	limits   *clientLimiter
	ids      *requestIDs
	proxies  []netip.Prefix // TrustedProxies, masked
}

// New validates cfg and returns a Server.
func New(cfg Config) (*Server, error) {
	var errs []error
	u, err := url.Parse(cfg.ExternalURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("server: external URL %q must be an absolute http(s) URL", cfg.ExternalURL))
	}
	if cfg.Registry == nil {
		errs = append(errs, errors.New("server: no SP registry"))
	}
	if cfg.Parser == nil {
		errs = append(errs, errors.New("server: no AuthnRequest parser"))
	} else if u != nil && cfg.Parser.SSOURL != strings.TrimSuffix(cfg.ExternalURL, "/")+PathSSO {
		errs = append(errs, fmt.Errorf("server: parser SSO URL %q does not match the external URL", cfg.Parser.SSOURL))
	}
	if cfg.Parser != nil && u != nil && cfg.Parser.SLOURL != "" && cfg.Parser.SLOURL != strings.TrimSuffix(cfg.ExternalURL, "/")+PathSLO {
		errs = append(errs, fmt.Errorf("server: parser SLO URL %q does not match the external URL", cfg.Parser.SLOURL))
	}
	if cfg.IDP == nil || cfg.IDP.Signer == nil {
		errs = append(errs, errors.New("server: no IdP signer"))
	}
	if cfg.Upstream == nil {
		errs = append(errs, errors.New("server: no upstream"))
	}
	if cfg.Store == nil {
		errs = append(errs, errors.New("server: no session store"))
	}
	if len(cfg.PairwiseSecret) < 32 {
		errs = append(errs, errors.New("server: the pairwise NameID secret must be at least 32 bytes"))
	}
	if cfg.AuthnContexts == nil {
		t := authncontext.DefaultTable()
		cfg.AuthnContexts = &t
	}
	if err := cfg.AuthnContexts.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("server: authentication context table: %w", err))
	}
	if u != nil && cfg.Artifact.Enabled != advertisesArtifactResolution(cfg.IDPMetadata, strings.TrimSuffix(cfg.ExternalURL, "/")+PathArtifactResolve) {
		errs = append(errs, fmt.Errorf("server: the Artifact binding is enabled=%v but the IdP metadata says otherwise about its ArtifactResolutionService", cfg.Artifact.Enabled))
	}
	if cfg.Parser != nil && cfg.Parser.ArtifactBinding != cfg.Artifact.Enabled {
		errs = append(errs, errors.New("server: the parser's ArtifactBinding must match Artifact.Enabled"))
	}
	limits, err := newClientLimiter(cfg.RateLimit, cfg.TrustedProxies, cfg.PairwiseSecret)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if cfg.FlowTTL <= 0 {
		cfg.FlowTTL = 15 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Audit = cfg.Metrics.AuditSink(cfg.Audit)
	cfg.Store = cfg.Metrics.Store(cfg.Store)
	jwks, err := json.Marshal(cfg.JWKS)
	if err != nil {
		return nil, fmt.Errorf("server: encoding JWKS: %w", err)
	}
	s := &Server{cfg: cfg, secure: u.Scheme == "https", log: cfg.Logger, auditKey: auditKey(cfg.PairwiseSecret), limits: limits, ids: newRequestIDs(),
		proxies: maskedPrefixes(cfg.TrustedProxies)}
	s.mux = http.NewServeMux()
	m := cfg.Metrics
	s.mux.Handle(PathSSO, m.Instrument("sso", s.limited(audit.StageSSO, s.handleSSO)))
	s.mux.Handle(PathCallback, m.Instrument("callback", s.limited(audit.StageCallback, s.handleCallback)))
	s.mux.Handle(PathUnsolicited, m.Instrument("unsolicited", s.limited(audit.StageUnsolicited, s.handleUnsolicited)))
	if cfg.Parser.SLOURL != "" {
		s.mux.Handle(PathSLO, m.Instrument("slo", s.limited(audit.StageLogout, s.handleSLO)))
	}
	s.mux.Handle(PathArtifactResolve, m.Instrument("artifact_resolve", s.artifactResolveHandler()))
	s.mux.Handle(PathMetadata, m.Instrument("metadata", serveStatic("application/samlmetadata+xml", "public, max-age=3600", cfg.IDPMetadata)))
	// itsme caches RP key sets for 30 min to 24 h; a max-age of 30 min
	// keeps key rotation predictable (itsme-oidc.md §4.3).
	s.mux.Handle(PathJWKS, m.Instrument("jwks", serveStatic("application/jwk-set+json", "public, max-age=1800", jwks)))
	s.mux.HandleFunc(PathHealthz, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	s.mux.HandleFunc(PathReadyz, s.handleReadyz)
	return s, nil
}

// panicStages are the audit stages of the endpoints that end login and
// logout attempts.
var panicStages = map[string]audit.Stage{
	PathSSO: audit.StageSSO, PathCallback: audit.StageCallback,
	PathUnsolicited: audit.StageUnsolicited, PathSLO: audit.StageLogout,
}

// ServeHTTP implements http.Handler. It sets the security headers on
// every response, and recovers from panics so a bug never takes the
// process down, answering with a generic error page.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.setDefaultHeaders(w.Header())
	audited := new(atomic.Bool)
	r = r.WithContext(context.WithValue(s.withRequestID(w, r), auditedKey{}, audited))
	defer func() {
		if v := recover(); v != nil {
			// The stack names functions and lines; its argument words
			// are raw machine words, never the strings they point to.
			s.logger(r.Context()).Error("panic while handling request", "path", r.URL.Path, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			// The attempt ends here: one audit event, as for every other
			// ending, so that it is counted where logins are counted,
			// unless the request had recorded its event already.
			if stage, ok := panicStages[r.URL.Path]; ok && !audited.Load() {
				s.record(r.Context(), audit.Event{Stage: stage, Outcome: audit.Rejected, Reason: reasonInternal})
			}
			s.errorPage(w, pageLang(r), http.StatusInternalServerError, codeInternal)
		}
	}()
	s.mux.ServeHTTP(w, r)
}

// serveStatic returns a GET/HEAD handler for a document fixed at start-up.
func serveStatic(contentType, cacheControl string, body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", cacheControl)
		_, _ = w.Write(body)
	}
}
