//go:build interop

package interop

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samlbridge/samlbridge/server"
)

// TestNewcomer follows docs/quickstart.md step 1 and docs/tools.md with
// the real commands and a real SP (pysaml2), as a newcomer would:
//
//  1. start the demo (samlbridge demo) and take its IdP metadata;
//  2. give that metadata to the SP and register the SP's own metadata
//     with the demo (--sp-metadata), restarting it;
//  3. log in at the SP through the demo (the emulator's phone page
//     approved) and see the SP accept the identity;
//  4. decode the AuthnRequest the SP sent (samlbridge decode URL).
//
// Each step is a row of the interop matrix.
func TestNewcomer(t *testing.T) {
	const peer = "newcomer (pysaml2)"
	bin := samlbridgeCommand(t)
	dir := t.TempDir()
	stateDir := filepath.Join(dir, "demo-state")
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	logFile, err := os.Create(filepath.Join(dir, "newcomer.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()

	// startDemo runs "samlbridge demo" as the quick start says, plus the
	// flags the quick start names, and waits for its IdP metadata.
	var n int
	startDemo := func(ctx context.Context, extra ...string) (*loggedProc, []byte, error) {
		n++
		argv := append([]string{bin, "demo", "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--state-dir", stateDir}, extra...)
		p, err := startLogged("samlbridge demo", dir, filepath.Join(dir, fmt.Sprintf("demo-%d.log", n)), []io.Writer{logFile}, nil, argv...)
		if err != nil {
			return nil, nil, err
		}
		if err := WaitHTTP(ctx, base+server.PathMetadata, 60*time.Second, p.Proc); err != nil {
			return nil, nil, p.failure(err)
		}
		md, err := fetchOK(ctx, base+server.PathMetadata)
		if err != nil {
			return nil, nil, p.failure(err)
		}
		return p, md, nil
	}

	var idpMD []byte
	if !scenario(t, peer, "", "demo up, IdP metadata fetched", func(ctx context.Context) (string, error) {
		p, md, err := startDemo(ctx)
		if err != nil {
			return "", err
		}
		idpMD = md
		if err := p.Stop(); err != nil {
			return "", fmt.Errorf("stopping the demo: %w", err)
		}
		return fmt.Sprintf("%d bytes of signed metadata at %s", len(md), server.PathMetadata), nil
	}) {
		return
	}
	idpFile := filepath.Join(dir, "idp-metadata.xml")
	if err := os.WriteFile(idpFile, idpMD, 0o644); err != nil {
		t.Fatal(err)
	}
	certPEM, err := idpCertPEM(idpMD)
	if err != nil {
		t.Fatal(err)
	}
	env := &Env{
		Dir: filepath.Join(dir, "pysaml2"), IdPMetadataFile: idpFile, IdPMetadata: idpMD,
		IdPEntityID: base + server.PathMetadata, IdPSSOURL: base + server.PathSSO, IdPCertPEM: certPEM, Log: logFile,
	}
	if err := os.MkdirAll(env.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if env.Port, err = FreePort(); err != nil {
		t.Fatal(err)
	}
	var run *RunningSP
	var demoProc *loggedProc
	if !scenario(t, peer, "", "SP registered with --sp-metadata", func(ctx context.Context) (string, error) {
		var err error
		if run, err = startPySAML2(ctx, env); err != nil {
			return "", err
		}
		spFile := filepath.Join(dir, "my-sp.xml")
		if err := os.WriteFile(spFile, run.Metadata, 0o644); err != nil {
			return "", err
		}
		p, md, err := startDemo(ctx, "--sp-metadata", spFile)
		if err != nil {
			return "", err
		}
		demoProc = p
		// Same state dir, same keys: the metadata the SP was given is
		// still the bridge's.
		again, err := idpCertPEM(md)
		if err != nil {
			return "", err
		}
		if !bytes.Equal(again, certPEM) {
			return "", errors.New("the restarted demo signs with another certificate than the one the SP was given")
		}
		return "demo restarted with the SP's metadata (" + run.EntityID + "), same signing certificate", nil
	}) {
		if run != nil {
			_ = run.Stop()
		}
		return
	}
	defer func() {
		if err := demoProc.Stop(); err != nil {
			t.Errorf("stopping the demo: %v", err)
		}
		if err := run.Stop(); err != nil {
			t.Errorf("stopping pysaml2: %v", err)
		}
	}()

	var sent *SeenRequest
	if !scenario(t, peer, run.Version, "login through the demo", func(ctx context.Context) (string, error) {
		b := NewBrowser(base+server.PathSSO, base)
		page, err := b.Get(ctx, run.LoginURL)
		if err != nil {
			return "", err
		}
		if b.Request == nil {
			return "", errors.New("the SP never sent the browser to the demo")
		}
		sent = b.Request
		if page.Status != 200 {
			return "", fmt.Errorf("the SP answered %d after the login: %s", page.Status, textSnippet(page.Body))
		}
		id, err := identity(page)
		if err != nil {
			return "", err
		}
		if err := checkIdentity(id, wantAttrs, nil); err != nil {
			return "", err
		}
		return "the SP shows the persona (firstName, lastName, dateOfBirth, nin)", nil
	}) {
		return
	}

	scenario(t, peer, run.Version, "decode the AuthnRequest it sent", func(ctx context.Context) (string, error) {
		if sent.Binding != "redirect" {
			return "", fmt.Errorf("pysaml2 sent its request by %s; this step expects the Redirect URL a browser shows", sent.Binding)
		}
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, bin, "decode", sent.URL)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			return "", fmt.Errorf("samlbridge decode: %w: %s", err, strings.TrimSpace(stderr.String()))
		}
		id, err := requestID(sent)
		if err != nil {
			return "", err
		}
		out := stdout.String()
		// The kind, the SP, the request's own ID (so its XML was printed)
		// and the verdict.
		for _, want := range []string{"AuthnRequest", run.EntityID, id, "WELL-FORMED"} {
			if !strings.Contains(out, want) {
				return "", fmt.Errorf("decode's output lacks %q:\n%s", want, out)
			}
		}
		return "decode printed the request's XML and the verdict (exit 0)", nil
	})
}
