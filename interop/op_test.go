//go:build interop

package interop

import (
	"context"
	"errors"
	"fmt"
	"html"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/samlbridge/samlbridge/demo"
	"github.com/samlbridge/samlbridge/itsme"
)

// TestOIDCProvider runs the bridge's itsme client against panva's
// oidc-provider, configured as itsme is: a login through it succeeds, and
// a key the OP does not trust, or a token encrypted to a key the bridge
// does not hold, ends in a SAML Responder status and a clear log line.
func TestOIDCProvider(t *testing.T) {
	dir := t.TempDir()
	br := startBridge(t, dir)
	logFile, err := os.Create(filepath.Join(dir, "oidc-provider.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	const peer = "oidc-provider"
	var op *RunningOP
	if !scenario(t, peer, "", "start", func(ctx context.Context) (string, error) {
		op, err = StartOIDCProvider(ctx, &OPEnv{
			Dir: filepath.Join(dir, "op"), Port: port, Log: logFile,
			RedirectURI: br.Base + "/oidc/callback", ClientJWKSURL: br.Base + "/jwks",
		})
		if err != nil {
			return "", err
		}
		return "issuer " + op.Issuer, nil
	}) {
		return
	}
	defer func() {
		if err := op.Stop(); err != nil {
			t.Errorf("stopping oidc-provider: %v", err)
		}
	}()
	upstream := func(clientID string) *demo.Upstream {
		codes := map[itsme.Service]string{}
		for k, v := range op.ServiceCodes {
			codes[itsme.Service(k)] = v
		}
		return &demo.Upstream{Issuer: op.Issuer, ClientID: clientID, ServiceCodes: codes, EncryptRequestObject: true}
	}
	login := func(ctx context.Context, clientID string) (*Browser, *Page, error) {
		br.use(t, phaseEncrypted, upstream(clientID))
		u, _ := url.Parse(op.Issuer)
		b := br.browser(u.Scheme + "://" + u.Host)
		p, err := b.Get(ctx, br.Base+demo.PathSPLogin)
		if err != nil {
			return nil, nil, err
		}
		if b.Response == nil {
			return nil, nil, fmt.Errorf("the bridge never answered the demo SP (hops: %s)", strings.Join(b.Hops, " → "))
		}
		return b, p, nil
	}
	scenario(t, peer, op.Version, "SSO through the bridge, OP as upstream", func(ctx context.Context) (string, error) {
		_, p, err := login(ctx, op.ClientID)
		if err != nil {
			return "", err
		}
		got := demoAttributes(p)
		if len(got) == 0 {
			return "", fmt.Errorf("the demo SP shows no attributes: %s", textSnippet(p.Body))
		}
		var bad []string
		for k, v := range op.Expected {
			if got[k] != v {
				bad = append(bad, fmt.Sprintf("%s = %q, want %q", k, got[k], v))
			}
		}
		if len(bad) > 0 {
			return "", errors.New(strings.Join(bad, "; "))
		}
		return fmt.Sprintf("demo SP shows %d attributes, %d checked against the OP's account", len(got), len(op.Expected)), nil
	})
	negative := func(name, clientID, wantLog string) {
		scenario(t, peer, op.Version, name, func(ctx context.Context) (string, error) {
			before := len(br.logs.String())
			b, _, err := login(ctx, clientID)
			if err != nil {
				return "", err
			}
			status, err := topStatus(b.Response.XML)
			if err != nil {
				return "", err
			}
			if !strings.HasSuffix(status, ":Responder") {
				return "", fmt.Errorf("the SP got status %q, want Responder", status)
			}
			logs := br.logs.String()[before:]
			if !strings.Contains(logs, wantLog) {
				return "", fmt.Errorf("the bridge's log does not say %q", wantLog)
			}
			return "SP got Responder; bridge logged " + fmt.Sprintf("%q", wantLog), nil
		})
	}
	negative("OP holds a wrong key for the bridge", op.WrongSigKeyClientID, "invalid_request_object")
	negative("ID token encrypted to a key the bridge lacks", op.WrongEncKeyClientID, "cannot decrypt token")
}

var demoAttrRe = regexp.MustCompile(`<td class="attr-value" data-name="([^"]+)">([^<]*)</td>`)

// demoAttributes reads the attribute table of the demo SP's page.
func demoAttributes(p *Page) map[string]string {
	out := map[string]string{}
	for _, m := range demoAttrRe.FindAllSubmatch(p.Body, -1) {
		out[html.UnescapeString(string(m[1]))] = html.UnescapeString(string(m[2]))
	}
	return out
}

// topStatus returns the top-level StatusCode of a response.
func topStatus(x []byte) (string, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(x); err != nil {
		return "", fmt.Errorf("the response is not XML: %w", err)
	}
	s := doc.FindElement("/Response/Status/StatusCode")
	if s == nil {
		return "", errors.New("the response has no StatusCode")
	}
	return s.SelectAttrValue("Value", ""), nil
}
