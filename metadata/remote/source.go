package remote

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/samlbridge/samlbridge/metadata"
)

// Defaults for the zero values of SourceConfig.
const (
	// DefaultRefresh is how often a Source fetches its URL when the
	// document's cacheDuration does not ask for more.
	DefaultRefresh = time.Hour
	// DefaultMinRefresh is the floor under every refresh interval and the
	// first retry delay after a failure.
	DefaultMinRefresh = time.Minute
)

// SourceConfig configures a Source.
type SourceConfig struct {
	// URL is the metadata document (one EntityDescriptor or an
	// EntitiesDescriptor aggregate). Required; see Trust for the schemes
	// allowed.
	URL string
	// Trust says how the document is authenticated.
	Trust Trust
	// CacheFile, when set, keeps a copy of the last good document (as
	// fetched, signature included). It is loaded, verified and parsed
	// again at start, so the SPs can be served while the URL is down, until
	// the copy's validUntil passes. Written atomically.
	CacheFile string
	// CacheReadOnly uses CacheFile at start but never writes it: for a
	// configuration check, which must change nothing on disk.
	CacheReadOnly bool
	// Refresh is the refresh interval; 0 means DefaultRefresh. A shorter
	// cacheDuration on the document's root takes precedence.
	Refresh time.Duration
	// MinRefresh is the floor under the refresh interval and the first
	// retry delay after a failure (doubling up to Refresh); 0 means
	// DefaultMinRefresh.
	MinRefresh time.Duration
	// Timeout bounds one fetch; 0 means DefaultTimeout.
	Timeout time.Duration
	// MaxBytes caps the document size; 0 means metadata.DefaultMaxBytes.
	// Federation aggregates need more.
	MaxBytes int64
	// Policy is applied to every SP of an accepted document; nil keeps
	// them all unchanged.
	Policy Policy
	// Client is the HTTP client to use (its transport, TLS settings and
	// proxy); nil means a default client. Redirects are always refused
	// and Timeout is applied on a copy.
	Client *http.Client
	// Logger receives refresh outcomes; nil means slog.Default().
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Source is one remote metadata document, refreshed periodically. It keeps
// the last good copy: a document that cannot be fetched, verified or
// parsed never replaces it (MD-01), and SPs stop being served when their
// validUntil passes (MD-02). It is safe for concurrent use.
type Source struct {
	url        string
	cacheFile  string
	cacheRO    bool
	refresh    time.Duration
	minRefresh time.Duration
	f          *fetcher
	log        *slog.Logger
	now        func() time.Time

	current atomic.Pointer[snapshot]

	mu       sync.Mutex // serialises Refresh and guards the fields below
	next     time.Time
	failures int
	success  time.Time // last successful fetch (304 included)
	etag     string
	lastMod  string
}

// snapshot is an immutable view of one accepted document.
type snapshot struct {
	byID   map[string]*metadata.ServiceProvider
	folded map[string]string // lower-cased entity ID → entity ID
	list   []*metadata.ServiceProvider
	info   rootInfo
}

func newSnapshot(sps []*metadata.ServiceProvider, info rootInfo) *snapshot {
	s := &snapshot{
		byID:   make(map[string]*metadata.ServiceProvider, len(sps)),
		folded: make(map[string]string, len(sps)),
		info:   info,
	}
	for _, sp := range sps {
		key := strings.ToLower(sp.EntityID)
		if _, dup := s.folded[key]; dup {
			continue // case variants in one document: the first wins (MD-03)
		}
		s.folded[key] = sp.EntityID
		s.byID[sp.EntityID] = sp
		s.list = append(s.list, sp)
	}
	return s
}

// NewSource checks cfg and, when a cache file is configured and holds a
// document that is still good, starts out serving it. It does not fetch:
// call Refresh (or let Registry.Run do it).
func NewSource(cfg SourceConfig) (*Source, error) {
	if _, err := checkURL(cfg.URL, cfg.Trust); err != nil {
		return nil, err
	}
	s := &Source{
		url:        cfg.URL,
		cacheFile:  cfg.CacheFile,
		cacheRO:    cfg.CacheReadOnly,
		refresh:    cfg.Refresh,
		minRefresh: cfg.MinRefresh,
		log:        cfg.Logger,
		now:        cfg.Now,
	}
	if s.refresh <= 0 {
		s.refresh = DefaultRefresh
	}
	if s.minRefresh <= 0 {
		s.minRefresh = DefaultMinRefresh
	}
	if s.minRefresh > s.refresh {
		return nil, fmt.Errorf("metadata URL %.200q: minimum refresh %s is above the refresh interval %s", cfg.URL, s.minRefresh, s.refresh)
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if len(cfg.Trust.Certificates) == 0 {
		s.log.Warn("metadata: unsigned metadata accepted by configuration", "url", s.url)
	}
	s.f = newFetcher(cfg.Client, cfg.Timeout, cfg.MaxBytes, cfg.Trust, cfg.Policy, s.log)
	s.current.Store(newSnapshot(nil, rootInfo{}))
	if s.cacheFile != "" {
		s.loadCache()
	}
	return s, nil
}

// loadCache serves the cache file's document if it is still good.
func (s *Source) loadCache() {
	raw, err := os.ReadFile(s.cacheFile)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err == nil && int64(len(raw)) > s.f.maxBytes {
		err = fmt.Errorf("%d bytes, the limit is %d", len(raw), s.f.maxBytes)
	}
	var doc *document
	if err == nil {
		doc, err = s.f.load(raw, s.now(), s.url)
	}
	if err != nil {
		s.log.Warn("metadata: cache file not used", "url", s.url, "cache_file", s.cacheFile, "reason", err.Error())
		return
	}
	s.current.Store(newSnapshot(doc.sps, doc.info))
	s.log.Info("metadata: loaded the cached copy", "url", s.url, "cache_file", s.cacheFile, "service_providers", len(doc.sps))
}

// URL returns the configured metadata URL.
func (s *Source) URL() string { return s.url }

// NextRefresh returns when Refresh should run next; the zero time before
// the first attempt.
func (s *Source) NextRefresh() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next
}

// Refresh fetches the URL once. A new document replaces the current one
// only if it was fetched whole, its signature verifies with a pinned
// certificate, and it parses; otherwise the current one is kept, the
// failure is logged (URL and reason only) and returned. A 304 Not Modified
// keeps the current document.
func (s *Source) Refresh(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	err := s.refreshLocked(ctx, now)
	if err != nil {
		s.failures++
		backoff := s.minRefresh
		for i := 1; i < s.failures && backoff < s.refresh; i++ {
			backoff *= 2
		}
		s.next = now.Add(min(backoff, s.refresh))
		s.log.Warn("metadata: refresh failed, keeping the last good copy", "url", s.url, "reason", err.Error(),
			"service_providers", len(s.current.Load().list), "retry_at", s.next)
		return fmt.Errorf("metadata URL %.200q: %w", s.url, err)
	}
	s.failures = 0
	s.success = now
	s.next = now.Add(s.interval(s.current.Load().info))
	return nil
}

// Status is a Source's state, for monitoring.
type Status struct {
	// URL is the metadata URL.
	URL string
	// LastSuccess is the last fetch that was accepted or answered 304;
	// zero when none was (a copy loaded from the cache file does not
	// count).
	LastSuccess time.Time
	// ValidUntil is the earliest validUntil of the SPs served; zero when
	// they have none.
	ValidUntil time.Time
	// Failures counts the fetches that failed since the last success.
	Failures int
	// Entities is how many SPs the last good document holds.
	Entities int
}

// Status returns the Source's state.
func (s *Source) Status() Status {
	s.mu.Lock()
	st := Status{URL: s.url, LastSuccess: s.success, Failures: s.failures}
	s.mu.Unlock()
	list := s.current.Load().list
	st.Entities = len(list)
	for _, sp := range list {
		if !sp.ValidUntil.IsZero() && (st.ValidUntil.IsZero() || sp.ValidUntil.Before(st.ValidUntil)) {
			st.ValidUntil = sp.ValidUntil
		}
	}
	return st
}

func (s *Source) refreshLocked(ctx context.Context, now time.Time) error {
	etag, lastMod := s.etag, s.lastMod
	if len(s.current.Load().list) == 0 {
		etag, lastMod = "", "" // nothing to keep: ask for the whole document
	}
	resp, err := s.f.get(ctx, s.url, mediaType+", application/xml;q=0.9, text/xml;q=0.8", etag, lastMod)
	if err != nil {
		return err
	}
	switch resp.status {
	case http.StatusNotModified:
		s.log.Debug("metadata: not modified", "url", s.url)
		return nil
	case http.StatusNotFound:
		return errors.New("HTTP status 404")
	}
	doc, err := s.f.load(resp.body, now, s.url)
	if err != nil {
		return err
	}
	if err := notOlder(doc.info, s.current.Load()); err != nil {
		return err
	}
	s.current.Store(newSnapshot(doc.sps, doc.info))
	s.etag, s.lastMod = resp.etag, resp.lastModified
	s.log.Info("metadata: refreshed", "url", s.url, "service_providers", len(doc.sps))
	if s.cacheFile != "" && !s.cacheRO {
		if err := writeAtomic(s.cacheFile, doc.raw); err != nil {
			s.log.Warn("metadata: cache file not written", "url", s.url, "cache_file", s.cacheFile, "reason", err.Error())
		}
	}
	return nil
}

// notOlder refuses a document that would replace cur with an older copy
// (MD-01, MD-02): a signed document stays valid for its signature until
// its validUntil, so without this an attacker who can answer the fetch
// (plain http, a compromised mirror) could serve a superseded copy,
// with an SP's old endpoints or keys, for as long as it is valid. A
// document is older when its root validUntil is earlier than the one in
// use, or absent while the one in use has one.
func notOlder(next rootInfo, cur *snapshot) error {
	if cur == nil || cur.info.validUntil.IsZero() || !next.validUntil.IsZero() && !next.validUntil.Before(cur.info.validUntil) {
		return nil
	}
	got := "no validUntil"
	if !next.validUntil.IsZero() {
		got = "validUntil " + next.validUntil.UTC().Format(time.RFC3339)
	}
	return fmt.Errorf("%w: the document has %s, earlier than the %s of the copy in use: an older copy is refused (rollback, MD-01); "+
		"if the federation really shortened it, remove metadata_cache_file and restart",
		metadata.ErrInvalidMetadata, got, cur.info.validUntil.UTC().Format(time.RFC3339))
}

// interval is the delay until the next refresh after a success: the
// configured interval, or the document's cacheDuration when shorter, never
// below the floor.
func (s *Source) interval(info rootInfo) time.Duration {
	d := s.refresh
	if info.cacheDuration > 0 && info.cacheDuration < d {
		d = info.cacheDuration
	}
	return max(d, s.minRefresh)
}

// ServiceProviders returns the SPs currently served: those of the last good
// document whose validUntil has not passed.
func (s *Source) ServiceProviders() []*metadata.ServiceProvider {
	now := s.now()
	var out []*metadata.ServiceProvider
	for _, sp := range s.current.Load().list {
		if !expired(sp, now) {
			out = append(out, sp)
		}
	}
	return out
}

// writeAtomic replaces path with data: a temporary file in the same
// directory, synced, then renamed over path.
func writeAtomic(path string, data []byte) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("creating a temporary file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("writing: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("syncing: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("closing: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("renaming: %w", err)
	}
	return nil
}
