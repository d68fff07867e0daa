package remote

import (
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/samlbridge/samlbridge/certs"
	"github.com/samlbridge/samlbridge/internal/syncbuf"
	"github.com/samlbridge/samlbridge/metadata"
	"github.com/samlbridge/samlbridge/metadata/remote/remotetest"
)

// t0 is the fake clock's start.
var t0 = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

// testKeys are generated once per test binary: "fed" signs metadata,
// "other" is a key nobody pins, "sp" is the SPs' own key.
var testKeys = sync.OnceValues(func() (map[string]*certs.KeyPair, error) {
	out := map[string]*certs.KeyPair{}
	for _, name := range []string{"fed", "other", "sp"} {
		kp, err := certs.Generate(nil, 2048, "remote-test-"+name, time.Now(), 24*time.Hour)
		if err != nil {
			return nil, err
		}
		out[name] = kp
	}
	return out, nil
})

func key(t testing.TB, name string) *certs.KeyPair {
	t.Helper()
	keys, err := testKeys()
	if err != nil {
		t.Fatal(err)
	}
	return keys[name]
}

// clock is a settable fake clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func spID(n int) string { return fmt.Sprintf("https://sp%d.example.org/saml", n) }

func acsURL(n int) string { return fmt.Sprintf("https://sp%d.example.org/acs", n) }

// entity is the XML of one SP's EntityDescriptor (without namespace
// declarations; wrap it with doc).
func entity(t testing.TB, entityID, acs string) string {
	t.Helper()
	cert := base64.StdEncoding.EncodeToString(key(t, "sp").Cert.Raw)
	return `<md:EntityDescriptor entityID="` + entityID + `"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
		`<md:KeyDescriptor><ds:KeyInfo><ds:X509Data><ds:X509Certificate>` + cert + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
		`<md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="` + acs + `" index="0"/>` +
		`</md:SPSSODescriptor></md:EntityDescriptor>`
}

// docOpts are root attributes of a test document.
type docOpts struct {
	validUntil    time.Time
	cacheDuration string
}

func (o docOpts) attrs() string {
	s := ` ID="_doc"`
	if !o.validUntil.IsZero() {
		s += ` validUntil="` + o.validUntil.UTC().Format(time.RFC3339) + `"`
	}
	if o.cacheDuration != "" {
		s += ` cacheDuration="` + o.cacheDuration + `"`
	}
	return s
}

const nsDecl = ` xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#"`

// aggregate is an unsigned EntitiesDescriptor of the given entities.
func aggregate(o docOpts, entities ...string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<md:EntitiesDescriptor" + nsDecl + o.attrs() + ">" +
		strings.Join(entities, "") + "</md:EntitiesDescriptor>")
}

// single is an unsigned EntityDescriptor document, as MDQ returns.
func single(t testing.TB, o docOpts, entityID, acs string) []byte {
	t.Helper()
	e := entity(t, entityID, acs)
	e = strings.Replace(e, "<md:EntityDescriptor", "<md:EntityDescriptor"+nsDecl+o.attrs(), 1)
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + e)
}

// sign signs doc with the named key.
func sign(t testing.TB, doc []byte, name string, opts remotetest.Options) []byte {
	t.Helper()
	kp := key(t, name)
	out, err := remotetest.Sign(doc, kp.Key, kp.Cert, opts)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func pinned(t testing.TB) Trust {
	return Trust{Certificates: []*x509.Certificate{key(t, "fed").Cert}}
}

// mdServer serves whatever it is told to, counting hits.
type mdServer struct {
	*httptest.Server
	hits atomic.Int64

	mu      sync.Mutex
	handler http.HandlerFunc
}

func newMDServer(t testing.TB) *mdServer {
	t.Helper()
	s := &mdServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		h := s.handler
		s.mu.Unlock()
		if h == nil {
			http.NotFound(w, r)
			return
		}
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// serve makes the server answer every request with body.
func (s *mdServer) serve(body []byte) {
	s.handle(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", mediaType)
		_, _ = w.Write(body)
	})
}

func (s *mdServer) handle(h http.HandlerFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handler = h
}

// testLogger logs to a buffer the test can inspect.
func testLogger() (*slog.Logger, *syncbuf.Buffer) {
	buf := &syncbuf.Buffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// ids returns the entity IDs of sps, and the ACS location of each.
func ids(sps []*metadata.ServiceProvider) string {
	var b []string
	for _, sp := range sps {
		b = append(b, sp.EntityID+"="+sp.DefaultACS.Location)
	}
	return strings.Join(b, " ")
}
