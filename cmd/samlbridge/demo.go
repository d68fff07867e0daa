package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/samlbridge/samlbridge/demo"
	"github.com/samlbridge/samlbridge/metrics"
	"github.com/samlbridge/samlbridge/server"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "loopback address to serve everything on")
	stateDir := fs.String("state-dir", defaultStateDir(), "directory for the generated TEST keys")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	var spFiles multiFlag
	fs.Var(&spFiles, "sp-metadata", "SP metadata XML file to register (repeatable)")
	ssoSession := fs.Duration("sso-session", 0, "turn on the bridge's SSO session with this lifetime (e.g. 1h): one itsme confirmation then serves later logins from the same browser, and Single Logout ends it (default off, as in production)")
	artifact := fs.Bool("artifact", false, "turn on the HTTP-Artifact binding and the SOAP ArtifactResolve endpoint, for SPs that ask for it (default off, as in production)")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if *ssoSession < 0 {
		return usageError{fmt.Errorf("--sso-session %s: want a positive lifetime, such as 1h", *ssoSession)}
	}
	log, err := newLogger(stderr, *logLevel, "text")
	if err != nil {
		return usageError{err}
	}
	var extra [][]byte
	for _, f := range spFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("--sp-metadata: %w", err)
		}
		extra = append(extra, b)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", *addr, err)
	}
	base := "http://" + ln.Addr().String()
	stack, err := demo.New(ctx, demo.Options{BaseURL: base, StateDir: *stateDir, ExtraSPMetadata: extra, Logger: log, Metrics: metrics.New(),
		SSOSession: server.SSOSession{Enabled: *ssoSession > 0, Lifetime: *ssoSession},
		Artifact:   server.ArtifactBinding{Enabled: *artifact}})
	if err != nil {
		_ = ln.Close()
		return err
	}
	fmt.Fprintf(stdout, "samlbridge demo is running (TEST keys in %s; not for production)\n\n", *stateDir)
	names := make([]string, 0, len(stack.URLs))
	for n := range stack.URLs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(stdout, "  %-18s %s\n", n, stack.URLs[n])
	}
	fmt.Fprintf(stdout, "\nOpen %s in a browser and log in. Press Ctrl-C to stop.\n", stack.URLs["demo SP"])
	return listenAndServe(ctx, ln, stack.Handler, log)
}

func defaultStateDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "samlbridge", "demo")
	}
	return filepath.Join(os.TempDir(), "samlbridge-demo")
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", format)
}
