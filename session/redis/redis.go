// Package redis is the session.Store shared by every bridge node, on Redis
// through go-redis's UniversalClient (a single node, Sentinel or Cluster).
//
// Keys are HMACs of the transaction state and of the replay key, and
// values are AES-GCM sealed with a key only the bridge nodes hold, so
// nothing in Redis reveals a flow's state, nonce, PKCE verifier or
// RelayState, or lets someone with access to Redis replay one. Records
// (SSO sessions, SAML artifacts) are sealed the same way, with their expiry
// inside the sealed value. Take and TakeRecord are GETDEL and MarkSeen a
// short Lua script, so all three are atomic across nodes; UpdateRecord is
// optimistic (WATCH, then MULTI/EXEC), so no node overwrites another's
// update unseen.
// Expiry is decided with the caller's clock; Redis TTLs only reclaim space.
package redis

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/samlbridge/samlbridge/session"
)

// Config configures the Redis store.
type Config struct {
	// URL is redis://[user:pass@]host:port[/db] or rediss:// for TLS, for
	// a single node; redis+sentinel://[user:pass@]host1:port,host2:port/master
	// for Sentinel; redis+cluster://[user:pass@]host1:port,host2:port for
	// Cluster.
	URL string
	// Password, when set, replaces any password in URL, so that it can
	// be kept out of the URL (and out of configuration files).
	Password string
	// Secret keys the key HMAC and the value encryption; at least 32
	// bytes, the same on every node.
	Secret []byte
	// KeyPrefix namespaces the keys (default "samlbridge:").
	KeyPrefix string
	// Timeout bounds every Redis call (default 2 s).
	Timeout time.Duration
	// Rand is used for nonces (nil: crypto/rand).
	Rand io.Reader
}

// Store is a Redis-backed session.Store.
type Store struct {
	client  goredis.UniversalClient
	aead    cipher.AEAD
	macKey  []byte
	prefix  string
	timeout time.Duration
	rand    io.Reader
}

var _ session.Store = (*Store)(nil)

// Open validates cfg and connects. It does not fail when Redis is down:
// calls then fail with session.ErrUnavailable until it is back.
func Open(cfg Config) (*Store, error) {
	if len(cfg.Secret) < 32 {
		return nil, errors.New("redis: the store secret must be at least 32 bytes")
	}
	opts, err := ParseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.Password != "" {
		opts.Password = cfg.Password
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = cfg.Timeout, cfg.Timeout, cfg.Timeout
	opts.MaxRetries = 1
	if cfg.KeyPrefix == "" {
		cfg.KeyPrefix = "samlbridge:"
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	encKey := derive(cfg.Secret, "samlbridge session value encryption")
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	return &Store{
		client:  goredis.NewUniversalClient(opts),
		aead:    aead,
		macKey:  derive(cfg.Secret, "samlbridge session key hmac"),
		prefix:  cfg.KeyPrefix,
		timeout: cfg.Timeout,
		rand:    cfg.Rand,
	}, nil
}

// ParseURL turns a store URL into go-redis universal options.
func ParseURL(raw string) (*goredis.UniversalOptions, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, fmt.Errorf("redis: URL %q has no scheme (redis://, rediss://, redis+sentinel://, redis+cluster://)", raw)
	}
	switch scheme {
	case "redis", "rediss":
		o, err := goredis.ParseURL(raw)
		if err != nil {
			return nil, fmt.Errorf("redis: %w", err)
		}
		return &goredis.UniversalOptions{Addrs: []string{o.Addr}, Username: o.Username, Password: o.Password, DB: o.DB, TLSConfig: o.TLSConfig}, nil
	case "redis+sentinel", "redis+cluster":
		var user, pass string
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			user, pass, _ = strings.Cut(rest[:at], ":")
			rest = rest[at+1:]
		}
		hosts, path, _ := strings.Cut(rest, "/")
		addrs := strings.Split(hosts, ",")
		for _, a := range addrs {
			if a == "" || !strings.Contains(a, ":") {
				return nil, fmt.Errorf("redis: address %q in %s URL needs host:port", a, scheme)
			}
		}
		o := &goredis.UniversalOptions{Addrs: addrs, Username: user, Password: pass}
		if scheme == "redis+sentinel" {
			if path == "" {
				return nil, errors.New("redis: a redis+sentinel URL needs the master name as its path")
			}
			o.MasterName = path
		} else {
			o.IsClusterMode = true
		}
		return o, nil
	}
	return nil, fmt.Errorf("redis: unsupported URL scheme %q", scheme)
}

func derive(secret []byte, label string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	return m.Sum(nil)
}

func (s *Store) key(kind, id string) string {
	m := hmac.New(sha256.New, s.macKey)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(id))
	return s.prefix + kind + ":" + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func unavailable(op string, err error) error {
	return fmt.Errorf("redis: %s: %w: %w", op, session.ErrUnavailable, err)
}

// Put implements session.Store with SET NX and a TTL at the transaction's
// expiry.
func (s *Store) Put(ctx context.Context, tx session.Transaction) error {
	if tx.State == "" {
		return errors.New("redis: empty state")
	}
	key := s.key("tx", tx.State)
	plain, err := json.Marshal(tx)
	if err != nil {
		return fmt.Errorf("redis: encoding transaction: %w", err)
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := io.ReadFull(s.rand, nonce); err != nil {
		return fmt.Errorf("redis: nonce: %w", err)
	}
	sealed := s.aead.Seal(nonce, nonce, plain, []byte(key))
	// The TTL only reclaims space: it is the transaction's lifetime as the
	// caller's clock sees it, so a node with a skewed clock (or a test
	// clock) cannot make Redis drop a live transaction early.
	ttl := tx.Expires.Sub(tx.Created)
	if tx.Created.IsZero() {
		ttl = time.Until(tx.Expires)
	}
	if ttl < time.Second {
		ttl = time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	ok, err := s.client.SetNX(ctx, key, sealed, ttl).Result()
	if err != nil {
		return unavailable("put", err)
	}
	if !ok {
		return session.ErrAlreadyExists
	}
	return nil
}

// Take implements session.Store with GETDEL (Redis ≥ 6.2).
func (s *Store) Take(ctx context.Context, state string, now time.Time) (session.Transaction, error) {
	return s.readTx(ctx, state, now, "take", s.client.GetDel)
}

// Get implements session.Store with GET.
func (s *Store) Get(ctx context.Context, state string, now time.Time) (session.Transaction, error) {
	return s.readTx(ctx, state, now, "get", s.client.Get)
}

// readTx reads state's transaction with cmd (GET or GETDEL) and opens it.
func (s *Store) readTx(ctx context.Context, state string, now time.Time, op string, cmd func(context.Context, string) *goredis.StringCmd) (session.Transaction, error) {
	key := s.key("tx", state)
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	raw, err := cmd(ctx, key).Bytes()
	if errors.Is(err, goredis.Nil) {
		return session.Transaction{}, session.ErrNotFound
	}
	if err != nil {
		return session.Transaction{}, unavailable(op, err)
	}
	return s.openTx(key, raw, now)
}

// openTx authenticates a sealed transaction read from key and checks its
// expiry against now.
func (s *Store) openTx(key string, raw []byte, now time.Time) (session.Transaction, error) {
	ns := s.aead.NonceSize()
	if len(raw) < ns {
		return session.Transaction{}, fmt.Errorf("redis: stored value too short: %w", session.ErrNotFound)
	}
	plain, err := s.aead.Open(nil, raw[:ns], raw[ns:], []byte(key))
	if err != nil {
		// Tampered with, or sealed under another secret.
		return session.Transaction{}, fmt.Errorf("redis: stored value does not authenticate: %w", session.ErrNotFound)
	}
	var tx session.Transaction
	if err := json.Unmarshal(plain, &tx); err != nil {
		return session.Transaction{}, fmt.Errorf("redis: decoding transaction: %w", session.ErrNotFound)
	}
	if !now.Before(tx.Expires) {
		return session.Transaction{}, session.ErrNotFound
	}
	return tx, nil
}

// markSeen records a replay marker unless a live one exists. The stored
// value is the deadline in Unix milliseconds, compared with the caller's
// clock; the TTL only reclaims space.
var markSeen = goredis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur and tonumber(cur) > tonumber(ARGV[1]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
`)

// MarkSeen implements session.Store atomically with a Lua script.
func (s *Store) MarkSeen(ctx context.Context, key string, now, deadline time.Time) error {
	ttl := deadline.Sub(now).Milliseconds()
	if ttl < 1000 {
		ttl = 1000
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	res, err := markSeen.Run(ctx, s.client, []string{s.key("seen", key)}, now.UnixMilli(), deadline.UnixMilli(), ttl).Int()
	if err != nil {
		return unavailable("mark seen", err)
	}
	if res == 0 {
		return session.ErrReplay
	}
	return nil
}

// recordGrace is added to a record's Redis TTL. Expiry is decided with
// the caller's clock from the expiry sealed in the value; the TTL only
// reclaims space, and the grace keeps a node whose clock runs behind the
// writer's from finding a record Redis already dropped.
const recordGrace = time.Minute

// recordHeader is the length of the expiry (Unix seconds, nanoseconds)
// that precedes a record's value inside the sealed box.
const recordHeader = 12

// PutRecord implements session.Store with SET and a TTL at the record's
// expiry (plus recordGrace). The sealed value carries the expiry and is
// bound to its key, so it cannot be moved to another key in Redis.
func (s *Store) PutRecord(ctx context.Context, key string, value []byte, expires time.Time) error {
	if key == "" {
		return errors.New("redis: empty record key")
	}
	rkey := s.key("rec", key)
	sealed, ttl, err := s.sealRecord(rkey, value, expires)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.client.Set(ctx, rkey, sealed, ttl).Err(); err != nil {
		return unavailable("put record", err)
	}
	return nil
}

// sealRecord seals value and its expiry, bound to rkey, and returns the
// Redis TTL to store it with.
func (s *Store) sealRecord(rkey string, value []byte, expires time.Time) ([]byte, time.Duration, error) {
	plain := make([]byte, recordHeader, recordHeader+len(value))
	binary.BigEndian.PutUint64(plain, uint64(expires.Unix()))
	binary.BigEndian.PutUint32(plain[8:], uint32(expires.Nanosecond()))
	plain = append(plain, value...)
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := io.ReadFull(s.rand, nonce); err != nil {
		return nil, 0, fmt.Errorf("redis: nonce: %w", err)
	}
	ttl := time.Until(expires)
	if ttl < 0 {
		ttl = 0
	}
	return s.aead.Seal(nonce, nonce, plain, []byte(rkey)), ttl + recordGrace, nil
}

// updateAttempts bounds UpdateRecord's optimistic retries.
const updateAttempts = 8

// UpdateRecord implements session.Store with optimistic locking: WATCH,
// GET, then SET in MULTI/EXEC, which Redis refuses if another client
// changed the key since the WATCH; update then runs again on the newer
// value, up to updateAttempts times.
func (s *Store) UpdateRecord(ctx context.Context, key string, now time.Time, update session.UpdateFunc) error {
	if key == "" {
		return errors.New("redis: empty record key")
	}
	rkey := s.key("rec", key)
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var declined error
	attempt := func(tx *goredis.Tx) error {
		raw, err := tx.Get(ctx, rkey).Bytes()
		var cur []byte
		switch {
		case errors.Is(err, goredis.Nil):
		case err != nil:
			return unavailable("update record", err)
		default:
			// A record that does not open or has expired is no record.
			cur, _ = s.openRecord(rkey, raw, now)
		}
		next, expires, err := update(cur)
		if err != nil {
			declined = err
			return err
		}
		sealed, ttl, err := s.sealRecord(rkey, next, expires)
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p goredis.Pipeliner) error {
			return p.Set(ctx, rkey, sealed, ttl).Err()
		})
		return err
	}
	for range updateAttempts {
		err := s.client.Watch(ctx, attempt, rkey)
		switch {
		case err == nil:
			return nil
		case declined != nil:
			return declined
		case errors.Is(err, goredis.TxFailedErr):
			continue
		case errors.Is(err, session.ErrUnavailable):
			return err
		default:
			return unavailable("update record", err)
		}
	}
	return fmt.Errorf("redis: update of a record after %d attempts: %w", updateAttempts, session.ErrConflict)
}

// GetRecord implements session.Store with GET.
func (s *Store) GetRecord(ctx context.Context, key string, now time.Time) ([]byte, error) {
	rkey := s.key("rec", key)
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	raw, err := s.client.Get(ctx, rkey).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, session.ErrNotFound
	}
	if err != nil {
		return nil, unavailable("get record", err)
	}
	return s.openRecord(rkey, raw, now)
}

// TakeRecord implements session.Store with GETDEL (Redis ≥ 6.2), so among
// concurrent callers on any nodes exactly one gets the value.
func (s *Store) TakeRecord(ctx context.Context, key string, now time.Time) ([]byte, error) {
	rkey := s.key("rec", key)
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	raw, err := s.client.GetDel(ctx, rkey).Bytes()
	if errors.Is(err, goredis.Nil) {
		return nil, session.ErrNotFound
	}
	if err != nil {
		return nil, unavailable("take record", err)
	}
	return s.openRecord(rkey, raw, now)
}

// openRecord authenticates a sealed record read from rkey and checks its
// expiry against now.
func (s *Store) openRecord(rkey string, raw []byte, now time.Time) ([]byte, error) {
	ns := s.aead.NonceSize()
	if len(raw) < ns {
		return nil, fmt.Errorf("redis: stored record too short: %w", session.ErrNotFound)
	}
	plain, err := s.aead.Open(nil, raw[:ns], raw[ns:], []byte(rkey))
	if err != nil || len(plain) < recordHeader {
		// Tampered with, moved from another key, or sealed under another
		// secret.
		return nil, fmt.Errorf("redis: stored record does not authenticate: %w", session.ErrNotFound)
	}
	expires := time.Unix(int64(binary.BigEndian.Uint64(plain)), int64(binary.BigEndian.Uint32(plain[8:])))
	if !now.Before(expires) {
		return nil, session.ErrNotFound
	}
	return plain[recordHeader:], nil
}

// DeleteRecord implements session.Store with DEL.
func (s *Store) DeleteRecord(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.client.Del(ctx, s.key("rec", key)).Err(); err != nil {
		return unavailable("delete record", err)
	}
	return nil
}

// Ping reports whether Redis answers (for readiness checks).
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.client.Ping(ctx).Err(); err != nil {
		return unavailable("ping", err)
	}
	return nil
}

// Close implements session.Store.
func (s *Store) Close() error { return s.client.Close() }
