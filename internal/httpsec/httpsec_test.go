package httpsec

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

var baseline = map[string]string{
	"Content-Security-Policy": DefaultCSP,
	"X-Frame-Options":         "DENY",
	"X-Content-Type-Options":  "nosniff",
	"Referrer-Policy":         "no-referrer",
}

func TestWrap(t *testing.T) {
	plain := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	ownCSP := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'none'; script-src 'nonce-abc'; frame-ancestors 'none'")
		w.Header().Set("Cache-Control", "public, max-age=60")
		w.WriteHeader(http.StatusTeapot)
	})
	tests := []struct {
		name    string
		handler http.Handler
		opts    Options
		want    map[string]string // "" means absent
	}{
		{"defaults", plain, Options{}, map[string]string{"Strict-Transport-Security": "", "Cache-Control": ""}},
		{"https and no-store", plain, Options{HSTS: true, NoStore: true}, map[string]string{"Strict-Transport-Security": HSTS, "Cache-Control": "no-store"}},
		{"a handler's own values win", ownCSP, Options{NoStore: true}, map[string]string{
			"Content-Security-Policy": "default-src 'none'; script-src 'nonce-abc'; frame-ancestors 'none'",
			"Cache-Control":           "public, max-age=60",
		}},
		{"net/http's 404", http.NotFoundHandler(), Options{}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Wrap(tc.handler, tc.opts).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
			want := map[string]string{}
			for k, v := range baseline {
				want[k] = v
			}
			for k, v := range tc.want {
				want[k] = v
			}
			for k, v := range want {
				if got := rec.Header().Values(k); (v == "" && len(got) != 0) || (v != "" && (len(got) != 1 || got[0] != v)) {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

// TestSetDefaultHeadersReplaces checks that stale values (say, a weaker
// CSP set by an outer layer) are replaced rather than doubled.
func TestSetDefaultHeadersReplaces(t *testing.T) {
	h := http.Header{}
	h.Add("Content-Security-Policy", "default-src *")
	h.Add("X-Frame-Options", "SAMEORIGIN")
	SetDefaultHeaders(h)
	for k, v := range baseline {
		if got := h.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("%s = %q, want [%q]", k, got, v)
		}
	}
}
