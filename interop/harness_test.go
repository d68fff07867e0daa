//go:build interop

package interop

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/beevik/etree"

	"github.com/samlbridge/samlbridge/attributes"
	"github.com/samlbridge/samlbridge/demo"
	"github.com/samlbridge/samlbridge/internal/syncbuf"
	"github.com/samlbridge/samlbridge/metadata"
	"github.com/samlbridge/samlbridge/server"
)

// What every SP must end up with for the emulator's first persona,
// Maxence Legrand (seed 003's example user).
var wantAttrs = map[string]string{
	"firstName":   "Maxence",
	"lastName":    "Legrand",
	"dateOfBirth": "1981-04-24",
	"nin":         "81042419835",
}

// scenarioTimeout bounds one scenario; pysaml2 shells out to xmlsec1 for
// every signature, which takes seconds.
const scenarioTimeout = 90 * time.Second

var matrix = &Matrix{}

func TestMain(m *testing.M) {
	code := m.Run()
	var buf bytes.Buffer
	matrix.Print(&buf)
	fmt.Print("\n== interop matrix\n" + buf.String())
	if path := os.Getenv("INTEROP_MATRIX"); path != "" {
		_ = os.WriteFile(path, buf.Bytes(), 0o644)
	}
	if code == 0 && matrix.Failed() > 0 {
		code = 1
	}
	os.Exit(code)
}

// bridge is the bridge under test, in process, on one loopback port. Its
// handler can be swapped between phases; the keys stay in one state dir,
// so the IdP metadata the peers trust never changes.
type bridge struct {
	Base     string
	StateDir string
	handler  atomic.Pointer[http.Handler]
	srv      *http.Server
	logs     *syncbuf.Buffer
	log      *slog.Logger
	// IdPMetadata is the bridge's metadata, fixed for the whole run.
	IdPMetadata []byte
}

func startBridge(t *testing.T, dir string) *bridge {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "bridge.log"))
	if err != nil {
		t.Fatal(err)
	}
	b := &bridge{Base: "http://" + ln.Addr().String(), StateDir: filepath.Join(dir, "bridge-state"), logs: &syncbuf.Buffer{}}
	// The handler serialises its writes, so the tee needs no lock of its own.
	b.log = slog.New(slog.NewTextHandler(io.MultiWriter(f, b.logs), &slog.HandlerOptions{Level: slog.LevelDebug}))
	var h http.Handler = http.NotFoundHandler()
	b.handler.Store(&h)
	b.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*b.handler.Load()).ServeHTTP(w, r)
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = b.srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = b.srv.Shutdown(ctx)
		_ = f.Close()
	})
	b.use(t, phaseEncrypted, nil)
	md, err := fetch(b.Base + server.PathMetadata)
	if err != nil {
		t.Fatal(err)
	}
	b.IdPMetadata = md
	return b
}

// phase is how the bridge treats the registered SPs.
type phase int

const (
	// phaseEncrypted is the default: every attribute may be released, and
	// assertions are encrypted to SPs whose metadata has a key.
	phaseEncrypted phase = iota
	// phasePlain: no SP gets encrypted assertions, so none may receive
	// national-number-class attributes.
	phasePlain
)

// use builds a fresh stack for the SPs' metadata and serves it.
func (b *bridge) use(t *testing.T, ph phase, up *demo.Upstream, sps ...[]byte) *demo.Stack {
	t.Helper()
	var safe []string
	for _, d := range attributes.Definitions() {
		if !d.Sensitive {
			safe = append(safe, d.Name)
		}
	}
	st, err := demo.New(context.Background(), demo.Options{
		// Every peer, scenario and the browser share 127.0.0.1; the
		// per-client limit is tested in package server, not here.
		RateLimit:       server.RateLimit{Disabled: true},
		BaseURL:         b.Base,
		StateDir:        b.StateDir,
		ExtraSPMetadata: sps,
		Upstream:        up,
		Logger:          b.log,
		// As an admin would configure these SPs: everything they may
		// receive is released even when they request nothing (Shibboleth
		// and mellon never request attributes).
		ConfigureSP: func(sp *metadata.ServiceProvider) {
			if ph == phasePlain {
				sp.EncryptionCerts = nil
				sp.AllowedAttributes = safe
			}
			sp.DefaultRelease = sp.AllowedAttributes
		},
	})
	if err != nil {
		t.Fatalf("building the bridge: %v", err)
	}
	var h http.Handler = st.Handler
	b.handler.Store(&h)
	return st
}

func (b *bridge) browser(extraTrusted ...string) *Browser {
	return NewBrowser(b.Base+server.PathSSO, append([]string{b.Base}, extraTrusted...)...)
}

func fetch(u string) ([]byte, error) {
	resp, err := http.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return buf.Bytes(), err
}

// scenario runs fn as a subtest and records its row.
func scenario(t *testing.T, peer, version, name string, fn func(ctx context.Context) (string, error)) bool {
	return t.Run(name, func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), scenarioTimeout)
		defer cancel()
		detail, err := fn(ctx)
		if err != nil {
			matrix.Add(Row{Peer: peer, Version: version, Scenario: name, Detail: err.Error()})
			t.Fatal(err)
		}
		matrix.Add(Row{Peer: peer, Version: version, Scenario: name, Pass: true, Detail: detail})
	})
}

// TestInterop runs every SP peer through the bridge.
func TestInterop(t *testing.T) {
	dir := t.TempDir()
	br := startBridge(t, dir)
	idpFile := filepath.Join(dir, "idp-metadata.xml")
	if err := os.WriteFile(idpFile, br.IdPMetadata, 0o644); err != nil {
		t.Fatal(err)
	}
	certPEM, err := idpCertPEM(br.IdPMetadata)
	if err != nil {
		t.Fatal(err)
	}
	// The demo SP's response in the plain phase is "a response for another
	// SP" that each peer must refuse.
	br.use(t, phasePlain, nil)
	demoBrowser := br.browser()
	demoBrowser.StopAtResponse = true
	if _, err := demoBrowser.Get(context.Background(), br.Base+demo.PathSPLogin); err != nil || demoBrowser.Response == nil {
		t.Fatalf("the demo SP's login did not produce a response: %v", err)
	}
	otherSP := demoBrowser.Response

	order := []string{"shibboleth", "mellon", "simplesamlphp", "node-saml", "pysaml2"}
	peers := slices.Clone(spPeers)
	slices.SortFunc(peers, func(a, b SPPeer) int { return slices.Index(order, a.Name) - slices.Index(order, b.Name) })
	for _, p := range peers {
		t.Run(p.Name, func(t *testing.T) {
			runSPPeer(t, br, p, &Env{
				Dir: filepath.Join(dir, p.Name), IdPMetadataFile: idpFile, IdPMetadata: br.IdPMetadata,
				IdPEntityID: br.Base + server.PathMetadata, IdPSSOURL: br.Base + server.PathSSO, IdPCertPEM: certPEM,
			}, otherSP)
		})
	}
}

func runSPPeer(t *testing.T, br *bridge, p SPPeer, env *Env, otherSP *SeenResponse) {
	if err := os.MkdirAll(env.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(env.Dir, "peer.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	env.Log = logFile
	if env.Port, err = FreePort(); err != nil {
		t.Fatal(err)
	}
	var run *RunningSP
	if !scenario(t, p.Name, "", "start", func(ctx context.Context) (string, error) {
		start := time.Now()
		run, err = p.Start(ctx, env)
		if err != nil {
			return "", err
		}
		if _, err := metadata.ParseServiceProviders(run.Metadata, metadata.ParseOptions{AllowInsecureACS: true}); err != nil {
			return "", fmt.Errorf("the bridge cannot load the SP's own metadata: %w", err)
		}
		return fmt.Sprintf("up in %s; bridge loaded its metadata (%s)", time.Since(start).Round(100*time.Millisecond), run.EntityID), nil
	}) {
		return
	}
	defer func() {
		if err := run.Stop(); err != nil {
			t.Errorf("stopping %s: %v", p.Name, err)
		}
	}()
	v := run.Version

	// Plain: signed, not encrypted, no national number.
	br.use(t, phasePlain, nil, run.Metadata)
	var plainNameID string
	scenario(t, p.Name, v, "authnrequest accepted", func(ctx context.Context) (string, error) {
		b := br.browser()
		b.StopAtResponse = true
		if _, err := b.Get(ctx, run.LoginURL); err != nil {
			return "", err
		}
		if b.Request == nil {
			return "", errors.New("the SP never sent the browser to the bridge")
		}
		if b.Response == nil {
			return "", fmt.Errorf("the bridge did not answer the SP's request with a response (hops: %s)", strings.Join(b.Hops, " → "))
		}
		detail, err := checkRequest(b.Request, run.Request)
		if err != nil {
			return "", err
		}
		if err := captureFixture(t, br, p.Name, run, b.Request, time.Now()); err != nil {
			return "", fmt.Errorf("capturing the fixture: %w", err)
		}
		return detail, nil
	})
	scenario(t, p.Name, v, "login, signed assertion", func(ctx context.Context) (string, error) {
		b := br.browser()
		page, err := b.Get(ctx, run.LoginURL)
		if err != nil {
			return "", err
		}
		if b.Response == nil {
			return "", errors.New("no SAML response was posted to the SP")
		}
		if bytes.Contains(b.Response.XML, []byte("EncryptedAssertion")) {
			return "", errors.New("the bridge encrypted the assertion in the plain phase")
		}
		sent, nameID, err := sentAttributes(b.Response.XML)
		if err != nil {
			return "", err
		}
		id, err := identity(page)
		if err != nil {
			return "", err
		}
		want := map[string]string{}
		for k, v := range wantAttrs {
			if k != "nin" {
				want[k] = v
			}
		}
		if err := checkIdentity(id, want, []string{"nin"}); err != nil {
			return "", err
		}
		for name, vals := range sent {
			if got, ok := id.Attributes[name]; ok && !slices.Equal(got, vals) {
				return "", fmt.Errorf("attribute %s: SP shows %q, the bridge sent %q", name, got, vals)
			}
		}
		if id.NameID != nameID {
			return "", fmt.Errorf("SP shows NameID %q, the bridge sent %q", id.NameID, nameID)
		}
		plainNameID = id.NameID
		return fmt.Sprintf("%d attributes, NameID %s", len(id.Attributes), shortFormat(id.NameIDFormat)), nil
	})

	// Encrypted: the national number is released.
	br.use(t, phaseEncrypted, nil, run.Metadata)
	var captured *SeenResponse
	if run.Encryption {
		scenario(t, p.Name, v, "login, encrypted assertion with nin", func(ctx context.Context) (string, error) {
			b := br.browser()
			page, err := b.Get(ctx, run.LoginURL)
			if err != nil {
				return "", err
			}
			if b.Response == nil {
				return "", errors.New("no SAML response was posted to the SP")
			}
			captured = b.Response
			if !bytes.Contains(b.Response.XML, []byte("EncryptedAssertion")) || bytes.Contains(b.Response.XML, []byte(wantAttrs["nin"])) {
				return "", errors.New("the response is not encrypted")
			}
			id, err := identity(page)
			if err != nil {
				return "", err
			}
			if err := checkIdentity(id, wantAttrs, nil); err != nil {
				return "", err
			}
			if strings.HasSuffix(id.NameIDFormat, ":persistent") && plainNameID != "" && id.NameID != plainNameID {
				return "", fmt.Errorf("persistent NameID changed between logins: %q then %q", plainNameID, id.NameID)
			}
			return fmt.Sprintf("%d attributes incl. nin, NameID %s", len(id.Attributes), shortFormat(id.NameIDFormat)), nil
		})
	} else {
		matrix.Add(Row{Peer: p.Name, Version: v, Scenario: "login, encrypted assertion with nin", Pass: false,
			Detail: "the SP's metadata has no encryption key"})
		t.Errorf("%s: no encryption key in its metadata", p.Name)
	}
	mintScenarios(t, br, run, p.Name, env.Dir, plainNameID)
	if captured == nil {
		return
	}
	scenario(t, p.Name, v, "replayed response rejected", func(ctx context.Context) (string, error) {
		return postForeign(ctx, br, run, captured)
	})
	scenario(t, p.Name, v, "other SP's response rejected", func(ctx context.Context) (string, error) {
		return postForeign(ctx, br, run, &SeenResponse{ACS: captured.ACS, Form: otherSP.Form})
	})
}

// postForeign starts a fresh login at the SP (so that it has a request in
// flight), then posts resp to its ACS instead of going through the bridge,
// and expects the SP to refuse it.
func postForeign(ctx context.Context, br *bridge, run *RunningSP, resp *SeenResponse) (string, error) {
	b := br.browser()
	b.StopAtSSO = true
	if _, err := b.Get(ctx, run.LoginURL); err != nil {
		return "", err
	}
	if b.Request == nil {
		return "", errors.New("the SP did not start a login")
	}
	b.StopAtSSO = false
	page, err := b.Post(ctx, resp.ACS, resp.Form)
	if err != nil {
		return "", err
	}
	if id, err := identity(page); err == nil {
		return "", fmt.Errorf("the SP accepted it and shows NameID %q", id.NameID)
	}
	why := textSnippet(page.Body)
	if len(why) > 90 {
		why = why[:87] + "..."
	}
	return fmt.Sprintf("SP refused (%d at %s): %s", page.Status, page.URL.Path, why), nil
}

// identity reads the SP's identity JSON from a page.
func identity(p *Page) (*Identity, error) {
	if p == nil || p.Status != http.StatusOK || !strings.Contains(p.Type, "json") {
		status, where, snippet := 0, "", ""
		if p != nil {
			status, snippet = p.Status, textSnippet(p.Body)
			if p.URL != nil {
				where = p.URL.Path
			}
		}
		return nil, fmt.Errorf("%w: %d at %s: %s", errNotIdentity, status, where, snippet)
	}
	var id Identity
	if err := json.Unmarshal(p.Body, &id); err != nil {
		return nil, fmt.Errorf("%w: bad JSON: %v", errNotIdentity, err)
	}
	return &id, nil
}

func checkIdentity(id *Identity, want map[string]string, absent []string) error {
	if id.NameID == "" {
		return errors.New("the SP shows no NameID")
	}
	var problems []string
	for name, v := range want {
		if got := id.Attributes[name]; !slices.Equal(got, []string{v}) {
			problems = append(problems, fmt.Sprintf("%s = %q, want %q", name, got, v))
		}
	}
	for _, name := range absent {
		if _, ok := id.Attributes[name]; ok {
			problems = append(problems, name+" was released")
		}
	}
	slices.Sort(problems)
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// checkRequest compares the AuthnRequest the SP sent with what its peer
// declared, and describes it.
func checkRequest(seen *SeenRequest, want RequestTraits) (string, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(seen.XML); err != nil {
		return "", fmt.Errorf("the AuthnRequest is not XML: %w", err)
	}
	root := doc.Root()
	got := RequestTraits{Signed: seen.Signed, Binding: seen.Binding}
	got.ACSURL = root.SelectAttr("AssertionConsumerServiceURL") != nil
	if p := root.FindElement("./NameIDPolicy"); p != nil {
		got.NameIDPolicy = p.SelectAttrValue("Format", "")
	}
	got.RequestedAuthnContext = root.FindElement("./RequestedAuthnContext") != nil
	if got != want {
		return "", fmt.Errorf("the SP sent %+v, its peer declared %+v", got, want)
	}
	var parts []string
	if got.Signed {
		parts = append(parts, "signed "+got.Binding)
	} else {
		parts = append(parts, "unsigned "+got.Binding)
	}
	if got.ACSURL {
		parts = append(parts, "ACS URL")
	} else {
		parts = append(parts, "no ACS URL")
	}
	if got.NameIDPolicy != "" {
		parts = append(parts, "NameIDPolicy "+shortFormat(got.NameIDPolicy))
	}
	if got.RequestedAuthnContext {
		parts = append(parts, "RequestedAuthnContext")
	}
	return strings.Join(parts, ", "), nil
}

// sentAttributes reads the attributes and NameID of a plain response.
func sentAttributes(x []byte) (map[string][]string, string, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(x); err != nil {
		return nil, "", fmt.Errorf("the response is not XML: %w", err)
	}
	out := map[string][]string{}
	for _, a := range doc.FindElements("//Assertion/AttributeStatement/Attribute") {
		for _, v := range a.SelectElements("AttributeValue") {
			out[a.SelectAttrValue("Name", "")] = append(out[a.SelectAttrValue("Name", "")], v.Text())
		}
	}
	n := doc.FindElement("//Assertion/Subject/NameID")
	if n == nil || len(out) == 0 {
		return nil, "", errors.New("the response has no NameID or no attributes")
	}
	return out, n.Text(), nil
}

func idpCertPEM(md []byte) ([]byte, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(md); err != nil {
		return nil, err
	}
	c := doc.FindElement("//IDPSSODescriptor/KeyDescriptor/KeyInfo/X509Data/X509Certificate")
	if c == nil {
		return nil, errors.New("no certificate in the IdP metadata")
	}
	der, err := decodeB64(c.Text())
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

func shortFormat(f string) string {
	if i := strings.LastIndex(f, ":"); i >= 0 {
		return f[i+1:]
	}
	return f
}

func textSnippet(b []byte) string {
	s := string(b)
	for _, tag := range []string{"<script", "<style"} {
		for {
			i := strings.Index(strings.ToLower(s), tag)
			if i < 0 {
				break
			}
			j := strings.Index(strings.ToLower(s[i:]), "</"+tag[1:])
			if j < 0 {
				s = s[:i]
				break
			}
			s = s[:i] + s[i+j:]
		}
	}
	var out strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
			out.WriteRune(' ')
		case !in:
			out.WriteRune(r)
		}
	}
	return oneLine(html.UnescapeString(out.String()))
}

func decodeB64(s string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
}
