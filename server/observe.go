package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"sync/atomic"
)

type loggerKey struct{}

// logger returns the request's logger (carrying its http_request_id), or
// the server's when ctx has none.
func (s *Server) logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return s.log
}

// requestIDs numbers the requests a node serves. An ID is the node's
// random prefix and a counter, so IDs from several nodes do not collide
// and reveal nothing about the request.
type requestIDs struct {
	prefix string
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // never fails (crypto/rand); a zero prefix would still work
	return &requestIDs{prefix: hex.EncodeToString(b)}
}

func (ids *requestIDs) next() string {
	return ids.prefix + "-" + strconv.FormatUint(ids.n.Add(1), 36)
}

// withRequestID gives the request an ID, echoed in the X-Request-Id
// response header and attached to every log line of the request.
func (s *Server) withRequestID(w http.ResponseWriter, r *http.Request) *http.Request {
	id := s.ids.next()
	w.Header().Set("X-Request-Id", id)
	return r.WithContext(context.WithValue(r.Context(), loggerKey{}, s.log.With("http_request_id", id)))
}

// flowID names one login in logs on every node, from the state that
// travels with it: a hash, so the log never holds the state itself.
func flowID(state string) string {
	sum := sha256.Sum256([]byte("samlbridge-flow-id|" + state))
	return base64.RawURLEncoding.EncodeToString(sum[:9])
}
