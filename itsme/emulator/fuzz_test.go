package emulator

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var (
	fuzzOnce sync.Once
	fuzzEmu  *Emulator
	fuzzErr  error
)

// fuzzEmulator is one emulator shared by the fuzz targets.
func fuzzEmulator(t testing.TB) *Emulator {
	keys(t)
	fuzzOnce.Do(func() {
		cfg := validConfig()
		cfg.Clients[0].Services = append(cfg.Clients[0].Services,
			Service{Code: svcIdentify, Type: ServiceIdentification}, Service{Code: svcConfirm, Type: ServiceConfirmation})
		fuzzEmu, fuzzErr = New(cfg)
	})
	if fuzzErr != nil {
		t.Fatal(fuzzErr)
	}
	return fuzzEmu
}

// seeds reads one seed per line from a testdata file.
func seeds(f *testing.F, name string) {
	file, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		f.Fatal(err)
	}
	defer func() { _ = file.Close() }()
	sc := bufio.NewScanner(file)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
			f.Add(line)
		}
	}
	if err := sc.Err(); err != nil {
		f.Fatal(err)
	}
}

// checkAnswer asserts the invariants of any answer: no server error, and
// a redirect only ever to a registered redirect URI.
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder) {
	if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
	}
	if loc := rec.Header().Get("Location"); loc != "" && !strings.HasPrefix(loc, redirectA+"&") {
		t.Fatalf("redirect to an unregistered place: %q", loc)
	}
}

// FuzzAuthorizationQuery feeds arbitrary queries to the authorization
// endpoint.
func FuzzAuthorizationQuery(f *testing.F) {
	seeds(f, "authorization_queries.txt")
	e := fuzzEmulator(f)
	h := e.Handler()
	f.Fuzz(func(t *testing.T, rawQuery string) {
		req := httptest.NewRequest(http.MethodGet, "https://idp.example/v2/authorization", nil)
		req.URL.RawQuery = rawQuery
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkAnswer(t, rec)
	})
}

// FuzzTokenForm feeds arbitrary bodies to the token endpoint.
func FuzzTokenForm(f *testing.F) {
	seeds(f, "token_forms.txt")
	e := fuzzEmulator(f)
	h := e.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, "https://idp.example/v2/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkAnswer(t, rec)
		if rec.Code != http.StatusOK && !strings.Contains(rec.Body.String(), `"error"`) {
			t.Fatalf("status %d without an error member: %s", rec.Code, rec.Body.String())
		}
	})
}
