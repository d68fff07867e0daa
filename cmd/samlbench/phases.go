package main

import (
	"context"
	"crypto/rand"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/internal/cryptofloor"
)

// fullShape is the crypto shape of the main phase's logins: the bridge's
// defaults (encrypted request object, assertion signed) for an SP with an
// encryption key asking for the full identity (userinfo).
var fullShape = cryptofloor.Shape{EncryptRequestObject: true, UserInfo: true, SignAssertion: true, EncryptAssertion: true}

// sessionShape is the crypto shape of the SimpleSAMLphp comparison: a
// Response from the SSO session, Response and Assertion both signed.
var sessionShape = cryptofloor.Shape{FromSession: true, SignResponse: true, SignAssertion: true}

// mainVariant is the configuration of the main phase.
func mainVariant() variant {
	return variant{nodes: 1, sps: 1, signing: "assertion", encrypt: true, attrs: identityAttributes()}
}

// phaseFloor measures the CPU of one login's asymmetric operations, in
// this process, on one goroutine, with nothing else running.
func (b *bench) phaseFloor(context.Context) error {
	keys, err := cryptofloor.NewKeys(2048, rand.Reader)
	if err != nil {
		return err
	}
	for range 5 {
		if err := keys.Login(fullShape, rand.Reader); err != nil {
			return err
		}
	}
	b.floorKeys = keys
	floor, wall, err := b.singleCoreFloor()
	if err != nil {
		return err
	}
	ops := fullShape.Ops()
	var priv int
	for _, op := range ops {
		if op.Kind == cryptofloor.Private {
			priv++
		}
	}
	b.rep.floor = floor

	// The same operations with every core busy, as they are when the
	// bridge runs at saturation: cores that share caches, memory
	// bandwidth (or a host's hyperthreads) each do less per second.
	cores := runtime.NumCPU()
	c0, err := selfCPU()
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make(chan error, cores)
	for range cores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range b.opts.floorN / cores {
				if err := keys.Login(fullShape, rand.Reader); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	c1, err := selfCPU()
	if err != nil {
		return err
	}
	b.rep.floorBusy = (c1 - c0) / float64(b.opts.floorN/cores*cores)
	b.rep.add("Crypto floor (one login's RSA-2048 operations)",
		row("operations", fmt.Sprintf("%d private + %d public (%d logins' worth)", priv, len(ops)-priv, b.opts.floorN)),
		row("CPU per login, one core", ms(b.rep.floor)),
		row("wall per login, one core", fmt.Sprintf("%.2f ms", float64(wall.Microseconds())/1000)),
		row(fmt.Sprintf("CPU per login, %d cores busy", cores), ms(b.rep.floorBusy)),
	)
	return nil
}

// singleCoreFloor measures the CPU and wall time of one login's
// asymmetric operations on one goroutine, with nothing else running in
// this process.
func (b *bench) singleCoreFloor() (float64, time.Duration, error) {
	return b.shapeFloor(fullShape, b.opts.floorN)
}

// shapeFloor is the CPU and wall time of the asymmetric operations of
// one login of shape s, over n of them on one goroutine.
func (b *bench) shapeFloor(s cryptofloor.Shape, n int) (float64, time.Duration, error) {
	c0, err := selfCPU()
	if err != nil {
		return 0, 0, err
	}
	t0 := time.Now()
	for range n {
		if err := b.floorKeys.Login(s, rand.Reader); err != nil {
			return 0, 0, err
		}
	}
	wall := time.Since(t0)
	c1, err := selfCPU()
	if err != nil {
		return 0, 0, err
	}
	return (c1 - c0) / float64(n), time.Duration(float64(wall) / float64(n)), nil
}

// selfCPU is this process's user+system CPU seconds.
func selfCPU() (float64, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9, nil
}

// measure runs fn closed-loop on the deployment after a warm-up and
// returns the result and the nodes' CPU seconds per completed login.
func (b *bench) measure(ctx context.Context, d *deployment, workers int, fn func(int) (sample, error)) (*result, float64, error) {
	warm := load(ctx, workers, 0, 3*workers, 0, fn)
	if err := warm.err(); err != nil {
		return nil, 0, fmt.Errorf("warm-up: %w", err)
	}
	a0, g0, err := d.allocs()
	if err != nil {
		return nil, 0, err
	}
	c0, err := d.cpu()
	if err != nil {
		return nil, 0, err
	}
	res := load(ctx, workers, b.opts.dur, 0, 0, fn)
	c1, err := d.cpu()
	if err != nil {
		return nil, 0, err
	}
	a1, g1, err := d.allocs()
	if err != nil {
		return nil, 0, err
	}
	if err := res.err(); err != nil {
		return nil, 0, err
	}
	n := float64(res.completed.Load())
	res.allocPerLogin, res.gcPerLogin = float64(a1-a0)/n, float64(g1-g0)/n
	return res, (c1 - c0) / n, nil
}

// fullLogins returns a login function over the deployment's SPs in turn,
// each login in a fresh browser.
func (d *deployment) fullLogins() func(int) (sample, error) {
	var next atomic.Uint64
	return func(int) (sample, error) {
		sp := d.sps[(next.Add(1)-1)%uint64(len(d.sps))]
		return d.fullLogin(sp, newBrowser(d.rt))
	}
}

// phaseFull: saturation throughput, latency, CPU per login against the
// floor, memory; latency at half of saturation; logins in flight.
func (b *bench) phaseFull(ctx context.Context) error {
	d, err := b.deploy(ctx, mainVariant())
	if err != nil {
		return err
	}
	defer d.stop()
	n := d.nodes[0]
	// The CPU profile of the main phase, always: the RSA CPU it samples
	// gives the bridge's own RSA work per login, a floor free of the
	// machine's drift.
	profPath := b.opts.cpuprofile
	if profPath == "" {
		profPath = filepath.Join(b.dir, "main-cpu.pprof")
	}
	profErr := make(chan error, 1)
	go func() {
		time.Sleep(b.opts.dur / 10) // past the warm-up's tail
		profErr <- fetchProfile(n, b.opts.dur*7/10, profPath)
	}()
	fn := d.fullLogins()
	res, cpu, err := b.measure(ctx, d, b.opts.workers, fn)
	if err != nil {
		return err
	}
	if err := <-profErr; err != nil {
		return fmt.Errorf("CPU profile: %w", err)
	}
	work, err := rsaShareFile(profPath)
	if err != nil {
		return err
	}
	if b.opts.memprofile != "" {
		if err := fetchURL(fmt.Sprintf("http://%s/debug/pprof/allocs", n.admin), b.opts.memprofile); err != nil {
			return fmt.Errorf("allocation profile: %w", err)
		}
	}
	_, peak, err := procMem(n.pid())
	if err != nil {
		return err
	}
	// The floor again, right after: a shared machine's speed drifts, so
	// the ratio uses the mean of the floor measured on both sides of the
	// main phase (the floor phase runs just before it).
	after, _, err := b.singleCoreFloor()
	if err != nil {
		return err
	}
	floor := (b.rep.floor + after) / 2
	sat := res.perSecond()
	// The bridge's own RSA work per login: what the profile sampled in
	// RSA, over the logins its window saw at the phase's steady rate.
	rsaInPlace := work.rsaCPU / (sat * work.wall.Seconds())
	b.rep.cpuPerLogin, b.rep.floorBracket, b.rep.rsaInPlace = cpu, floor, rsaInPlace
	b.rep.add(fmt.Sprintf("Complete logins, 1 node, memory store, %d concurrent user agents, %s", b.opts.workers, b.opts.dur),
		row("logins/s (saturation)", fmt.Sprintf("%.1f (%d logins, each verified by the SP)", sat, res.completed.Load())),
		row("latency added by the bridge", fmt.Sprintf("p50 %s, p95 %s, p99 %s", msd(res.pct(50)), msd(res.pct(95)), msd(res.pct(99)))),
		row("login wall time (emulator included)", fmt.Sprintf("p50 %s, p99 %s", msd(percentile(res.total, 50)), msd(percentile(res.total, 99)))),
		row("bridge CPU per login", ms(cpu)),
		row("bridge allocations per login", fmt.Sprintf("%.0f KiB; %.2f garbage collections per 100 logins", res.allocPerLogin/1024, 100*res.gcPerLogin)),
		row("crypto floor around this phase", fmt.Sprintf("%s before, %s after (one core)", ms(b.rep.floor), ms(after))),
		row("ratio to the crypto floor", fmt.Sprintf("%.2f× (mean floor, one core); %.2f× (floor with every core busy)", cpu/floor, cpu/b.rep.floorBusy)),
		row("its RSA operations, in place", fmt.Sprintf("%s per login (CPU profile over %s: %.1f%% of %d samples in %s's RSA code), against %s measured alone", ms(rsaInPlace), work.wall.Round(time.Second), 100*work.share(), work.samples, b.rep.rsa.name, ms(floor))),
		row("ratio to its own RSA work", fmt.Sprintf("%.2f× (CPU per login over its RSA operations in place)", cpu/rsaInPlace)),
		row("bridge peak RSS", mib(peak)),
	)

	// Half of saturation, an open loop: logins start at a fixed rate.
	half := load(ctx, 4*b.opts.workers, b.opts.dur, 0, sat/2, fn)
	if err := half.err(); err != nil {
		return fmt.Errorf("half saturation: %w", err)
	}
	b.rep.p99Half = half.pct(99)
	b.rep.add(fmt.Sprintf("Half of saturation: %.1f logins/s started at a fixed rate, %s", sat/2, b.opts.dur),
		row("logins/s achieved", fmt.Sprintf("%.1f (%d starts missed: every agent busy)", half.perSecond(), half.missed.Load())),
		row("latency added by the bridge", fmt.Sprintf("p50 %s, p95 %s, p99 %s", msd(half.pct(50)), msd(half.pct(95)), msd(half.pct(99)))),
	)

	// Logins in flight: left at the phone page, then measured.
	heap0, err := n.liveHeap()
	if err != nil {
		return err
	}
	rss0, _, err := procMem(n.pid())
	if err != nil {
		return err
	}
	parked := 0
	var rows [][2]string
	for _, level := range b.opts.inflight {
		if level > parked {
			var next atomic.Uint64
			p := load(ctx, b.opts.workers, 0, level-parked, 0, func(int) (sample, error) {
				sp := d.sps[(next.Add(1)-1)%uint64(len(d.sps))]
				return sample{}, d.park(sp, newBrowser(d.rt))
			})
			if err := p.err(); err != nil {
				return fmt.Errorf("leaving %d logins in flight: %w", level, err)
			}
			parked = level
		}
		heap, err := n.liveHeap()
		if err != nil {
			return err
		}
		rss, _, err := procMem(n.pid())
		if err != nil {
			return err
		}
		perHeap := float64(heap-heap0) / float64(parked)
		if level == b.opts.inflight[len(b.opts.inflight)-1] {
			b.rep.heapPerInflight = perHeap
		}
		res, cpu, err := b.measure(ctx, d, b.opts.workers, fn)
		if err != nil {
			return fmt.Errorf("with %d in flight: %w", parked, err)
		}
		rows = append(rows, row(fmt.Sprintf("%d in flight", parked),
			fmt.Sprintf("live heap +%.0f B/login, RSS +%.0f B/login; then %.1f logins/s, CPU %s per login",
				perHeap, float64(rss-rss0)/float64(parked), res.perSecond(), ms(cpu))))
	}
	b.rep.add("Logins in flight (memory store; left at the phone page, each with its replay marker)", rows...)
	return nil
}

// fetchProfile saves the node's CPU profile over d.
func fetchProfile(n *node, d time.Duration, path string) error {
	return fetchURL(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", n.admin, max(1, int(d.Seconds()))), path)
}

// fetchURL saves what u answers with 200 to path.
func fetchURL(u, path string) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

// measureVariant deploys v, measures complete logins on it (measure) and
// stops it.
func (b *bench) measureVariant(ctx context.Context, v variant) (*result, float64, error) {
	d, err := b.deploy(ctx, v)
	if err != nil {
		return nil, 0, err
	}
	defer d.stop()
	return b.measure(ctx, d, b.opts.workers, d.fullLogins())
}

// phaseSPs: CPU per login with 1, 10, 100 registered SPs.
func (b *bench) phaseSPs(ctx context.Context) error {
	var rows [][2]string
	for _, n := range b.opts.spCounts {
		v := mainVariant()
		v.sps = n
		res, cpu, err := b.measureVariant(ctx, v)
		if err != nil {
			return fmt.Errorf("%d SPs: %w", n, err)
		}
		rows = append(rows, row(fmt.Sprintf("%d SPs", n), fmt.Sprintf("%.1f logins/s, CPU %s per login (logins spread over every SP)", res.perSecond(), ms(cpu))))
	}
	b.rep.add("Registered SPs (1 node, memory store)", rows...)
	return nil
}

// phaseNodes: 1 and 2 nodes sharing a Redis store, in -rounds
// interleaved rounds (1, 2, 1, 2, ...): on this shared machine one round
// of each has swung either way by half, so the figures are the rounds
// pooled, with each round's throughput shown beside them.
func (b *bench) phaseNodes(ctx context.Context) error {
	if b.opts.redis == "" {
		b.rep.add("Nodes on Redis", row("skipped", "no Redis: pass -redis host:port or set SAMLBRIDGE_REDIS_ADDR (bench/run starts one)"))
		return nil
	}
	counts := []int{1, 2}
	pooled := make([]pooledRuns, len(counts))
	for r := range b.opts.rounds {
		for i, n := range counts {
			v := mainVariant()
			v.nodes, v.redis = n, b.opts.redis
			res, cpu, err := b.measureVariant(ctx, v)
			if err != nil {
				return fmt.Errorf("%d nodes, round %d: %w", n, r+1, err)
			}
			pooled[i].add(res, cpu)
		}
	}
	var rows [][2]string
	for i, n := range counts {
		p := &pooled[i]
		rows = append(rows, row(fmt.Sprintf("%d node(s)", n), fmt.Sprintf("%.1f logins/s (rounds: %s), bridge CPU %s per login (all nodes), latency added p99 %s",
			p.perSecond(), p.rounds(), ms(p.cpuPerLogin()), msd(percentile(p.bridge, 99)))))
	}
	if one := pooled[0].perSecond(); one > 0 {
		rows = append(rows, row("2 nodes over 1", fmt.Sprintf("%.2f× the throughput, %.2f× the CPU per login", pooled[1].perSecond()/one, pooled[1].cpuPerLogin()/pooled[0].cpuPerLogin())))
	}
	rows = append(rows, row("note", fmt.Sprintf("%d interleaved rounds of %s each; every process (nodes, Redis, emulator, user agents) shares this machine's cores; round robin per request, no stickiness", b.opts.rounds, b.opts.dur)))
	b.rep.add(fmt.Sprintf("Nodes sharing one Redis (%s)", b.opts.redis), rows...)
	return nil
}

// pooledRuns pools the rounds of one configuration.
type pooledRuns struct {
	completed int64
	wall      time.Duration
	cpu       float64 // CPU-seconds, all rounds
	perRound  []float64
	bridge    []time.Duration
}

func (p *pooledRuns) add(res *result, cpuPerLogin float64) {
	n := res.completed.Load()
	p.completed += n
	p.wall += res.wall
	p.cpu += cpuPerLogin * float64(n)
	p.perRound = append(p.perRound, res.perSecond())
	res.mu.Lock()
	p.bridge = append(p.bridge, res.bridge...)
	res.mu.Unlock()
}

func (p *pooledRuns) perSecond() float64 {
	if p.wall <= 0 {
		return 0
	}
	return float64(p.completed) / p.wall.Seconds()
}

func (p *pooledRuns) cpuPerLogin() float64 {
	if p.completed == 0 {
		return 0
	}
	return p.cpu / float64(p.completed)
}

func (p *pooledRuns) rounds() string {
	parts := make([]string, len(p.perRound))
	for i, v := range p.perRound {
		parts[i] = fmt.Sprintf("%.1f", v)
	}
	return strings.Join(parts, ", ")
}

// verifyEvery is how often the comparison's user agents verify the
// Response in full (signature and all) rather than only finding its
// form; the same for both IdPs, so that the agents' own CPU takes less of
// the machine both IdPs share.
const verifyEvery = 4

// phaseSimpleSAMLphp: SAML issuance from an established session, the
// bridge and SimpleSAMLphp in interleaved rounds.
func (b *bench) phaseSimpleSAMLphp(ctx context.Context) error {
	missing := sspCheckInstalled()
	switch {
	case b.opts.ssp == "off":
		b.rep.add("SimpleSAMLphp side by side", row("skipped", "-simplesamlphp off (the short run skips it; bench/run runs it)"))
		return nil
	case missing != nil && b.opts.ssp == "auto":
		b.rep.add("SimpleSAMLphp side by side", row("skipped", missing.Error()+" (bench/run installs it)"))
		return nil
	case missing != nil:
		return missing
	}
	v := variant{nodes: 1, sps: 1, ssoSession: true, signing: "both", attrs: comparisonAttributes}
	d, err := b.deploy(ctx, v)
	if err != nil {
		return err
	}
	defer d.stop()
	bridgeSP := d.sps[0]

	sspDir, err := os.MkdirTemp(b.dir, "simplesamlphp-")
	if err != nil {
		return err
	}
	port := b.opts.sspPort
	if port == 0 {
		if port, err = freePort(); err != nil {
			return err
		}
	}
	spForSSP := newBenchSP(0, b.keys.sp, false)
	ssp, err := startSimpleSAMLphpIdP(ctx, sspDir, port, b.keys.ssp.keyPEM, b.keys.ssp.certPEM, sspSP{
		EntityID: spForSSP.sp.EntityID, ACSURL: spForSSP.sp.AcsURL.String(), CertPEM: b.keys.sp.certPEM,
	})
	if err != nil {
		return err
	}
	defer func() { _ = ssp.Stop() }()
	sspTransport := &http.Transport{MaxIdleConnsPerHost: 256}
	defer sspTransport.CloseIdleConnections()
	md, err := getOK(sspTransport, ssp.MetadataURL)
	if err != nil {
		return fmt.Errorf("SimpleSAMLphp's metadata: %w", err)
	}
	var idp crewjam.EntityDescriptor
	if err := xml.Unmarshal(md, &idp); err != nil {
		return fmt.Errorf("SimpleSAMLphp's metadata: %w", err)
	}
	spForSSP.sp.IDPMetadata = &idp

	// One browser per agent and IdP, each with its session established
	// by a first, fully verified login.
	w := b.opts.workers
	bb, sb := make([]*browser, w), make([]*browser, w)
	for i := range w {
		bb[i], sb[i] = newBrowser(d.rt), newBrowser(sspTransport)
		if _, err := d.fullLogin(bridgeSP, bb[i]); err != nil {
			return fmt.Errorf("bridge session: %w", err)
		}
		if _, err := sessionLogin(spForSSP, sb[i], ssp.SSOURL, true); err != nil {
			return fmt.Errorf("SimpleSAMLphp session: %w", err)
		}
	}
	type side struct {
		name     string
		sp       *benchSP
		browsers []*browser
		sso      string
		cpu      func() (float64, error)
		logins   int64
		cpuSum   float64
		wall     time.Duration
		lat      []time.Duration
	}
	sides := []*side{
		{name: "samlbridge", sp: bridgeSP, browsers: bb, sso: d.external + "/saml/sso", cpu: d.cpu},
		{name: "SimpleSAMLphp", sp: spForSSP, browsers: sb, sso: ssp.SSOURL, cpu: ssp.CPUSeconds},
	}
	for r := range b.opts.rounds {
		for _, s := range sides {
			counts := make([]int, w)
			fn := func(i int) (sample, error) {
				counts[i]++
				return sessionLogin(s.sp, s.browsers[i], s.sso, counts[i]%verifyEvery == 1)
			}
			if r == 0 { // warm-up: caches, OPcache, connection pools
				if err := load(ctx, w, 0, 3*w, 0, fn).err(); err != nil {
					return fmt.Errorf("%s warm-up: %w", s.name, err)
				}
			}
			c0, err := s.cpu()
			if err != nil {
				return err
			}
			res := load(ctx, w, b.opts.dur, 0, 0, fn)
			c1, err := s.cpu()
			if err != nil {
				return err
			}
			if err := res.err(); err != nil {
				return fmt.Errorf("%s round %d: %w", s.name, r+1, err)
			}
			s.logins += res.completed.Load()
			s.cpuSum += c1 - c0
			s.wall += res.wall
			s.lat = append(s.lat, res.bridge...)
		}
	}
	var rows [][2]string
	for _, s := range sides {
		rows = append(rows, row(s.name, fmt.Sprintf("%.1f responses/s, CPU %s per response, latency p50 %s p99 %s (%d responses)",
			float64(s.logins)/s.wall.Seconds(), ms(s.cpuSum/float64(s.logins)), msd(percentile(s.lat, 50)), msd(percentile(s.lat, 99)), s.logins)))
	}
	bt, st := float64(sides[0].logins)/sides[0].wall.Seconds(), float64(sides[1].logins)/sides[1].wall.Seconds()
	bc, sc := sides[0].cpuSum/float64(sides[0].logins), sides[1].cpuSum/float64(sides[1].logins)
	b.rep.throughputRatio, b.rep.cpuRatio = bt/st, sc/bc
	rows = append(rows,
		row("throughput ratio", fmt.Sprintf("%.1f× (samlbridge / SimpleSAMLphp)", bt/st)),
		row("CPU ratio", fmt.Sprintf("%.1f× (SimpleSAMLphp CPU per response / samlbridge's)", sc/bc)),
	)
	// The floor of this work: its two signatures, one core;
	// and what one signature costs in OpenSSL, which SimpleSAMLphp signs
	// with. SimpleSAMLphp's CPU over the floor is the best CPU ratio the
	// bridge could reach with no overhead at all.
	issue, _, err := b.shapeFloor(sessionShape, 4*b.opts.floorN)
	if err != nil {
		return err
	}
	b.rep.issueFloor, b.rep.sspCPU = issue, sc
	rows = append(rows,
		row("crypto floor of this work", fmt.Sprintf("%s per response (its 2 RSA-2048 signatures, %s, one core); samlbridge spends %.2f× that", ms(issue), b.rep.rsa.name, bc/issue)),
		row("best CPU ratio possible", fmt.Sprintf("%.1f× (SimpleSAMLphp's CPU per response over the bridge's floor: the bridge with no overhead at all)", sc/issue)),
	)
	if sig, err := opensslSignSeconds(ctx); err != nil {
		rows = append(rows, row("one RSA-2048 signature", fmt.Sprintf("%s %s; OpenSSL not measured (%v)", b.rep.rsa.name, ms(issue/2), err)))
	} else {
		b.rep.opensslSign = sig
		rows = append(rows, row("one RSA-2048 signature", fmt.Sprintf("%s %s, OpenSSL %s (openssl speed rsa2048; SimpleSAMLphp signs with OpenSSL): %.1f× apart", b.rep.rsa.name, ms(issue/2), ms(sig), issue/2/sig)))
	}
	rows = append(rows,
		row("same work", fmt.Sprintf("one SP, unsigned AuthnRequest by HTTP-Redirect, Response by HTTP-POST form, Response and Assertion both signed RSA-SHA256 with 2048-bit keys, no encryption, the same %d attributes (SimpleSAMLphp adds uid, from which its persistent NameID is derived), persistent NameID; %d agents, %d interleaved rounds of %s; every %dth response verified in full by crewjam, the others checked for the form", len(comparisonAttributes), w, b.opts.rounds, b.opts.dur, verifyEvery)),
	)
	b.rep.add("SAML issuance from an established session, side by side with SimpleSAMLphp (Debian package, Apache mod_php)", rows...)
	return nil
}
