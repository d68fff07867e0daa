package itsme

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// TestDefaultClientKeepsConnectionsToItsme: after a burst of concurrent
// calls, the next burst reuses the idle connections instead of opening
// new ones (with TLS, a handshake each). net/http's default of two idle
// connections per host would open six new ones here.
func TestDefaultClientKeepsConnectionsToItsme(t *testing.T) {
	var opened atomic.Int64
	release := make(chan struct{})
	var arrived sync.WaitGroup
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Done()
		<-release
		io.WriteString(w, "{}")
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := httpClient(nil)
	const burst = 8
	round := func() {
		arrived.Add(burst)
		var done sync.WaitGroup
		for range burst {
			done.Add(1)
			go func() {
				defer done.Done()
				resp, err := c.Get(srv.URL)
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}()
		}
		arrived.Wait() // all burst calls in flight at once: burst connections
		for range burst {
			release <- struct{}{}
		}
		done.Wait()
	}
	round()
	if got := opened.Load(); got != burst {
		t.Fatalf("first burst opened %d connections, want %d", got, burst)
	}
	round()
	if got := opened.Load() - burst; got != 0 {
		t.Errorf("second burst opened %d new connections, want 0 (idle ones reused)", got)
	}
}
