package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// toolEnv is what the operator and tester commands (metadata, sp, decode,
// replay) take from the process: the clock, standard input and the HTTP
// client. Tests inject their own.
type toolEnv struct {
	// Now is the clock.
	Now func() time.Time
	// Stdin is read by decode and replay when the input is "-" or absent.
	Stdin io.Reader
	// HTTP fetches SP metadata URLs (sp add) and talks to a bridge
	// (replay); nil means a client with a 30 s timeout.
	HTTP *http.Client
}

// processEnv is the toolEnv of a real run.
func processEnv() toolEnv { return toolEnv{Now: time.Now, Stdin: os.Stdin} }

func (e toolEnv) now() time.Time {
	if e.Now == nil {
		return time.Now()
	}
	return e.Now()
}

func (e toolEnv) client() *http.Client {
	if e.HTTP != nil {
		return e.HTTP
	}
	return &http.Client{Timeout: 30 * time.Second}
}

// loadConfigAt loads and resolves the configuration at path as the
// bridge would at now, reporting every problem at once (like loadPath,
// with the clock injected).
func loadConfigAt(path string, now time.Time) (*Resolved, error) {
	cfg, err := LoadConfig(path)
	if err != nil {
		return nil, err
	}
	r, err := cfg.Resolve(now)
	if err != nil {
		return nil, fmt.Errorf("%s has problems:\n%s", path, indent(err.Error()))
	}
	return r, nil
}

// newFlagSet returns a flag set for command name whose errors go to
// stderr.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseInterspersed parses args with fs, allowing flags after the
// positional arguments (samlbridge sp add FILE --config c.yaml), and
// returns the positional arguments. "--" ends the flags.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usageError{err}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(args) > 0 && len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// baseURL is the configuration's external URL without a trailing slash.
func baseURL(r *Resolved) string { return strings.TrimSuffix(r.Config.ExternalURL, "/") }
