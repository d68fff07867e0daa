package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// backend answers with what it received, naming itself; /redirect answers
// a redirect the proxy must pass on unfollowed.
func backend(t *testing.T, name string) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "http://127.0.0.1:1/elsewhere?x=1", http.StatusFound)
			return
		}
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Backend", name)
		_, _ = io.WriteString(w, r.Method+" "+r.Host+" "+r.URL.RequestURI()+" "+string(body))
	}))
	t.Cleanup(s.Close)
	return s
}

// deadURL is a loopback URL nothing listens on: connections are refused.
func deadURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String()
	_ = ln.Close()
	return u
}

func startProxy(t *testing.T, nodes ...string) *httptest.Server {
	t.Helper()
	parsed, err := parseNodes(nodes)
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(parsed, slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}

type result struct {
	status               int
	node, body, location string
}

func do(t *testing.T, method, u, host, body string) result {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return result{resp.StatusCode, resp.Header.Get(HeaderNode), string(b), resp.Header.Get("Location")}
}

func TestRoundRobinPreservesTheRequest(t *testing.T) {
	a, b := backend(t, "a"), backend(t, "b")
	p := startProxy(t, "A="+a.URL, "B="+b.URL)
	var served []string
	for range 4 {
		r := do(t, http.MethodPost, p.URL+"/saml/sso?SAMLRequest=a%2Bb%3D&RelayState=x", "idp.example:8440", "k=v")
		want := "POST idp.example:8440 /saml/sso?SAMLRequest=a%2Bb%3D&RelayState=x k=v"
		if r.status != http.StatusOK || r.body != want {
			t.Errorf("got %d %q, want 200 %q", r.status, r.body, want)
		}
		served = append(served, r.node)
	}
	for i := 1; i < len(served); i++ {
		if served[i] == served[i-1] || (served[i] != "A" && served[i] != "B") {
			t.Fatalf("nodes served %v, want A and B in turn", served)
		}
	}
}

func TestRedirectIsPassedOn(t *testing.T) {
	p := startProxy(t, "A="+backend(t, "a").URL)
	r := do(t, http.MethodGet, p.URL+"/redirect", "", "")
	if r.status != http.StatusFound || r.location != "http://127.0.0.1:1/elsewhere?x=1" || r.node != "A" {
		t.Errorf("got %d to %q from %q, want the node's 302 unchanged", r.status, r.location, r.node)
	}
}

func TestRefusedNodeIsSkipped(t *testing.T) {
	tests := []struct {
		name   string
		nodes  func(live string) []string
		status int
		node   string
	}{
		{"dead first", func(live string) []string { return []string{"A=" + deadURL(t), "B=" + live} }, http.StatusOK, "B"},
		{"dead second", func(live string) []string { return []string{"A=" + live, "B=" + deadURL(t)} }, http.StatusOK, "A"},
		{"all dead", func(string) []string { return []string{"A=" + deadURL(t), "B=" + deadURL(t)} }, http.StatusBadGateway, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := startProxy(t, tt.nodes(backend(t, "live").URL)...)
			for range 3 { // whichever node the turn falls on
				r := do(t, http.MethodPost, p.URL+"/oidc/callback?state=s", "", "the body, sent again in full")
				if r.status != tt.status || r.node != tt.node {
					t.Fatalf("got %d from %q, want %d from %q", r.status, r.node, tt.status, tt.node)
				}
				if tt.status == http.StatusOK && !strings.HasSuffix(r.body, " the body, sent again in full") {
					t.Errorf("body %q: the retried request lost its body", r.body)
				}
			}
		})
	}
}

func TestBodyTooLarge(t *testing.T) {
	p := startProxy(t, "A="+backend(t, "a").URL)
	r := do(t, http.MethodPost, p.URL+"/saml/sso", "", strings.Repeat("x", maxBody+1))
	if r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", r.status)
	}
}

func TestBadArguments(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no nodes", nil, "no nodes given"},
		{"not a URL", []string{"A=127.0.0.1:8441"}, `node "A=127.0.0.1:8441": want NAME=http://host:port`},
		{"repeated name", []string{"A=http://127.0.0.1:1", "A=http://127.0.0.1:2"}, "empty or repeated name"},
		{"public listen", []string{"--listen", "0.0.0.0:8440", "A=http://127.0.0.1:1"}, "not a loopback address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb strings.Builder
			if code := run(context.Background(), tt.args, &out, &errb); code != 2 {
				t.Fatalf("exit %d, want 2", code)
			}
			if !strings.Contains(errb.String(), tt.want) {
				t.Errorf("stderr %q lacks %q", errb.String(), tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("stdout %q, want nothing", out.String())
			}
		})
	}
}
