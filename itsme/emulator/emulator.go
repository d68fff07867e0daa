package emulator

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	jose "github.com/go-jose/go-jose/v4"
)

// Paths of the endpoints, relative to the issuer's path.
const (
	PathDiscovery     = "/.well-known/openid-configuration"
	PathAuthorization = "/authorization"
	PathConfirm       = "/authorization/confirm"
	PathToken         = "/token"
	PathUserInfo      = "/userinfo"
	PathJWKS          = "/jwkSet"
	PathPicture       = "/picture"
)

// Emulator is an in-memory itsme OpenID provider. It is safe for
// concurrent use.
type Emulator struct {
	cfg      Config
	basePath string
	clients  map[string]*Client
	personas []Persona
	secret   []byte
	picture  []byte
	log      *slog.Logger
	store    *store
	keys     *keyCache

	// opKeys holds the emulator's own keys; rotateMu serializes rotations.
	opKeys   atomic.Pointer[keySet]
	rotateMu sync.Mutex

	faults faultTable
}

// New validates cfg and returns an emulator. Every configuration problem
// is reported at once (errors.Join), each wrapping ErrConfig.
func New(cfg Config) (*Emulator, error) {
	cfg = withDefaults(cfg)
	if err := validate(cfg); err != nil {
		return nil, err
	}
	e := &Emulator{
		cfg:      cfg,
		clients:  map[string]*Client{},
		personas: slices.Clone(cfg.Personas),
		log:      cfg.Logger,
		store:    newStore(cfg.StoreLimit),
		keys:     &keyCache{entries: map[string]*clientKeys{}},
		picture:  placeholderJPEG(),
	}
	u, _ := url.Parse(cfg.Issuer) // checked by validate
	e.basePath = strings.TrimSuffix(u.Path, "/")
	for i := range cfg.Clients {
		c := cfg.Clients[i]
		c.RedirectURIs = slices.Clone(c.RedirectURIs)
		c.RequestURIs = slices.Clone(c.RequestURIs)
		c.Services = slices.Clone(c.Services)
		if c.JWKS != nil {
			set := jose.JSONWebKeySet{Keys: slices.Clone(c.JWKS.Keys)}
			c.JWKS = &set
		}
		e.clients[c.ID] = &c
	}
	var err error
	sigKey, encKey := cfg.SigningKey, cfg.EncryptionKey
	if sigKey == nil {
		if sigKey, err = rsa.GenerateKey(cfg.Rand, minRSABits); err != nil {
			return nil, fmt.Errorf("emulator: generating the signing key: %w", err)
		}
	}
	if encKey == nil {
		if encKey, err = rsa.GenerateKey(cfg.Rand, minRSABits); err != nil {
			return nil, fmt.Errorf("emulator: generating the encryption key: %w", err)
		}
	}
	e.opKeys.Store(newKeySet(sigKey, encKey))
	if e.secret = cfg.SubjectSecret; e.secret == nil {
		e.secret = make([]byte, 32)
		if _, err := io.ReadFull(cfg.Rand, e.secret); err != nil {
			return nil, fmt.Errorf("emulator: reading the subject secret: %w", err)
		}
	}
	return e, nil
}

// Issuer returns the issuer URL.
func (e *Emulator) Issuer() string { return e.cfg.Issuer }

// Personas returns the personas offered on the phone page.
func (e *Emulator) Personas() []Persona { return append([]Persona(nil), e.personas...) }

// Handler serves every endpoint at its full path under the issuer's path
// (for "http://host/v2", "/v2/token" and so on), so it can be mounted on a
// mux at "/v2/".
func (e *Emulator) Handler() http.Handler {
	return http.HandlerFunc(e.serveHTTP)
}

func (e *Emulator) serveHTTP(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	path, ok := strings.CutPrefix(r.URL.Path, e.basePath)
	if !ok || !slices.Contains(endpoints, path) {
		http.NotFound(w, r)
		return
	}
	if f, ok := e.faults.arrive(path); ok && e.applyFault(w, r, path, f) {
		return
	}
	switch path {
	case PathDiscovery:
		e.handleDiscovery(w, r)
	case PathJWKS:
		e.handleJWKS(w, r)
	case PathAuthorization:
		e.handleAuthorization(w, r)
	case PathConfirm:
		e.handleConfirm(w, r)
	case PathToken:
		e.handleToken(w, r)
	case PathUserInfo:
		e.handleUserInfo(w, r)
	case PathPicture:
		e.handlePicture(w, r)
	default:
		http.NotFound(w, r)
	}
}

// maxBodyBytes caps every request body.
const maxBodyBytes = 64 << 10

// PublicJWKS returns the emulator's published public keys: the RS256
// signing keys (use "sig"), then the encryption keys (use "enc") clients
// encrypt request objects and client assertions to. Without rotations
// there is one of each; after RotateSigningKey or RotateEncryptionKey the
// newest key of each use comes first.
func (e *Emulator) PublicJWKS() jose.JSONWebKeySet {
	ks := e.ownKeys()
	return jose.JSONWebKeySet{Keys: append(slices.Clone(ks.pubSig), ks.pubEnc...)}
}

// endpoint returns the absolute URL of an endpoint path.
func (e *Emulator) endpoint(path string) string { return e.cfg.Issuer + path }

// randomString returns n random bytes from Rand, base64url-encoded.
func (e *Emulator) randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(e.cfg.Rand, b); err != nil {
		return "", fmt.Errorf("emulator: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// newCode returns a 36-character authorization code (a random UUID, the
// length itsme documents).
func (e *Emulator) newCode() (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(e.cfg.Rand, b); err != nil {
		return "", fmt.Errorf("emulator: random: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// methodNotAllowed answers 405 with the Allow header.
func methodNotAllowed(w http.ResponseWriter, allow ...string) {
	w.Header().Set("Allow", strings.Join(allow, ", "))
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
}
