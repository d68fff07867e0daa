package main

import (
	"bytes"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// TestProcReaders: the /proc readers agree with getrusage on this
// process's CPU and give a plausible resident set.
func TestProcReaders(t *testing.T) {
	before, err := procCPU(os.Getpid(), false)
	if err != nil {
		t.Fatal(err)
	}
	self0, err := selfCPU()
	if err != nil {
		t.Fatal(err)
	}
	x := 0
	for {
		for i := range 1 << 20 {
			x += i
		}
		s, _ := selfCPU()
		if s-self0 >= 0.3 {
			break
		}
	}
	_ = x
	after, err := procCPU(os.Getpid(), true)
	if err != nil {
		t.Fatal(err)
	}
	if d := after - before; d < 0.2 || d > 5 {
		t.Errorf("/proc says %.2f s of CPU while getrusage says at least 0.3 s", d)
	}
	rss, peak, err := procMem(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if rss < 1<<20 || peak < rss {
		t.Errorf("RSS %d, peak %d: implausible", rss, peak)
	}
	if _, err := procCPU(-1, false); err == nil {
		t.Error("no error for a process that does not exist")
	}
}

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var out []time.Duration
		for _, x := range v {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	for _, tt := range []struct {
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{nil, 99, 0},
		{ms(5), 50, 5 * time.Millisecond},
		{ms(9, 1, 5, 3, 7), 50, 5 * time.Millisecond},
		{ms(9, 1, 5, 3, 7), 100, 9 * time.Millisecond},
		{ms(9, 1, 5, 3, 7), 0, 1 * time.Millisecond},
	} {
		if got := percentile(tt.in, tt.p); got != tt.want {
			t.Errorf("percentile(%v, %v) = %v, want %v", tt.in, tt.p, got, tt.want)
		}
	}
}

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"-short"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.dur != 2*time.Second || len(o.inflight) != 1 || o.ssp != "off" {
		t.Errorf("-short: %+v", o)
	}
	o, err = parseFlags([]string{"-inflight", "10, 20", "-sps", "3"}, io.Discard)
	if err != nil || len(o.inflight) != 2 || o.inflight[1] != 20 || o.spCounts[0] != 3 || o.ssp != "auto" {
		t.Errorf("lists: %+v, %v", o, err)
	}
	if o, err := parseFlags([]string{"-gogc", "400"}, io.Discard); err != nil || o.gogc != "400" {
		t.Errorf("-gogc: %+v, %v", o, err)
	}
	for _, bad := range [][]string{{"-gogc", "x"}, {"-inflight", "0"}, {"-sps", "x"}, {"-simplesamlphp", "maybe"}, {"-workers", "0"}, {"-duration", "10ms"}} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// TestBalancer: requests for the external address alternate between the
// nodes with the external Host header; others go straight through.
func TestBalancer(t *testing.T) {
	var seen []string
	mk := func(name string) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen = append(seen, name+" "+r.Host)
			io.WriteString(w, name)
		}))
	}
	a, b, other := mk("a"), mk("b"), mk("other")
	defer a.Close()
	defer b.Close()
	defer other.Close()
	host := func(s *httptest.Server) string { return strings.TrimPrefix(s.URL, "http://") }
	lb := newBalancer("bridge.invalid:80", []string{host(a), host(b)})
	c := &http.Client{Transport: lb}
	for _, u := range []string{"http://bridge.invalid:80/x", "http://bridge.invalid:80/y", other.URL, "http://bridge.invalid:80/z"} {
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	want := []string{"a bridge.invalid:80", "b bridge.invalid:80", "other " + host(other), "a bridge.invalid:80"}
	if strings.Join(seen, "|") != strings.Join(want, "|") {
		t.Errorf("requests went to %q, want %q", seen, want)
	}
}

func TestParseOpensslSpeed(t *testing.T) {
	for _, tt := range []struct {
		name string
		out  string
		want float64
		ok   bool
	}{
		{"openssl 3.0", "CPUINFO: OPENSSL_ia32cap=0x0:0x0\n                  sign    verify    sign/s verify/s\nrsa 2048 bits 0.000301s 0.000021s   3318.1  48094.7\n", 0.000301, true},
		{"no result line", "Doing 2048 bits private rsa's for 2s\n", 0, false},
		{"garbled time", "rsa 2048 bits fast 0.000021s 1 2\n", 0, false},
	} {
		got, err := parseOpensslSpeed([]byte(tt.out))
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("%s: got %v, %v; want %v (ok %v)", tt.name, got, err, tt.want, tt.ok)
		}
	}
}

func TestRSAShare(t *testing.T) {
	fn := func(id uint64, name string) *profile.Function { return &profile.Function{ID: id, Name: name} }
	sign, mul, encode, mallocgc := fn(1, "crypto/internal/fips140/rsa.signPKCS1v15"), fn(2, "crypto/internal/fips140/bigmod.(*Nat).montgomeryMul"),
		fn(3, "encoding/xml.(*Encoder).Encode"), fn(4, "runtime.mallocgc")
	// BoringCrypto (GOEXPERIMENT=boringcrypto): its RSA calls count, its
	// hashing does not.
	bSign, bCgo, bSHA := fn(5, "crypto/internal/boring.SignRSAPKCS1v15"), fn(6, "runtime.cgocall"), fn(7, "crypto/internal/boring.(*sha256Hash).Write")
	loc := func(id uint64, f *profile.Function) *profile.Location {
		return &profile.Location{ID: id, Line: []profile.Line{{Function: f}}}
	}
	lSign, lMul, lEncode, lMalloc, lBSign, lCgo, lSHA := loc(1, sign), loc(2, mul), loc(3, encode), loc(4, mallocgc), loc(5, bSign), loc(6, bCgo), loc(7, bSHA)
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		PeriodType: &profile.ValueType{Type: "cpu", Unit: "nanoseconds"}, Period: 10_000_000, DurationNanos: 3e9,
		Function: []*profile.Function{sign, mul, encode, mallocgc, bSign, bCgo, bSHA},
		Location: []*profile.Location{lSign, lMul, lEncode, lMalloc, lBSign, lCgo, lSHA},
		Sample: []*profile.Sample{
			{Location: []*profile.Location{lMul, lSign}, Value: []int64{4, 40_000_000}},    // inside RSA, below its entry
			{Location: []*profile.Location{lMalloc, lSign}, Value: []int64{1, 10_000_000}}, // an allocation made by RSA code
			{Location: []*profile.Location{lCgo, lBSign}, Value: []int64{2, 20_000_000}},   // BoringCrypto's RSA, in C
			{Location: []*profile.Location{lCgo, lSHA}, Value: []int64{1, 10_000_000}},     // BoringCrypto's SHA-256: not RSA
			{Location: []*profile.Location{lEncode}, Value: []int64{1, 10_000_000}},
			{Location: []*profile.Location{lMalloc, lEncode}, Value: []int64{1, 10_000_000}},
		},
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	w, err := rsaShare(&buf)
	if err != nil || w.samples != 10 || math.Abs(w.share()-0.7) > 1e-9 || w.rsaCPU != 0.07 || w.totalCPU != 0.1 || w.wall != 3*time.Second {
		t.Errorf("rsaShare = %+v, %v; want 0.07 of 0.1 CPU seconds in 10 samples (6 stacks) over 3s", w, err)
	}
	if _, err := rsaShare(strings.NewReader("not a profile")); err == nil {
		t.Error("rsaShare accepted a non-profile")
	}
}

func TestBackendOf(t *testing.T) {
	for _, tt := range []struct {
		settings []debug.BuildSetting
		want     rsaBackend
	}{
		{nil, backendGo},
		{[]debug.BuildSetting{{Key: "CGO_ENABLED", Value: "1"}}, backendGo},
		{[]debug.BuildSetting{{Key: "GOEXPERIMENT", Value: "boringcrypto"}}, backendBoring},
		{[]debug.BuildSetting{{Key: "GOEXPERIMENT", Value: "greenteagc,boringcrypto"}}, backendBoring},
		{[]debug.BuildSetting{{Key: "GOEXPERIMENT", Value: "noboringcrypto"}}, backendGo},
		{[]debug.BuildSetting{{Key: "GOFLAGS", Value: "boringcrypto"}}, backendGo},
	} {
		if got := backendOf(tt.settings); got != tt.want {
			t.Errorf("backendOf(%v) = %s, want %s", tt.settings, got.name, tt.want.name)
		}
	}
}

// TestPooledRuns: rounds pool by their logins, not by averaging their
// rates, and each round's own rate is kept for the report.
func TestPooledRuns(t *testing.T) {
	var p pooledRuns
	a := &result{wall: 10 * time.Second, bridge: []time.Duration{time.Millisecond, 3 * time.Millisecond}}
	a.completed.Store(100)
	b := &result{wall: 10 * time.Second, bridge: []time.Duration{2 * time.Millisecond}}
	b.completed.Store(300)
	p.add(a, 0.020)
	p.add(b, 0.010)
	if got := p.perSecond(); got != 20 {
		t.Errorf("perSecond = %v, want 20 (400 logins in 20 s)", got)
	}
	if got := p.cpuPerLogin(); math.Abs(got-0.0125) > 1e-12 {
		t.Errorf("cpuPerLogin = %v, want 0.0125 ((100×20 ms + 300×10 ms) / 400)", got)
	}
	if got := p.rounds(); got != "10.0, 30.0" {
		t.Errorf("rounds = %q", got)
	}
	if got := percentile(p.bridge, 99); got != 2*time.Millisecond {
		t.Errorf("p99 of the pooled samples = %v, want 2ms (of 1, 2, 3 ms the index rounds down)", got)
	}
	var empty pooledRuns
	if empty.perSecond() != 0 || empty.cpuPerLogin() != 0 {
		t.Error("an empty pool must report zeros, not NaN")
	}
}
