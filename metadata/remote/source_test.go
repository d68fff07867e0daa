package remote

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dsig "github.com/russellhaering/goxmldsig"

	"github.com/samlbridge/samlbridge/metadata"
	"github.com/samlbridge/samlbridge/metadata/remote/remotetest"
)

func TestNewSourceChecksURLAndTrust(t *testing.T) {
	t.Parallel()
	cert := key(t, "fed").Cert
	tests := []struct {
		name    string
		url     string
		trust   Trust
		wantErr string
	}{
		{"pinned https", "https://md.example.org/fed.xml", Trust{Certificates: []*x509.Certificate{cert}}, ""},
		{"pinned plain http is fine: the signature protects it", "http://md.example.org/fed.xml", Trust{Certificates: []*x509.Certificate{cert}}, ""},
		{"no pin and no opt-in", "https://md.example.org/fed.xml", Trust{}, "no signing certificate pinned"},
		{"unsigned over https by opt-in", "https://sp.example.org/metadata", Trust{AllowUnsigned: true}, ""},
		{"unsigned over non-loopback http", "http://sp.example.org/metadata", Trust{AllowUnsigned: true}, "needs https or a loopback host"},
		{"unsigned over loopback http", "http://127.0.0.1:8080/metadata", Trust{AllowUnsigned: true}, ""},
		{"unsigned over localhost http", "http://localhost/metadata", Trust{AllowUnsigned: true}, ""},
		{"file scheme", "file:///etc/passwd", Trust{Certificates: []*x509.Certificate{cert}}, "scheme must be http or https"},
		{"user info", "https://user:pw@md.example.org/fed.xml", Trust{Certificates: []*x509.Certificate{cert}}, "user info"},
		{"fragment", "https://md.example.org/fed.xml#x", Trust{Certificates: []*x509.Certificate{cert}}, "fragment"},
		{"no host", "https:///fed.xml", Trust{Certificates: []*x509.Certificate{cert}}, "no host"},
		{"nil certificate", "https://md.example.org/fed.xml", Trust{Certificates: []*x509.Certificate{nil}}, "nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			log, _ := testLogger()
			_, err := NewSource(SourceConfig{URL: tt.url, Trust: tt.trust, Logger: log})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("NewSource: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
			}
		})
	}
	t.Run("minimum refresh above refresh", func(t *testing.T) {
		t.Parallel()
		_, err := NewSource(SourceConfig{URL: "https://md.example.org/fed.xml", Trust: pinned(t), Refresh: time.Minute, MinRefresh: time.Hour})
		if err == nil || !strings.Contains(err.Error(), "minimum refresh") {
			t.Fatalf("err = %v", err)
		}
	})
}

// newTestSource returns a Source of srv's URL with pinned trust, a fake
// clock and a cache file in a temporary directory.
func newTestSource(t *testing.T, srv *mdServer, clk *clock, mutate func(*SourceConfig)) (*Source, string) {
	t.Helper()
	log, _ := testLogger()
	cfg := SourceConfig{
		URL:       srv.URL + "/fed.xml",
		Trust:     pinned(t),
		CacheFile: filepath.Join(t.TempDir(), "fed.xml"),
		Logger:    log,
		Now:       clk.Now,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := NewSource(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, cfg.CacheFile
}

func TestSourceRefreshPicksUpNewSP(t *testing.T) {
	t.Parallel()
	clk := newClock()
	srv := newMDServer(t)
	srv.serve(sign(t, aggregate(docOpts{}, entity(t, spID(1), acsURL(1))), "fed", remotetest.Options{}))
	s, cacheFile := newTestSource(t, srv, clk, nil)

	if got := ids(s.ServiceProviders()); got != "" {
		t.Fatalf("before the first refresh: %q, want none", got)
	}
	if err := s.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := ids(s.ServiceProviders()), spID(1)+"="+acsURL(1); got != want {
		t.Fatalf("after the first refresh: %q, want %q", got, want)
	}

	second := sign(t, aggregate(docOpts{}, entity(t, spID(1), acsURL(1)), entity(t, spID(2), acsURL(2))), "fed", remotetest.Options{})
	srv.serve(second)
	clk.Advance(time.Hour)
	if err := s.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := ids(s.ServiceProviders()), spID(1)+"="+acsURL(1)+" "+spID(2)+"="+acsURL(2); got != want {
		t.Fatalf("after the second refresh: %q, want %q", got, want)
	}
	cached, err := os.ReadFile(cacheFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cached, second) {
		t.Error("the cache file does not hold the last good document as fetched")
	}
	if entries, _ := os.ReadDir(filepath.Dir(cacheFile)); len(entries) != 1 {
		t.Errorf("%d files next to the cache file, want only it (temporary files left behind?)", len(entries))
	}
}

func TestSourceKeepsLastGoodCopy(t *testing.T) {
	t.Parallel()
	good := sign(t, aggregate(docOpts{}, entity(t, spID(1), acsURL(1))), "fed", remotetest.Options{})
	evilACS := "https://evil.example.net/acs"
	evil := aggregate(docOpts{}, entity(t, spID(1), evilACS), entity(t, spID(9), evilACS))
	big := append(bytes.Repeat([]byte(" "), int(metadata.DefaultMaxBytes)), good...)

	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string // in the returned error
	}{
		{"tampered after signing", body(bytes.Replace(good, []byte(acsURL(1)), []byte(evilACS), 1)), "does not verify"},
		{"unsigned", body(evil), "ds:Signature"},
		{"signed with a key nobody pinned", body(sign(t, evil, "other", remotetest.Options{})), "does not verify"},
		{"signed with RSA-SHA1", body(sign(t, evil, "fed", remotetest.Options{SignatureMethod: dsig.RSASHA1SignatureMethod})), "SignatureMethod"},
		{"expired validUntil", body(sign(t, aggregate(docOpts{validUntil: t0.Add(-time.Hour)}, entity(t, spID(1), evilACS)), "fed", remotetest.Options{})), "validUntil"},
		{"not XML", body([]byte("<html>oops")), "invalid metadata"},
		{"too large", body(big), "limit"},
		{"HTTP 500", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusInternalServerError) }, "HTTP status 500"},
		{"HTTP 404", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, "HTTP status 404"},
		{"redirect is not followed", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		}, "HTTP status 302"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			srv := newMDServer(t)
			srv.serve(good)
			log, buf := testLogger()
			s, cacheFile := newTestSource(t, srv, clk, func(c *SourceConfig) { c.Logger = log })
			if err := s.Refresh(context.Background()); err != nil {
				t.Fatal(err)
			}
			fetched := clk.Now()
			if st := s.Status(); !st.LastSuccess.Equal(fetched) || st.Failures != 0 || st.Entities != 1 || !strings.HasPrefix(st.URL, srv.URL) {
				t.Fatalf("status after a good fetch: %+v", st)
			}
			srv.handle(tt.handler)
			clk.Advance(2 * time.Hour)
			hits := srv.hits.Load()
			err := s.Refresh(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Refresh: err = %v, want it to mention %q", err, tt.want)
			}
			if srv.hits.Load() != hits+1 {
				t.Errorf("%d requests for one refresh, want 1", srv.hits.Load()-hits)
			}
			if st := s.Status(); !st.LastSuccess.Equal(fetched) || st.Failures != 1 || st.Entities != 1 {
				t.Errorf("status after a failed fetch: %+v (want the last success kept and 1 failure)", st)
			}
			if got, want := ids(s.ServiceProviders()), spID(1)+"="+acsURL(1); got != want {
				t.Errorf("served %q, want the last good copy %q", got, want)
			}
			cached, _ := os.ReadFile(cacheFile)
			if !bytes.Equal(cached, good) {
				t.Error("the cache file was overwritten by a bad document")
			}
			logs := buf.String()
			if !strings.Contains(logs, "refresh failed") || !strings.Contains(logs, srv.URL) {
				t.Errorf("the failure was not logged with the URL:\n%s", logs)
			}
			if strings.Contains(logs, "SPSSODescriptor") || strings.Contains(logs, "X509Certificate") {
				t.Errorf("document content in the log:\n%s", logs)
			}
		})
	}
}

func body(b []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(b) }
}

func TestSourceCacheFileAtStart(t *testing.T) {
	t.Parallel()
	clk := newClock()
	srv := newMDServer(t)
	good := sign(t, aggregate(docOpts{validUntil: t0.Add(48 * time.Hour)}, entity(t, spID(1), acsURL(1))), "fed", remotetest.Options{})
	srv.serve(good)
	first, cacheFile := newTestSource(t, srv, clk, nil)
	if err := first.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.Close() // the URL is unreachable from now on

	restart := func(t *testing.T) *Source {
		t.Helper()
		s, _ := newTestSource(t, srv, clk, func(c *SourceConfig) { c.CacheFile = cacheFile })
		return s
	}

	t.Run("served from the cache while the URL is down", func(t *testing.T) {
		s := restart(t)
		if got, want := ids(s.ServiceProviders()), spID(1)+"="+acsURL(1); got != want {
			t.Fatalf("served %q at start, want %q from the cache file", got, want)
		}
		if err := s.Refresh(context.Background()); err == nil {
			t.Fatal("Refresh of a closed server succeeded")
		}
		if got := ids(s.ServiceProviders()); got != spID(1)+"="+acsURL(1) {
			t.Fatalf("served %q after a failed refresh", got)
		}
	})
	t.Run("not served once validUntil passed", func(t *testing.T) {
		s := restart(t)
		clk.Advance(49 * time.Hour)
		if got := ids(s.ServiceProviders()); got != "" {
			t.Fatalf("served %q after validUntil", got)
		}
		again := restart(t) // an expired cache file is not loaded at all
		if len(again.current.Load().list) != 0 {
			t.Fatal("an expired cache file was loaded")
		}
	})
	t.Run("a tampered cache file is not loaded", func(t *testing.T) {
		dir := t.TempDir()
		bad := filepath.Join(dir, "fed.xml")
		if err := os.WriteFile(bad, bytes.Replace(good, []byte(acsURL(1)), []byte("https://evil.example.net/acs"), 1), 0o600); err != nil {
			t.Fatal(err)
		}
		log, buf := testLogger()
		s, _ := newTestSource(t, srv, newClock(), func(c *SourceConfig) { c.CacheFile = bad; c.Logger = log })
		if got := ids(s.ServiceProviders()); got != "" {
			t.Fatalf("served %q from a tampered cache file", got)
		}
		if !strings.Contains(buf.String(), "cache file not used") {
			t.Errorf("not logged:\n%s", buf.String())
		}
	})
}

func TestSourceValidUntilStopsServing(t *testing.T) {
	t.Parallel()
	clk := newClock()
	srv := newMDServer(t)
	srv.serve(sign(t, aggregate(docOpts{validUntil: t0.Add(2 * time.Hour)}, entity(t, spID(1), acsURL(1))), "fed", remotetest.Options{}))
	s, _ := newTestSource(t, srv, clk, nil)
	if err := s.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	reg, err := NewRegistry(RegistryConfig{Sources: []*Source{s}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.ServiceProvider(context.Background(), spID(1)); err != nil {
		t.Fatalf("before validUntil: %v", err)
	}
	srv.handle(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) })
	clk.Advance(3 * time.Hour)
	if err := s.Refresh(context.Background()); err == nil {
		t.Fatal("refresh succeeded against a failing server")
	}
	_, err = reg.ServiceProvider(context.Background(), spID(1))
	if !errors.Is(err, metadata.ErrUnknownServiceProvider) || !strings.Contains(err.Error(), "MD-02") {
		t.Fatalf("after validUntil: err = %v, want ErrUnknownServiceProvider (MD-02)", err)
	}
	if len(s.ServiceProviders()) != 0 || len(reg.List()) != 0 {
		t.Error("an expired SP is still listed")
	}
}

func TestSourceRequireValidUntil(t *testing.T) {
	t.Parallel()
	clk := newClock()
	srv := newMDServer(t)
	srv.serve(sign(t, aggregate(docOpts{}, entity(t, spID(1), acsURL(1))), "fed", remotetest.Options{}))
	s, _ := newTestSource(t, srv, clk, func(c *SourceConfig) { c.Trust.RequireValidUntil = true })
	if err := s.Refresh(context.Background()); err == nil || !strings.Contains(err.Error(), "no validUntil") {
		t.Fatalf("err = %v, want a missing validUntil refused", err)
	}
}

func TestSourceRefreshSchedule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		cacheDuration string
		want          time.Duration
	}{
		{"no cacheDuration: the configured interval", "", time.Hour},
		{"shorter cacheDuration wins", "PT10M", 10 * time.Minute},
		{"cacheDuration below the floor", "PT1S", 2 * time.Minute},
		{"longer cacheDuration does not stretch the interval", "P1D", time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			srv := newMDServer(t)
			srv.serve(sign(t, aggregate(docOpts{cacheDuration: tt.cacheDuration}, entity(t, spID(1), acsURL(1))), "fed", remotetest.Options{}))
			s, _ := newTestSource(t, srv, clk, func(c *SourceConfig) { c.MinRefresh = 2 * time.Minute })
			if !s.NextRefresh().IsZero() {
				t.Fatal("a new Source is not due at once")
			}
			if err := s.Refresh(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := s.NextRefresh().Sub(clk.Now()); got != tt.want {
				t.Errorf("next refresh in %s, want %s", got, tt.want)
			}
		})
	}
	t.Run("failures back off from the floor up to the interval", func(t *testing.T) {
		t.Parallel()
		clk := newClock()
		srv := newMDServer(t)
		srv.handle(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusBadGateway) })
		s, _ := newTestSource(t, srv, clk, func(c *SourceConfig) { c.MinRefresh = 10 * time.Minute })
		var got []time.Duration
		for range 5 {
			_ = s.Refresh(context.Background())
			got = append(got, s.NextRefresh().Sub(clk.Now()))
		}
		want := []time.Duration{10 * time.Minute, 20 * time.Minute, 40 * time.Minute, time.Hour, time.Hour}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("retry delays %v, want %v", got, want)
			}
		}
	})
}

func TestSourceConditionalGET(t *testing.T) {
	t.Parallel()
	clk := newClock()
	srv := newMDServer(t)
	doc := sign(t, aggregate(docOpts{}, entity(t, spID(1), acsURL(1))), "fed", remotetest.Options{})
	var notModified int
	srv.handle(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"v1"` && r.Header.Get("If-Modified-Since") == "Tue, 01 Jan 2030 10:00:00 GMT" {
			notModified++
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Last-Modified", "Tue, 01 Jan 2030 10:00:00 GMT")
		_, _ = w.Write(doc)
	})
	s, _ := newTestSource(t, srv, clk, nil)
	for range 2 {
		if err := s.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if notModified != 1 {
		t.Fatalf("%d conditional 304 answers, want 1", notModified)
	}
	if got := ids(s.ServiceProviders()); got != spID(1)+"="+acsURL(1) {
		t.Fatalf("served %q after a 304", got)
	}
	if got := s.NextRefresh().Sub(clk.Now()); got != DefaultRefresh {
		t.Errorf("next refresh in %s after a 304, want %s", got, DefaultRefresh)
	}
}

func TestSourcePolicy(t *testing.T) {
	t.Parallel()
	clk := newClock()
	srv := newMDServer(t)
	srv.serve(sign(t, aggregate(docOpts{}, entity(t, spID(1), acsURL(1)), entity(t, spID(2), acsURL(2)), entity(t, spID(3), acsURL(3))), "fed", remotetest.Options{}))
	log, buf := testLogger()
	s, _ := newTestSource(t, srv, clk, func(c *SourceConfig) {
		c.Logger = log
		c.Policy = func(sp *metadata.ServiceProvider) error {
			switch sp.EntityID {
			case spID(2):
				return ErrExcluded
			case spID(3):
				return errors.New("needs an encryption key")
			}
			sp.AllowedAttributes = []string{"givenName"}
			return nil
		}
	})
	if err := s.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	sps := s.ServiceProviders()
	if got := ids(sps); got != spID(1)+"="+acsURL(1) {
		t.Fatalf("served %q, want only SP 1", got)
	}
	if len(sps[0].AllowedAttributes) != 1 || sps[0].AllowedAttributes[0] != "givenName" {
		t.Errorf("the policy's settings were lost: %v", sps[0].AllowedAttributes)
	}
	logs := buf.String()
	if !strings.Contains(logs, "needs an encryption key") || !strings.Contains(logs, spID(3)) {
		t.Errorf("a policy refusal was not logged:\n%s", logs)
	}
	if strings.Contains(logs, spID(2)) {
		t.Errorf("an ErrExcluded SP was logged as a warning:\n%s", logs)
	}
}

func TestSourceUnsignedByOptIn(t *testing.T) {
	t.Parallel()
	clk := newClock()
	srv := newMDServer(t)
	srv.serve(aggregate(docOpts{}, entity(t, spID(1), acsURL(1))))
	s, _ := newTestSource(t, srv, clk, func(c *SourceConfig) { c.Trust = Trust{AllowUnsigned: true} })
	if err := s.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := ids(s.ServiceProviders()); got != spID(1)+"="+acsURL(1) {
		t.Fatalf("served %q", got)
	}
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"PT6H", 6 * time.Hour, true},
		{"P1D", 24 * time.Hour, true},
		{"P1DT12H", 36 * time.Hour, true},
		{"PT1M30.5S", 90*time.Second + 500*time.Millisecond, true},
		{"P1M", 30 * 24 * time.Hour, true},
		{"P1Y", 365 * 24 * time.Hour, true},
		{"P1000Y", maxDuration, true},
		{"-PT1H", 0, false},
		{"P", 0, false},
		{"PT", 0, false},
		{"P1H", 0, false},
		{"PT1D", 0, false},
		{"P1DT", 0, false},
		{"PT1H1H", 0, false},
		{"PT1.5H", 0, false},
		{"6H", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseDuration(%q) = %s, %v; want %s, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// TestSourceCacheReadOnly: a read-only cache is used at start but never
// written, not even by a good refresh, and never overwritten.
func TestSourceCacheReadOnly(t *testing.T) {
	t.Parallel()
	clk := newClock()
	srv := newMDServer(t)
	srv.serve(sign(t, aggregate(docOpts{validUntil: t0.Add(48 * time.Hour)}, entity(t, spID(1), acsURL(1))), "fed", remotetest.Options{}))
	ro, cacheFile := newTestSource(t, srv, clk, func(c *SourceConfig) { c.CacheReadOnly = true })
	if err := ro.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cacheFile); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a read-only cache file was written (stat: %v)", err)
	}
	// A writable source fills it; a read-only one then serves from it at
	// start and leaves it as it was after refreshing a newer document.
	rw, _ := newTestSource(t, srv, clk, func(c *SourceConfig) { c.CacheFile = cacheFile })
	if err := rw.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(cacheFile)
	if err != nil {
		t.Fatal(err)
	}
	ro, _ = newTestSource(t, srv, clk, func(c *SourceConfig) { c.CacheFile, c.CacheReadOnly = cacheFile, true })
	if got, want := ids(ro.ServiceProviders()), spID(1)+"="+acsURL(1); got != want {
		t.Fatalf("served %q at start, want %q from the cache file", got, want)
	}
	srv.serve(sign(t, aggregate(docOpts{validUntil: t0.Add(48 * time.Hour)}, entity(t, spID(1), acsURL(1)), entity(t, spID(2), acsURL(2))), "fed", remotetest.Options{}))
	if err := ro.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(cacheFile)
	if err != nil || !bytes.Equal(before, after) {
		t.Errorf("a read-only source changed the cache file (err %v)", err)
	}
}

// TestSourceRefusesAnOlderCopy (MD-01, MD-02): a genuinely signed but
// superseded document, served by whoever answers the fetch, does not
// replace the copy in use: its validUntil is earlier, or it has none.
// A newer one does.
func TestSourceRefusesAnOlderCopy(t *testing.T) {
	t.Parallel()
	clk := newClock()
	srv := newMDServer(t)
	doc := func(validUntil time.Duration, acs int) []byte {
		o := docOpts{}
		if validUntil > 0 {
			o.validUntil = t0.Add(validUntil)
		}
		return sign(t, aggregate(o, entity(t, spID(1), acsURL(acs))), "fed", remotetest.Options{})
	}
	s, _ := newTestSource(t, srv, clk, nil)
	acs := func() string {
		t.Helper()
		sps := s.ServiceProviders()
		if len(sps) != 1 {
			t.Fatalf("%d SPs served, want 1", len(sps))
		}
		return sps[0].DefaultACS.Location
	}
	srv.serve(doc(48*time.Hour, 1))
	if err := s.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name       string
		validUntil time.Duration
	}{
		{"earlier validUntil", 24 * time.Hour},
		{"no validUntil", 0},
	} {
		srv.serve(doc(tt.validUntil, 2))
		err := s.Refresh(context.Background())
		if err == nil || !strings.Contains(err.Error(), "rollback") {
			t.Errorf("%s: refresh err = %v, want the older copy refused", tt.name, err)
		}
		if got := acs(); got != acsURL(1) {
			t.Errorf("%s: serving ACS %s, want the newer copy's %s", tt.name, got, acsURL(1))
		}
	}
	srv.serve(doc(48*time.Hour, 3)) // the same validUntil: a re-publication, taken
	if err := s.Refresh(context.Background()); err != nil || acs() != acsURL(3) {
		t.Errorf("same validUntil: err %v, ACS %s; want it taken", err, acs())
	}
	srv.serve(doc(72*time.Hour, 4))
	if err := s.Refresh(context.Background()); err != nil || acs() != acsURL(4) {
		t.Errorf("later validUntil: err %v, ACS %s; want it taken", err, acs())
	}
}
