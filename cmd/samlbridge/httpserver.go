package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// httpLimits are the connection limits of the HTTP server (catalogue
// SES-07). They bound what a slow or hostile client can hold: a
// connection trickling its headers (slowloris) is closed after
// ReadHeaderTimeout, a slow body after ReadTimeout, an idle keep-alive
// connection after IdleTimeout, and a header block above MaxHeaderBytes
// is answered 431.
type httpLimits struct {
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int
	// ShutdownTimeout is how long in-flight requests may take to finish
	// once the server is asked to stop.
	ShutdownTimeout time.Duration
}

// defaultHTTPLimits suit the bridge's pages: requests are small (an
// AuthnRequest body is capped at 256 KiB by the parser), and a response
// may wait for itsme's token endpoint (the client's own timeouts are
// shorter than WriteTimeout).
var defaultHTTPLimits = httpLimits{
	ReadHeaderTimeout: 10 * time.Second,
	ReadTimeout:       30 * time.Second,
	WriteTimeout:      60 * time.Second,
	IdleTimeout:       120 * time.Second,
	MaxHeaderBytes:    64 << 10,
	ShutdownTimeout:   30 * time.Second,
}

// listenAndServe serves h on ln with the default limits until ctx is
// done, then drains in-flight requests.
func listenAndServe(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	return serveWithLimits(ctx, ln, h, log, defaultHTTPLimits)
}

// serveWithLimits serves h on ln until ctx is done, then drains in-flight
// requests for up to lim.ShutdownTimeout.
func serveWithLimits(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger, lim httpLimits) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: lim.ReadHeaderTimeout,
		ReadTimeout:       lim.ReadTimeout,
		WriteTimeout:      lim.WriteTimeout,
		IdleTimeout:       lim.IdleTimeout,
		MaxHeaderBytes:    lim.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down; draining in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), lim.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
