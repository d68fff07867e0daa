package itsme

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

// response is a fully read, size-capped HTTP response.
type response struct {
	status      int
	contentType string // media type, lower case, without parameters
	header      http.Header
	body        []byte
}

// do sends req with the no-redirect client, through the circuit breaker
// and within Config.Timeout, and reads at most MaxBodyBytes of the body.
// Transport failures, timeouts and an open circuit become CodeUnavailable,
// redirects and oversized bodies CodeProtocol; the status is not judged
// here, but 5xx and 429 count as failures for the breaker.
func (c *Client) do(req *http.Request, stage string) (*response, error) {
	done, err := c.breaker.Allow()
	if err != nil {
		c.observe(stage, OutcomeRefused, 0)
		return nil, newError(stage, CodeUnavailable, fmt.Errorf("itsme: %s request not sent: %w", stage, err))
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(req.Context(), c.cfg.Timeout)
	defer cancel()
	resp, err := c.cfg.HTTPClient.Do(req.WithContext(ctx))
	if err != nil {
		done(false)
		c.observe(stage, OutcomeUnavailable, time.Since(start))
		return nil, newError(stage, CodeUnavailable, fmt.Errorf("itsme: %s request: %w", stage, err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxBodyBytes+1))
	if err != nil {
		done(false)
		c.observe(stage, OutcomeUnavailable, time.Since(start))
		return nil, newError(stage, CodeUnavailable, fmt.Errorf("itsme: %s response: %w", stage, err))
	}
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		done(false)
		c.observe(stage, OutcomeHTTPError, time.Since(start))
	} else {
		done(true)
		c.observe(stage, OutcomeOK, time.Since(start))
	}
	if int64(len(body)) > c.cfg.MaxBodyBytes {
		return nil, newError(stage, CodeProtocol, fmt.Errorf("%w (more than %d bytes)", ErrBodyTooLarge, c.cfg.MaxBodyBytes))
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		return nil, newError(stage, CodeProtocol, fmt.Errorf("%w: HTTP %d", ErrRedirect, resp.StatusCode))
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return &response{status: resp.StatusCode, contentType: strings.ToLower(mt), header: resp.Header, body: body}, nil
}

// observe reports one call to the Observer, if any. Durations are
// measured with the wall clock, not Config.Now, which tests may freeze.
func (c *Client) observe(stage, outcome string, d time.Duration) {
	if c.cfg.Observer != nil {
		c.cfg.Observer.ObserveCall(stage, outcome, d)
	}
}

// get fetches a public document (discovery, JWKS) and insists on 200.
func (c *Client) get(ctx context.Context, rawURL, stage string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, newError(stage, CodeProtocol, fmt.Errorf("itsme: %s request: %w", stage, err))
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.do(req, stage)
	if err != nil {
		return nil, err
	}
	if resp.status != http.StatusOK {
		return nil, statusError(stage, resp.status)
	}
	return resp.body, nil
}

// statusError classifies a non-200 status without an OAuth error body.
func statusError(stage string, status int) *Error {
	code := CodeProtocol
	if status >= 500 || status == http.StatusTooManyRequests {
		code = CodeUnavailable
	}
	return newError(stage, code, fmt.Errorf("%w: HTTP %d", ErrHTTPStatus, status))
}
