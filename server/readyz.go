package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/samlbridge/samlbridge/itsme"
	"github.com/samlbridge/samlbridge/session"
)

// PathReadyz answers whether this node can serve logins.
const PathReadyz = "/readyz"

// Readiness bounds.
const (
	// readyTimeout bounds the checks of one /readyz request.
	readyTimeout = 3 * time.Second
	// upstreamMaxAge is how old itsme's discovery document and JWK Set
	// may be before the node is not ready: the client refreshes them
	// after itsme.MetadataTTL, so this is that TTL plus an hour of failed
	// refreshes.
	upstreamMaxAge = itsme.MetadataTTL + time.Hour
)

// upstreamHealth is what *itsme.Client offers for readiness.
type upstreamHealth interface {
	Health(ctx context.Context) (itsme.Health, error)
}

// readyCheck is one line of the /readyz answer. Details say what is wrong
// in words an operator can act on, without addresses or error texts from
// the store (those are logged).
type readyCheck struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// readiness runs every check.
func (s *Server) readiness(ctx context.Context) (bool, []readyCheck) {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	now := s.cfg.Now()
	var checks []readyCheck

	store := readyCheck{Name: "store", OK: true}
	if p, ok := s.cfg.Store.(session.Pinger); ok {
		if err := p.Ping(ctx); err != nil {
			s.logger(ctx).Warn("readiness: the session store does not answer", "err", err)
			store.OK, store.Detail = false, "the session store does not answer"
		}
	}
	checks = append(checks, store)

	if h, ok := s.cfg.Upstream.(upstreamHealth); ok {
		c := readyCheck{Name: "itsme", OK: true}
		health, err := h.Health(ctx)
		switch {
		case err != nil && health.DiscoveryFetched.IsZero():
			s.logger(ctx).Warn("readiness: itsme discovery has never been fetched", "err", err)
			c.OK, c.Detail = false, "itsme's discovery document and keys could not be fetched"
		case now.Sub(health.DiscoveryFetched) > upstreamMaxAge || now.Sub(health.JWKSFetched) > upstreamMaxAge:
			c.OK, c.Detail = false, fmt.Sprintf("itsme's discovery document or keys are stale (fetched %s ago)", now.Sub(minTime(health.DiscoveryFetched, health.JWKSFetched)).Round(time.Second))
		default:
			c.Detail = "circuit " + health.Breaker
		}
		checks = append(checks, c)
	}

	key := readyCheck{Name: "signing_key", OK: true}
	if certs := s.cfg.IDP.Signer.Certs; len(certs) > 0 {
		switch cert := certs[0]; {
		case now.After(cert.NotAfter):
			key.OK, key.Detail = false, "the SAML signing certificate expired on "+cert.NotAfter.UTC().Format(time.DateOnly)
		case now.Before(cert.NotBefore):
			key.OK, key.Detail = false, "the SAML signing certificate is not valid before "+cert.NotBefore.UTC().Format(time.RFC3339)
		default:
			key.Detail = "expires " + cert.NotAfter.UTC().Format(time.DateOnly)
		}
	}
	checks = append(checks, key)

	ready := true
	for _, c := range checks {
		ready = ready && c.OK
	}
	return ready, checks
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// handleReadyz answers 200 when every check passes and 503 otherwise,
// with the checks as JSON.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	ready, checks := s.readiness(r.Context())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	status := http.StatusOK
	if !ready {
		status = http.StatusServiceUnavailable
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Ready  bool         `json:"ready"`
		Checks []readyCheck `json:"checks"`
	}{ready, checks})
}
