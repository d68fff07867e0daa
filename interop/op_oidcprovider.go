//go:build interop

package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"time"
)

// OPEnv is what the harness gives the OIDC provider peer.
type OPEnv struct {
	// Dir is the peer's scratch directory.
	Dir string
	// Port is a free port on 127.0.0.1; the issuer is
	// http://127.0.0.1:<Port>.
	Port int
	// RedirectURI is the bridge's callback, e.g.
	// http://127.0.0.1:NNNN/oidc/callback.
	RedirectURI string
	// ClientJWKSURL is the bridge's public JWKS (one use=sig RS256 key,
	// one use=enc key); the bridge is already up.
	ClientJWKSURL string
	// Log receives the OP's output.
	Log io.Writer
}

// RunningOP is the OP once up.
type RunningOP struct {
	// Version is oidc-provider's version, as it reports it.
	Version string
	// Issuer is the OP's issuer URL.
	Issuer string
	// ClientID is registered with jwks_uri = ClientJWKSURL: logins
	// succeed.
	ClientID string
	// WrongSigKeyClientID is registered with a static jwks whose sig key
	// is NOT the bridge's (the enc key is the bridge's): the OP rejects
	// the bridge's request object.
	WrongSigKeyClientID string
	// WrongEncKeyClientID is registered with a static jwks holding the
	// bridge's real sig key but an enc key the bridge does not hold: the
	// ID token and userinfo are encrypted to a key the bridge lacks.
	WrongEncKeyClientID string
	// ServiceCodes maps an itsme service ("authentication",
	// "identification") to its code; the bridge sends scope
	// "openid service:<code>".
	ServiceCodes map[string]string
	// Expected maps SAML attribute names to the values the SP must end
	// up with after a login as the OP's user.
	Expected map[string]string
	// Stop stops the OP by its PID and waits.
	Stop func() error
}

// The OP's registrations.
const (
	opClientID         = "samlbridge-interop"
	opWrongSigClientID = "samlbridge-wrong-sig-key"
	opWrongEncClientID = "samlbridge-wrong-enc-key"
	opServiceLogin     = "SAMLBRIDGE_INTEROP_LOGIN"
	opServiceIdentify  = "SAMLBRIDGE_INTEROP_IDENTIFY"
)

// opExpected is what the OP's user, Maxence Legrand, must become at the
// SP (the same persona as the bridge's emulator).
var opExpected = map[string]string{
	"name":        "Maxence Legrand",
	"firstName":   "Maxence",
	"lastName":    "Legrand",
	"dateOfBirth": "1981-04-24",
	"gender":      "female",
	"email":       "test@itsme.be",
	"nin":         "81042419835",
	"itsmeEid":    "123-4567890-02",
}

// opConfig is the JSON file oidc-op.mjs reads.
type opConfig struct {
	Port          int               `json:"port"`
	Issuer        string            `json:"issuer"`
	RedirectURI   string            `json:"redirectURI"`
	ClientJWKSURL string            `json:"clientJWKSURL"`
	Clients       map[string]string `json:"clients"`
	ServiceCodes  map[string]string `json:"serviceCodes"`
	CookieKey     string            `json:"cookieKey"`
	PairwiseSalt  string            `json:"pairwiseSalt"`
}

var opVersionRE = regexp.MustCompile(`oidc-provider (\d+\.\d+\.\d+) listening`)

// StartOIDCProvider starts panva's oidc-provider (node oidc-op.mjs from
// the interop/node directory) configured like itsme, and returns once
// its discovery document answers.
func StartOIDCProvider(ctx context.Context, env *OPEnv) (*RunningOP, error) {
	nodeDir, err := filepath.Abs("node")
	if err != nil {
		return nil, fmt.Errorf("oidc-provider: %w", err)
	}
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "oidc-provider")); err != nil {
		return nil, fmt.Errorf("oidc-provider: not installed in %s (run npm ci there): %w", nodeDir, err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		return nil, fmt.Errorf("oidc-provider needs Node.js: %w", err)
	}
	if err := os.MkdirAll(env.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("oidc-provider: %w", err)
	}
	issuer := "http://127.0.0.1:" + strconv.Itoa(env.Port)
	codes := map[string]string{"authentication": opServiceLogin, "identification": opServiceIdentify}
	cfg := opConfig{
		Port:          env.Port,
		Issuer:        issuer,
		RedirectURI:   env.RedirectURI,
		ClientJWKSURL: env.ClientJWKSURL,
		Clients:       map[string]string{"good": opClientID, "wrongSig": opWrongSigClientID, "wrongEnc": opWrongEncClientID},
		ServiceCodes:  codes,
		CookieKey:     randomHex(32),
		PairwiseSalt:  randomHex(16),
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("oidc-provider: %w", err)
	}
	cfgFile := filepath.Join(env.Dir, "oidc-op.json")
	if err := os.WriteFile(cfgFile, data, 0o600); err != nil {
		return nil, fmt.Errorf("oidc-provider: %w", err)
	}
	sniffer := &opVersionSniffer{}
	proc, err := startLogged("oidc-provider", nodeDir, filepath.Join(env.Dir, "oidc-op.log"), []io.Writer{sniffer, env.Log},
		[]string{"OIDC_OP_CONFIG=" + cfgFile}, "node", "oidc-op.mjs")
	if err != nil {
		return nil, fmt.Errorf("oidc-provider: %w", err)
	}
	if err := WaitHTTP(ctx, issuer+"/.well-known/openid-configuration", 30*time.Second, proc.Proc); err != nil {
		return nil, proc.failure(fmt.Errorf("oidc-provider: %w", err))
	}
	version := sniffer.version()
	if version == "" {
		return nil, proc.failure(errors.New("oidc-provider: it answered but did not report its version"))
	}
	return &RunningOP{
		Version:             version,
		Issuer:              issuer,
		ClientID:            opClientID,
		WrongSigKeyClientID: opWrongSigClientID,
		WrongEncKeyClientID: opWrongEncClientID,
		ServiceCodes:        codes,
		Expected:            opExpected,
		Stop:                proc.Stop,
	}, nil
}

// opVersionSniffer reads a copy of the OP's output and remembers the
// version it prints when it listens.
type opVersionSniffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	v   string
}

func (s *opVersionSniffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	if s.v == "" && s.buf.Len() < 64<<10 {
		s.buf.Write(p)
		if m := opVersionRE.FindSubmatch(s.buf.Bytes()); m != nil {
			s.v = string(m[1])
		}
	}
	s.mu.Unlock()
	return len(p), nil
}

func (s *opVersionSniffer) version() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.v
}
