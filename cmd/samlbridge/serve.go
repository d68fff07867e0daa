package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/samlbridge/samlbridge/attributes"
	"github.com/samlbridge/samlbridge/audit"
	"github.com/samlbridge/samlbridge/certs"
	"github.com/samlbridge/samlbridge/internal/breaker"
	"github.com/samlbridge/samlbridge/itsme"
	"github.com/samlbridge/samlbridge/metadata"
	"github.com/samlbridge/samlbridge/metrics"
	"github.com/samlbridge/samlbridge/saml"
	"github.com/samlbridge/samlbridge/server"
	"github.com/samlbridge/samlbridge/session"
	"github.com/samlbridge/samlbridge/session/memory"
	sessionredis "github.com/samlbridge/samlbridge/session/redis"
)

func configFlag(name string, args []string, stderr io.Writer) (string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "YAML configuration file")
	if err := fs.Parse(args); err != nil {
		return "", usageError{err}
	}
	if *path == "" {
		return "", usageError{fmt.Errorf("%s needs --config FILE", name)}
	}
	return *path, nil
}

// loadConfig reads the --config flag of command name, loads the file and
// resolves it, reporting every problem at once.
func loadConfig(name string, args []string, stderr io.Writer) (*Config, *Resolved, error) {
	path, err := configFlag(name, args, stderr)
	if err != nil {
		return nil, nil, err
	}
	return loadPath(path)
}

func indent(s string) string {
	return "  - " + strings.ReplaceAll(s, "\n", "\n  - ")
}

// runServe runs the bridge against real itsme until ctx ends; SIGHUP
// reloads the configuration.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	path, err := configFlag("serve", args, stderr)
	if err != nil {
		return err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := make(chan struct{}, 1)
	go func() {
		for {
			select {
			case <-hup:
				select {
				case reload <- struct{}{}:
				default: // a reload is already pending
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return serveConfig(ctx, path, reload, stdout, stderr)
}

// shared is what outlives a reload: the process's logger, store, audit
// sink and metrics. Flows in flight live in the store, so a reload loses
// none.
type shared struct {
	log     *slog.Logger
	store   session.Store
	audit   audit.Sink
	metrics *metrics.Metrics
}

// node is the bridge built from one configuration.
type node struct {
	cfg    *Config
	r      *Resolved
	bridge *server.Server
	stop   context.CancelFunc // stops its metadata refreshes
}

// serveConfig serves the configuration at path until ctx ends, rebuilding
// the bridge from the file at each value on reload. A configuration that
// does not load keeps the running one, and says why.
func serveConfig(ctx context.Context, path string, reload <-chan struct{}, stdout, stderr io.Writer) error {
	cfg, r, err := loadPath(path)
	if err != nil {
		return err
	}
	log, err := newLogger(stderr, cfg.Log.Level, cfg.Log.Format)
	if err != nil {
		return err
	}
	slog.SetDefault(log) // the metadata fetchers log through it
	logWarnings(log, r)
	sh := &shared{log: log, metrics: metrics.New()}
	sh.store, err = openStore(ctx, cfg, r, log)
	if err != nil {
		return err
	}
	defer sh.store.Close()
	auditOut := stdout
	if f := cfg.Audit.File; f != "" && f != "-" {
		af, err := os.OpenFile(r.Config.path(f), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return fmt.Errorf("audit.file: %w", err)
		}
		defer af.Close()
		auditOut = af
	}
	sh.audit = audit.NewJSONSink(auditOut)

	cur, err := buildNode(ctx, cfg, r, sh, time.Now())
	if err != nil {
		return err
	}
	sh.metrics.ConfigLoaded(true, time.Now())
	var current atomic.Pointer[node]
	current.Store(cur)
	defer func() { current.Load().stop() }()
	handler := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { current.Load().bridge.ServeHTTP(w, req) })

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.Listen, err)
	}
	if cfg.TLS != nil {
		cert, err := tls.LoadX509KeyPair(r.Config.path(cfg.TLS.CertFile), r.Config.path(cfg.TLS.KeyFile))
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("tls: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	servers := 1
	if cfg.Metrics.Listen != "" {
		aln, err := net.Listen("tcp", cfg.Metrics.Listen)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("metrics.listen %s: %w", cfg.Metrics.Listen, err)
		}
		admin := adminMux(cfg.Metrics, sh.metrics.Handler(), handler)
		servers++
		go func() { errc <- listenAndServe(ctx, aln, admin, log.With("listener", "admin")) }()
		fmt.Fprintf(stdout, "samlbridge metrics on http://%s/metrics\n", aln.Addr())
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-reload:
				next, err := reloadNode(ctx, path, current.Load(), sh)
				if err != nil {
					sh.metrics.ConfigLoaded(false, time.Now())
					log.Error("configuration reload failed; the running configuration stays", "config", path, "err", err)
					continue
				}
				old := current.Swap(next)
				old.stop()
				sh.metrics.ConfigLoaded(true, time.Now())
				log.Info("configuration reloaded", "config", path, "service_providers", len(next.r.SPs))
			}
		}
	}()
	fmt.Fprintf(stdout, "samlbridge serving %s on %s (itsme %s, %d SPs)\n", strings.TrimSuffix(cfg.ExternalURL, "/"), ln.Addr(), cfg.Itsme.Issuer, len(r.SPs))
	go func() { errc <- listenAndServe(ctx, ln, handler, log) }()
	err = <-errc
	cancel() // one listener failed or ctx ended: stop the other
	for i := 1; i < servers; i++ {
		if e := <-errc; err == nil {
			err = e
		}
	}
	return err
}

// logWarnings logs what check would report as warnings about the
// configuration, so that an admin who runs only serve sees them too.
func logWarnings(log *slog.Logger, r *Resolved) {
	for _, w := range r.Warnings {
		log.Warn("configuration warning", "problem", w.Error())
	}
}

// loadPath loads and resolves the configuration file at path.
func loadPath(path string) (*Config, *Resolved, error) {
	cfg, err := LoadConfig(path)
	if err != nil {
		return nil, nil, err
	}
	r, err := cfg.ResolveLive()
	if err != nil {
		return nil, nil, fmt.Errorf("%s has problems:\n%s", path, indent(err.Error()))
	}
	return cfg, r, nil
}

// openStore opens the configured session store.
func openStore(ctx context.Context, cfg *Config, r *Resolved, log *slog.Logger) (session.Store, error) {
	if cfg.Session.Store != "redis" {
		return memory.New(0), nil
	}
	rs, err := sessionredis.Open(sessionredis.Config{URL: cfg.Session.URL, Password: r.StorePassword, Secret: r.StoreSecret, KeyPrefix: cfg.Session.KeyPrefix})
	if err != nil {
		return nil, err
	}
	if err := rs.Ping(ctx); err != nil {
		log.Warn("Redis does not answer yet; logins fail until it does", "err", err)
	}
	return rs, nil
}

// reloadNode builds a node from the file at path for a reload. Settings
// bound to the process (listeners, store, audit file, logging) keep their
// running values; a change to them is logged as needing a restart.
func reloadNode(ctx context.Context, path string, old *node, sh *shared) (*node, error) {
	cfg, r, err := loadPath(path)
	if err != nil {
		return nil, err
	}
	logWarnings(sh.log, r)
	for _, c := range []struct {
		name     string
		was, now any
	}{
		{"listen", old.cfg.Listen, cfg.Listen},
		{"tls", old.cfg.TLS, cfg.TLS},
		{"session", old.cfg.Session, cfg.Session},
		{"audit", old.cfg.Audit, cfg.Audit},
		{"log", old.cfg.Log, cfg.Log},
		{"metrics", old.cfg.Metrics, cfg.Metrics},
	} {
		if !reflect.DeepEqual(c.was, c.now) {
			sh.log.Warn("a changed setting takes effect only at restart; the running value stays", "setting", c.name)
		}
	}
	cfg.Listen, cfg.TLS, cfg.Session, cfg.Audit, cfg.Log, cfg.Metrics = old.cfg.Listen, old.cfg.TLS, old.cfg.Session, old.cfg.Audit, old.cfg.Log, old.cfg.Metrics
	return buildNode(ctx, cfg, r, sh, time.Now())
}

// buildNode builds the bridge of one configuration: its SP registry (with
// the metadata refreshes it needs), IdP metadata, itsme client and server.
func buildNode(ctx context.Context, cfg *Config, r *Resolved, sh *shared, now time.Time) (*node, error) {
	log := sh.log
	base := strings.TrimSuffix(cfg.ExternalURL, "/")
	registry := r.SPRegistry
	nctx, stop := context.WithCancel(ctx)
	fail := func(err error) (*node, error) { stop(); return nil, err }
	if r.Remote != nil {
		// Fetch what is due before serving; a source that fails keeps its
		// cached copy (if any) and is retried by Run.
		if err := r.Remote.RefreshDue(nctx); err != nil {
			log.Warn("some SP metadata could not be fetched; serving the last good copies", "err", err)
		}
		go func() { _ = r.Remote.Run(nctx) }()
	}
	signer, idpMD, err := idpMetadata(r, base, now)
	if err != nil {
		return fail(err)
	}
	services := map[itsme.Service]string{}
	for k, v := range r.Services {
		services[itsme.Service(k)] = v
	}
	encryptRO := cfg.Itsme.EncryptRequestObject == nil || *cfg.Itsme.EncryptRequestObject
	client, err := itsme.New(itsme.Config{
		Issuer: cfg.Itsme.Issuer, ClientID: cfg.Itsme.ClientID, RedirectURI: base + server.PathCallback,
		ServiceCodes: services, Keys: r.JOSE, EncryptRequestObject: encryptRO, Logger: log.With("component", "itsme"),
		Timeout: cfg.Itsme.Timeout, Breaker: breaker.Config{Threshold: cfg.Itsme.Breaker.Threshold, Cooldown: cfg.Itsme.Breaker.Cooldown},
		Observer: sh.metrics,
	})
	if err != nil {
		return fail(err)
	}
	bridge, err := server.New(server.Config{
		Audit:       sh.audit,
		ExternalURL: base,
		Registry:    registry,
		Parser: &saml.RequestParser{Registry: registry, SSOURL: base + server.PathSSO, SLOURL: base + server.PathSLO, ArtifactBinding: cfg.Artifact.Enabled,
			WantAuthnRequestsSigned: cfg.SAML.WantAuthnRequestsSigned, Logger: log.With("component", "saml")},
		IDP:            &saml.IDP{EntityID: base + server.PathMetadata, Signer: signer},
		IDPMetadata:    idpMD,
		Upstream:       client,
		UpstreamIssuer: cfg.Itsme.Issuer,
		JWKS:           r.JOSE.PublicJWKS(),
		Store:          sh.store,
		PairwiseSecret: r.Secret,
		DefaultRelease: attributes.AuthenticationSet(),
		RateLimit: server.RateLimit{
			PerMinute: cfg.HTTP.RateLimit.PerMinute, Burst: cfg.HTTP.RateLimit.Burst,
			MaxClients: cfg.HTTP.RateLimit.MaxClients, Disabled: cfg.HTTP.RateLimit.Disabled,
		},
		TrustedProxies: r.TrustedProxies,
		SSOSession:     server.SSOSession{Enabled: cfg.SSOSession.Enabled, Lifetime: cfg.SSOSession.Lifetime},
		AuthnContexts:  r.AuthnContexts,
		Artifact:       server.ArtifactBinding{Enabled: cfg.Artifact.Enabled, Lifetime: cfg.Artifact.Lifetime},
		Metrics:        sh.metrics,
		Logger:         log.With("component", "bridge"),
	})
	if err != nil {
		return fail(err)
	}
	sh.metrics.SetInventory(func() metrics.Inventory { return inventory(r) })
	return &node{cfg: cfg, r: r, bridge: bridge, stop: stop}, nil
}

// inventory lists the certificates and metadata sources of r, for the
// expiry and freshness metrics.
func inventory(r *Resolved) metrics.Inventory {
	var inv metrics.Inventory
	add := func(use, sp string, c *x509.Certificate) {
		if c != nil {
			inv.Certificates = append(inv.Certificates, metrics.Certificate{Use: use, SP: sp, NotAfter: c.NotAfter})
		}
	}
	add("saml_signing", "", r.SAMLKey.Cert)
	for _, c := range r.SAMLAdditionalCerts {
		add("saml_published", "", c)
	}
	if r.JOSE != nil {
		for use, kp := range map[string]*certs.KeyPair{"oidc_signing": r.JOSE.Sig, "oidc_encryption": r.JOSE.Enc} {
			if kp != nil {
				add(use, "", kp.Cert)
			}
		}
	}
	sps := r.SPs
	if r.Remote != nil {
		sps = r.Remote.List()
	}
	for _, sp := range sps {
		for _, c := range sp.SigningCerts {
			add("sp_signing", sp.EntityID, c)
		}
		for _, c := range sp.EncryptionCerts {
			add("sp_encryption", sp.EntityID, c)
		}
	}
	for _, src := range r.Sources {
		st := src.Status()
		inv.Metadata = append(inv.Metadata, metrics.MetadataSource{Source: st.URL, LastSuccess: st.LastSuccess, ValidUntil: st.ValidUntil, Failures: st.Failures, Entities: st.Entities})
	}
	return inv
}

// idpMetadata returns the signer of the current SAML key and the IdP
// metadata it signs. The metadata publishes the current certificate first,
// then saml.additional_signing_cert_files (the next key before a rollover,
// the previous one during the overlap after it), which never sign.
func idpMetadata(r *Resolved, base string, now time.Time) (*saml.Signer, []byte, error) {
	signer := &saml.Signer{Key: r.SAMLKey.Key, Certs: []*x509.Certificate{r.SAMLKey.Cert}}
	cfg := idpMetadataConfig(r, base, now)
	cfg.Sign = signer.SignEnveloped
	md, err := metadata.IDPMetadata(cfg)
	if err != nil {
		return nil, nil, err
	}
	return signer, md, nil
}

// idpMetadataConfig describes the bridge of r for its IdP metadata,
// unsigned (idpMetadata adds the signer).
func idpMetadataConfig(r *Resolved, base string, now time.Time) metadata.IDPConfig {
	cfg := r.Config
	return metadata.IDPConfig{
		EntityID:                base + server.PathMetadata,
		SSOURL:                  base + server.PathSSO,
		SingleLogoutURL:         base + server.PathSLO,
		ArtifactResolutionURL:   artifactURL(r.Config, base),
		SigningCerts:            append([]*x509.Certificate{r.SAMLKey.Cert}, r.SAMLAdditionalCerts...),
		WantAuthnRequestsSigned: cfg.SAML.WantAuthnRequestsSigned,
		NameIDFormats:           []string{saml.NameIDFormatPersistent, saml.NameIDFormatTransient, saml.NameIDFormatEmail, saml.NameIDFormatUnspecified},
		ValidUntil:              now.Add(cfg.SAML.MetadataValidFor),
		CacheDuration:           time.Hour,
		OrganizationName:        cfg.SAML.OrganizationName,
		OrganizationURL:         cfg.SAML.OrganizationURL,
	}
}

// artifactURL is the ArtifactResolutionService to publish: only when the
// Artifact binding is on.
func artifactURL(c *Config, base string) string {
	if !c.Artifact.Enabled {
		return ""
	}
	return base + server.PathArtifactResolve
}

// adminMux is the admin listener's handler: /metrics, the node's /healthz
// and /readyz, and with metrics.pprof Go's profiles under /debug/pprof/.
func adminMux(cfg MetricsConfig, metricsHandler, node http.Handler) *http.ServeMux {
	admin := http.NewServeMux()
	admin.Handle("/metrics", metricsHandler)
	admin.Handle(server.PathHealthz, node)
	admin.Handle(server.PathReadyz, node)
	if cfg.Pprof {
		admin.HandleFunc("/debug/pprof/", pprof.Index)
		admin.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		admin.HandleFunc("/debug/pprof/profile", pprof.Profile)
		admin.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		admin.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return admin
}
