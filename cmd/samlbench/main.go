// Command samlbench measures samlbridge: the crypto floor of one login,
// complete logins through a running bridge (samlbridge serve, a separate
// process) and the built-in itsme emulator, the latency the bridge adds,
// its CPU per login read from the OS, its memory per login in flight,
// scaling with nodes, SPs and logins in flight, and SAML issuance side by
// side with SimpleSAMLphp. It prints figures; it asserts no timing.
//
// Usage:
//
//	go run ./cmd/samlbench [-short] [-duration 10s] [-workers 8] [-redis 127.0.0.1:6379]
//	    [-inflight 1000,10000,100000] [-sps 1,10,100] [-simplesamlphp auto|on|off]
//	    [-bridge PATH] [-cpuprofile FILE] [-allocprofile FILE] [-gogc N] [-keep]
//
// bench/run installs what is missing (SimpleSAMLphp under Apache, Redis),
// starts Redis on loopback and runs this command; docs/performance.md
// explains the method and records the figures.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/samlbridge/samlbridge/internal/cryptofloor"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "samlbench: %v\n", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	short      bool
	dur        time.Duration
	workers    int
	redis      string
	inflight   []int
	spCounts   []int
	ssp        string
	sspPort    int
	rounds     int
	bin        string
	cpuprofile string
	memprofile string
	keep       bool
	floorN     int
	gogc       string
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("samlbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.short, "short", false, "a few seconds per phase, 1,000 logins in flight, no SimpleSAMLphp (for CI: keeps the benchmark from rotting)")
	fs.DurationVar(&o.dur, "duration", 10*time.Second, "length of each measured phase")
	fs.IntVar(&o.workers, "workers", 8, "concurrent user agents in the closed-loop phases")
	fs.StringVar(&o.redis, "redis", os.Getenv("SAMLBRIDGE_REDIS_ADDR"), "Redis host:port for the 1- and 2-node phases (default $SAMLBRIDGE_REDIS_ADDR; empty: skipped)")
	inflight := fs.String("inflight", "1000,10000,100000", "logins left in flight at which CPU per login and memory are measured")
	sps := fs.String("sps", "1,10,100", "numbers of registered SPs at which CPU per login is measured")
	fs.StringVar(&o.ssp, "simplesamlphp", "auto", "SimpleSAMLphp comparison: on, off, or auto (on when Debian's simplesamlphp and Apache's mod_php are installed)")
	fs.IntVar(&o.sspPort, "simplesamlphp-port", 0, "loopback port for SimpleSAMLphp's Apache (0: a free one)")
	fs.IntVar(&o.rounds, "rounds", 3, "interleaved rounds of the SimpleSAMLphp comparison and of the 1- and 2-node phase")
	fs.StringVar(&o.bin, "bridge", "", "samlbridge binary (default: built from ./cmd/samlbridge)")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write the bridge's CPU profile of the main phase to this file (go tool pprof)")
	fs.StringVar(&o.memprofile, "allocprofile", "", "write the bridge's allocation profile (every allocation since it started, through the main phase) to this file (go tool pprof -sample_index=alloc_space)")
	fs.BoolVar(&o.keep, "keep", false, "keep the work directory (configs, logs, audit)")
	fs.StringVar(&o.gogc, "gogc", "", "GOGC for the bridge's nodes (empty: Go's default, 100); docs/performance.md measures 400")
	fs.IntVar(&o.floorN, "floor-logins", 300, "logins' worth of asymmetric operations in the crypto floor measurement")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	var err error
	if o.inflight, err = intList(*inflight); err != nil {
		return nil, fmt.Errorf("-inflight: %w", err)
	}
	if o.spCounts, err = intList(*sps); err != nil {
		return nil, fmt.Errorf("-sps: %w", err)
	}
	switch o.ssp {
	case "on", "off", "auto":
	default:
		return nil, fmt.Errorf("-simplesamlphp %q: want on, off or auto", o.ssp)
	}
	if o.short {
		o.dur = 2 * time.Second
		o.inflight = []int{1000}
		o.spCounts = []int{1, 10}
		o.floorN = 60
		if o.ssp == "auto" {
			o.ssp = "off"
		}
		o.rounds = 1
	}
	if o.gogc != "" && o.gogc != "off" {
		if n, err := strconv.Atoi(o.gogc); err != nil || n < 1 {
			return nil, fmt.Errorf("-gogc %q: want a positive percentage or off", o.gogc)
		}
	}
	if o.workers < 1 || o.dur < time.Second || o.rounds < 1 || o.floorN < 1 {
		return nil, errors.New("-workers, -rounds and -floor-logins must be positive, -duration at least 1s")
	}
	return o, nil
}

func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// bench is one run.
type bench struct {
	opts *options
	dir  string
	bin  string
	keys *benchKeys
	out  io.Writer
	rep  *report
	// floorKeys are the crypto floor's keys, made once.
	floorKeys *cryptofloor.Keys
}

func run(ctx context.Context, args []string, out io.Writer) error {
	o, err := parseFlags(args, os.Stderr)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "samlbench-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintf(out, "work directory (kept): %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	b := &bench{opts: o, dir: dir, out: out, rep: newReport()}
	if b.bin = o.bin; b.bin == "" {
		b.bin = filepath.Join(dir, "samlbridge")
		fmt.Fprintln(out, "building samlbridge ...")
		cmd := exec.CommandContext(ctx, "go", "build", "-o", b.bin, "./cmd/samlbridge")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("building samlbridge (run from the repository root, or pass -bridge): %w", err)
		}
	}
	if b.rep.rsa, err = sameBackend(b.bin); err != nil {
		return err
	}
	if b.keys, err = newBenchKeys(); err != nil {
		return err
	}
	b.rep.machine()
	for _, ph := range []struct {
		name string
		fn   func(context.Context) error
	}{
		{"crypto floor", b.phaseFloor},
		{"full logins", b.phaseFull},
		{"SPs registered", b.phaseSPs},
		{"nodes on Redis", b.phaseNodes},
		{"SimpleSAMLphp side by side", b.phaseSimpleSAMLphp},
	} {
		if err := ctx.Err(); err != nil {
			return err
		}
		fmt.Fprintf(out, "== %s\n", ph.name)
		if err := ph.fn(ctx); err != nil {
			return fmt.Errorf("%s: %w", ph.name, err)
		}
	}
	b.rep.print(out)
	return nil
}
