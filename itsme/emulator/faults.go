package emulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// endpoints are the paths the emulator serves; faults and request counts
// are kept per path.
var endpoints = []string{PathDiscovery, PathJWKS, PathAuthorization, PathConfirm, PathToken, PathUserInfo, PathPicture}

// malformable are the endpoints a Malformed fault knows a broken body for.
var malformable = []string{PathDiscovery, PathJWKS, PathToken, PathUserInfo}

// Fault is one injected failure of an emulator endpoint, for tests that
// drive a client against an itsme that is slow, down, malformed or cut
// off. A fault applies to a request when the request arrives: first
// Latency, then Status, Malformed or Drop, or else the real answer.
type Fault struct {
	// Endpoint is the path the fault applies to (PathToken, PathJWKS...,
	// relative to the issuer); "" means every endpoint.
	Endpoint string
	// Latency delays the answer. The wait ends early, with no answer,
	// when the request's context ends (the client went away).
	Latency time.Duration
	// Status, if not zero, answers this 4xx or 5xx status with a short
	// text/plain body instead of the real answer.
	Status int
	// Malformed answers 200 with a body of the endpoint's content type
	// that does not parse: truncated JSON for discovery and the JWK Set,
	// a JSON token answer whose id_token is not a JWE, and a userinfo
	// answer that is not a JWT. Only those four endpoints accept it.
	Malformed bool
	// Drop closes the connection without writing any answer. Where the
	// connection cannot be hijacked (HTTP/2), the handler panics with
	// http.ErrAbortHandler, which makes net/http reset the stream. Go's
	// HTTP client transparently retries an idempotent request once when a
	// reused keep-alive connection is dropped, so a Drop with Times 1 may
	// go unnoticed by a GET.
	Drop bool
	// Times is how many requests the fault applies to before it expires;
	// 0 means until ClearFaults.
	Times int
}

// validate returns every problem of f, each wrapping ErrFault.
func (f Fault) validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrFault}, args...)...))
	}
	if f.Endpoint != "" && !slices.Contains(endpoints, f.Endpoint) {
		bad("unknown Endpoint %.64q", f.Endpoint)
	}
	if f.Latency < 0 {
		bad("negative Latency %s", f.Latency)
	}
	if f.Times < 0 {
		bad("negative Times %d", f.Times)
	}
	if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
		bad("Status %d: want a 4xx or 5xx status", f.Status)
	}
	if f.Malformed && !slices.Contains(malformable, f.Endpoint) {
		bad("Malformed needs Endpoint PathDiscovery, PathJWKS, PathToken or PathUserInfo")
	}
	n := 0
	for _, set := range []bool{f.Status != 0, f.Malformed, f.Drop} {
		if set {
			n++
		}
	}
	switch {
	case n > 1:
		bad("Status, Malformed and Drop exclude each other")
	case n == 0 && f.Latency == 0:
		bad("the fault does nothing: set Latency, Status, Malformed or Drop")
	}
	return errors.Join(errs...)
}

// faultTable holds the injected faults and the request counts.
type faultTable struct {
	mu       sync.Mutex
	active   []*activeFault // in injection order
	requests map[string]int
	hits     map[string]int
}

// activeFault is an injected fault and how many uses it has left (when
// Times is not zero).
type activeFault struct {
	Fault
	left int
}

// arrive counts a request to path and takes the first active fault that
// matches it, using up one of its Times.
func (t *faultTable) arrive(path string) (Fault, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.requests == nil {
		t.requests, t.hits = map[string]int{}, map[string]int{}
	}
	t.requests[path]++
	for i, a := range t.active {
		if a.Endpoint != "" && a.Endpoint != path {
			continue
		}
		if a.Times > 0 {
			if a.left--; a.left == 0 {
				t.active = slices.Delete(t.active, i, i+1)
			}
		}
		t.hits[path]++
		return a.Fault, true
	}
	return Fault{}, false
}

// sum returns m[endpoint], or the sum of m when endpoint is "".
func sum(m map[string]int, endpoint string) int {
	if endpoint != "" {
		return m[endpoint]
	}
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// InjectFault adds f after the faults already injected. Each request
// gets the first matching fault that has not expired, so faults can be
// queued (e.g. two 503s, then a slow answer). A bad fault (unknown
// endpoint, negative Latency or Times, a Status that is not 4xx or 5xx,
// several of Status, Malformed and Drop, or no effect at all) is refused
// with errors wrapping ErrFault. It is safe to call while requests are in
// flight.
func (e *Emulator) InjectFault(f Fault) error {
	if err := f.validate(); err != nil {
		return err
	}
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.faults.active = append(e.faults.active, &activeFault{Fault: f, left: f.Times})
	return nil
}

// ClearFaults removes every injected fault; requests already waiting out
// a Latency still get their fault. The counts are kept.
func (e *Emulator) ClearFaults() {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	e.faults.active = nil
}

// FaultHits returns how many requests to endpoint ("" for every
// endpoint) a fault was applied to since New.
func (e *Emulator) FaultHits(endpoint string) int {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	return sum(e.faults.hits, endpoint)
}

// Requests returns how many requests reached endpoint ("" for every
// endpoint) since New, faulted or not.
func (e *Emulator) Requests(endpoint string) int {
	e.faults.mu.Lock()
	defer e.faults.mu.Unlock()
	return sum(e.faults.requests, endpoint)
}

// applyFault carries out f on a request to path. It reports whether the
// request is done; false means the real answer follows (a Latency-only
// fault).
func (e *Emulator) applyFault(w http.ResponseWriter, r *http.Request, path string, f Fault) bool {
	e.log.Info("emulator: injecting a fault", "endpoint", path, "latency", f.Latency, "status", f.Status, "malformed", f.Malformed, "drop", f.Drop)
	if f.Latency > 0 {
		// net/http notices a client that hangs up only once the request
		// body has been read, so read it now and give the real handler a
		// copy (bounded by maxBodyBytes).
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "emulator: request body: "+err.Error(), http.StatusRequestEntityTooLarge)
			return true
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		t := time.NewTimer(f.Latency)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			e.log.Info("emulator: the client went away during an injected latency", "endpoint", path)
			return true
		}
	}
	switch {
	case f.Drop:
		dropConnection(w)
	case f.Status != 0:
		http.Error(w, fmt.Sprintf("emulator: injected fault: %d %s", f.Status, http.StatusText(f.Status)), f.Status)
	case f.Malformed:
		e.writeMalformed(w, path)
	default:
		return false
	}
	return true
}

// dropConnection closes the connection under w without an answer, or
// aborts the handler with http.ErrAbortHandler when w cannot be hijacked.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// Bodies of Malformed answers.
const (
	malformedIDToken  = "injected.fault.not.a.jwe" // five segments that are not base64url JSON
	malformedUserInfo = "injected-fault-not-a-jwt"
)

// writeMalformed answers 200 with a broken body of path's content type.
func (e *Emulator) writeMalformed(w http.ResponseWriter, path string) {
	var doc any
	switch path {
	case PathDiscovery:
		doc = e.Discovery()
	case PathJWKS:
		doc = e.PublicJWKS()
	case PathToken:
		doc = tokenResponse{AccessToken: "injected-fault", TokenType: "Bearer", ExpiresIn: 180, IDToken: malformedIDToken}
	default: // PathUserInfo
		w.Header().Set("Content-Type", "application/jwt")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(malformedUserInfo))
		return
	}
	b, err := json.Marshal(doc)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if path != PathToken {
		b = b[:len(b)/2] // truncated: not valid JSON
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}
