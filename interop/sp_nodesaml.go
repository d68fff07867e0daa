//go:build interop

package interop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/samlbridge/samlbridge/attributes"
)

func init() { registerSP(SPPeer{Name: "node-saml", Start: startNodeSAML}) }

// startNodeSAML runs interop/node/nodesaml-sp.mjs, a tiny HTTP server
// around @node-saml/node-saml, as an SP of the bridge. The script runs in
// place so that Node finds interop/node/node_modules; its keys, the IdP
// certificate and its log live in env.Dir.
func startNodeSAML(ctx context.Context, env *Env) (*RunningSP, error) {
	nodeDir, err := filepath.Abs("node")
	if err != nil {
		return nil, err
	}
	script := filepath.Join(nodeDir, "nodesaml-sp.mjs")
	version, err := nodeSAMLVersion(nodeDir)
	if err != nil {
		return nil, err
	}
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("node-saml needs Node.js: %w", err)
	}
	key, cert, err := opensslKeyPair(ctx, env.Dir, "nodesaml-sp", "node-saml interop SP")
	if err != nil {
		return nil, err
	}
	idpCert := filepath.Join(env.Dir, "nodesaml-idp.crt")
	if err := os.WriteFile(idpCert, env.IdPCertPEM, 0o644); err != nil {
		return nil, fmt.Errorf("writing the IdP certificate: %w", err)
	}
	proc, err := startLogged("node-saml SP", env.Dir, filepath.Join(env.Dir, "nodesaml-sp.log"), []io.Writer{env.Log}, []string{
		"NODESAML_PORT=" + strconv.Itoa(env.Port),
		"NODESAML_SP_KEY=" + key,
		"NODESAML_SP_CERT=" + cert,
		"NODESAML_IDP_CERT=" + idpCert,
		"NODESAML_IDP_ENTITY_ID=" + env.IdPEntityID,
		"NODESAML_IDP_SSO_URL=" + env.IdPSSOURL,
		"NODE_ENV=production",
	}, nodeBin, script)
	if err != nil {
		return nil, err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", env.Port)
	if err := WaitHTTP(ctx, base+"/metadata", 30*time.Second, proc.Proc); err != nil {
		return nil, proc.failure(fmt.Errorf("node-saml SP did not come up: %w", err))
	}
	md, err := fetchOK(ctx, base+"/metadata")
	if err != nil {
		return nil, proc.failure(fmt.Errorf("node-saml SP metadata: %w", err))
	}
	return &RunningSP{
		Version:  "@node-saml/node-saml " + version,
		EntityID: base + "/metadata",
		Metadata: md,
		LoginURL: base + "/login",
		// Captured: a Redirect request signed with rsa-sha256 (node-saml
		// signs whenever privateKey is set, which its metadata needs to
		// publish a signing key), AssertionConsumerServiceURL and
		// ProtocolBinding POST, NameIDPolicy emailAddress AllowCreate,
		// RequestedAuthnContext PasswordProtectedTransport exact.
		Request: RequestTraits{
			Signed:                true,
			Binding:               "redirect",
			ACSURL:                true,
			NameIDPolicy:          "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
			RequestedAuthnContext: true,
		},
		Encryption: true,
		Quirks: []string{
			"node-saml's metadata requests no attributes: the bridge's per-SP release setting decides what it gets",
			"node-saml signs its Redirect AuthnRequests (rsa-sha256) once it has a signing key, which its metadata needs to publish one",
			"default NameIDPolicy emailAddress: the bridge answers with the itsme e-mail address as NameID (a user without one gets Responder/InvalidNameIDPolicy)",
			"default RequestedAuthnContext PasswordProtectedTransport, Comparison exact: the bridge ignores it and asserts SmartcardPKI (docs/saml.md: not supported yet); node-saml does not check the class it gets",
		},
		Stop: proc.Stop,
	}, nil
}

// nodeSAMLVersion reads the installed node-saml's package.json.
func nodeSAMLVersion(nodeDir string) (string, error) {
	data, err := os.ReadFile(filepath.Join(nodeDir, "node_modules", "@node-saml", "node-saml", "package.json"))
	if err != nil {
		return "", fmt.Errorf("node-saml is not installed (run npm ci in interop/node): %w", err)
	}
	var pkg struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(data, &pkg); err != nil || pkg.Version == "" {
		return "", fmt.Errorf("reading node-saml's package.json: %w", errors.Join(err, errors.New("no version")))
	}
	return pkg.Version, nil
}

// libSPAttributeNames lists every attribute name the bridge can send, for
// an SP's requested attributes.
func libSPAttributeNames() []string {
	var names []string
	for _, d := range attributes.Definitions() {
		names = append(names, d.Name)
	}
	return names
}
