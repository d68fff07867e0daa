package demo

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/samlbridge/samlbridge/internal/testenv"
	sessionredis "github.com/samlbridge/samlbridge/session/redis"
)

// TestTwoNodesShareRedis runs two bridge nodes that share only their keys
// (one state directory) and a Redis store, behind a front that sends each
// request to the node the test chooses, as a load balancer without sticky
// sessions would. One emulator and one SP serve both.
func TestTwoNodesShareRedis(t *testing.T) {
	addr := testenv.RedisAddr(t)
	stateDir := t.TempDir()
	secret := bytes.Repeat([]byte{42}, 32)
	prefix := "cluster-test-" + strings.ReplaceAll(t.Name(), "/", "-") + ":"

	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	base := "http://" + srv.Listener.Addr().String()
	nodes := make([]*Stack, 2)
	stores := make([]*sessionredis.Store, 2)
	for i := range nodes {
		st, err := sessionredis.Open(sessionredis.Config{URL: "redis://" + addr, Secret: secret, KeyPrefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		stores[i] = st
		nodes[i], err = New(context.Background(), Options{BaseURL: base, StateDir: stateDir, Store: st, Logger: testLogger(t).With("node", i)})
		if err != nil {
			t.Fatal(err)
		}
	}
	defer stores[1].Close()
	var active atomic.Int32 // the node bridge requests go to
	var served [2]atomic.Int32
	shared := nodes[0] // its emulator and SP play the external services
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/saml/"), strings.HasPrefix(r.URL.Path, "/oidc/"), r.URL.Path == "/jwks":
			n := active.Load()
			served[n].Add(1)
			nodes[n].Bridge.ServeHTTP(w, r)
		default:
			shared.Handler.ServeHTTP(w, r)
		}
	})
	srv.Start()
	defer srv.Close()

	// An AuthnRequest accepted by node A is refused by node B (shared
	// replay cache).
	u, err := shared.SP.LoginURL(IndexIdentification, "rs")
	if err != nil {
		t.Fatal(err)
	}
	noRedirect := newBrowser(t)
	noRedirect.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	active.Store(0)
	if p := noRedirect.get(u); p.status != http.StatusFound {
		t.Fatalf("node A: status %d:\n%s", p.status, p.body)
	}
	active.Store(1)
	assertLocalError(t, noRedirect.get(u), http.StatusBadRequest, "already used")

	// A login started on node A finishes on node B after A is gone.
	active.Store(0)
	b := newBrowser(t)
	phone := b.get(base + PathSPLogin)
	if !strings.HasPrefix(phone.url.Path, emulatorPathPrefix) {
		t.Fatalf("not at the emulator: %s", phone.url)
	}
	_ = stores[0].Close() // node A dies mid-flow
	active.Store(1)
	action, vals := phone.form(t)
	_, form := samlResponseFrom(t, b.post(action, vals), base+PathSPACS)
	res, err := shared.SP.Parse(form.Get("SAMLResponse"))
	if err != nil {
		t.Fatalf("the SP rejected the response finished on node B: %v", err)
	}
	if got := res.Attributes["firstName"]; len(got) != 1 || got[0] != "Maxence" {
		t.Errorf("firstName = %q", got)
	}
	if served[0].Load() == 0 || served[1].Load() == 0 {
		t.Errorf("both nodes must have served requests (A %d, B %d)", served[0].Load(), served[1].Load())
	}
}
