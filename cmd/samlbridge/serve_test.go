package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/samlbridge/samlbridge/certs"
	"github.com/samlbridge/samlbridge/internal/htmlform"
	"github.com/samlbridge/samlbridge/internal/samltest"
	"github.com/samlbridge/samlbridge/internal/syncbuf"
	"github.com/samlbridge/samlbridge/itsme/emulator"
	"github.com/samlbridge/samlbridge/server"
)

// freeAddr returns a loopback address nobody listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// serveStack is "samlbridge serve" running in the test process against an
// in-process itsme emulator.
type serveStack struct {
	dir, config, base, admin string
	reload                   chan struct{}
	stderr                   *syncbuf.Buffer
	done                     chan error
}

func startServe(t *testing.T) *serveStack {
	t.Helper()
	return startServeWith(t, nil)
}

// startServeWith is startServe with the configuration file's text passed
// through edit before serve starts (nil: unchanged).
func startServeWith(t *testing.T, edit func(string) string) *serveStack {
	t.Helper()
	dir := t.TempDir()
	listen, admin := freeAddr(t), freeAddr(t)
	base := "http://" + listen
	emuSrv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + emuSrv.Listener.Addr().String() + "/v2"
	p := writeValidConfig(t, dir, fmt.Sprintf("listen: %s\nmetrics: {listen: %s}\nlog: {level: debug, format: text}\n", listen, admin))
	cfg := strings.NewReplacer("https://idp.example", base, "https://idp.e2e.itsme.services/v2", issuer).Replace(readFile(t, p))
	if edit != nil {
		cfg = edit(cfg)
	}
	writeFile(t, dir, "c.yaml", cfg)
	sig, err := certs.LoadFiles(filepath.Join(dir, "sig.key"), "")
	if err != nil {
		t.Fatal(err)
	}
	enc, err := certs.LoadFiles(filepath.Join(dir, "enc.key"), "")
	if err != nil {
		t.Fatal(err)
	}
	jwks := (&certs.JOSEKeys{Sig: sig, Enc: enc}).PublicJWKS()
	emu, err := emulator.New(emulator.Config{
		Issuer: issuer,
		Clients: []emulator.Client{{
			ID: "C", RedirectURIs: []string{base + "/oidc/callback"}, JWKS: &jwks, RequirePKCE: true,
			Services: []emulator.Service{{Code: "C_IDENT", Type: emulator.ServiceIdentification}, {Code: "C_LOGIN", Type: emulator.ServiceAuthentication}},
		}},
		AllowInsecureRedirects: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	emuSrv.Config.Handler = emu.Handler()
	emuSrv.Start()
	t.Cleanup(emuSrv.Close)

	s := &serveStack{dir: dir, config: p, base: base, admin: "http://" + admin, reload: make(chan struct{}), stderr: &syncbuf.Buffer{}, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { s.done <- serveConfig(ctx, p, s.reload, io.Discard, s.stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-s.done:
			if err != nil {
				t.Errorf("serve ended with %v", err)
			}
		case <-time.After(40 * time.Second):
			t.Error("serve did not stop")
		}
	})
	s.waitFor(t, s.base+"/healthz", "ok")
	return s
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// waitFor polls u until its body contains want (the server starting, a
// reload being applied); it proves an outcome, not a speed.
func (s *serveStack) waitFor(t *testing.T, u, want string) {
	t.Helper()
	var last string
	for range 300 {
		if resp, err := http.Get(u); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if last = string(b); strings.Contains(last, want) {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s never contained %q; last:\n%.2000s\nlogs:\n%s", u, want, last, s.stderr.String())
}

// ssoURL is an unsigned AuthnRequest from sp over the Redirect binding.
func (s *serveStack) ssoURL(t *testing.T, sp, id string) string {
	t.Helper()
	xml := fmt.Sprintf(`<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="%s" Version="2.0" IssueInstant="%s" Destination="%s/saml/sso"><saml:Issuer>%s</saml:Issuer></samlp:AuthnRequest>`,
		id, time.Now().UTC().Format(time.RFC3339), s.base, sp)
	q, err := samltest.RedirectQuery([]byte(xml), "", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	return s.base + "/saml/sso?" + q
}

func browserClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}

func getPage(t *testing.T, c *http.Client, u string) (int, string, *url.URL) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Request.URL
}

// TestServeReloadKeepsFlowsAndTheLastGoodConfig: a login started before a
// reload finishes after it; the reload adds an SP; a broken configuration
// is refused, logged and counted, and the running one keeps serving.
func TestServeReloadKeepsFlowsAndTheLastGoodConfig(t *testing.T) {
	s := startServe(t)
	b := browserClient(t)
	status, phone, at := getPage(t, b, s.ssoURL(t, "https://sp.example/", "id-reload-1"))
	if status != http.StatusOK || !strings.HasSuffix(at.Path, "/v2/authorization") {
		t.Fatalf("not at the phone page: %d %s\n%.500s\n%s", status, at, phone, s.stderr.String())
	}
	// The SP two is unknown before the reload.
	if st, _, _ := getPage(t, browserClient(t), s.ssoURL(t, "https://sp2.example/", "id-before")); st != http.StatusBadRequest {
		t.Fatalf("unknown SP: status %d", st)
	}

	// Reload with a second SP while the user is at itsme.
	spXML(t, s.dir, "sp2.xml", "https://sp2.example/")
	cfg := readFile(t, s.config)
	cfg = strings.Replace(cfg, "service_providers:\n", "service_providers:\n  - {metadata_file: sp2.xml, attributes: [name]}\n", 1)
	writeFile(t, s.dir, "c.yaml", cfg)
	s.reload <- struct{}{}
	s.waitFor(t, s.admin+"/metrics", `samlbridge_config_reloads_total{outcome="ok"} 2`)

	// The login started before the reload completes.
	action, vals, ok := htmlform.AsFound(phone)
	if !ok {
		t.Fatal("no form on the phone page")
	}
	resp, err := b.PostForm(at.ResolveReference(mustURL(t, action)).String(), vals)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	action, vals, ok = htmlform.AsFound(string(body))
	if !ok || action != "https://sp.example/acs" || vals.Get("SAMLResponse") == "" {
		t.Fatalf("no auto-POST to the ACS after the reload (status %d, action %q):\n%.1000s\n%s", resp.StatusCode, action, body, s.stderr.String())
	}
	xml, err := base64.StdEncoding.DecodeString(vals.Get("SAMLResponse"))
	if err != nil || !strings.Contains(string(xml), `InResponseTo="id-reload-1"`) || !strings.Contains(string(xml), "status:Success") {
		t.Fatalf("response is not a success for the request (%v):\n%.1500s", err, xml)
	}
	if st, _, at := getPage(t, browserClient(t), s.ssoURL(t, "https://sp2.example/", "id-after")); st != http.StatusOK || !strings.HasSuffix(at.Path, "/v2/authorization") {
		t.Fatalf("the SP added by the reload: status %d at %s", st, at)
	}

	// A broken configuration is refused and the running one stays.
	writeFile(t, s.dir, "c.yaml", strings.Replace(cfg, "sp2.xml", "missing.xml", 1)+"unknown_key: 1\n")
	s.reload <- struct{}{}
	s.waitFor(t, s.admin+"/metrics", `samlbridge_config_reloads_total{outcome="error"} 1`)
	logs := s.stderr.String()
	if !strings.Contains(logs, "configuration reload failed; the running configuration stays") || !strings.Contains(logs, "unknown_key") {
		t.Errorf("the failed reload is not logged with its cause:\n%s", logs)
	}
	if st, _, _ := getPage(t, browserClient(t), s.ssoURL(t, "https://sp2.example/", "id-after-bad")); st != http.StatusOK {
		t.Fatalf("after a failed reload the running config must stay: status %d", st)
	}

	// The admin listener answers readiness, and the metrics count the flows.
	s.waitFor(t, s.admin+"/readyz", `"ready":true`)
	_, metricsText, _ := getPage(t, http.DefaultClient, s.admin+"/metrics")
	for _, re := range []string{
		`samlbridge_flows_total\{outcome="success",reason="ok",sp="https://sp.example/",stage="callback"\} 1`,
		`samlbridge_upstream_request_duration_seconds_count\{outcome="ok",step="token"\} 1`,
		`samlbridge_certificate_expiry_timestamp_seconds\{sp="",use="saml_signing"\} \d`,
		`samlbridge_certificate_expiry_timestamp_seconds\{sp="https://sp2.example/",use="sp_signing"\} \d`,
	} {
		if !regexp.MustCompile(re).MatchString(metricsText) {
			t.Errorf("metrics lack %s", re)
		}
	}
	// Public listener: no /metrics, and profiles nowhere unless
	// metrics.pprof is set (it is not here).
	for _, u := range []string{s.base + "/metrics", s.base + "/debug/pprof/", s.admin + "/debug/pprof/"} {
		if st, _, _ := getPage(t, http.DefaultClient, u); st != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", u, st)
		}
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestAdminMuxProfiles: metrics.pprof adds Go's profiles to the admin
// listener (the live heap after a forced GC, as samlbench reads it), and
// only then.
func TestAdminMuxProfiles(t *testing.T) {
	node := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "node "+r.URL.Path) })
	metricsH := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "metrics") })
	for _, tt := range []struct {
		pprof bool
		path  string
		code  int
		body  string
	}{
		{false, "/metrics", 200, "metrics"},
		{false, server.PathReadyz, 200, "node " + server.PathReadyz},
		{false, "/debug/pprof/heap?debug=1", 404, ""},
		{true, "/debug/pprof/heap?gc=1&debug=1", 200, "# HeapAlloc = "},
		{true, "/debug/pprof/", 200, "goroutine"},
		{true, "/saml/sso", 404, ""},
	} {
		rec := httptest.NewRecorder()
		adminMux(MetricsConfig{Listen: "127.0.0.1:0", Pprof: tt.pprof}, metricsH, node).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
		if rec.Code != tt.code || !strings.Contains(rec.Body.String(), tt.body) {
			t.Errorf("pprof=%v GET %s: %d %.80q, want %d containing %q", tt.pprof, tt.path, rec.Code, rec.Body.String(), tt.code, tt.body)
		}
	}
}

// TestServeLogsConfigWarnings: what check reports as warnings, serve
// logs at start and at each reload, for an admin who runs only serve.
func TestServeLogsConfigWarnings(t *testing.T) {
	const flag = "encryption_key_file: enc.key}"
	s := startServeWith(t, func(cfg string) string {
		if !strings.Contains(cfg, flag) {
			t.Fatal("test set-up: the itsme section was not found")
		}
		return strings.Replace(cfg, flag, "encryption_key_file: enc.key, encrypt_request_object: false}", 1)
	})
	count := func() int {
		return strings.Count(s.stderr.String(), `msg="configuration warning" problem="itsme.encrypt_request_object (line 3): false: itsme refuses`)
	}
	if n := count(); n != 1 {
		t.Fatalf("after start: %d warnings logged, want 1:\n%s", n, s.stderr.String())
	}
	s.reload <- struct{}{}
	s.waitFor(t, s.admin+"/metrics", `samlbridge_config_reloads_total{outcome="ok"} 2`)
	if n := count(); n != 2 {
		t.Errorf("after a reload: %d warnings logged, want 2:\n%s", n, s.stderr.String())
	}
}
