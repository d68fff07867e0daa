package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/samlbridge/samlbridge/audit"
	"github.com/samlbridge/samlbridge/ratelimit"
)

// RateLimit limits requests to the SSO and callback endpoints per client
// address (catalogue SES-08), before any expensive work: signature checks,
// store writes and calls to itsme. A zero field takes its default.
//
// The defaults (60 per minute, burst 30) are sized for people: one login
// is two limited requests (SSO, then callback), so a burst of 30 lets
// about 15 people behind one NAT start at the same moment and 60 a minute
// sustains 30 logins a minute from one address, while one address flooding
// the bridge gets one request a second through. Large shared exits (a
// carrier-grade NAT, a corporate proxy in front of thousands of users)
// need higher values or Disabled.
type RateLimit struct {
	// PerMinute is the sustained number of requests per minute per
	// client (default DefaultRatePerMinute).
	PerMinute int
	// Burst is how many requests a client may make at once (default
	// DefaultRateBurst).
	Burst int
	// MaxClients bounds the memory used: at most this many clients are
	// tracked, the least recently seen forgotten first (default
	// DefaultRateMaxClients, a few MiB).
	MaxClients int
	// Disabled turns the limit off, for when a proxy in front limits.
	Disabled bool
}

// Defaults of RateLimit.
const (
	DefaultRatePerMinute  = 60
	DefaultRateBurst      = 30
	DefaultRateMaxClients = 100_000
)

// clientLimiter holds the per-client buckets and how to find the client.
type clientLimiter struct {
	buckets *ratelimit.Limiter
	trusted []netip.Prefix
	// logKey keys the pseudonym of a client in the logs: addresses are
	// personal data, and an unkeyed hash of an IPv4 address is reversed
	// by trying all 2^32.
	logKey []byte
	// warnings bounds the "rate limited" log lines to about one a second
	// (a flood must not become a log flood); quiet counts the dropped.
	warnings *ratelimit.Limiter
	quiet    atomic.Int64
}

// newClientLimiter validates rl and the trusted proxies. It returns nil
// (no limit) when rl.Disabled.
func newClientLimiter(rl RateLimit, trusted []netip.Prefix, secret []byte) (*clientLimiter, error) {
	var errs []string
	for i, p := range trusted {
		switch {
		case !p.IsValid():
			errs = append(errs, fmt.Sprintf("trusted proxy #%d is not a valid prefix", i+1))
		case p.Bits() == 0:
			// Any client could then pick the address it is limited by.
			errs = append(errs, fmt.Sprintf("trusted proxy #%d (%s) trusts every address", i+1, p))
		}
	}
	if rl.PerMinute < 0 || rl.Burst < 0 || rl.MaxClients < 0 {
		errs = append(errs, fmt.Sprintf("rate limit %d per minute, burst %d, %d clients: values must not be negative", rl.PerMinute, rl.Burst, rl.MaxClients))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("server: %s", strings.Join(errs, "; "))
	}
	if rl.Disabled {
		return nil, nil
	}
	if rl.PerMinute == 0 {
		rl.PerMinute = DefaultRatePerMinute
	}
	if rl.Burst == 0 {
		rl.Burst = DefaultRateBurst
	}
	if rl.MaxClients == 0 {
		rl.MaxClients = DefaultRateMaxClients
	}
	buckets, err := ratelimit.New(ratelimit.Config{Rate: ratelimit.PerMinute(rl.PerMinute), Burst: rl.Burst, MaxKeys: rl.MaxClients})
	if err != nil {
		return nil, fmt.Errorf("server: rate limit: %w", err)
	}
	warnings, err := ratelimit.New(ratelimit.Config{Rate: 1, Burst: 10, MaxKeys: 1})
	if err != nil {
		return nil, fmt.Errorf("server: rate limit: %w", err)
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("samlbridge rate-limit log pseudonym key v1"))
	return &clientLimiter{buckets: buckets, trusted: maskedPrefixes(trusted), logKey: m.Sum(nil), warnings: warnings}, nil
}

// maskedPrefixes returns the prefixes with their host bits cleared.
func maskedPrefixes(ps []netip.Prefix) []netip.Prefix {
	masked := make([]netip.Prefix, len(ps))
	for i, p := range ps {
		masked[i] = p.Masked()
	}
	return masked
}

// limited wraps an endpoint with the per-client limit. A client over the
// limit gets 429 with Retry-After and the bridge's error page, and one
// audit event; nothing else happens (no store access, no itsme call).
func (s *Server) limited(stage audit.Stage, next http.HandlerFunc) http.Handler {
	c := s.limits
	if c == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := clientKey(c.clientAddr(r))
		now := s.cfg.Now()
		ok, retry := c.buckets.Allow(key, now)
		if ok {
			next(w, r)
			return
		}
		if allowed, _ := c.warnings.Allow("", now); allowed {
			s.logger(r.Context()).Warn("client over the rate limit", "stage", string(stage), "client", c.pseudonym(key),
				"retry_after", retry.Round(time.Second).String(), "unlogged_before", c.quiet.Swap(0))
		} else {
			c.quiet.Add(1)
		}
		s.record(r.Context(), audit.Event{Stage: stage, Outcome: audit.Rejected, Reason: reasonRateLimited})
		w.Header().Set("Retry-After", retryAfterSeconds(retry))
		s.errorPage(w, pageLang(r), http.StatusTooManyRequests, codeRateLimited)
	})
}

// retryAfterSeconds renders a wait as whole seconds, rounded up, at
// least 1 (RFC 9110 §10.2.3).
func retryAfterSeconds(d time.Duration) string {
	return strconv.FormatInt(max(1, int64(math.Ceil(d.Seconds()))), 10)
}

// clientAddr is the address the limit applies to (catalogue SES-10): the
// peer's address, unless the peer is a trusted proxy. Then
// X-Forwarded-For is read from the right, skipping trusted proxies; the
// first address that is not one is the client. Entries further left were
// written by the client and are never believed. An entry that does not
// parse stops the walk at the last good address (a trusted proxy). The
// Forwarded header (RFC 7239) is not read.
func (c *clientLimiter) clientAddr(r *http.Request) netip.Addr {
	addr := parseHostAddr(r.RemoteAddr)
	if !c.isTrusted(addr) {
		return addr
	}
	fields := r.Header.Values("X-Forwarded-For")
	for i := len(fields) - 1; i >= 0; i-- {
		hops := strings.Split(fields[i], ",")
		for j := len(hops) - 1; j >= 0; j-- {
			a := parseHostAddr(strings.TrimSpace(hops[j]))
			if !a.IsValid() {
				return addr
			}
			addr = a
			if !c.isTrusted(a) {
				return addr
			}
		}
	}
	return addr
}

func (c *clientLimiter) isTrusted(a netip.Addr) bool { return inPrefixes(a, c.trusted) }

// inPrefixes reports whether a is a valid address within one of ps.
func inPrefixes(a netip.Addr, ps []netip.Prefix) bool {
	if !a.IsValid() {
		return false
	}
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseHostAddr parses "ip", "ip:port" or "[ip]:port" (what RemoteAddr
// and proxies write), as a plain address without zone; IPv4-mapped IPv6
// addresses become IPv4. The zero Addr means it did not parse.
func parseHostAddr(s string) netip.Addr {
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return netip.Addr{}
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone("")
}

// clientKey is the bucket of an address. An IPv6 client is limited per
// /64, the smallest block a site is usually given: otherwise one host
// could use 2^64 addresses, each with its own bucket. Unknown peers (a
// Unix socket, say) share one bucket.
func clientKey(a netip.Addr) string {
	switch {
	case !a.IsValid():
		return "unknown"
	case a.Is4():
		return a.String()
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}

// pseudonym is a short keyed hash of a client key for the logs: it lets
// an operator see that warnings concern the same client without keeping
// the address.
func (c *clientLimiter) pseudonym(key string) string {
	m := hmac.New(sha256.New, c.logKey)
	m.Write([]byte(key))
	return hex.EncodeToString(m.Sum(nil)[:6])
}
