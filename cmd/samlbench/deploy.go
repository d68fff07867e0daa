package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/itsme/emulator"
)

// The emulator registration the bridge's configuration names.
const (
	clientID        = "samlbench"
	serviceLogin    = "SAMLBENCH_LOGIN"
	serviceIdentify = "SAMLBENCH_IDENTIFY"
)

// variant is one configuration of the bridge under test.
type variant struct {
	// nodes is how many samlbridge serve processes share the load.
	nodes int
	// redis is the Redis address of the shared store; empty means the
	// memory store (one node only).
	redis string
	// sps is how many SP entities are registered (one aggregate file).
	sps int
	// ssoSession turns the bridge's SSO session on.
	ssoSession bool
	// signing is the SPs' signing setting (assertion or both).
	signing string
	// encrypt gives the SPs an encryption key, so assertions are
	// encrypted; the SPs are then entitled to the national number.
	encrypt bool
	// attrs are the attributes the SPs may receive and are released.
	attrs []string
}

// identityAttributes is the identity of the attribute contract (seed
// 003), as the demo SP asks for it: the Identification service, userinfo
// included. The picture is left out: an SP asking for it gets a photo of
// tens of kilobytes in every assertion.
func identityAttributes() []string {
	return []string{
		"name", "firstName", "lastName", "gender", "dateOfBirth", "locale", "nin", "nin.type", "nin.issuingCountry",
		"email", "phoneNumber", "address", "nationality", "placeOfBirth", "countryOfBirth", "itsmeEid",
		"itsmeIssuanceLocality", "itsmeValidityFrom", "itsmeValidityTo", "itsmeReadDate", "itsmeNationalNumber", "idpId",
	}
}

// comparisonAttributes are released in the SimpleSAMLphp comparison; its
// static auth source returns the same names and values.
var comparisonAttributes = []string{"name", "firstName", "lastName", "dateOfBirth", "itsmeEid"}

// deployment is a running bridge (one or more nodes), its itsme emulator
// and its SPs.
type deployment struct {
	v        variant
	dir      string
	external string // the bridge's external URL
	nodes    []*node
	emu      *emuServer
	sps      []*benchSP
	rt       *balancer
}

// deploy writes the configuration for v and starts the emulator and the
// nodes.
func (b *bench) deploy(ctx context.Context, v variant) (d *deployment, err error) {
	dir, err := os.MkdirTemp(b.dir, "deploy-")
	if err != nil {
		return nil, err
	}
	if err := b.keys.writeFiles(dir); err != nil {
		return nil, err
	}
	d = &deployment{v: v, dir: dir}
	defer func() {
		if err != nil {
			d.stop()
		}
	}()
	addrs := make([]string, v.nodes)
	admins := make([]string, v.nodes)
	for i := range addrs {
		if addrs[i], err = freeAddr(); err != nil {
			return nil, err
		}
		if admins[i], err = freeAddr(); err != nil {
			return nil, err
		}
	}
	// With one node the external URL is the node; with more, it is an
	// address nobody listens on, which the balancer maps to a node per
	// request, round robin (no stickiness: the store is shared).
	ext := addrs[0]
	if v.nodes > 1 {
		if ext, err = freeAddr(); err != nil {
			return nil, err
		}
	}
	d.external = "http://" + ext
	d.rt = newBalancer(ext, addrs)

	if d.emu, err = startEmulator(d.external, d.rt); err != nil {
		return nil, err
	}
	d.sps = make([]*benchSP, v.sps)
	entities := make([]crewjam.EntityDescriptor, v.sps)
	for i := range d.sps {
		sp := newBenchSP(i, b.keys.sp, v.encrypt)
		d.sps[i] = sp
		entities[i] = sp.metadata()
	}
	agg, err := xml.MarshalIndent(crewjam.EntitiesDescriptor{EntityDescriptors: entities}, "", " ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "sps.xml"), agg, 0o600); err != nil {
		return nil, err
	}
	for i := range addrs {
		name := fmt.Sprintf("node%d", i+1)
		cfg := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(cfg, []byte(nodeConfig(v, d.external, addrs[i], admins[i], d.emu.issuer, dir)), 0o600); err != nil {
			return nil, err
		}
		n, err := startNode(ctx, b.bin, name, cfg, addrs[i], admins[i], b.opts.gogc)
		if err != nil {
			return nil, err
		}
		d.nodes = append(d.nodes, n)
	}
	md, err := d.get(d.external + "/saml/metadata")
	if err != nil {
		return nil, fmt.Errorf("the bridge's metadata: %w", err)
	}
	var idp crewjam.EntityDescriptor
	if err := xml.Unmarshal(md, &idp); err != nil {
		return nil, fmt.Errorf("the bridge's metadata: %w", err)
	}
	for _, sp := range d.sps {
		sp.sp.IDPMetadata = &idp
	}
	return d, nil
}

// get fetches a URL through the deployment's balancer.
func (d *deployment) get(u string) ([]byte, error) { return getOK(d.rt, u) }

// getOK fetches u through rt and wants 200.
func getOK(rt http.RoundTripper, u string) ([]byte, error) {
	resp, err := (&http.Client{Transport: rt, Timeout: 10 * time.Second}).Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %d", resp.StatusCode)
	}
	return b, err
}

// cpu returns the CPU seconds used so far by every node.
func (d *deployment) cpu() (float64, error) {
	var sum float64
	for _, n := range d.nodes {
		s, err := procCPU(n.pid(), false)
		if err != nil {
			return 0, err
		}
		sum += s
	}
	return sum, nil
}

// allocs returns the bytes allocated and the collections run so far by
// every node.
func (d *deployment) allocs() (bytes, gcs int64, err error) {
	for _, n := range d.nodes {
		b, g, err := n.allocs()
		if err != nil {
			return 0, 0, err
		}
		bytes, gcs = bytes+b, gcs+g
	}
	return bytes, gcs, nil
}

// stop stops the nodes (by PID) and the emulator.
func (d *deployment) stop() {
	for _, n := range d.nodes {
		n.stop()
	}
	if d.emu != nil {
		d.emu.stop()
	}
	if d.rt != nil {
		d.rt.tr.CloseIdleConnections()
	}
}

// nodeConfig is the YAML of one node.
func nodeConfig(v variant, external, listen, admin, issuer, dir string) string {
	store := "{store: memory}"
	if v.redis != "" {
		// A fresh prefix per deployment: nothing of an earlier one is
		// seen, and the keys are HMACs under this run's secret anyway.
		store = fmt.Sprintf("{store: redis, url: \"redis://%s/0\", secret: {file: store.hex}, key_prefix: \"samlbench-%s:\"}", v.redis, filepath.Base(dir))
	}
	list := "[" + strings.Join(v.attrs, ", ") + "]"
	return fmt.Sprintf(`# samlbench: TEST keys and secrets, made for this run only.
external_url: %s
listen: %s
saml: {signing_key_file: saml.key, signing_cert_file: saml.crt}
itsme:
  issuer: %s
  client_id: %s
  services: {authentication: %s, identification: %s}
  signing_key_file: itsme-sig.key
  encryption_key_file: itsme-enc.key
pairwise_secret: {file: pairwise.hex}
session: %s
sso_session: {enabled: %t, lifetime: 1h}
service_providers:
  - metadata_file: sps.xml
    attributes: %s
    release: %s
    signing: %s
http: {rate_limit: {disabled: true}}
log: {level: info, format: json}
metrics: {listen: "%s", pprof: true}
`, external, listen, issuer, clientID, serviceLogin, serviceIdentify, store, v.ssoSession, list, list, v.signing, admin)
}

// balancer sends requests for the bridge's external address to its nodes
// in turn, as a load balancer without sticky sessions would; other
// requests (the emulator) go straight through.
type balancer struct {
	external string
	nodes    []string
	next     atomic.Uint64
	tr       *http.Transport
}

func newBalancer(external string, nodes []string) *balancer {
	return &balancer{external: external, nodes: nodes, tr: &http.Transport{
		MaxIdleConns: 1024, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}}
}

// RoundTrip implements http.RoundTripper.
func (b *balancer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != b.external {
		return b.tr.RoundTrip(r)
	}
	r2 := r.Clone(r.Context())
	r2.URL.Host = b.nodes[(b.next.Add(1)-1)%uint64(len(b.nodes))]
	r2.Host = b.external
	return b.tr.RoundTrip(r2)
}

// emuServer is the itsme emulator on a loopback port, with the time it
// spends on each login's token and userinfo calls recorded, so that it
// can be taken out of the latency the bridge adds.
type emuServer struct {
	issuer string
	emu    *emulator.Emulator
	srv    *http.Server

	mu       sync.Mutex
	byCode   map[string]time.Duration              // time the emulator spent on a code's token call
	userinfo map[string]*httptest.ResponseRecorder // access token -> userinfo answer made ahead
}

func startEmulator(external string, rt http.RoundTripper) (*emuServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e := &emuServer{issuer: "http://" + ln.Addr().String() + "/v2", byCode: map[string]time.Duration{}, userinfo: map[string]*httptest.ResponseRecorder{}}
	e.emu, err = emulator.New(emulator.Config{
		Issuer: e.issuer,
		Clients: []emulator.Client{{
			ID: clientID, RedirectURIs: []string{external + "/oidc/callback"}, JWKSURL: external + "/jwks",
			Services: []emulator.Service{
				{Code: serviceLogin, Type: emulator.ServiceAuthentication},
				{Code: serviceIdentify, Type: emulator.ServiceIdentification},
			},
			RequirePKCE: true,
		}},
		AllowInsecureRedirects: true,
		// A benchmark run keeps hundreds of thousands of codes and tokens
		// alive for their three minutes; real itsme has no such bound.
		StoreLimit: 4 << 20,
		HTTPClient: &http.Client{Transport: rt, Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	})
	if err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("emulator: %w", err)
	}
	e.srv = &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = e.srv.Serve(ln) }()
	return e, nil
}

// ServeHTTP times the token calls, answers userinfo calls ahead, and
// passes every other request to the emulator.
//
// The bridge calls userinfo while it checks the ID token, so the
// emulator's userinfo work overlaps the bridge's own: subtracting it from
// the callback's time would credit the bridge with time it did not save.
// Instead the userinfo answer is made within the token call, whose whole
// time is subtracted, and the bridge's userinfo call is then answered at
// once from it. What is left of the callback is the bridge's own work and
// its HTTP round trips.
func (e *emuServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasSuffix(r.URL.Path, emulator.PathToken):
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "body", http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		form, _ := url.ParseQuery(string(body))
		rec := httptest.NewRecorder()
		start := time.Now()
		e.emu.Handler().ServeHTTP(rec, r)
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &tok)
		var ui *httptest.ResponseRecorder
		if tok.AccessToken != "" {
			ui = httptest.NewRecorder()
			req := httptest.NewRequestWithContext(r.Context(), http.MethodGet, strings.TrimSuffix(r.URL.Path, emulator.PathToken)+emulator.PathUserInfo, nil)
			req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			e.emu.Handler().ServeHTTP(ui, req)
		}
		d := time.Since(start)
		e.mu.Lock()
		e.byCode[form.Get("code")] += d
		if ui != nil {
			e.userinfo[tok.AccessToken] = ui
		}
		e.mu.Unlock()
		replay(w, rec)
	case strings.HasSuffix(r.URL.Path, emulator.PathUserInfo):
		scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		e.mu.Lock()
		ui, ok := e.userinfo[token]
		delete(e.userinfo, token)
		e.mu.Unlock()
		if !ok || !strings.EqualFold(scheme, "Bearer") || (r.Method != http.MethodGet && r.Method != http.MethodPost) {
			// Not a call this wrapper answered ahead: the emulator
			// judges it, and its time is the bridge's to bear.
			e.emu.Handler().ServeHTTP(w, r)
			return
		}
		replay(w, ui)
	default:
		e.emu.Handler().ServeHTTP(w, r)
	}
}

// replay writes a recorded answer.
func replay(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// take returns and forgets the time the emulator spent on code's calls.
func (e *emuServer) take(code string) time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	d := e.byCode[code]
	delete(e.byCode, code)
	return d
}

func (e *emuServer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		_ = e.srv.Close()
	}
}
