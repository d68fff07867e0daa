package adversarial

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/audit"
	"github.com/samlbridge/samlbridge/certs"
	"github.com/samlbridge/samlbridge/demo"
	"github.com/samlbridge/samlbridge/internal/htmlform"
	"github.com/samlbridge/samlbridge/internal/samltest"
	"github.com/samlbridge/samlbridge/internal/syncbuf"
	"github.com/samlbridge/samlbridge/saml"
	"github.com/samlbridge/samlbridge/session"
	"github.com/samlbridge/samlbridge/session/memory"
)

// Resource bounds for one hostile request (issue acceptance): no input
// may make the server use more than 64 MiB or 1 s of CPU.
const (
	maxAllocPerRequest = 64 << 20
	maxCPUPerRequest   = time.Second
)

// causeRE finds the logged cause of each rejection; ADVERSARIAL_CAUSES=1
// prints them, to see why each attack was refused.
var causeRE = regexp.MustCompile(`"component":"saml","reason":"[^"]*","cause":"[^"]*`)

// countingStore is the real store with a count of Put calls: a Put is an
// itsme flow started.
type countingStore struct {
	session.Store
	puts atomic.Int64
}

func (c *countingStore) Put(ctx context.Context, tx session.Transaction) error {
	c.puts.Add(1)
	return c.Store.Put(ctx, tx)
}

// world is a complete stack (bridge, emulator, demo SP) on a loopback
// server, with everything the process writes captured.
type world struct {
	t     *testing.T
	base  string
	stack *demo.Stack
	store *countingStore
	logs  *syncbuf.Buffer
	audit *syncbuf.Buffer
	// hits counts requests per path that reached the emulator (/v2/...),
	// whoever sent them (browser or bridge).
	hitsMu sync.Mutex
	hits   map[string]int
	// nodes are the bridge nodes sharing the store and keys (one unless
	// the twoNodes option is given); target picks the node requests go
	// to: "" or "a" the first, "b" the second.
	nodes  []*demo.Stack
	target string
	// optional is a second SP whose metadata publishes a signing key but
	// does not require signed requests (SIG-02).
	optional *crewjam.ServiceProvider
}

// ssoURL is the bridge's SSO endpoint.
func (w *world) ssoURL() string { return w.base + "/saml/sso" }

// acsURL is the demo SP's ACS.
func (w *world) acsURL() string { return w.base + demo.PathSPACS }

type worldOption func(*demo.Options)

// twoNodes makes the world two bridge nodes with one external URL, one
// state directory (keys) and one store, as behind a load balancer.
func twoNodes(o *demo.Options) { o.StateDir = "two-nodes" }

func newWorld(t *testing.T, opts ...worldOption) *world {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	base := "http://" + srv.Listener.Addr().String()
	w := &world{t: t, base: base, logs: &syncbuf.Buffer{}, audit: &syncbuf.Buffer{}, hits: map[string]int{},
		store: &countingStore{Store: memory.New(0)}}
	kp, err := certs.Generate(nil, 2048, "adversarial optional-signing SP (TEST KEY)", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	mdURL, _ := url.Parse(base + "/optional/metadata")
	acsURL, _ := url.Parse(base + "/optional/acs")
	w.optional = &crewjam.ServiceProvider{EntityID: mdURL.String(), Key: kp.Key, Certificate: kp.Cert, MetadataURL: *mdURL, AcsURL: *acsURL,
		SignatureMethod: samltest.RSASHA256}
	optED := w.optional.Metadata()
	no := false
	optED.SPSSODescriptors[0].AuthnRequestsSigned = &no
	optMD, err := xmlBytes(optED)
	if err != nil {
		t.Fatal(err)
	}
	o := demo.Options{
		BaseURL:         base,
		Store:           w.store,
		ExtraSPMetadata: [][]byte{optMD},
		Logger:          slog.New(slog.NewJSONHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Audit:           audit.NewJSONSink(w.audit),
	}
	for _, f := range opts {
		f(&o)
	}
	if o.Store != w.store { // an option brought its own store: count on it
		w.store = &countingStore{Store: o.Store}
		o.Store = w.store
	}
	n := 1
	if o.StateDir == "two-nodes" {
		n, o.StateDir = 2, t.TempDir()
	}
	for range n {
		st, err := demo.New(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		w.nodes = append(w.nodes, st)
	}
	w.stack = w.nodes[0]
	w.optional.IDPMetadata = w.stack.SP.SAML.IDPMetadata
	srv.Config.Handler = http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v2/") {
			w.hitsMu.Lock()
			w.hits[r.URL.Path]++
			w.hitsMu.Unlock()
		}
		// itsme is one service for all nodes: the first node's emulator
		// answers every /v2/ request.
		node := w.stack
		if w.target == "b" && len(w.nodes) > 1 && !strings.HasPrefix(r.URL.Path, "/v2/") {
			node = w.nodes[1]
		}
		node.Handler.ServeHTTP(rw, r)
	})
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		if os.Getenv("ADVERSARIAL_CAUSES") != "" {
			for _, m := range causeRE.FindAllString(w.logs.String(), -1) {
				t.Log(m)
			}
		}
		if t.Failed() {
			logs := w.logs.String()
			if len(logs) > 4000 {
				logs = "…" + logs[len(logs)-4000:]
			}
			t.Logf("bridge log tail:\n%s", logs)
		}
		if strings.Contains(w.logs.String(), "panic") {
			t.Errorf("the bridge logged a panic:\n%s", w.logs.String())
		}
	})
	return w
}

func xmlBytes(ed *crewjam.EntityDescriptor) ([]byte, error) { return xml.Marshal(ed) }

func (w *world) hitCount(path string) int {
	w.hitsMu.Lock()
	defer w.hitsMu.Unlock()
	return w.hits[path]
}

// result is everything observable about one request.
type result struct {
	status   int
	header   http.Header
	body     string
	location string
	// form is the auto-POST form, if the page is one.
	form *postedForm
	// puts is the number of itsme flows started while handling it;
	// tokenCalls the number of code exchanges at the emulator.
	puts, tokenCalls int
	events           []audit.Event
	cpu              time.Duration
	alloc            uint64
}

// postedForm is an auto-POST form towards an SP.
type postedForm struct {
	action string
	values url.Values
	// response is the decoded SAMLResponse, when there is one.
	response *etree.Element
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// noRedirects is a client that stops at the bridge's answer.
func noRedirects(jar http.CookieJar) *http.Client {
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// send sends req with client (nil: a fresh cookie-less client that does
// not follow redirects) and records what happened, then checks that the
// request stayed within the resource bounds and that the bridge is still
// healthy.
func (w *world) send(t *testing.T, req *http.Request, client *http.Client) result {
	t.Helper()
	if client == nil {
		client = noRedirects(nil)
	}
	auditBefore := len(w.audit.String())
	puts := w.store.puts.Load()
	tokens := w.hitCount("/v2/token")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	allocBefore, cpuBefore := ms.TotalAlloc, cpuTime()

	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %.120s: %v", req.Method, req.URL, err)
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	resp.Body.Close()

	runtime.ReadMemStats(&ms)
	r := result{
		status: resp.StatusCode, header: resp.Header, body: body.String(), location: resp.Header.Get("Location"),
		puts: int(w.store.puts.Load() - puts), tokenCalls: w.hitCount("/v2/token") - tokens,
		cpu: cpuTime() - cpuBefore, alloc: ms.TotalAlloc - allocBefore,
	}
	for _, line := range strings.Split(strings.TrimSpace(w.audit.String()[auditBefore:]), "\n") {
		if line == "" {
			continue
		}
		var e audit.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("audit line is not JSON: %v", err)
		}
		r.events = append(r.events, e)
	}
	if action, vals, ok := htmlform.AsFound(r.body); ok {
		f := &postedForm{action: action, values: vals}
		if s := vals.Get("SAMLResponse"); s != "" {
			raw, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				t.Fatalf("SAMLResponse is not base64: %v", err)
			}
			el, err := samltest.ParseElement(raw)
			if err != nil {
				t.Fatalf("SAMLResponse is not XML: %v", err)
			}
			f.response = el
		}
		r.form = f
	}
	if r.alloc > maxAllocPerRequest {
		t.Errorf("one request allocated %d MiB (bound %d MiB)", r.alloc>>20, maxAllocPerRequest>>20)
	}
	if r.cpu > maxCPUPerRequest {
		t.Errorf("one request used %v of CPU (bound %v)", r.cpu, maxCPUPerRequest)
	}
	w.healthy(t)
	return r
}

// healthy checks that the bridge still answers.
func (w *world) healthy(t *testing.T) {
	t.Helper()
	resp, err := http.Get(w.base + "/healthz")
	if err != nil {
		t.Fatalf("healthz: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz answered %d", resp.StatusCode)
	}
}

func (w *world) get(t *testing.T, u string) result {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return w.send(t, req, nil)
}

// postForm posts an HTML form body.
func (w *world) postForm(t *testing.T, u, body string) result {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return w.send(t, req, nil)
}

// postRequest sends raw XML by the HTTP-POST binding.
func (w *world) postRequest(t *testing.T, xmlData []byte, relayState string) result {
	t.Helper()
	body := "SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString(xmlData))
	if relayState != "" {
		body += "&RelayState=" + url.QueryEscape(relayState)
	}
	return w.postForm(t, w.ssoURL(), body)
}

// redirect sends raw XML by the HTTP-Redirect binding, signed with the
// demo SP's key and sigAlg unless sigAlg is empty.
func (w *world) redirect(t *testing.T, xmlData []byte, relayState, sigAlg string) result {
	t.Helper()
	key := w.spKey()
	if sigAlg == "" {
		key = nil
	}
	q, err := samltest.RedirectQuery(xmlData, relayState, key, sigAlg)
	if err != nil {
		t.Fatal(err)
	}
	return w.get(t, w.ssoURL()+"?"+q)
}

// spKey is the demo SP's signing key.
func (w *world) spKey() *rsa.PrivateKey {
	k, ok := w.stack.SP.SAML.Key.(*rsa.PrivateKey)
	if !ok {
		w.t.Fatalf("the demo SP key is a %T", w.stack.SP.SAML.Key)
	}
	return k
}

// authnRequest is a fresh AuthnRequest from sp (the demo SP when nil)
// addressed to the bridge, edited, unsigned.
func (w *world) authnRequest(t *testing.T, sp *crewjam.ServiceProvider, edit func(*crewjam.AuthnRequest)) *crewjam.AuthnRequest {
	t.Helper()
	if sp == nil {
		sp = w.stack.SP.SAML
	}
	req, err := sp.MakeAuthenticationRequest(w.ssoURL(), crewjam.HTTPRedirectBinding, crewjam.HTTPPostBinding)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(req)
	}
	return req
}

// requestXML serialises req without a signature.
func requestXML(t *testing.T, req *crewjam.AuthnRequest) []byte {
	t.Helper()
	req.Signature = nil
	b, err := samltest.ElementBytes(req.Element())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signedXML is req signed (enveloped, RSA-SHA256, exclusive c14n) with the
// demo SP's key, as the HTTP-POST binding carries it.
func (w *world) signedXML(t *testing.T, req *crewjam.AuthnRequest) *etree.Element {
	t.Helper()
	req.Signature = nil
	signer := &saml.Signer{Key: w.stack.SP.SAML.Key, Certs: []*x509.Certificate{w.stack.SP.SAML.Certificate}}
	el, err := signer.SignEnveloped(req.Element())
	if err != nil {
		t.Fatal(err)
	}
	return el
}

func mustBytes(t *testing.T, el *etree.Element) []byte {
	t.Helper()
	b, err := samltest.ElementBytes(el)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// local asserts the bridge's own error page: the HTTP status, nothing
// posted or redirected anywhere, no itsme flow started, no code redeemed,
// and exactly one audit event "rejected" with the reason.
func (r result) local(t *testing.T, status int, reason string) {
	t.Helper()
	if r.status != status {
		t.Errorf("HTTP %d, want %d; body:\n%.600s", r.status, status, r.body)
	}
	if r.form != nil || strings.Contains(r.body, "SAMLResponse") {
		t.Errorf("the error page carries a form:\n%.600s", r.body)
	}
	if r.location != "" {
		t.Errorf("redirected to %.200s", r.location)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type %q, want the HTML error page", ct)
	}
	r.nothingUpstream(t)
	r.oneEvent(t, audit.Rejected, reason)
}

// nothingUpstream asserts that no itsme flow was started and no code was
// redeemed.
func (r result) nothingUpstream(t *testing.T) {
	t.Helper()
	if r.puts != 0 {
		t.Errorf("%d itsme flow(s) started", r.puts)
	}
	if r.tokenCalls != 0 {
		t.Errorf("%d code exchange(s) at itsme", r.tokenCalls)
	}
}

// oneEvent asserts exactly one audit event with outcome and reason.
func (r result) oneEvent(t *testing.T, outcome audit.Outcome, reason string) {
	t.Helper()
	if len(r.events) != 1 {
		t.Errorf("%d audit events, want exactly 1: %+v", len(r.events), r.events)
		return
	}
	if e := r.events[0]; e.Outcome != outcome || e.Reason != reason {
		t.Errorf("audit event %s/%s, want %s/%s", e.Outcome, e.Reason, outcome, reason)
	}
}

// samlStatus asserts a signed error Response posted to acs with the
// status codes, InResponseTo, no assertion, and one "failure" event.
func (r result) samlStatus(t *testing.T, acs, inResponseTo, top, second string) {
	t.Helper()
	if r.status != http.StatusOK || r.form == nil || r.form.response == nil {
		t.Fatalf("want an auto-POST SAMLResponse, got HTTP %d:\n%.600s", r.status, r.body)
	}
	if r.form.action != acs {
		t.Errorf("posted to %q, want the ACS %q from metadata", r.form.action, acs)
	}
	resp := r.form.response
	codes := resp.FindElements("./Status//StatusCode")
	got := make([]string, 0, len(codes))
	for _, c := range codes {
		got = append(got, c.SelectAttrValue("Value", ""))
	}
	want := []string{top}
	if second != "" {
		want = append(want, second)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("status codes %v, want %v", got, want)
	}
	if v := resp.SelectAttrValue("InResponseTo", ""); v != inResponseTo {
		t.Errorf("InResponseTo %q, want %q", v, inResponseTo)
	}
	if resp.FindElement("./Assertion") != nil || resp.FindElement("./EncryptedAssertion") != nil {
		t.Error("an error Response carries an assertion")
	}
	if resp.FindElement("./Signature") == nil {
		t.Error("the error Response is not signed")
	}
	reason := shortStatus(top)
	if second != "" {
		reason += "/" + shortStatus(second)
	}
	r.oneEvent(t, audit.Failure, reason)
}

func shortStatus(s string) string {
	return strings.TrimPrefix(s, "urn:oasis:names:tc:SAML:2.0:status:")
}

// flowStarted asserts the request was accepted: a redirect to itsme's
// authorization endpoint, one flow stored, and no audit event yet (the
// outcome is not known).
func (w *world) flowStarted(t *testing.T, r result) {
	t.Helper()
	if r.status != http.StatusFound || !strings.HasPrefix(r.location, w.base+"/v2/authorization") {
		t.Fatalf("want a redirect to itsme, got HTTP %d Location %.200q:\n%.600s", r.status, r.location, r.body)
	}
	if r.puts != 1 {
		t.Errorf("%d flows stored, want 1", r.puts)
	}
	if len(r.events) != 0 {
		t.Errorf("audit events before the outcome is known: %+v", r.events)
	}
}

// browser is a client with a cookie jar that follows redirects.
func browser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar}
}
