package cluster

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/certs"
	"github.com/samlbridge/samlbridge/internal/htmlform"
	"github.com/samlbridge/samlbridge/internal/syncbuf"
	"github.com/samlbridge/samlbridge/internal/testenv"
)

// The emulator registration shared by the nodes' configuration and the
// emulator's flags.
const (
	clientID        = "samlbridge-cluster"
	serviceLogin    = "SAMLBRIDGE_CLUSTER_LOGIN"
	serviceIdentify = "SAMLBRIDGE_CLUSTER_IDENTIFY"
	headerNode      = "X-Samlbridge-Node" // set by ./proxy
	// startBound is a safety net for a process that never gets ready; no
	// assertion depends on time.
	startBound = 60 * time.Second
)

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// binaries builds the samlbridge command and the proxy once per test
// binary run and returns their paths.
func binaries(t *testing.T) (samlbridge, proxy string) {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "samlbridge-cluster-bin-")
		if buildErr != nil {
			return
		}
		goBin, err := exec.LookPath("go") // go test puts GOROOT/bin first in PATH
		if err != nil {
			buildErr = err
			return
		}
		cmd := exec.Command(goBin, "build", "-o", buildDir+string(filepath.Separator),
			"github.com/samlbridge/samlbridge/cmd/samlbridge",
			"github.com/samlbridge/samlbridge/examples/cluster/proxy")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(buildDir, "samlbridge"), filepath.Join(buildDir, "proxy")
}

// TestCluster starts the emulator, two bridge nodes sharing the test Redis
// and the round-robin proxy as separate processes, and drives logins
// through the proxy with a scripted browser. The SP lives in the test.
func TestCluster(t *testing.T) {
	redisAddr := testenv.RedisAddr(t)
	c := startCluster(t, redisAddr)

	t.Run("AuthnRequest replayed against the other node is refused", func(t *testing.T) {
		b := c.browser(t)
		login, _ := c.sp.loginURL(t, "replay")
		c.steerTo(t, "A")
		p := b.get(login)
		if p.status != http.StatusFound || !strings.HasPrefix(p.location, c.issuer+"/authorization") {
			t.Fatalf("node %s: status %d to %q, want a redirect to the emulator:\n%s", p.node, p.status, short(p.location), short(p.body))
		}
		if p.node != "A" {
			t.Fatalf("the SSO step was served by node %q, want A", p.node)
		}
		c.steerTo(t, "B")
		again := b.get(login)
		if again.node != "B" {
			t.Fatalf("the replay was served by node %q, want B", again.node)
		}
		if again.status != http.StatusBadRequest {
			t.Errorf("node B answered the replay with %d, want 400:\n%s", again.status, short(again.body))
		}
		if !strings.Contains(again.body, "This login request was already used") {
			t.Errorf("node B's page lacks the replay message:\n%s", short(again.body))
		}
		if again.location != "" || strings.Contains(again.body, "SAMLResponse") || strings.Contains(again.body, "<form") {
			t.Errorf("the replay was answered with a redirect (%q) or a form:\n%s", short(again.location), short(again.body))
		}
	})

	t.Run("login started on node A finishes on node B", func(t *testing.T) {
		b := c.browser(t)
		login, reqID := c.sp.loginURL(t, "cross-node")
		c.steerTo(t, "A")
		callback := c.toCallback(t, b, login, nil)
		c.steerTo(t, "B")
		final := b.get(callback)
		if final.node != "B" {
			t.Fatalf("the callback was answered %d by node %q, want B", final.status, final.node)
		}
		c.sp.verify(t, final, reqID, "cross-node")
	})

	t.Run("node A killed mid-flow loses no login", func(t *testing.T) {
		b := c.browser(t)
		login, reqID := c.sp.loginURL(t, "killed")
		c.steerTo(t, "A")
		callback := c.toCallback(t, b, login, func() {
			// The user is at the phone page. The proxy's next turn is
			// node A's, and node A dies without warning.
			c.steerTo(t, "A")
			c.nodes["A"].kill(t)
		})
		if conn, err := net.Dial("tcp", c.nodes["A"].addr); err == nil {
			_ = conn.Close()
			t.Fatal("node A still accepts connections after SIGKILL")
		}
		final := b.get(callback)
		if final.node != "B" {
			t.Fatalf("the callback was answered %d by node %q, want B", final.status, final.node)
		}
		c.sp.verify(t, final, reqID, "killed")
		// Every later request goes to B.
		for range 3 {
			if p := b.get(c.proxy + "/healthz"); p.status != http.StatusOK || p.node != "B" {
				t.Errorf("after A died: /healthz %d from %q, want 200 from B", p.status, p.node)
			}
		}
	})

	t.Run("SIGTERM stops every process cleanly", func(t *testing.T) {
		for _, p := range []*proc{c.nodes["B"], c.emulator, c.proxyProc} {
			if code := p.terminate(t); code != 0 {
				t.Errorf("%s exited with %d after SIGTERM, want 0; stderr:\n%s", p.name, code, tail(p.stderr.String()))
			}
		}
	})
}

// cluster is the running set of processes.
type cluster struct {
	proxy     string // the public base URL
	issuer    string
	sp        *testSP
	nodes     map[string]*proc
	emulator  *proc
	proxyProc *proc
}

func startCluster(t *testing.T, redisAddr string) *cluster {
	t.Helper()
	samlbridge, proxyBin := binaries(t)
	dir := t.TempDir()
	c := &cluster{nodes: map[string]*proc{}}

	// Node addresses are chosen first: the proxy names them, and the
	// nodes' configuration names the proxy.
	addrs := map[string]string{"A": freeAddr(t), "B": freeAddr(t)}
	c.proxyProc = start(t, "proxy", proxyBin, "--listen", "127.0.0.1:0", "A=http://"+addrs["A"], "B=http://"+addrs["B"])
	line := c.proxyProc.waitLine(t, "proxy ready: ")
	addr, _, _ := strings.Cut(strings.TrimPrefix(line, "proxy ready: "), " ")
	c.proxy = addr

	c.emulator = start(t, "emulator", samlbridge, "emulator", "--addr", "127.0.0.1:0",
		"--client-id", clientID,
		"--redirect-uri", c.proxy+"/oidc/callback",
		"--jwks-url", c.proxy+"/jwks",
		"--service-code", serviceLogin+"=authentication",
		"--service-code", serviceIdentify+"=identification")
	line = c.emulator.waitLine(t, "itsme emulator ready: issuer ")
	c.issuer, _, _ = strings.Cut(strings.TrimPrefix(line, "itsme emulator ready: issuer "), " ")

	c.sp = newTestSP(t, c.proxy)
	writeSetup(t, dir, c.sp)
	// A fresh store secret per run: every Redis key is an HMAC under it,
	// so this run's keys cannot meet another test's in the shared Redis.
	for _, name := range []string{"A", "B"} {
		cfg := filepath.Join(dir, "node-"+name+".yaml")
		write(t, cfg, nodeConfig(c.proxy, addrs[name], c.issuer, redisAddr, name))
		p := start(t, "node "+name, samlbridge, "serve", "--config", cfg)
		p.addr = addrs[name]
		p.waitLine(t, "samlbridge serving ")
		c.nodes[name] = p
	}
	for name, a := range addrs {
		resp, err := http.Get("http://" + a + "/healthz")
		if err != nil {
			t.Fatalf("node %s /healthz: %v", name, err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("node %s /healthz: status %d", name, resp.StatusCode)
		}
	}
	md := c.browser(t).get(c.proxy + "/saml/metadata")
	if md.status != http.StatusOK {
		t.Fatalf("IdP metadata through the proxy: status %d", md.status)
	}
	c.sp.setIDPMetadata(t, []byte(md.body))
	return c
}

// nodeConfig is the YAML of one node: everything but listen is the same
// on both.
func nodeConfig(proxy, listen, issuer, redisAddr, name string) string {
	return fmt.Sprintf(`external_url: %s
listen: %s
saml: {signing_key_file: saml.key, signing_cert_file: saml.crt}
itsme:
  issuer: %s
  client_id: %s
  services: {authentication: %s, identification: %s}
  signing_key_file: itsme-sig.key
  encryption_key_file: itsme-enc.key
pairwise_secret: {file: pairwise.hex}
session:
  store: redis
  url: redis://%s/0
  secret: {file: store.hex}
service_providers:
  - metadata_file: sp.xml
    attributes: [name, firstName, lastName, email, dateOfBirth]
    release: [name, firstName, lastName, email]
    allow_insecure_acs: true
http: {trusted_proxies: [127.0.0.1]}
log: {level: debug, format: text}
audit: {file: audit-%s.jsonl}
`, proxy, listen, issuer, clientID, serviceLogin, serviceIdentify, redisAddr, name)
}

// writeSetup writes the TEST keys and secrets both nodes share, and the
// SP's metadata.
func writeSetup(t *testing.T, dir string, sp *testSP) {
	t.Helper()
	for _, k := range []struct{ name, cn string }{
		{"saml", "samlbridge cluster IdP (TEST KEY)"},
		{"itsme-sig", "samlbridge cluster itsme signing (TEST KEY)"},
		{"itsme-enc", "samlbridge cluster itsme encryption (TEST KEY)"},
	} {
		kp, err := certs.Generate(nil, certs.DefaultKeyBits, k.cn, time.Now(), 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		keyPEM, certPEM, err := kp.EncodePEM()
		if err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, k.name+".key"), string(keyPEM))
		write(t, filepath.Join(dir, k.name+".crt"), string(certPEM))
	}
	for _, s := range []string{"pairwise.hex", "store.hex"} {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, s), hex.EncodeToString(b)+"\n")
	}
	md, err := xml.MarshalIndent(sp.sp.Metadata(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "sp.xml"), string(md))
}

// steerTo makes the proxy send the next request to node want. The proxy
// takes the nodes in turn; the test is its only client between two steps
// (the emulator calls the proxy only while serving the test's requests),
// so a probe answered by the other node means the next request is want's.
func (c *cluster) steerTo(t *testing.T, want string) {
	t.Helper()
	var served []string
	for range 4 {
		resp, err := http.Get(c.proxy + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		got := resp.Header.Get(headerNode)
		if resp.StatusCode == http.StatusOK && got != want && got != "" {
			return
		}
		served = append(served, fmt.Sprintf("%d from %q", resp.StatusCode, got))
	}
	t.Fatalf("cannot steer the proxy to node %s: four probes were answered %v", want, served)
}

// toCallback runs a login from the SP's AuthnRequest to the emulator's
// redirect back to the bridge, checking that node A served the SSO step,
// and returns the callback URL without following it. atPhone runs while
// the user is at the emulator's phone page.
func (c *cluster) toCallback(t *testing.T, b *browser, login string, atPhone func()) string {
	t.Helper()
	sso := b.get(login)
	if sso.node != "A" {
		t.Fatalf("the SSO step was served by node %q, want A", sso.node)
	}
	if sso.status != http.StatusFound || !strings.HasPrefix(sso.location, c.issuer+"/authorization?") {
		t.Fatalf("node A: status %d to %q, want a redirect to the emulator:\n%s", sso.status, short(sso.location), short(sso.body))
	}
	phone := b.get(sso.location)
	if phone.status != http.StatusOK {
		t.Fatalf("emulator phone page: status %d:\n%s", phone.status, short(phone.body))
	}
	if atPhone != nil {
		atPhone()
	}
	action, vals := phone.form(t)
	back := b.post(action, vals)
	if back.status != http.StatusFound || !strings.HasPrefix(back.location, c.proxy+"/oidc/callback?") {
		t.Fatalf("emulator: status %d to %q, want a redirect to the bridge's callback:\n%s", back.status, short(back.location), short(back.body))
	}
	return back.location
}

// browser is a scripted browser: a cookie jar and no redirect following,
// so that each step and the node that served it can be checked.
type browser struct {
	t      *testing.T
	client *http.Client
}

func (c *cluster) browser(t *testing.T) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{t: t, client: &http.Client{
		Jar:           jar,
		Timeout:       startBound,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

type page struct {
	status   int
	url      *url.URL
	location string
	node     string
	body     string
}

func (b *browser) do(req *http.Request) *page {
	b.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	p := &page{status: resp.StatusCode, url: resp.Request.URL, node: resp.Header.Get(headerNode), body: string(body)}
	if loc, err := resp.Location(); err == nil {
		p.location = loc.String()
	}
	return p
}

func (b *browser) get(u string) *page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(u string, form url.Values) *page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// form returns the page's form as a browser submits it untouched (which,
// on the emulator's phone page, approves the first persona).
func (p *page) form(t *testing.T) (string, url.Values) {
	t.Helper()
	action, vals, ok := htmlform.AsFound(p.body)
	if !ok {
		t.Fatalf("no form on %s (status %d):\n%s", p.url.Path, p.status, short(p.body))
	}
	u, err := p.url.Parse(action)
	if err != nil {
		t.Fatal(err)
	}
	return u.String(), vals
}

// testSP is a crewjam service provider run by the test: it signs
// AuthnRequests and verifies (and decrypts) the bridge's responses.
type testSP struct {
	sp *crewjam.ServiceProvider
}

func newTestSP(t *testing.T, proxy string) *testSP {
	t.Helper()
	kp, err := certs.Generate(nil, certs.DefaultKeyBits, "samlbridge cluster test SP (TEST KEY)", time.Now(), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// The ACS is never contacted: the test reads the auto-POST form.
	acs, _ := url.Parse("http://127.0.0.1:9/cluster-sp/acs")
	md, _ := url.Parse("http://127.0.0.1:9/cluster-sp/metadata")
	return &testSP{sp: &crewjam.ServiceProvider{
		EntityID:          md.String(),
		Key:               kp.Key,
		Certificate:       kp.Cert,
		MetadataURL:       *md,
		AcsURL:            *acs,
		SignatureMethod:   "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
		AuthnNameIDFormat: crewjam.PersistentNameIDFormat,
	}}
}

func (s *testSP) setIDPMetadata(t *testing.T, md []byte) {
	t.Helper()
	var ed crewjam.EntityDescriptor
	if err := xml.Unmarshal(md, &ed); err != nil {
		t.Fatalf("IdP metadata: %v", err)
	}
	s.sp.IDPMetadata = &ed
}

// loginURL returns a fresh signed AuthnRequest (HTTP-Redirect) and its ID.
func (s *testSP) loginURL(t *testing.T, relayState string) (string, string) {
	t.Helper()
	req, err := s.sp.MakeAuthenticationRequest(s.sp.GetSSOBindingLocation(crewjam.HTTPRedirectBinding), crewjam.HTTPRedirectBinding, crewjam.HTTPPostBinding)
	if err != nil {
		t.Fatal(err)
	}
	u, err := req.Redirect(relayState, s.sp)
	if err != nil {
		t.Fatal(err)
	}
	return u.String(), req.ID
}

// verify checks that p is the bridge's auto-POST form to the SP's ACS and
// that crewjam accepts its response to reqID, with the release policy's
// attributes of the approved persona.
func (s *testSP) verify(t *testing.T, p *page, reqID, relayState string) {
	t.Helper()
	if p.status != http.StatusOK {
		t.Fatalf("callback on node %s: status %d:\n%s", p.node, p.status, short(p.body))
	}
	action, vals := p.form(t)
	if action != s.sp.AcsURL.String() {
		t.Fatalf("the form posts to %q, want the ACS %q", action, s.sp.AcsURL.String())
	}
	if got := vals.Get("RelayState"); got != relayState {
		t.Errorf("RelayState %q, want %q", got, relayState)
	}
	raw, err := base64.StdEncoding.DecodeString(vals.Get("SAMLResponse"))
	if err != nil || len(raw) == 0 {
		t.Fatalf("SAMLResponse is not base64 (%v)", err)
	}
	assertion, err := s.sp.ParseXMLResponse(raw, []string{reqID}, s.sp.AcsURL)
	if err != nil {
		if ire, ok := err.(*crewjam.InvalidResponseError); ok {
			err = ire.PrivateErr
		}
		t.Fatalf("the SP rejected the response: %v", err)
	}
	if !bytes.Contains(raw, []byte("EncryptedAssertion")) {
		t.Error("the SP's metadata has an encryption key, but the assertion was not encrypted")
	}
	if want := s.sp.IDPMetadata.EntityID; assertion.Issuer.Value != want {
		t.Errorf("issuer %q, want %q", assertion.Issuer.Value, want)
	}
	if assertion.Subject == nil || assertion.Subject.NameID == nil || assertion.Subject.NameID.Value == "" {
		t.Fatal("no NameID")
	}
	got := map[string][]string{}
	for _, st := range assertion.AttributeStatements {
		for _, a := range st.Attributes {
			for _, v := range a.Values {
				got[a.Name] = append(got[a.Name], v.Value)
			}
		}
	}
	want := map[string]string{"name": "Maxence Legrand", "firstName": "Maxence", "lastName": "Legrand", "email": "test@itsme.be"}
	for n, v := range want {
		if len(got[n]) != 1 || got[n][0] != v {
			t.Errorf("attribute %s = %q, want [%q]", n, got[n], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("attributes %v, want exactly %v (the release policy)", keys(got), keys(want))
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// proc is a child process of the test.
type proc struct {
	name    string
	cmd     *exec.Cmd
	addr    string
	stdout  *notifyBuffer
	stderr  *syncbuf.Buffer
	exited  chan struct{}
	code    int
	stopped bool
}

// start runs bin in its own process group. Cleanup stops it by PID.
func start(t *testing.T, name, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, stdout: &notifyBuffer{changed: make(chan struct{}, 1)}, stderr: &syncbuf.Buffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Dir = filepath.Dir(bin)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		_ = p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		close(p.exited)
	}()
	t.Cleanup(func() {
		if !p.stopped {
			p.terminate(t)
		}
		if t.Failed() {
			t.Logf("--- %s stderr (tail) ---\n%s", name, tail(p.stderr.String()))
		}
	})
	return p
}

// waitLine waits for a line of standard output starting with prefix and
// returns it.
func (p *proc) waitLine(t *testing.T, prefix string) string {
	t.Helper()
	bound := time.After(startBound)
	for {
		for _, l := range strings.Split(p.stdout.String(), "\n") {
			if strings.HasPrefix(l, prefix) {
				return l
			}
		}
		select {
		case <-p.stdout.changed:
		case <-p.exited:
			t.Fatalf("%s exited with %d before printing %q; stderr:\n%s", p.name, p.code, prefix, tail(p.stderr.String()))
		case <-bound:
			t.Fatalf("%s printed no %q within %s; stderr:\n%s", p.name, prefix, startBound, tail(p.stderr.String()))
		}
	}
}

// terminate sends SIGTERM and waits for the exit (SIGKILL if it does not
// come within startBound); it returns the exit code.
func (p *proc) terminate(t *testing.T) int {
	t.Helper()
	p.stopped = true
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(startBound):
		t.Errorf("%s did not stop on SIGTERM; killing it", p.name)
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
	return p.code
}

// kill sends SIGKILL and waits until the process is gone.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	p.stopped = true
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatalf("killing %s: %v", p.name, err)
	}
	<-p.exited
}

// notifyBuffer collects a process's standard output and signals each
// write.
type notifyBuffer struct {
	syncbuf.Buffer
	changed chan struct{}
}

func (n *notifyBuffer) Write(b []byte) (int, error) {
	k, err := n.Buffer.Write(b)
	select {
	case n.changed <- struct{}{}:
	default:
	}
	return k, err
}

// freeAddr returns a loopback address with a port free at the time of
// the call.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// short cuts a page or URL for a failure message: the bridge's redirects
// carry whole request objects.
func short(s string) string {
	const n = 300
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

func tail(s string) string {
	const n = 6000
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
