package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/samlbridge/samlbridge/attributes"
	"github.com/samlbridge/samlbridge/audit"
	"github.com/samlbridge/samlbridge/itsme"
	"github.com/samlbridge/samlbridge/metadata"
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
	cfg, err := LoadConfig(path)
	if err != nil {
		return nil, nil, err
	}
	r, err := cfg.Resolve(time.Now())
	if err != nil {
		return nil, nil, fmt.Errorf("%s has problems:\n%s", path, indent(err.Error()))
	}
	return cfg, r, nil
}

// runCheck validates a configuration and reports every problem at once.
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	_, r, err := loadConfig("check", args, stderr)
	if err != nil {
		return err
	}
	if r.Remote != nil {
		// Fetch every metadata URL once, so that an unreachable or
		// unverifiable one is reported now rather than at the first login.
		var errs []error
		for _, src := range r.Sources {
			if err := src.Refresh(ctx); err != nil {
				errs = append(errs, fmt.Errorf("metadata_url %s: %w", src.URL(), err))
			}
		}
		if len(errs) > 0 {
			return fmt.Errorf("service provider metadata has problems:\n%s", indent(errors.Join(errs...).Error()))
		}
		fmt.Fprintf(stdout, "configuration OK (%d service providers from files and URLs)\n", len(r.Remote.List()))
		return nil
	}
	fmt.Fprintf(stdout, "configuration OK (%d service providers)\n", len(r.SPs))
	return nil
}

func indent(s string) string {
	return "  - " + strings.ReplaceAll(s, "\n", "\n  - ")
}

// runServe runs the bridge against real itsme.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, r, err := loadConfig("serve", args, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(stderr, cfg.Log.Level, cfg.Log.Format)
	if err != nil {
		return err
	}
	slog.SetDefault(log) // the metadata fetchers log through it
	base := strings.TrimSuffix(cfg.ExternalURL, "/")
	registry := r.SPRegistry
	if r.Remote != nil {
		// Fetch what is due before serving; a source that fails keeps its
		// cached copy (if any) and is retried by Run.
		if err := r.Remote.RefreshDue(ctx); err != nil {
			log.Warn("some SP metadata could not be fetched; serving the last good copies", "err", err)
		}
		go func() { _ = r.Remote.Run(ctx) }()
	}
	signer, idpMD, err := idpMetadata(r, base, time.Now())
	if err != nil {
		return err
	}
	services := map[itsme.Service]string{}
	for k, v := range r.Services {
		services[itsme.Service(k)] = v
	}
	encryptRO := cfg.Itsme.EncryptRequestObject == nil || *cfg.Itsme.EncryptRequestObject
	client, err := itsme.New(itsme.Config{
		Issuer: cfg.Itsme.Issuer, ClientID: cfg.Itsme.ClientID, RedirectURI: base + server.PathCallback,
		ServiceCodes: services, Keys: r.JOSE, EncryptRequestObject: encryptRO, Logger: log.With("component", "itsme"),
	})
	if err != nil {
		return err
	}
	var store session.Store = memory.New(0)
	if cfg.Session.Store == "redis" {
		rs, err := sessionredis.Open(sessionredis.Config{URL: cfg.Session.URL, Secret: r.StoreSecret})
		if err != nil {
			return err
		}
		if err := rs.Ping(ctx); err != nil {
			log.Warn("Redis does not answer yet; logins fail until it does", "err", err)
		}
		store = rs
	}
	defer store.Close()
	auditOut := stdout
	if f := cfg.Audit.File; f != "" && f != "-" {
		af, err := os.OpenFile(r.Config.path(f), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return fmt.Errorf("audit.file: %w", err)
		}
		defer af.Close()
		auditOut = af
	}
	bridge, err := server.New(server.Config{
		Audit:       audit.NewJSONSink(auditOut),
		ExternalURL: base,
		Registry:    registry,
		Parser: &saml.RequestParser{Registry: registry, SSOURL: base + server.PathSSO, SLOURL: base + server.PathSLO, ArtifactBinding: cfg.Artifact.Enabled,
			WantAuthnRequestsSigned: cfg.SAML.WantAuthnRequestsSigned, Logger: log.With("component", "saml")},
		IDP:            &saml.IDP{EntityID: base + server.PathMetadata, Signer: signer},
		IDPMetadata:    idpMD,
		Upstream:       client,
		UpstreamIssuer: cfg.Itsme.Issuer,
		JWKS:           r.JOSE.PublicJWKS(),
		Store:          store,
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
		Logger:         log.With("component", "bridge"),
	})
	if err != nil {
		return err
	}
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
	fmt.Fprintf(stdout, "samlbridge serving %s on %s (itsme %s, %d SPs)\n", base, cfg.Listen, cfg.Itsme.Issuer, len(r.SPs))
	return listenAndServe(ctx, ln, bridge, log)
}

// idpMetadata returns the signer of the current SAML key and the IdP
// metadata it signs. The metadata publishes the current certificate first,
// then saml.additional_signing_cert_files (the next key before a rollover,
// the previous one during the overlap after it), which never sign.
func idpMetadata(r *Resolved, base string, now time.Time) (*saml.Signer, []byte, error) {
	cfg := r.Config
	signer := &saml.Signer{Key: r.SAMLKey.Key, Certs: []*x509.Certificate{r.SAMLKey.Cert}}
	md, err := metadata.IDPMetadata(metadata.IDPConfig{
		EntityID:                base + server.PathMetadata,
		SSOURL:                  base + server.PathSSO,
		SingleLogoutURL:         base + server.PathSLO,
		ArtifactResolutionURL:   artifactURL(r.Config, base),
		SigningCerts:            append([]*x509.Certificate{r.SAMLKey.Cert}, r.SAMLAdditionalCerts...),
		Sign:                    signer.SignEnveloped,
		WantAuthnRequestsSigned: cfg.SAML.WantAuthnRequestsSigned,
		NameIDFormats:           []string{saml.NameIDFormatPersistent, saml.NameIDFormatTransient, saml.NameIDFormatEmail, saml.NameIDFormatUnspecified},
		ValidUntil:              now.Add(cfg.SAML.MetadataValidFor),
		CacheDuration:           time.Hour,
		OrganizationName:        cfg.SAML.OrganizationName,
		OrganizationURL:         cfg.SAML.OrganizationURL,
	})
	if err != nil {
		return nil, nil, err
	}
	return signer, md, nil
}

// artifactURL is the ArtifactResolutionService to publish: only when the
// Artifact binding is on.
func artifactURL(c *Config, base string) string {
	if !c.Artifact.Enabled {
		return ""
	}
	return base + server.PathArtifactResolve
}
