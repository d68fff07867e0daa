package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

// report collects the figures of a run and prints them with the issue's
// targets.
type report struct {
	sections []section

	floor, floorBusy, cpuPerLogin float64 // CPU seconds per login
	floorBracket                  float64 // mean floor before and after the main phase
	rsaInPlace                    float64 // the bridge's RSA work per login, from its CPU profile
	p99Half                       time.Duration
	heapPerInflight               float64 // bytes
	throughputRatio, cpuRatio     float64
	issueFloor, sspCPU            float64 // the comparison's floor and SimpleSAMLphp's CPU per response
	opensslSign                   float64 // one RSA-2048 signature in OpenSSL
	rsa                           rsaBackend
}

type section struct {
	title string
	rows  [][2]string
}

func newReport() *report { return &report{} }

func row(k, v string) [2]string { return [2]string{k, v} }

func (r *report) add(title string, rows ...[2]string) {
	r.sections = append(r.sections, section{title, rows})
}

// machine records what the figures were measured on.
func (r *report) machine() {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	r.add("Machine",
		row("CPU", fmt.Sprintf("%s, %d logical cores (bridge, emulator, user agents and peers all share them)", model, runtime.NumCPU())),
		row("Go", runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH),
		row("RSA", r.rsa.about+", in the bridge and in samlbench (the floor and the emulator)"),
		row("date", time.Now().UTC().Format(time.RFC3339)),
	)
}

// print writes every section, then the targets of issue 6.
func (r *report) print(w io.Writer) {
	for _, s := range r.sections {
		fmt.Fprintf(w, "\n%s\n", s.title)
		width := 0
		for _, rw := range s.rows {
			width = max(width, len(rw[0]))
		}
		for _, rw := range s.rows {
			fmt.Fprintf(w, "  %-*s  %s\n", width, rw[0], rw[1])
		}
	}
	fmt.Fprintln(w, "\nTargets (issue 6)")
	mark := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	if r.floorBracket > 0 && r.cpuPerLogin > 0 {
		ratio := r.cpuPerLogin / r.floorBracket
		fmt.Fprintf(w, "  bridge CPU per login ≤ 1.3× the crypto floor: %.2f× (%s / %s, floor on one core)  %s\n", ratio, ms(r.cpuPerLogin), ms(r.floorBracket), mark(ratio <= 1.3))
		if r.floorBusy > 0 {
			busy := r.cpuPerLogin / r.floorBusy
			fmt.Fprintf(w, "    like for like, floor with every core busy: %.2f× (%s / %s)  %s\n", busy, ms(r.cpuPerLogin), ms(r.floorBusy), mark(busy <= 1.3))
		}
		if r.rsaInPlace > 0 {
			inPlace := r.cpuPerLogin / r.rsaInPlace
			fmt.Fprintf(w, "    against the bridge's own RSA work in place (CPU profile, free of the machine's drift): %.2f× (%s / %s)  %s\n", inPlace, ms(r.cpuPerLogin), ms(r.rsaInPlace), mark(inPlace <= 1.3))
		}
	}
	if r.throughputRatio > 0 {
		fmt.Fprintf(w, "  SAML issuance throughput ≥ 10× SimpleSAMLphp's: %.1f×  %s (CPU ratio %.1f×)\n", r.throughputRatio, mark(r.throughputRatio >= 10), r.cpuRatio)
		if r.issueFloor > 0 {
			fmt.Fprintf(w, "    reachable at most: %.1f× SimpleSAMLphp's CPU per response with no overhead at all above its two %s signatures (%s)\n", r.sspCPU/r.issueFloor, r.rsa.name, ms(r.issueFloor))
		}
		if r.opensslSign > 0 && r.issueFloor > 0 {
			fmt.Fprintf(w, "    one signature costs %s %.1f× what it costs OpenSSL here\n", r.rsa.name, r.issueFloor/2/r.opensslSign)
		}
	} else {
		fmt.Fprintln(w, "  SAML issuance throughput ≥ 10× SimpleSAMLphp's: not measured in this run")
	}
	if r.p99Half > 0 {
		fmt.Fprintf(w, "  p99 latency added at half of saturation ≤ 10 ms: %s  %s\n", msd(r.p99Half), mark(r.p99Half <= 10*time.Millisecond))
	}
	if r.heapPerInflight > 0 {
		fmt.Fprintf(w, "  ≤ 4 KiB per login in flight (memory store, live heap): %.0f B  %s\n", r.heapPerInflight, mark(r.heapPerInflight <= 4096))
	}
}

func ms(sec float64) string { return fmt.Sprintf("%.2f ms", sec*1000) }

func msd(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
