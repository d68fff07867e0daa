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
	"strings"
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
// response header, and returns the request's context with a logger that
// attaches it to every log line of the request. When
// the peer is a trusted proxy, the X-Request-Id it sent (nginx's
// $request_id, Envoy's UUID, ...) is attached too, as proxy_request_id,
// so that its access log and the bridge's can be joined. The bridge's own
// ID stays the one it answers with: a proxy's ID is not known to be
// unique, and a client's is never believed.
func (s *Server) withRequestID(w http.ResponseWriter, r *http.Request) context.Context {
	id := s.ids.next()
	w.Header().Set("X-Request-Id", id)
	log := s.log.With("http_request_id", id)
	if v := r.Header.Values("X-Request-Id"); len(v) == 1 && validProxyRequestID(v[0]) && inPrefixes(parseHostAddr(r.RemoteAddr), s.proxies) {
		log = log.With("proxy_request_id", v[0])
	}
	return context.WithValue(r.Context(), loggerKey{}, log)
}

// maxProxyRequestID bounds a proxy's request ID (a UUID is 36 characters,
// a W3C trace parent 55).
const maxProxyRequestID = 128

// validProxyRequestID reports whether v is a request ID fit for the log:
// 1 to maxProxyRequestID letters, digits and "-_.:/+=", so that no header
// can write anything else into a log line.
func validProxyRequestID(v string) bool {
	if v == "" || len(v) > maxProxyRequestID {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-_.:/+=", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// flowID names one login in logs on every node, from the state that
// travels with it: a hash, so the log never holds the state itself.
func flowID(state string) string {
	sum := sha256.Sum256([]byte("samlbridge-flow-id|" + state))
	return base64.RawURLEncoding.EncodeToString(sum[:9])
}
