//go:build interop

package interop

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

func init() { registerSP(SPPeer{Name: "pysaml2", Start: startPySAML2}) }

// pysaml2SP is the SP application, written into env.Dir at Start.
//
//go:embed peers/pysaml2/sp.py
var pysaml2SP []byte

const (
	pysaml2Python = "/usr/bin/python3" // Debian's python3-pysaml2 is only there
	pysaml2Xmlsec = "/usr/bin/xmlsec1"
)

// startPySAML2 runs peers/pysaml2/sp.py, a tiny HTTP server around
// pysaml2's Saml2Client, as an SP of the bridge. Its signing and
// encryption keys, config and log live in env.Dir.
func startPySAML2(ctx context.Context, env *Env) (*RunningSP, error) {
	version, err := pysaml2Version(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(pysaml2Xmlsec); err != nil {
		return nil, fmt.Errorf("pysaml2 needs xmlsec1: %w", err)
	}
	key, cert, err := opensslKeyPair(ctx, env.Dir, "pysaml2-sign", "pysaml2 interop SP signing")
	if err != nil {
		return nil, err
	}
	encKey, encCert, err := opensslKeyPair(ctx, env.Dir, "pysaml2-enc", "pysaml2 interop SP encryption")
	if err != nil {
		return nil, err
	}
	cfg, err := json.MarshalIndent(map[string]any{
		"port":                 env.Port,
		"xmlsec1":              pysaml2Xmlsec,
		"idp_metadata":         env.IdPMetadataFile,
		"key_file":             key,
		"cert_file":            cert,
		"enc_key_file":         encKey,
		"enc_cert_file":        encCert,
		"requested_attributes": libSPAttributeNames(),
	}, "", "  ")
	if err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(env.Dir, "pysaml2-sp.json")
	script := filepath.Join(env.Dir, "pysaml2-sp.py")
	if err := os.WriteFile(cfgPath, cfg, 0o644); err != nil {
		return nil, fmt.Errorf("writing the pysaml2 config: %w", err)
	}
	if err := os.WriteFile(script, pysaml2SP, 0o644); err != nil {
		return nil, fmt.Errorf("writing the pysaml2 SP: %w", err)
	}
	proc, err := startLogged("pysaml2 SP", env.Dir, filepath.Join(env.Dir, "pysaml2-sp.log"), []io.Writer{env.Log},
		[]string{"PYTHONUNBUFFERED=1", "PYTHONDONTWRITEBYTECODE=1"}, pysaml2Python, script, cfgPath)
	if err != nil {
		return nil, err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", env.Port)
	if err := WaitHTTP(ctx, base+"/metadata", 30*time.Second, proc.Proc); err != nil {
		return nil, proc.failure(fmt.Errorf("pysaml2 SP did not come up: %w", err))
	}
	md, err := fetchOK(ctx, base+"/metadata")
	if err != nil {
		return nil, proc.failure(fmt.Errorf("pysaml2 SP metadata: %w", err))
	}
	return &RunningSP{
		Version:  "pysaml2 " + version,
		EntityID: base + "/metadata",
		Metadata: md,
		LoginURL: base + "/login",
		// Captured: an unsigned Redirect request with
		// AssertionConsumerServiceURL and ProtocolBinding POST, an Issuer
		// with Format entity, no NameIDPolicy, no RequestedAuthnContext.
		Request: RequestTraits{
			Signed:  false,
			Binding: "redirect",
			ACSURL:  true,
		},
		Encryption: true,
		Quirks: []string{
			"allow_unknown_attributes True: the bridge's attribute names (NameFormat unspecified) are in none of pysaml2's attribute maps, and without it pysaml2 drops every one of them",
			"want_response_signed False: the bridge signs the assertion only, and pysaml2 7 wants a signed Response by default",
			"requested attributes: optional_attributes with requested_attribute_name_format unspecified, so that its metadata requests the bridge's names as they are (the default URI format would map them through its attribute maps)",
		},
		Stop: proc.Stop,
	}, nil
}

// pysaml2Version asks Debian's python3 for the installed pysaml2.
func pysaml2Version(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, pysaml2Python, "-c",
		"import importlib.metadata as m; print(m.version('pysaml2'))").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("pysaml2 is not installed for %s (apt-get install python3-pysaml2): %w: %s",
			pysaml2Python, err, strings.TrimSpace(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}
