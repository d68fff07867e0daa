// Command proxy is the round-robin reverse proxy of examples/cluster: it
// spreads requests over the bridge nodes given as arguments, one after the
// other, with no sticky sessions, so that one login crosses nodes.
//
// Usage:
//
//	proxy [--listen 127.0.0.1:8440] NAME=URL NAME=URL...
//
// A node whose connection fails (refused: the node is down) is skipped
// and the request goes to the next one; a request that reached a node is
// never sent again. The Host header, the path and the query are passed on
// unchanged, redirects are returned to the browser (never followed), and
// every response names the node that served it in X-Samlbridge-Node. It
// listens on loopback only: it is a demonstration, not a load balancer.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// HeaderNode names, in each response, the node that served the request.
const HeaderNode = "X-Samlbridge-Node"

// maxBody bounds a request body, which is held in memory so that it can
// be sent to the next node when one is down. The bridge itself accepts
// no more than 256 KiB.
const maxBody = 1 << 20

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without os.Exit.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8440", "loopback address to listen on (port 0: any free port)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	nodes, err := parseNodes(fs.Args())
	if err == nil {
		err = checkLoopback(*listen)
	}
	if err != nil {
		fmt.Fprintf(stderr, "proxy: %v\nusage: proxy [--listen 127.0.0.1:8440] NAME=URL NAME=URL...\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil)).With("component", "proxy")
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "proxy: listening on %s: %v\n", *listen, err)
		return 1
	}
	h, err := New(nodes, log)
	if err != nil {
		fmt.Fprintf(stderr, "proxy: %v\n", err)
		return 2
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      90 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name + " " + n.URL.String()
	}
	fmt.Fprintf(stdout, "proxy ready: http://%s -> %s\n", ln.Addr(), strings.Join(names, ", "))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		fmt.Fprintf(stderr, "proxy: %v\n", err)
		return 1
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		fmt.Fprintf(stderr, "proxy: shutdown: %v\n", err)
		return 1
	}
	return 0
}

// Node is one backend.
type Node struct {
	Name string
	URL  *url.URL
}

// parseNodes reads NAME=URL arguments (a bare URL is named by its host).
func parseNodes(args []string) ([]Node, error) {
	if len(args) == 0 {
		return nil, errors.New("no nodes given")
	}
	var nodes []Node
	seen := map[string]bool{}
	for _, a := range args {
		name, raw, ok := strings.Cut(a, "=")
		if !ok {
			raw = a
		}
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("node %q: want NAME=http://host:port", a)
		}
		if !ok {
			name = u.Host
		}
		if name == "" || seen[name] {
			return nil, fmt.Errorf("node %q: empty or repeated name", a)
		}
		seen[name] = true
		nodes = append(nodes, Node{Name: name, URL: u})
	}
	return nodes, nil
}

func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--listen %q: not a loopback address", addr)
	}
	return nil
}

// New returns the round-robin proxy over nodes (at least one).
func New(nodes []Node, log *slog.Logger) (http.Handler, error) {
	if len(nodes) == 0 {
		return nil, errors.New("no nodes given")
	}
	b := &balancer{
		nodes: nodes,
		log:   log,
		transport: &http.Transport{
			// One connection per request: a node killed mid-run leaves no
			// pooled connection behind to fail a request that was never
			// delivered.
			DisableKeepAlives:     true,
			DialContext:           (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
			ResponseHeaderTimeout: 60 * time.Second,
		},
	}
	return &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			n := b.nodes[b.next.Add(1)%uint64(len(b.nodes))]
			r.SetURL(n.URL)
			r.Out.Host = r.In.Host // the bridge builds every URL from external_url, but keep what the browser asked for
			r.SetXForwarded()
		},
		Transport:    b,
		ErrorHandler: b.fail,
	}, nil
}

// balancer is the proxy's transport: it sends the request to the node
// Rewrite chose and, when that node cannot be reached, to the next ones.
type balancer struct {
	nodes     []Node
	next      atomic.Uint64
	transport http.RoundTripper
	log       *slog.Logger
}

var errTooLarge = errors.New("request body too large")

// RoundTrip implements http.RoundTripper.
func (b *balancer) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(io.LimitReader(req.Body, maxBody+1))
		_ = req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("reading the request body: %w", err)
		}
		if len(body) > maxBody {
			return nil, errTooLarge
		}
	}
	start := 0
	for i, n := range b.nodes {
		if n.URL.Host == req.URL.Host {
			start = i
		}
	}
	var errs []error
	for i := range b.nodes {
		n := b.nodes[(start+i)%len(b.nodes)]
		out := req.Clone(req.Context())
		out.URL.Scheme, out.URL.Host = n.URL.Scheme, n.URL.Host
		if req.Body != nil {
			out.Body, out.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		}
		resp, err := b.transport.RoundTrip(out)
		if err == nil {
			resp.Header.Set(HeaderNode, n.Name)
			b.log.Info("proxied", "method", req.Method, "path", req.URL.Path, "node", n.Name, "status", resp.StatusCode)
			return resp, nil
		}
		if !notReached(err) || req.Context().Err() != nil {
			return nil, fmt.Errorf("node %s: %w", n.Name, err)
		}
		b.log.Warn("node unreachable, trying the next", "node", n.Name, "err", err)
		errs = append(errs, fmt.Errorf("node %s: %w", n.Name, err))
	}
	return nil, fmt.Errorf("no node reachable: %w", errors.Join(errs...))
}

// notReached reports whether err happened before the request was sent:
// the connection could not be made, so another node may take it.
func notReached(err error) bool {
	var op *net.OpError
	return errors.Is(err, syscall.ECONNREFUSED) || (errors.As(err, &op) && op.Op == "dial")
}

func (b *balancer) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusBadGateway
	if errors.Is(err, errTooLarge) {
		status = http.StatusRequestEntityTooLarge
	}
	b.log.Error("proxy failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	http.Error(w, http.StatusText(status), status)
}
