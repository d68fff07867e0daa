package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/internal/htmlform"
	"github.com/samlbridge/samlbridge/itsme"
	"github.com/samlbridge/samlbridge/saml"
	"github.com/samlbridge/samlbridge/server"
	"github.com/samlbridge/samlbridge/session"
	"github.com/samlbridge/samlbridge/session/memory"
)

// requestAuthnContext adds a RequestedAuthnContext for class, compared by
// cmp, at the end of an AuthnRequest (after Issuer and NameIDPolicy).
func requestAuthnContext(cmp, class string) func(*etree.Element) {
	return func(el *etree.Element) {
		el.AddChild((&crewjam.RequestedAuthnContext{Comparison: cmp, AuthnContextClassRef: class}).Element())
	}
}

// classRefOf is the AuthnContextClassRef of an assertion.
func classRefOf(t *testing.T, a *crewjam.Assertion) string {
	t.Helper()
	if len(a.AuthnStatements) != 1 || a.AuthnStatements[0].AuthnContext.AuthnContextClassRef == nil {
		t.Fatalf("assertion without one AuthnStatement and class: %+v", a.AuthnStatements)
	}
	return a.AuthnStatements[0].AuthnContext.AuthnContextClassRef.Value
}

// TestSSOSessionStepUpACR: a session proved at acr_basic does not prove
// acr_advanced. A request for acr_advanced is not served from it: a
// passive one gets Responder/NoPassive, another goes to itsme, asking for
// acr_advanced; after that confirmation the session serves acr_advanced.
func TestSSOSessionStepUpACR(t *testing.T) {
	var mu sync.Mutex
	var issued []string // the acr of every ID token the emulator issued
	lastACR := func() (string, int) {
		mu.Lock()
		defer mu.Unlock()
		if len(issued) == 0 {
			return "", 0
		}
		return issued[len(issued)-1], len(issued)
	}
	fs := newFeatureStack(t, Options{
		SSOSession: server.SSOSession{Enabled: true, Lifetime: time.Hour},
		EmulatorHook: func(kind string, c map[string]any) {
			if kind == "id_token" {
				acr, _ := c["acr"].(string)
				mu.Lock()
				issued = append(issued, acr)
				mu.Unlock()
			}
		},
	})
	advanced := requestAuthnContext("exact", itsme.ACRAdvanced)
	b := newBrowser(t)

	// No RequestedAuthnContext: an acr_basic login starts the session.
	u, id := fs.a.authnRequest(fs.base, nil, "")
	first := fs.a.accept(mustForm(t, approve(t, b, b.get(u)), fs.a.sp.AcsURL.String()), id)
	if acr, _ := lastACR(); acr != itsme.ACRBasic {
		t.Fatalf("the first login was at acr %q, want %q", acr, itsme.ACRBasic)
	}
	if got := classRefOf(t, first); got == itsme.ACRAdvanced {
		t.Fatalf("the first login asserted %s", got)
	}

	// Passive, acr_advanced: the session cannot prove it, itsme is not
	// asked.
	u, _ = fs.b.authnRequest(fs.base, edits(setAttr("IsPassive", "true"), advanced), "")
	p := b.get(u)
	if strings.HasPrefix(p.url.Path, emulatorPathPrefix) {
		t.Fatal("a passive request went to itsme")
	}
	top, sub, hasAssertion := statusOf(t, mustForm(t, p, fs.b.sp.AcsURL.String()))
	if top != saml.StatusResponder || sub != saml.StatusNoPassive || hasAssertion {
		t.Errorf("passive acr_advanced request after an acr_basic login: %s / %s (assertion %v), want Responder / NoPassive",
			top, sub, hasAssertion)
	}

	// Not passive: itsme is asked for acr_advanced.
	u, id = fs.b.authnRequest(fs.base, advanced, "")
	p = b.get(u)
	if !strings.HasPrefix(p.url.Path, emulatorPathPrefix+"/") {
		t.Fatalf("an acr_advanced request was served from an acr_basic session (%d at %s)", p.status, p.url.Path)
	}
	_, before := lastACR()
	stepped := fs.b.accept(mustForm(t, approve(t, b, p), fs.b.sp.AcsURL.String()), id)
	if acr, n := lastACR(); n != before+1 || acr != itsme.ACRAdvanced {
		t.Fatalf("the step-up login was at acr %q (%d tokens), want %q", acr, n-before, itsme.ACRAdvanced)
	}
	if got := classRefOf(t, stepped); got != itsme.ACRAdvanced {
		t.Errorf("the step-up login asserted %q, want %q", got, itsme.ACRAdvanced)
	}

	// The session now proves acr_advanced: served passively, without itsme.
	u, id = fs.a.authnRequest(fs.base, edits(setAttr("IsPassive", "true"), advanced), "")
	_, n := lastACR()
	served := fs.a.accept(mustForm(t, b.get(u), fs.a.sp.AcsURL.String()), id)
	if got := classRefOf(t, served); got != itsme.ACRAdvanced {
		t.Errorf("served from the stepped-up session with %q, want %q", got, itsme.ACRAdvanced)
	}
	if _, after := lastACR(); after != n {
		t.Error("the stepped-up session did not serve the passive request: itsme issued a token")
	}
}

// rendezvousStore holds back reads of SSO sessions, once armed, until two
// readers have arrived, so that two callbacks are sure to have read the
// session before either writes it back.
type rendezvousStore struct {
	session.Store
	mu      sync.Mutex
	armed   bool
	waiting int
	release chan struct{}
	met     bool
}

func (s *rendezvousStore) arm() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.armed, s.waiting, s.release = true, 0, make(chan struct{})
}

func (s *rendezvousStore) GetRecord(ctx context.Context, key string, now time.Time) ([]byte, error) {
	s.mu.Lock()
	if !s.armed || !strings.HasPrefix(key, "sso|") {
		s.mu.Unlock()
		return s.Store.GetRecord(ctx, key, now)
	}
	s.waiting++
	release := s.release
	if s.waiting == 2 {
		s.armed, s.met = false, true
		close(release)
	}
	s.mu.Unlock()
	select {
	case <-release:
	case <-time.After(10 * time.Second):
		// The other reader never came; go on, and let the test say so.
	}
	return s.Store.GetRecord(ctx, key, now)
}

// TestSSOSessionConcurrentLogins finishes two logins in one browser at
// the same moment, both through itsme, after a session exists: one for
// spa (ForceAuthn) and one for spb (an attribute the session lacks). Both
// callbacks read the session before either saves it. Both SPs must stay
// in it, so that Single Logout from spa still reaches spb; with a plain
// read-then-write one login's save overwrites the other's.
func TestSSOSessionConcurrentLogins(t *testing.T) {
	store := &rendezvousStore{Store: memory.New(0)}
	fs := newFeatureStack(t, Options{Store: store, SSOSession: server.SSOSession{Enabled: true, Lifetime: time.Hour}})
	b := newBrowser(t)
	u, id := fs.a.authnRequest(fs.base, nil, "")
	fs.a.accept(mustForm(t, approve(t, b, b.get(u)), fs.a.sp.AcsURL.String()), id)

	uA, idA := fs.a.authnRequest(fs.base, setAttr("ForceAuthn", "true"), "")
	uB, idB := fs.b.authnRequest(fs.base, addRequestedAttributes("dateOfBirth"), "")
	phones := []*page{b.get(uA), b.get(uB)}
	type approval struct {
		action string
		vals   url.Values
	}
	var approvals []approval
	for _, p := range phones {
		if !strings.HasPrefix(p.url.Path, emulatorPathPrefix+"/") {
			t.Fatalf("expected the emulator's phone page, got %d at %s", p.status, p.url)
		}
		action, vals := p.form(t)
		approvals = append(approvals, approval{action, vals})
	}

	store.arm()
	bodies := make([]string, len(approvals))
	errs := make([]error, len(approvals))
	var wg sync.WaitGroup
	for i, a := range approvals {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bodies[i], errs[i] = postForm(b.client, a.action, a.vals)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if !store.met {
		t.Fatal("the two callbacks did not both read the SSO session before saving it; the test proves nothing")
	}
	fs.a.accept(formOf(t, bodies[0], fs.a.sp.AcsURL.String()), idA)
	fs.b.accept(formOf(t, bodies[1], fs.b.sp.AcsURL.String()), idB)

	// Logout from spa: the bridge must know spa's latest session index
	// and must still reach spb.
	u, _ = fs.a.logoutRequest(fs.base, "", nil)
	p := b.get(u)
	if p.status != http.StatusOK || p.url.Path != "/spa/slo" {
		t.Fatalf("logout ended at %d %s (spa: %q, spb: %q)", p.status, p.url, fs.a.lastError, fs.b.lastError)
	}
	if f := fs.a.final; f == nil || f.Status.StatusCode.Value != "urn:oasis:names:tc:SAML:2.0:status:Success" {
		t.Fatalf("spa's LogoutResponse = %+v, want Success: spa's login was lost from the session", f)
	}
	if fs.b.logouts != 1 {
		t.Errorf("spb received %d LogoutRequests, want 1: its login was lost from the session (%s)", fs.b.logouts, fs.b.lastError)
	}
}

// getPage gets u with client, following redirects, and returns the final
// page's body; safe to call from any goroutine.
func getPage(client *http.Client, u string) (string, error) {
	return bodyOf(client.Get(u))
}

// postForm submits a form with client, following redirects, and returns
// the final page's body; safe to call from any goroutine.
func postForm(client *http.Client, action string, vals url.Values) (string, error) {
	return bodyOf(client.PostForm(action, vals))
}

// bodyOf reads the body of a 200 answer.
func bodyOf(resp *http.Response, err error) (string, error) {
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s answered %d: %.300s", resp.Request.URL, resp.StatusCode, body)
	}
	return string(body), nil
}

// formOf returns the values of the auto-POST form in body, which must
// post to acs.
func formOf(t *testing.T, body, acs string) url.Values {
	t.Helper()
	action, vals, ok := htmlform.AsFound(body)
	if !ok || action != acs {
		t.Fatalf("no form to %s in:\n%.500s", acs, body)
	}
	return vals
}

// takeHookStore runs a hook, once, just before an SSO session is first
// ended (taken or deleted) after the hook is set.
type takeHookStore struct {
	session.Store
	mu   sync.Mutex
	hook func()
}

func (s *takeHookStore) runHook(key string) {
	if !strings.HasPrefix(key, "sso|") {
		return
	}
	s.mu.Lock()
	hook := s.hook
	s.hook = nil
	s.mu.Unlock()
	if hook != nil {
		hook()
	}
}

func (s *takeHookStore) TakeRecord(ctx context.Context, key string, now time.Time) ([]byte, error) {
	s.runHook(key)
	return s.Store.TakeRecord(ctx, key, now)
}

func (s *takeHookStore) DeleteRecord(ctx context.Context, key string) error {
	s.runHook(key)
	return s.Store.DeleteRecord(ctx, key)
}

// TestSingleLogoutReachesALoginFinishedDuringIt: spb's login, served from
// the session, finishes after spa's LogoutRequest has read the session
// and before it ends it. spb must be logged out too, not left with a
// session at the SP that the bridge has forgotten.
func TestSingleLogoutReachesALoginFinishedDuringIt(t *testing.T) {
	store := &takeHookStore{Store: memory.New(0)}
	fs := newFeatureStack(t, Options{Store: store, SSOSession: server.SSOSession{Enabled: true, Lifetime: time.Hour}})
	b := newBrowser(t)
	u, id := fs.a.authnRequest(fs.base, nil, "")
	fs.a.accept(mustForm(t, approve(t, b, b.get(u)), fs.a.sp.AcsURL.String()), id)

	uB, idB := fs.b.authnRequest(fs.base, nil, "")
	ran := false
	var errB error
	store.hook = func() {
		// The same browser, in another tab: served from the session, and
		// accepted by spb before the logout reaches it.
		ran = true
		body, err := getPage(b.client, uB)
		if err != nil {
			errB = err
			return
		}
		action, vals, ok := htmlform.AsFound(body)
		if !ok || action != fs.b.sp.AcsURL.String() {
			errB = fmt.Errorf("spb's login from the session gave no form to its ACS:\n%.500s", body)
			return
		}
		_, errB = fs.b.acceptErr(vals, idB)
	}
	u, _ = fs.a.logoutRequest(fs.base, "", nil)
	p := b.get(u)
	if !ran {
		t.Fatal("the hook never ran: the logout did not end the session")
	}
	if errB != nil {
		t.Fatal(errB)
	}
	if p.status != http.StatusOK || p.url.Path != "/spa/slo" {
		t.Fatalf("logout ended at %d %s (spa: %q, spb: %q)", p.status, p.url, fs.a.lastError, fs.b.lastError)
	}
	if fs.b.logouts != 1 {
		t.Errorf("spb received %d LogoutRequests, want 1: its login during the logout was forgotten (%s)", fs.b.logouts, fs.b.lastError)
	}
}
