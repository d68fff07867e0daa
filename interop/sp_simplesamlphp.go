//go:build interop

package interop

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/samlbridge/samlbridge/attributes"
)

func init() { registerSP(SPPeer{Name: "simplesamlphp", Start: startSimpleSAMLphp}) }

// simpleSAMLphpFiles are the SP's config (config.php, authsources.php),
// its file store, the php -S router and the protected page; Start copies
// them into env.Dir and writes interop.json, which they read, beside them.
//
//go:embed peers/simplesamlphp/*.php
var simpleSAMLphpFiles embed.FS

const (
	simpleSAMLphpRoot = "/usr/share/simplesamlphp" // Debian's simplesamlphp package
	simpleSAMLphpPHP  = "/usr/bin/php"
	// simpleSAMLphpSource is the saml:SP auth source in authsources.php.
	simpleSAMLphpSource = "default-sp"
)

// startSimpleSAMLphp runs Debian's SimpleSAMLphp 1.19 as a saml:SP under
// PHP's built-in web server, with its config dir, key pair, store and log
// in env.Dir. Its protected page is /whoami.php.
func startSimpleSAMLphp(ctx context.Context, env *Env) (*RunningSP, error) {
	version, err := simpleSAMLphpVersion()
	if err != nil {
		return nil, err
	}
	cfgDir := filepath.Join(env.Dir, "config")
	for _, d := range []string{cfgDir, filepath.Join(env.Dir, "data"), filepath.Join(env.Dir, "tmp"),
		filepath.Join(env.Dir, "store"), filepath.Join(env.Dir, "sessions")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("simplesamlphp: %w", err)
		}
	}
	files, err := simpleSAMLphpFiles.ReadDir("peers/simplesamlphp")
	if err != nil {
		return nil, fmt.Errorf("simplesamlphp: reading the embedded config: %w", err)
	}
	for _, f := range files {
		data, err := simpleSAMLphpFiles.ReadFile("peers/simplesamlphp/" + f.Name())
		if err != nil {
			return nil, fmt.Errorf("simplesamlphp: %w", err)
		}
		if err := os.WriteFile(filepath.Join(cfgDir, f.Name()), data, 0o600); err != nil {
			return nil, fmt.Errorf("simplesamlphp: writing %s: %w", f.Name(), err)
		}
	}
	keyFile, certFile, err := opensslKeyPair(ctx, env.Dir, "sp", "simplesamlphp interop SP")
	if err != nil {
		return nil, err
	}

	base := fmt.Sprintf("http://127.0.0.1:%d", env.Port)
	mdURL := base + "/module.php/saml/sp/metadata.php/" + simpleSAMLphpSource
	entityID := mdURL // SimpleSAMLphp's own convention for a saml:SP
	var requested []string
	for _, d := range attributes.Definitions() {
		requested = append(requested, d.Name)
	}
	settings, err := json.MarshalIndent(map[string]any{
		"port":                env.Port,
		"baseURL":             base + "/",
		"dir":                 env.Dir,
		"secretSalt":          randomHex(16),
		"adminPassword":       randomHex(16),
		"entityID":            entityID,
		"idpEntityID":         env.IdPEntityID,
		"idpMetadataFile":     env.IdPMetadataFile,
		"keyFile":             keyFile,
		"certFile":            certFile,
		"requestedAttributes": requested,
	}, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(cfgDir, "interop.json"), settings, 0o600); err != nil {
		return nil, fmt.Errorf("simplesamlphp: writing interop.json: %w", err)
	}

	// php -S writes its access log to stderr; SimpleSAMLphp writes its own
	// log to simplesamlphp.log (config.php).
	serverLog := filepath.Join(env.Dir, "php-server.log")
	sspLog := filepath.Join(env.Dir, "simplesamlphp.log")
	proc, err := startLogged("simplesamlphp (php -S)", env.Dir, serverLog, []io.Writer{env.Log},
		[]string{"SIMPLESAMLPHP_CONFIG_DIR=" + cfgDir},
		simpleSAMLphpPHP, "-S", fmt.Sprintf("127.0.0.1:%d", env.Port),
		"-t", filepath.Join(simpleSAMLphpRoot, "www"), filepath.Join(cfgDir, "router.php"))
	if err != nil {
		return nil, err
	}
	if err := WaitHTTP(ctx, mdURL, 30*time.Second, proc.Proc); err != nil {
		return nil, proc.failure(fmt.Errorf("simplesamlphp did not come up: %w", err), sspLog)
	}
	md, err := fetchOK(ctx, mdURL)
	if err != nil {
		return nil, proc.failure(fmt.Errorf("simplesamlphp metadata: %w", err), sspLog)
	}
	if !bytes.Contains(md, []byte(`use="encryption"`)) {
		return nil, proc.failure(fmt.Errorf("simplesamlphp metadata at %s has no encryption key", mdURL), sspLog)
	}
	return &RunningSP{
		Version:  "SimpleSAMLphp " + version,
		EntityID: entityID,
		Metadata: md,
		LoginURL: base + "/whoami.php",
		// Captured: an unsigned Redirect request with
		// AssertionConsumerServiceURL and ProtocolBinding POST, RelayState
		// the protected page's URL, and SimpleSAMLphp's default
		// NameIDPolicy (transient, AllowCreate), which it sends whenever
		// neither side's metadata sets one; no RequestedAuthnContext.
		Request: RequestTraits{
			Signed:       false,
			Binding:      "redirect",
			ACSURL:       true,
			NameIDPolicy: "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
		},
		Encryption: true,
		Quirks: []string{
			"store.type is a small file store (peers/simplesamlphp/FileStore.php): with Debian's default phpsession store SimpleSAMLphp 1.19 keeps no replay cache, and a replayed response whose InResponseTo state is gone is accepted as unsolicited; memcache, redis and pdo_sqlite are not installed",
			"asks for NameIDPolicy transient (AllowCreate) whenever neither metadata sets a NameIDPolicy; the bridge answers with a transient NameID",
		},
		Stop: proc.Stop,
	}, nil
}

// simpleSAMLphpVersion reads the version Debian's SimpleSAMLphp reports
// in its default config.
func simpleSAMLphpVersion() (string, error) {
	src, err := os.ReadFile(filepath.Join(simpleSAMLphpRoot, "lib/SimpleSAML/Configuration.php"))
	if err != nil {
		return "", fmt.Errorf("simplesamlphp is not installed (apt-get install simplesamlphp php8.2-xml php8.2-mbstring): %w", err)
	}
	m := regexp.MustCompile(`(?:public )?const VERSION = '([^']+)'`).FindSubmatch(src)
	if m == nil {
		return "", fmt.Errorf("simplesamlphp: no VERSION in %s/lib/SimpleSAML/Configuration.php", simpleSAMLphpRoot)
	}
	if _, err := os.Stat(simpleSAMLphpPHP); err != nil {
		return "", fmt.Errorf("simplesamlphp needs PHP's CLI: %w", err)
	}
	return string(m[1]), nil
}
