package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/internal/htmlform"
)

// benchSP is one SP entity: crewjam's SP code makes its AuthnRequests
// (unsigned, HTTP-Redirect, NameID persistent) and verifies the Responses
// (signature, audience, destination, InResponseTo, time window, and
// decryption when it has an encryption key).
type benchSP struct {
	sp      *crewjam.ServiceProvider
	encrypt bool
}

func newBenchSP(i int, kp *testKeyPair, encrypt bool) *benchSP {
	base := fmt.Sprintf("https://sp%d.bench.example", i+1)
	md, _ := url.Parse(base + "/metadata")
	acs, _ := url.Parse(base + "/acs")
	return &benchSP{encrypt: encrypt, sp: &crewjam.ServiceProvider{
		EntityID: md.String(), Key: kp.key, Certificate: kp.cert,
		MetadataURL: *md, AcsURL: *acs,
		AuthnNameIDFormat: crewjam.PersistentNameIDFormat,
	}}
}

// metadata is the SP's EntityDescriptor; without encryption its
// encryption key is left out.
func (s *benchSP) metadata() crewjam.EntityDescriptor {
	ed := *s.sp.Metadata()
	if !s.encrypt {
		sso := ed.SPSSODescriptors[0]
		sso.KeyDescriptors = slices.DeleteFunc(slices.Clone(sso.KeyDescriptors), func(k crewjam.KeyDescriptor) bool { return k.Use == "encryption" })
		ed.SPSSODescriptors = []crewjam.SPSSODescriptor{sso}
	}
	return ed
}

// loginURL returns an HTTP-Redirect URL carrying a fresh AuthnRequest to
// ssoURL, and the request's ID.
func (s *benchSP) loginURL(ssoURL string) (string, string, error) {
	req, err := s.sp.MakeAuthenticationRequest(ssoURL, crewjam.HTTPRedirectBinding, crewjam.HTTPPostBinding)
	if err != nil {
		return "", "", err
	}
	u, err := req.Redirect("bench-relay-state", s.sp)
	if err != nil {
		return "", "", err
	}
	return u.String(), req.ID, nil
}

// verify checks a base64 SAMLResponse answering request id.
func (s *benchSP) verify(samlResponse, id string) (*crewjam.Assertion, error) {
	raw, err := base64.StdEncoding.DecodeString(samlResponse)
	if err != nil {
		return nil, fmt.Errorf("SAMLResponse is not base64: %w", err)
	}
	a, err := s.sp.ParseXMLResponse(raw, []string{id}, s.sp.AcsURL)
	if err != nil {
		var ire *crewjam.InvalidResponseError
		if errors.As(err, &ire) {
			return nil, fmt.Errorf("the SP rejected the response: %w", ire.PrivateErr)
		}
		return nil, fmt.Errorf("the SP rejected the response: %w", err)
	}
	return a, nil
}

// checkAttribute checks that the assertion carries attribute name with
// value want.
func checkAttribute(a *crewjam.Assertion, name, want string) error {
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			if at.Name == name && len(at.Values) == 1 && at.Values[0].Value == want {
				return nil
			}
		}
	}
	return fmt.Errorf("the assertion lacks %s=%q", name, want)
}

// browser is one user agent: a cookie jar, redirects not followed so
// that each hop is timed.
type browser struct {
	c *http.Client
}

func newBrowser(rt http.RoundTripper) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{c: &http.Client{Transport: rt, Jar: jar, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// hop is one HTTP exchange.
type hop struct {
	status   int
	url      *url.URL
	location string
	body     string
	took     time.Duration
}

func (b *browser) do(method, u string, form url.Values) (*hop, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	start := time.Now()
	resp, err := b.c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading: %w", method, req.URL.Path, err)
	}
	h := &hop{status: resp.StatusCode, url: req.URL, body: string(raw), took: time.Since(start)}
	if loc := resp.Header.Get("Location"); loc != "" {
		l, err := req.URL.Parse(loc)
		if err != nil {
			return nil, fmt.Errorf("%s %s: Location: %w", method, req.URL.Path, err)
		}
		h.location = l.String()
	}
	return h, nil
}

// follow GETs u and follows redirects until a page, returning the page
// and the time the hops took.
func (b *browser) follow(u string) (*hop, time.Duration, error) {
	var total time.Duration
	for range 10 {
		h, err := b.do(http.MethodGet, u, nil)
		if err != nil {
			return nil, total, err
		}
		total += h.took
		if h.location == "" || h.status < 300 || h.status > 399 {
			return h, total, nil
		}
		u = h.location
	}
	return nil, total, errors.New("more than 10 redirects")
}

// form returns the page's first form: its absolute action and values.
func (h *hop) form() (string, url.Values, error) {
	action, vals, ok := htmlform.AsFound(h.body)
	if !ok {
		return "", nil, fmt.Errorf("no form in the answer to %s (status %d)", h.url.Path, h.status)
	}
	u, err := h.url.Parse(action)
	if err != nil {
		return "", nil, err
	}
	return u.String(), vals, nil
}

// sample is what one login measured.
type sample struct {
	// bridge is the time the bridge added: its two hops, minus the
	// emulator's own time within the callback.
	bridge time.Duration
	// total is the login's wall time as the user agent saw it, phone
	// page included (approved at once).
	total time.Duration
}

// fullLogin is one complete login in a fresh browser: the SP's
// AuthnRequest to the bridge, the emulator's authorization and phone
// page approved, the callback, and the Response verified by the SP.
func (d *deployment) fullLogin(sp *benchSP, b *browser) (sample, error) {
	start := time.Now()
	login, id, err := sp.loginURL(d.external + "/saml/sso")
	if err != nil {
		return sample{}, err
	}
	sso, err := b.do(http.MethodGet, login, nil)
	if err != nil {
		return sample{}, err
	}
	if sso.status != http.StatusFound && sso.status != http.StatusSeeOther || !strings.HasPrefix(sso.location, d.emu.issuer) {
		return sample{}, fmt.Errorf("/saml/sso answered %d, not a redirect to itsme: %.200s", sso.status, sso.body)
	}
	phone, _, err := b.follow(sso.location)
	if err != nil {
		return sample{}, err
	}
	action, vals, err := phone.form()
	if err != nil {
		return sample{}, err
	}
	back, err := b.do(http.MethodPost, action, vals)
	if err != nil {
		return sample{}, err
	}
	if back.location == "" || !strings.HasPrefix(back.location, d.external+"/oidc/callback") {
		return sample{}, fmt.Errorf("the emulator's approval answered %d without a redirect to the callback", back.status)
	}
	cbURL, _ := url.Parse(back.location)
	code := cbURL.Query().Get("code")
	cb, err := b.do(http.MethodGet, back.location, nil)
	if err != nil {
		return sample{}, err
	}
	emuTime := d.emu.take(code)
	if cb.status != http.StatusOK {
		return sample{}, fmt.Errorf("the callback answered %d: %.300s", cb.status, cb.body)
	}
	if err := verifyForm(cb, sp, id); err != nil {
		return sample{}, err
	}
	return sample{bridge: sso.took + cb.took - emuTime, total: time.Since(start)}, nil
}

// verifyForm checks that the page is the auto-POST form to the SP's ACS
// and that the SP accepts its Response with the persona's first name.
func verifyForm(p *hop, sp *benchSP, id string) error {
	action, vals, err := p.form()
	if err != nil {
		return err
	}
	if action != sp.sp.AcsURL.String() {
		return fmt.Errorf("the response form posts to %q, not the SP's ACS", action)
	}
	if rs := vals.Get("RelayState"); rs != "bench-relay-state" {
		return fmt.Errorf("RelayState %q not returned as sent", rs)
	}
	a, err := sp.verify(vals.Get("SAMLResponse"), id)
	if err != nil {
		return err
	}
	return checkAttribute(a, "firstName", personaFirstName)
}

// personaFirstName is the first name of the emulator's default persona,
// which the phone page approves, and of SimpleSAMLphp's static user.
const personaFirstName = "Maxence"

// park starts a login and leaves it at the phone page: the bridge keeps
// the transaction (and the AuthnRequest's replay marker) until it
// expires.
func (d *deployment) park(sp *benchSP, b *browser) error {
	login, _, err := sp.loginURL(d.external + "/saml/sso")
	if err != nil {
		return err
	}
	sso, err := b.do(http.MethodGet, login, nil)
	if err != nil {
		return err
	}
	if sso.status != http.StatusFound && sso.status != http.StatusSeeOther || !strings.HasPrefix(sso.location, d.emu.issuer) {
		return fmt.Errorf("/saml/sso answered %d, not a redirect to itsme", sso.status)
	}
	return nil
}

// sessionLogin is a login served from an SSO session the browser
// already has (at the bridge or at SimpleSAMLphp): the AuthnRequest in,
// the Response out; verified when check is set.
func sessionLogin(sp *benchSP, b *browser, ssoURL string, check bool) (sample, error) {
	start := time.Now()
	login, id, err := sp.loginURL(ssoURL)
	if err != nil {
		return sample{}, err
	}
	page, took, err := b.follow(login)
	if err != nil {
		return sample{}, err
	}
	if page.status != http.StatusOK {
		return sample{}, fmt.Errorf("%s answered %d: %.300s", page.url.Path, page.status, page.body)
	}
	if check {
		if err := verifyForm(page, sp, id); err != nil {
			return sample{}, err
		}
	} else if !strings.Contains(page.body, `name="SAMLResponse"`) {
		return sample{}, fmt.Errorf("%s answered without a SAMLResponse form", page.url.Path)
	}
	return sample{bridge: took, total: time.Since(start)}, nil
}

// result is what a batch of logins measured.
type result struct {
	completed atomic.Int64
	failed    atomic.Int64
	// missed counts the starts an open loop could not make because every
	// worker was busy: the rate was above what the system sustains.
	missed atomic.Int64
	wall   time.Duration
	// allocPerLogin and gcPerLogin are the bytes the nodes allocated and
	// the collections they ran per completed login (set by measure).
	allocPerLogin, gcPerLogin float64

	mu        sync.Mutex
	firstErrs []string
	bridge    []time.Duration
	total     []time.Duration
}

func (r *result) add(s sample, err error) {
	if err != nil {
		r.failed.Add(1)
		r.mu.Lock()
		if len(r.firstErrs) < 3 {
			r.firstErrs = append(r.firstErrs, err.Error())
		}
		r.mu.Unlock()
		return
	}
	r.completed.Add(1)
	r.mu.Lock()
	r.bridge = append(r.bridge, s.bridge)
	r.total = append(r.total, s.total)
	r.mu.Unlock()
}

func (r *result) err() error {
	if n := r.failed.Load(); n > 0 {
		return fmt.Errorf("%d of %d logins failed; first: %s", n, n+r.completed.Load(), strings.Join(r.firstErrs, " | "))
	}
	if r.completed.Load() == 0 {
		return errors.New("no login completed")
	}
	return nil
}

func (r *result) perSecond() float64 { return float64(r.completed.Load()) / r.wall.Seconds() }

// pct returns the p-th percentile of the bridge-added latencies.
func (r *result) pct(p float64) time.Duration { return percentile(r.bridge, p) }

func percentile(l []time.Duration, p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	i := int(p / 100 * float64(len(s)-1))
	return s[i]
}

// load runs fn on workers goroutines until the duration has passed or n
// logins were started (whichever is set). With rate > 0 logins start at that rate (an open loop,
// workers being the most at once) instead of back to back.
func load(ctx context.Context, workers int, dur time.Duration, n int, rate float64, fn func(worker int) (sample, error)) *result {
	res := &result{}
	var started atomic.Int64
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if dur > 0 {
		var c2 context.CancelFunc
		ctx, c2 = context.WithTimeout(ctx, dur)
		defer c2()
	}
	var tick <-chan time.Time
	if rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / rate))
		defer t.Stop()
		ticks := make(chan time.Time)
		go func() {
			for {
				select {
				case <-ctx.Done():
					close(ticks)
					return
				case tm := <-t.C:
					select {
					case ticks <- tm:
					case <-ctx.Done():
						close(ticks)
						return
					default:
						res.missed.Add(1)
					}
				}
			}
		}()
		tick = ticks
	}
	var wg sync.WaitGroup
	start := time.Now()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if tick != nil {
					if _, ok := <-tick; !ok {
						return
					}
				} else if ctx.Err() != nil {
					return
				}
				if n > 0 && started.Add(1) > int64(n) {
					return
				}
				res.add(fn(w))
			}
		}()
	}
	wg.Wait()
	res.wall = time.Since(start)
	return res
}
