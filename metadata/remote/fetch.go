package remote

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/samlbridge/samlbridge/metadata"
)

// Defaults for the zero values of SourceConfig and MDQConfig.
const (
	// DefaultTimeout bounds one HTTP request, body included (MD-06).
	DefaultTimeout = 30 * time.Second
	// mediaType is the MDQ media type for SAML metadata.
	mediaType = "application/samlmetadata+xml"
)

// ErrExcluded, wrapped in an error from a Policy, excludes an SP without a
// warning: the policy simply does not want it (an SP of a federation
// aggregate the bridge does not serve). Other Policy errors exclude the SP
// too, with a warning in the log.
var ErrExcluded = errors.New("remote: service provider excluded by policy")

// Policy applies the configuration to an SP just read from remote
// metadata: it may set the configured fields (AllowedAttributes,
// DefaultRelease, ...) and returns an error to keep the SP out of the
// registry. It runs once per SP each time a document is accepted, never
// concurrently for one Source or MDQ.
type Policy func(*metadata.ServiceProvider) error

// Trust says how fetched documents are authenticated. Shared by
// SourceConfig and MDQConfig.
type Trust struct {
	// Certificates are the pinned keys the document's root signature must
	// verify with (metadata.VerifySignature); any of them may match, so
	// the next key can be pinned before the signer rolls over.
	Certificates []*x509.Certificate
	// AllowUnsigned accepts unsigned documents when Certificates is empty.
	// It must be asked for explicitly, and even then only https URLs, or
	// http on loopback, are accepted: a non-loopback http URL always needs
	// pinned certificates (MD-01, MD-06).
	AllowUnsigned bool
	// RequireValidUntil refuses documents whose root has no validUntil
	// (saml2int SDP-MD03, catalogue MD-02). Recommended for federation
	// aggregates.
	RequireValidUntil bool
	// AllowInsecureACS is metadata.ParseOptions.AllowInsecureACS.
	AllowInsecureACS bool
}

// checkURL validates a configured metadata URL against trust (MD-06): http
// or https only, a host, no user info (it would end up in logs), no
// fragment; without pinned certificates, AllowUnsigned and https or a
// loopback host.
func checkURL(raw string, trust Trust) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("metadata URL: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, fmt.Errorf("metadata URL %.200q: scheme must be http or https", raw)
	case u.Host == "":
		return nil, fmt.Errorf("metadata URL %.200q has no host", raw)
	case u.User != nil:
		return nil, errors.New("metadata URL must not carry user info")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return nil, fmt.Errorf("metadata URL %.200q must not have a fragment", raw)
	}
	if len(trust.Certificates) > 0 {
		for i, c := range trust.Certificates {
			if c == nil {
				return nil, fmt.Errorf("metadata signing certificate #%d is nil", i+1)
			}
		}
		return u, nil
	}
	if !trust.AllowUnsigned {
		return nil, fmt.Errorf("metadata URL %.200q: no signing certificate pinned (set AllowUnsigned to accept unsigned metadata explicitly)", raw)
	}
	if u.Scheme != "https" && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("metadata URL %.200q: unsigned metadata needs https or a loopback host", raw)
	}
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// fetcher gets and checks metadata documents; Source and MDQ embed one.
type fetcher struct {
	client   *http.Client
	timeout  time.Duration
	maxBytes int64
	trust    Trust
	policy   Policy
	log      *slog.Logger
}

func newFetcher(client *http.Client, timeout time.Duration, maxBytes int64, trust Trust, policy Policy, log *slog.Logger) *fetcher {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if maxBytes <= 0 {
		maxBytes = metadata.DefaultMaxBytes
	}
	c := &http.Client{}
	if client != nil {
		copied := *client
		c = &copied
	}
	if c.Timeout == 0 || c.Timeout > timeout {
		c.Timeout = timeout
	}
	// Redirects are refused (MD-06): a metadata URL is configured, and a
	// redirect could send the bridge to an internal host.
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if log == nil {
		log = slog.Default()
	}
	return &fetcher{client: c, timeout: timeout, maxBytes: maxBytes, trust: trust, policy: policy, log: log}
}

// response is the outcome of one GET.
type response struct {
	status       int // 200, 304 or 404; other statuses are errors
	body         []byte
	etag         string
	lastModified string
}

// get performs one GET of u with the given conditional headers. Statuses
// other than 200, 304 and 404 are errors, as is a body above maxBytes.
func (f *fetcher) get(ctx context.Context, u string, accept, etag, lastModified string) (*response, error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("building the request: %w", err)
	}
	req.Header.Set("Accept", accept)
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	if lastModified != "" {
		req.Header.Set("If-Modified-Since", lastModified)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotModified, http.StatusNotFound:
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return &response{status: resp.StatusCode}, nil
	default:
		return nil, fmt.Errorf("HTTP status %d", resp.StatusCode)
	}
	if resp.ContentLength > f.maxBytes {
		return nil, fmt.Errorf("the document is %d bytes, the limit is %d", resp.ContentLength, f.maxBytes)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the body: %w", err)
	}
	if int64(len(body)) > f.maxBytes {
		return nil, fmt.Errorf("the document exceeds the limit of %d bytes", f.maxBytes)
	}
	return &response{
		status:       http.StatusOK,
		body:         body,
		etag:         resp.Header.Get("ETag"),
		lastModified: resp.Header.Get("Last-Modified"),
	}, nil
}

// document is a fetched document that passed every check.
type document struct {
	raw  []byte // as fetched, signature included: what the cache file holds
	sps  []*metadata.ServiceProvider
	info rootInfo
}

// load verifies the signature (when certificates are pinned), parses what
// was signed and nothing else, and applies the policy. now is the time
// validUntil is checked against.
func (f *fetcher) load(raw []byte, now time.Time, origin string) (*document, error) {
	signed := raw
	if len(f.trust.Certificates) > 0 {
		var err error
		if signed, err = metadata.VerifySignature(raw, f.trust.Certificates); err != nil {
			return nil, err
		}
	}
	sps, err := metadata.ParseServiceProviders(signed, metadata.ParseOptions{
		AllowInsecureACS: f.trust.AllowInsecureACS,
		Now:              func() time.Time { return now },
		// The verified bytes are a re-serialisation of raw, whose size was
		// already bounded; they may come out slightly larger.
		MaxBytes: max(f.maxBytes, int64(len(signed))),
	})
	if err != nil {
		return nil, err
	}
	info, err := readRoot(signed)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", metadata.ErrInvalidMetadata, err)
	}
	if f.trust.RequireValidUntil && info.validUntil.IsZero() {
		return nil, fmt.Errorf("%w: the root element has no validUntil (MD-02)", metadata.ErrInvalidMetadata)
	}
	kept := sps[:0]
	for _, sp := range sps {
		if f.policy != nil {
			if err := f.policy(sp); err != nil {
				if !errors.Is(err, ErrExcluded) {
					f.log.Warn("metadata: service provider refused by policy", "source", origin, "entity_id", sp.EntityID, "reason", err.Error())
				}
				continue
			}
		}
		kept = append(kept, sp)
	}
	return &document{raw: raw, sps: kept, info: info}, nil
}

// expired reports whether sp's metadata validUntil has passed at now.
func expired(sp *metadata.ServiceProvider, now time.Time) bool {
	return !sp.ValidUntil.IsZero() && !sp.ValidUntil.After(now)
}
