//go:build interop

package interop

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samlbridge/samlbridge/demo"
	"github.com/samlbridge/samlbridge/internal/fixtures"
	"github.com/samlbridge/samlbridge/internal/htmlform"
	"github.com/samlbridge/samlbridge/metadata"
)

// The mint scenarios post responses written by "samlbridge mint" (the
// command, built once per run) straight to each peer's ACS: the bridge is
// not involved, only its state directory (keys and secrets), as a tester
// would use mint against an SP that trusts the demo.

var samlbridgeBin struct {
	once sync.Once
	path string
	err  error
}

// samlbridgeCommand builds cmd/samlbridge once per run.
func samlbridgeCommand(t *testing.T) string {
	t.Helper()
	samlbridgeBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "samlbridge-interop-bin")
		if err != nil {
			samlbridgeBin.err = err
			return
		}
		samlbridgeBin.path = filepath.Join(dir, "samlbridge")
		out, err := exec.Command("go", "build", "-o", samlbridgeBin.path, "github.com/samlbridge/samlbridge/cmd/samlbridge").CombinedOutput()
		if err != nil {
			samlbridgeBin.err = fmt.Errorf("go build ./cmd/samlbridge: %w: %s", err, out)
		}
	})
	if samlbridgeBin.err != nil {
		t.Fatal(samlbridgeBin.err)
	}
	return samlbridgeBin.path
}

// runMint runs "samlbridge mint" with args and returns its standard output.
func runMint(ctx context.Context, bin string, args ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, append([]string{"mint"}, args...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("samlbridge mint %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// writeRequest saves the AuthnRequest as it travelled: the Redirect URL,
// or the POST form body. It returns the path.
func writeRequest(dir string, r *SeenRequest) (string, error) {
	path, data := filepath.Join(dir, "authnrequest.url"), r.URL
	if r.Binding == "post" {
		path, data = filepath.Join(dir, "authnrequest.form"), r.Form.Encode()
	}
	if err := os.WriteFile(path, []byte(data+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("saving the AuthnRequest: %w", err)
	}
	return path, nil
}

// startLogin starts a login at the SP and stops where the SP sends the
// browser to the bridge, so the SP has a request in flight.
func startLogin(ctx context.Context, br *bridge, run *RunningSP) (*Browser, error) {
	b := br.browser()
	b.StopAtSSO = true
	if _, err := b.Get(ctx, run.LoginURL); err != nil {
		return nil, err
	}
	if b.Request == nil {
		return nil, errors.New("the SP did not start a login")
	}
	b.StopAtSSO = false
	return b, nil
}

// refused posts form to acs and wants the SP not to show an identity.
func refused(ctx context.Context, b *Browser, acs string, form url.Values) (string, error) {
	page, err := b.Post(ctx, acs, form)
	if err != nil {
		return "", err
	}
	if id, err := identity(page); err == nil {
		return "", fmt.Errorf("the SP accepted it and shows NameID %q", id.NameID)
	}
	why := textSnippet(page.Body)
	if len(why) > 90 {
		why = why[:87] + "..."
	}
	return fmt.Sprintf("SP refused (%d at %s): %s", page.Status, page.URL.Path, why), nil
}

// mintScenarios proves "samlbridge mint" against a running peer: its
// response to the peer's own AuthnRequest is accepted and shows the
// persona's attributes and the NameID the bridge gave in a real login
// (bridgeNameID, when known); a minted response for another SP, and a
// tampered one, are refused.
func mintScenarios(t *testing.T, br *bridge, run *RunningSP, peer, dir, bridgeNameID string) {
	bin := samlbridgeCommand(t)
	v := run.Version
	work := filepath.Join(dir, "mint")
	if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	spFile := filepath.Join(work, "sp-metadata.xml")
	if err := os.WriteFile(spFile, run.Metadata, 0o644); err != nil {
		t.Fatal(err)
	}
	sps, err := metadata.ParseServiceProviders(run.Metadata, metadata.ParseOptions{AllowInsecureACS: true})
	if err != nil || len(sps) != 1 {
		t.Fatalf("the peer's metadata: %v", err)
	}
	acs := sps[0].DefaultACS.Location
	common := []string{"--state-dir", br.StateDir, "--base-url", br.Base, "--persona", "maxence"}

	scenario(t, peer, v, "mint: minted response accepted", func(ctx context.Context) (string, error) {
		b, err := startLogin(ctx, br, run)
		if err != nil {
			return "", err
		}
		reqFile, err := writeRequest(work, b.Request)
		if err != nil {
			return "", err
		}
		args := append(append([]string{}, common...), "--sp-metadata", spFile, "--request", reqFile, "--form")
		want, absent := wantAttrs, []string(nil)
		if run.Encryption {
			args = append(args, "--encrypt", "--attributes", "firstName,lastName,dateOfBirth,nin")
		} else {
			args = append(args, "--attributes", "firstName,lastName,dateOfBirth")
			want = map[string]string{"firstName": wantAttrs["firstName"], "lastName": wantAttrs["lastName"], "dateOfBirth": wantAttrs["dateOfBirth"]}
			absent = []string{"nin"}
		}
		page, err := runMint(ctx, bin, args...)
		if err != nil {
			return "", err
		}
		action, vals, ok := htmlform.AsFound(string(page))
		if !ok || !vals.Has("SAMLResponse") {
			return "", fmt.Errorf("mint --form wrote no SAMLResponse form:\n%s", page)
		}
		if action != acs {
			return "", fmt.Errorf("mint's form posts to %s, the SP's ACS is %s", action, acs)
		}
		got, err := b.Post(ctx, action, vals)
		if err != nil {
			return "", err
		}
		id, err := identity(got)
		if err != nil {
			return "", err
		}
		if err := checkIdentity(id, want, absent); err != nil {
			return "", err
		}
		// Transient NameIDs are new at every login; the others are the
		// bridge's for this persona and SP.
		if bridgeNameID != "" && !strings.HasSuffix(id.NameIDFormat, ":transient") && id.NameID != bridgeNameID {
			return "", fmt.Errorf("SP shows NameID %q for the minted response, %q for the bridge's login of the same persona", id.NameID, bridgeNameID)
		}
		return fmt.Sprintf("%d attributes, NameID %s, encrypted=%v", len(id.Attributes), shortFormat(id.NameIDFormat), run.Encryption), nil
	})

	scenario(t, peer, v, "mint: response for another SP rejected", func(ctx context.Context) (string, error) {
		other, err := fetch(br.Base + demo.PathSPMetadata)
		if err != nil {
			return "", err
		}
		otherFile := filepath.Join(work, "other-sp-metadata.xml")
		if err := os.WriteFile(otherFile, other, 0o644); err != nil {
			return "", err
		}
		b, err := startLogin(ctx, br, run)
		if err != nil {
			return "", err
		}
		reqID, err := requestID(b.Request)
		if err != nil {
			return "", err
		}
		// Everything right but the audience and recipient: it even
		// answers the peer's request ID.
		out, err := runMint(ctx, bin, append(append([]string{}, common...), "--sp-metadata", otherFile, "--in-response-to", reqID,
			"--attributes", "firstName,lastName", "--base64")...)
		if err != nil {
			return "", err
		}
		return refused(ctx, b, acs, url.Values{"SAMLResponse": {strings.TrimSpace(string(out))}, "RelayState": {relayStateOf(b.Request)}})
	})

	scenario(t, peer, v, "mint: tampered response rejected", func(ctx context.Context) (string, error) {
		b, err := startLogin(ctx, br, run)
		if err != nil {
			return "", err
		}
		reqFile, err := writeRequest(work, b.Request)
		if err != nil {
			return "", err
		}
		out, err := runMint(ctx, bin, append(append([]string{}, common...), "--sp-metadata", spFile, "--request", reqFile,
			"--attributes", "firstName,lastName")...)
		if err != nil {
			return "", err
		}
		tampered := bytes.Replace(out, []byte(">Maxence<"), []byte(">Mallory<"), 1)
		if bytes.Equal(tampered, out) {
			return "", errors.New("the minted response has no firstName Maxence to tamper with")
		}
		return refused(ctx, b, acs, url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(tampered)}, "RelayState": {relayStateOf(b.Request)}})
	})
}

// requestID reads the ID of a seen AuthnRequest.
func requestID(r *SeenRequest) (string, error) {
	i := bytes.Index(r.XML, []byte(` ID="`))
	if i < 0 {
		return "", errors.New("the AuthnRequest has no ID")
	}
	rest := r.XML[i+5:]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return "", errors.New("the AuthnRequest's ID is not closed")
	}
	return string(rest[:j]), nil
}

// relayStateOf is the RelayState the SP sent with its request.
func relayStateOf(r *SeenRequest) string {
	if r.Binding == "post" {
		return r.Form.Get("RelayState")
	}
	u, err := url.Parse(r.URL)
	if err != nil {
		return ""
	}
	return u.Query().Get("RelayState")
}

// captureFixture writes the peer's AuthnRequest, its metadata and the
// golden response minted for it into $INTEROP_CAPTURE/<peer>, when that is
// set (see testdata/fixtures/README.md). The golden response is signed
// with the fixture state ($INTEROP_CAPTURE/state), not the run's keys.
func captureFixture(t *testing.T, br *bridge, peer string, run *RunningSP, seen *SeenRequest, at time.Time) error {
	root := os.Getenv("INTEROP_CAPTURE")
	if root == "" {
		return nil
	}
	root, err := filepath.Abs(root)
	if err != nil {
		return err
	}
	dir := filepath.Join(root, peer)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	reqFile, err := writeRequest(dir, seen)
	if err != nil {
		return err
	}
	c := fixtures.Capture{Peer: peer, PeerVersion: run.Version, CapturedAt: at.UTC().Format(time.RFC3339), BridgeURL: br.Base,
		Binding: seen.Binding, Signed: seen.Signed, Persona: "maxence", Seed: "samlbridge fixtures " + peer}
	meta, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{"authnrequest.xml": seen.XML, "sp-metadata.xml": run.Metadata, "capture.json": append(meta, '\n')} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("capture: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = runMint(ctx, samlbridgeCommand(t), "--state-dir", filepath.Join(root, "state"), "--base-url", c.BridgeURL,
		"--sp-metadata", filepath.Join(dir, "sp-metadata.xml"), "--request", reqFile, "--persona", c.Persona,
		"--now", c.CapturedAt, "--seed", c.Seed, "--out", filepath.Join(dir, "response.xml"))
	return err
}
