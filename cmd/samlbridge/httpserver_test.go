package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testLimits are short limits, so that the tests below see them act.
var testLimits = httpLimits{
	ReadHeaderTimeout: 300 * time.Millisecond,
	ReadTimeout:       time.Second,
	WriteTimeout:      2 * time.Second,
	IdleTimeout:       500 * time.Millisecond,
	MaxHeaderBytes:    1 << 10,
	ShutdownTimeout:   2 * time.Second,
}

// startServer runs serveWithLimits on a loopback port and stops it (and
// checks that it stopped cleanly) when the test ends. It returns the
// address and a counter of requests that reached the handler.
func startServer(t *testing.T, lim httpLimits) (string, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, "ok")
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveWithLimits(ctx, ln, h, slog.New(slog.DiscardHandler), lim) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server stopped with %v", err)
		}
	})
	return ln.Addr().String(), &hits
}

// waitClosed reads from conn until the server closes it, failing the test
// if that does not happen within limit (a generous bound: the point is
// that it happens at all).
func waitClosed(t *testing.T, conn net.Conn, limit time.Duration) []byte {
	t.Helper()
	if err := conn.SetReadDeadline(time.Now().Add(limit)); err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server kept the connection open for %v", limit)
	}
	return data
}

// TestSlowHeadersAreCutOff is a slowloris client: it sends a request line
// and then one header byte every 50 ms, never finishing the header block.
// The server must close the connection (ReadHeaderTimeout) without the
// handler ever running.
func TestSlowHeadersAreCutOff(t *testing.T) {
	lim := testLimits
	lim.ReadTimeout = time.Minute // only ReadHeaderTimeout can end it in time
	addr, hits := startServer(t, lim)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /saml/sso HTTP/1.1\r\nHost: idp.example\r\nX-Slow: "); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	trickled := make(chan struct{})
	go func() {
		defer close(trickled)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := conn.Write([]byte("a")); err != nil {
					return // the server hung up
				}
			}
		}
	}()
	data := waitClosed(t, conn, 5*time.Second)
	close(stop)
	<-trickled
	if hits.Load() != 0 {
		t.Error("the handler ran for a request whose headers never ended")
	}
	if strings.HasPrefix(string(data), "HTTP/1.1 200") {
		t.Errorf("the slow client got a response:\n%s", data)
	}
}

// TestOversizedHeadersAre431 sends a header block well above
// MaxHeaderBytes (net/http allows 4 KiB of slack on top).
func TestOversizedHeadersAre431(t *testing.T) {
	addr, hits := startServer(t, testLimits)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := "GET / HTTP/1.1\r\nHost: idp.example\r\nX-Big: " + strings.Repeat("a", 16<<10) + "\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("status %d, want 431", resp.StatusCode)
	}
	if hits.Load() != 0 {
		t.Error("the handler ran for an oversized request")
	}
}

// TestIdleKeepAliveIsClosed checks that a connection left idle after a
// response is closed (IdleTimeout), and that a normal request works.
func TestIdleKeepAliveIsClosed(t *testing.T) {
	addr, hits := startServer(t, testLimits)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: idp.example\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "ok" || hits.Load() != 1 {
		t.Fatalf("status %d, body %q, %d hits", resp.StatusCode, body, hits.Load())
	}
	if rest, err := io.ReadAll(br); err != nil {
		t.Fatalf("the idle connection was not closed: %v", err)
	} else if len(rest) != 0 {
		t.Errorf("unexpected bytes after the response: %q", rest)
	}
}

// TestDefaultHTTPLimitsAreSet guards the defaults: in net/http a zero
// timeout or header limit means none at all.
func TestDefaultHTTPLimitsAreSet(t *testing.T) {
	d := defaultHTTPLimits
	for name, v := range map[string]time.Duration{
		"ReadHeaderTimeout": d.ReadHeaderTimeout, "ReadTimeout": d.ReadTimeout, "WriteTimeout": d.WriteTimeout,
		"IdleTimeout": d.IdleTimeout, "ShutdownTimeout": d.ShutdownTimeout,
	} {
		if v <= 0 {
			t.Errorf("%s is %v: no limit", name, v)
		}
	}
	if d.ReadHeaderTimeout > d.ReadTimeout {
		t.Errorf("ReadHeaderTimeout %v exceeds ReadTimeout %v", d.ReadHeaderTimeout, d.ReadTimeout)
	}
	if d.MaxHeaderBytes <= 0 || d.MaxHeaderBytes > 1<<20 {
		t.Errorf("MaxHeaderBytes %d", d.MaxHeaderBytes)
	}
}

// TestShutdownDrainsInFlightRequests: when the context ends (SIGTERM), a
// request already being handled finishes with its full answer, the
// listener stops accepting new connections, and serveWithLimits returns
// nil only after the in-flight request is done.
func TestShutdownDrainsInFlightRequests(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	entered, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release // the request is in flight while shutdown starts
		_, _ = io.WriteString(w, "finished after shutdown began")
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveWithLimits(ctx, ln, h, slog.New(slog.DiscardHandler), testLimits) }()

	answer := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/slow")
		if err != nil {
			answer <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		answer <- resp.Status + " " + string(b)
	}()
	<-entered
	cancel() // SIGTERM
	// The listener closes while the request is still in flight.
	deadline := time.Now().Add(5 * time.Second)
	for {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			break
		}
		_ = conn.Close()
		if time.Now().After(deadline) {
			t.Fatal("the server still accepts connections after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("serveWithLimits returned (%v) before the in-flight request finished", err)
	default:
	}
	close(release)
	if got := <-answer; got != "200 OK finished after shutdown began" {
		t.Errorf("the in-flight request got %q", got)
	}
	if err := <-done; err != nil {
		t.Errorf("shutdown: %v", err)
	}
}
