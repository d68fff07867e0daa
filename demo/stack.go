package demo

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/samlbridge/samlbridge/attributes"
	"github.com/samlbridge/samlbridge/audit"
	"github.com/samlbridge/samlbridge/certs"
	"github.com/samlbridge/samlbridge/internal/breaker"
	"github.com/samlbridge/samlbridge/internal/httpsec"
	"github.com/samlbridge/samlbridge/itsme"
	"github.com/samlbridge/samlbridge/itsme/emulator"
	"github.com/samlbridge/samlbridge/metadata"
	"github.com/samlbridge/samlbridge/metrics"
	"github.com/samlbridge/samlbridge/saml"
	"github.com/samlbridge/samlbridge/server"
	"github.com/samlbridge/samlbridge/session"
	"github.com/samlbridge/samlbridge/session/memory"
)

// Demo client registration at the emulator.
const (
	ClientID           = "samlbridge-demo"
	ServiceLogin       = "SAMLBRIDGE_DEMO_LOGIN"
	ServiceIdentify    = "SAMLBRIDGE_DEMO_IDENTIFY"
	emulatorPathPrefix = "/v2"
)

// Options configures a demo stack.
type Options struct {
	// BaseURL is where the stack is reachable, e.g. http://127.0.0.1:8080.
	BaseURL string
	// StateDir keeps the generated TEST keys and the pairwise secret
	// across runs; empty means fresh in-memory keys.
	StateDir string
	// ExtraSPMetadata registers more SPs (each may receive every
	// attribute, as everything in demo mode).
	ExtraSPMetadata [][]byte
	// Store keeps logins in flight and the replay cache; nil means a fresh
	// in-memory store. Nodes of one cluster share a Redis store.
	Store session.Store
	// Personas replaces the emulator's fixture users (nil: the defaults);
	// the first is the one approved when the phone page is submitted as
	// found.
	Personas []emulator.Persona
	// EmulatorHook is passed to the emulator's TokenHook (tests).
	EmulatorHook func(kind string, claims map[string]any)
	// ConfigureSP, when set, adjusts each registered SP (the demo SP
	// included) after its metadata is parsed and before the registry is
	// built: what it may receive, whether it gets encrypted assertions.
	ConfigureSP func(*metadata.ServiceProvider)
	// Upstream, when set, points the bridge at another OpenID provider
	// instead of the built-in emulator (which stays mounted, unused).
	Upstream *Upstream
	// Audit receives the bridge's audit events; nil discards them.
	Audit audit.Sink
	// RateLimit limits SSO and callback requests per client address; the
	// zero value is the bridge's default limit.
	RateLimit server.RateLimit
	// SSOSession turns on the bridge's own SSO session (off by default,
	// as in production).
	SSOSession server.SSOSession
	// Artifact turns on the HTTP-Artifact binding and the bridge's SOAP
	// ArtifactResolve endpoint (off by default, as in production).
	Artifact server.ArtifactBinding
	// Metrics, when set, is fed by the bridge and the itsme client and
	// served at /metrics (the demo listens on loopback only).
	Metrics *metrics.Metrics
	// UpstreamTimeout bounds each call to itsme (zero: the client's
	// default, 10 s) and UpstreamBreaker configures the circuit breaker in
	// front of it; the fault tests make both short.
	UpstreamTimeout time.Duration
	UpstreamBreaker breaker.Config
	// Now, Rand and Logger default to time.Now, crypto/rand and discard.
	Now    func() time.Time
	Rand   io.Reader
	Logger *slog.Logger
}

// Upstream is an OpenID provider the demo bridge uses instead of the
// emulator. The bridge authenticates to it with the stack's JOSE keys,
// published at /jwks.
type Upstream struct {
	Issuer   string
	ClientID string
	// ServiceCodes maps each itsme service to its code at that provider.
	ServiceCodes map[itsme.Service]string
	// EncryptRequestObject encrypts the request object to the provider's
	// use=enc key, as the bridge does towards itsme.
	EncryptRequestObject bool
}

// Stack is the bridge, the emulator and the demo SP behind one handler.
type Stack struct {
	Handler  http.Handler
	Bridge   *server.Server
	Emulator *emulator.Emulator
	SP       *SP
	// Keys is the bridge's JOSE key pair towards itsme.
	Keys *certs.JOSEKeys
	// URLs worth printing.
	URLs map[string]string
}

type keySource func(name, cn string) (*certs.KeyPair, error)

// New builds a demo stack. It does not listen; serve Stack.Handler at
// opts.BaseURL.
func New(ctx context.Context, opts Options) (*Stack, error) {
	base := strings.TrimSuffix(opts.BaseURL, "/")
	if base == "" {
		return nil, errors.New("demo: no base URL")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	keys := keySource(func(_, cn string) (*certs.KeyPair, error) {
		return certs.Generate(nil, certs.DefaultKeyBits, cn, opts.Now(), 10*365*24*time.Hour)
	})
	if opts.StateDir != "" {
		keys = func(name, cn string) (*certs.KeyPair, error) {
			return certs.LoadOrCreate(opts.StateDir, name, cn, opts.Now())
		}
	}
	var errs []error
	load := func(name, cn string) *certs.KeyPair {
		kp, err := keys(name, cn)
		if err != nil {
			errs = append(errs, fmt.Errorf("demo: key %s: %w", name, err))
		}
		return kp
	}
	idpKey := load("idp-signing", "samlbridge demo IdP (TEST KEY)")
	joseSig := load("itsme-client-sig", "samlbridge demo itsme client signing (TEST KEY)")
	joseEnc := load("itsme-client-enc", "samlbridge demo itsme client encryption (TEST KEY)")
	opSig := load("emulator-sig", "itsme emulator signing (TEST KEY)")
	opEnc := load("emulator-enc", "itsme emulator encryption (TEST KEY)")
	spKey := load("demo-sp", "samlbridge demo SP (TEST KEY)")
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	secret, err := stateSecret(opts.StateDir, "pairwise-secret.hex", opts.Rand)
	if err != nil {
		return nil, err
	}
	subjectSecret, err := stateSecret(opts.StateDir, "emulator-subject-secret.hex", opts.Rand)
	if err != nil {
		return nil, err
	}

	ssoURL := base + server.PathSSO
	entityID := base + server.PathMetadata
	idpSigner := &saml.Signer{Key: idpKey.Key, Certs: []*x509.Certificate{idpKey.Cert}}
	idpMD, err := metadata.IDPMetadata(metadata.IDPConfig{
		EntityID:        entityID,
		SSOURL:          ssoURL,
		SingleLogoutURL: base + server.PathSLO,
		ArtifactResolutionURL: func() string {
			if opts.Artifact.Enabled {
				return base + server.PathArtifactResolve
			}
			return ""
		}(),
		SigningCerts:     []*x509.Certificate{idpKey.Cert},
		Sign:             idpSigner.SignEnveloped,
		NameIDFormats:    []string{saml.NameIDFormatPersistent, saml.NameIDFormatTransient, saml.NameIDFormatEmail, saml.NameIDFormatUnspecified},
		ValidUntil:       opts.Now().Add(7 * 24 * time.Hour),
		CacheDuration:    time.Hour,
		OrganizationName: "samlbridge demo",
		OrganizationURL:  base + "/",
	})
	if err != nil {
		return nil, fmt.Errorf("demo: IdP metadata: %w", err)
	}

	sp, err := newSP(base, spKey.Cert, spKey.Key, idpMD, opts.Now, opts.Logger.With("component", "demo-sp"))
	if err != nil {
		return nil, err
	}
	spMD, err := sp.Metadata()
	if err != nil {
		return nil, fmt.Errorf("demo: SP metadata: %w", err)
	}
	parseOpts := metadata.ParseOptions{AllowInsecureACS: true, Now: opts.Now}
	var sps []*metadata.ServiceProvider
	for i, md := range append([][]byte{spMD}, opts.ExtraSPMetadata...) {
		parsed, err := metadata.ParseServiceProviders(md, parseOpts)
		if err != nil {
			return nil, fmt.Errorf("demo: SP metadata #%d: %w", i, err)
		}
		sps = append(sps, parsed...)
	}
	all := make([]string, 0)
	for _, d := range attributes.Definitions() {
		all = append(all, d.Name)
	}
	for _, s := range sps {
		s.AllowedAttributes = all // demo: every SP may receive everything
		if opts.ConfigureSP != nil {
			opts.ConfigureSP(s)
		}
	}
	registry, err := metadata.NewStaticRegistry(sps...)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}

	joseKeys := &certs.JOSEKeys{Sig: joseSig, Enc: joseEnc}
	issuer := base + emulatorPathPrefix
	emu, err := emulator.New(emulator.Config{
		Issuer: issuer,
		Clients: []emulator.Client{{
			ID:           ClientID,
			RedirectURIs: []string{base + server.PathCallback},
			JWKSURL:      base + server.PathJWKS,
			Services: []emulator.Service{
				{Code: ServiceLogin, Type: emulator.ServiceType(itsme.ServiceAuthentication)},
				{Code: ServiceIdentify, Type: emulator.ServiceType(itsme.ServiceIdentification)},
			},
			RequirePKCE: true,
		}},
		SigningKey:             opSig.Key,
		EncryptionKey:          opEnc.Key,
		SubjectSecret:          subjectSecret,
		AllowInsecureRedirects: true,
		Now:                    opts.Now,
		Rand:                   opts.Rand,
		Logger:                 opts.Logger.With("component", "itsme-emulator"),
		TokenHook:              opts.EmulatorHook,
		Personas:               opts.Personas,
	})
	if err != nil {
		return nil, fmt.Errorf("demo: emulator: %w", err)
	}
	upstream := Upstream{
		Issuer:   issuer,
		ClientID: ClientID,
		ServiceCodes: map[itsme.Service]string{
			itsme.ServiceAuthentication: ServiceLogin,
			itsme.ServiceIdentification: ServiceIdentify,
		},
		EncryptRequestObject: true,
	}
	if opts.Upstream != nil {
		upstream = *opts.Upstream
	}
	client, err := itsme.New(itsme.Config{
		Issuer:               upstream.Issuer,
		ClientID:             upstream.ClientID,
		RedirectURI:          base + server.PathCallback,
		ServiceCodes:         upstream.ServiceCodes,
		Keys:                 joseKeys,
		EncryptRequestObject: upstream.EncryptRequestObject,
		Now:                  opts.Now,
		Rand:                 opts.Rand,
		Logger:               opts.Logger.With("component", "itsme-client"),
		Timeout:              opts.UpstreamTimeout,
		Breaker:              opts.UpstreamBreaker,
		Observer:             opts.Metrics,
	})
	if err != nil {
		return nil, fmt.Errorf("demo: itsme client: %w", err)
	}
	store := opts.Store
	if store == nil {
		store = memory.New(0)
	}
	bridge, err := server.New(server.Config{
		ExternalURL: base,
		Registry:    registry,
		Parser: &saml.RequestParser{
			Registry:        registry,
			SSOURL:          ssoURL,
			SLOURL:          base + server.PathSLO,
			ArtifactBinding: opts.Artifact.Enabled,
			Now:             opts.Now,
			Logger:          opts.Logger.With("component", "saml"),
		},
		IDP: &saml.IDP{
			EntityID: entityID,
			Signer:   idpSigner,
			Now:      opts.Now,
			Rand:     opts.Rand,
		},
		IDPMetadata:    idpMD,
		Upstream:       client,
		UpstreamIssuer: upstream.Issuer,
		JWKS:           joseKeys.PublicJWKS(),
		Store:          store,
		PairwiseSecret: secret,
		DefaultRelease: attributes.AuthenticationSet(),
		Audit:          opts.Audit,
		RateLimit:      opts.RateLimit,
		SSOSession:     opts.SSOSession,
		Artifact:       opts.Artifact,
		Metrics:        opts.Metrics,
		Now:            opts.Now,
		Rand:           opts.Rand,
		Logger:         opts.Logger.With("component", "bridge"),
	})
	if err != nil {
		return nil, fmt.Errorf("demo: bridge: %w", err)
	}

	mux := http.NewServeMux()
	mux.Handle("/saml/", bridge)
	mux.Handle("/oidc/", bridge)
	mux.Handle(server.PathJWKS, bridge)
	mux.Handle(server.PathHealthz, bridge)
	mux.Handle(server.PathReadyz, bridge)
	if opts.Metrics != nil {
		mux.Handle("/metrics", opts.Metrics.Handler())
	}
	mux.Handle(emulatorPathPrefix+"/", emu.Handler())
	mux.Handle("/demo/", sp)
	mux.Handle("/demo", sp)
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, PathSPHome, http.StatusFound)
	})
	urls := map[string]string{
		"demo SP":          base + PathSPHome,
		"IdP metadata":     entityID,
		"SSO endpoint":     ssoURL,
		"bridge JWKS":      base + server.PathJWKS,
		"itsme emulator":   issuer + "/.well-known/openid-configuration",
		"demo SP metadata": base + PathSPMetadata,
		"readiness":        base + server.PathReadyz,
	}
	if opts.Metrics != nil {
		urls["metrics"] = base + "/metrics"
	}
	return &Stack{
		Handler:  httpsec.Wrap(mux, httpsec.Options{HSTS: strings.HasPrefix(base, "https://")}),
		Bridge:   bridge,
		Emulator: emu,
		SP:       sp,
		Keys:     joseKeys,
		URLs:     urls,
	}, nil
}

// stateSecret loads or creates a 32-byte secret kept as hex in dir/name
// (fresh and in memory only when dir is empty), so that pairwise NameIDs
// and the emulator's subjects stay stable across demo restarts.
func stateSecret(dir, name string, rnd io.Reader) ([]byte, error) {
	fresh := func() ([]byte, error) {
		b := make([]byte, 32)
		if _, err := io.ReadFull(rnd, b); err != nil {
			return nil, fmt.Errorf("demo: %s: %w", name, err)
		}
		return b, nil
	}
	if dir == "" {
		return fresh()
	}
	path := filepath.Join(dir, name)
	if data, err := os.ReadFile(path); err == nil {
		b, err := hex.DecodeString(strings.TrimSpace(string(data)))
		if err != nil || len(b) < 32 {
			return nil, fmt.Errorf("demo: %s is not a 32-byte hex secret", path)
		}
		return b, nil
	}
	b, err := fresh()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	if err := os.WriteFile(path, []byte(hex.EncodeToString(b)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	return b, nil
}
