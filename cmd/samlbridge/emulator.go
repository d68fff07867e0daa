package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/samlbridge/samlbridge/internal/httpsec"
	"github.com/samlbridge/samlbridge/itsme/emulator"
)

// emulatorOptions are the parsed flags of "samlbridge emulator".
type emulatorOptions struct {
	addr         string
	issuer       string // empty: derived from the listening address
	clientID     string
	redirectURIs []string
	jwksURL      string
	services     []emulator.Service
	logLevel     string
}

// parseEmulatorFlags parses and checks the flags of "samlbridge emulator".
// Every problem is a usageError; all of them are reported at once.
func parseEmulatorFlags(args []string, stderr io.Writer) (*emulatorOptions, error) {
	fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &emulatorOptions{}
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8090", "loopback address to listen on (port 0: any free port)")
	fs.StringVar(&o.issuer, "issuer", "", "issuer URL (default http://ADDR/v2, ADDR being the address listened on)")
	fs.StringVar(&o.clientID, "client-id", "", "the bridge's client_id (itsme.client_id)")
	fs.StringVar(&o.jwksURL, "jwks-url", "", "the bridge's JWK Set URL (external_url + /jwks), fetched by the emulator")
	fs.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	var redirects, services multiFlag
	fs.Var(&redirects, "redirect-uri", "registered redirect URI (external_url + /oidc/callback; repeatable)")
	fs.Var(&services, "service-code", "service as CODE=TYPE, TYPE being authentication, identification, confirmation or data_sharing (repeatable)")
	if err := fs.Parse(args); err != nil {
		return nil, usageError{err}
	}
	var errs []error
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	if err := checkLoopbackAddr(o.addr); err != nil {
		errs = append(errs, fmt.Errorf("--addr: %w", err))
	}
	if o.issuer != "" {
		if err := checkLoopbackIssuer(o.issuer); err != nil {
			errs = append(errs, fmt.Errorf("--issuer: %w", err))
		}
	}
	if o.clientID == "" {
		errs = append(errs, errors.New("--client-id is required"))
	}
	if len(redirects) == 0 {
		errs = append(errs, errors.New("--redirect-uri is required (the bridge's external_url + /oidc/callback)"))
	}
	o.redirectURIs = redirects
	if o.jwksURL == "" {
		errs = append(errs, errors.New("--jwks-url is required (the bridge's external_url + /jwks)"))
	}
	if len(services) == 0 {
		errs = append(errs, errors.New("--service-code is required (e.g. SAMLBRIDGE_LOGIN=authentication)"))
	}
	for _, s := range services {
		svc, err := parseServiceCode(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("--service-code: %w", err))
			continue
		}
		o.services = append(o.services, svc)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, usageError{err}
	}
	return o, nil
}

// checkLoopbackAddr accepts host:port where host is a loopback IP address
// or "localhost". The emulator approves logins for fixture personas, so it
// must never be reachable from another machine.
func checkLoopbackAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port: %w", addr, err)
	}
	if port == "" {
		return fmt.Errorf("%q has no port", addr)
	}
	if !isLoopbackHost(host) {
		return fmt.Errorf("%q is not a loopback address: the emulator approves logins for test personas and listens only on 127.0.0.1, ::1 or localhost", addr)
	}
	return nil
}

// checkLoopbackIssuer accepts an http or https URL on a loopback host.
func checkLoopbackIssuer(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %w", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q must be an absolute http URL", raw)
	}
	if !isLoopbackHost(u.Hostname()) {
		return fmt.Errorf("%q is not on a loopback host (127.0.0.1, ::1 or localhost)", raw)
	}
	return nil
}

func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// parseServiceCode parses CODE=TYPE.
func parseServiceCode(s string) (emulator.Service, error) {
	code, typ, ok := strings.Cut(s, "=")
	if !ok || code == "" || typ == "" {
		return emulator.Service{}, fmt.Errorf("%q is not CODE=TYPE (e.g. SAMLBRIDGE_LOGIN=authentication)", s)
	}
	switch t := emulator.ServiceType(typ); t {
	case emulator.ServiceAuthentication, emulator.ServiceIdentification, emulator.ServiceConfirmation, emulator.ServiceDataSharing:
		return emulator.Service{Code: code, Type: t}, nil
	}
	return emulator.Service{}, fmt.Errorf("%q: unknown service type %q (want authentication, identification, confirmation or data_sharing)", s, typ)
}

// runEmulator runs the built-in itsme emulator alone on a loopback
// address, for a bridge started with "samlbridge serve" (examples/cluster).
// Its keys are fresh at each start; the bridge fetches them by discovery.
// It stops, draining requests, when ctx is done (SIGINT or SIGTERM).
func runEmulator(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseEmulatorFlags(args, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(stderr, o.logLevel, "text")
	if err != nil {
		return usageError{err}
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", o.addr, err)
	}
	issuer := o.issuer
	if issuer == "" {
		issuer = "http://" + ln.Addr().String() + "/v2"
	}
	emu, err := emulator.New(emulator.Config{
		Issuer: issuer,
		Clients: []emulator.Client{{
			ID:           o.clientID,
			RedirectURIs: o.redirectURIs,
			JWKSURL:      o.jwksURL,
			Services:     o.services,
			RequirePKCE:  true,
		}},
		AllowInsecureRedirects: true, // loopback only, checked above
		Logger:                 log.With("component", "itsme-emulator"),
	})
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("emulator: %w", err)
	}
	fmt.Fprintf(stdout, "itsme emulator ready: issuer %s (TEST personas; not for production)\n", issuer)
	return listenAndServe(ctx, ln, httpsec.Wrap(emu.Handler(), httpsec.Options{NoStore: true}), log)
}
