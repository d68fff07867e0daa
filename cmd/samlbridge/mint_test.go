package main

import (
	"bytes"
	"context"
	"crypto/rsa"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/attributes"
	"github.com/samlbridge/samlbridge/demo"
	"github.com/samlbridge/samlbridge/internal/htmlform"
	"github.com/samlbridge/samlbridge/internal/samltest"
	"github.com/samlbridge/samlbridge/saml"
	"github.com/samlbridge/samlbridge/server"
)

// demoState is a demo stack built over a fresh state directory (so that
// mint reads the same keys and secrets), with the demo SP's metadata in a
// file.
type demoState struct {
	stack  *demo.Stack
	dir    string
	base   string
	spFile string
	spID   string
}

func newDemoState(t *testing.T) *demoState {
	t.Helper()
	d := &demoState{dir: t.TempDir(), base: "http://127.0.0.1:18080"}
	st, err := demo.New(context.Background(), demo.Options{BaseURL: d.base, StateDir: d.dir})
	if err != nil {
		t.Fatal(err)
	}
	d.stack = st
	md, err := st.SP.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	d.spFile = filepath.Join(t.TempDir(), "demo-sp.xml")
	if err := os.WriteFile(d.spFile, md, 0o644); err != nil {
		t.Fatal(err)
	}
	d.spID = st.SP.SAML.EntityID
	return d
}

// loginRequest writes a fresh AuthnRequest of the demo SP (a signed
// Redirect URL) to a file.
func (d *demoState) loginRequest(t *testing.T, index int) string {
	t.Helper()
	u, err := d.stack.SP.LoginURL(index, "relay-123")
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "authnrequest.url")
	if err := os.WriteFile(f, []byte(u+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

func (d *demoState) mint(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	full := append([]string{"mint", "--state-dir", d.dir, "--base-url", d.base, "--sp-metadata", d.spFile}, args...)
	code = run(context.Background(), full, &out, &errOut)
	return out.String(), errOut.String(), code
}

// TestMintAcceptedByDemoSP mints responses to the demo SP's own signed
// AuthnRequests over the demo's state directory, and has the demo SP
// (crewjam/saml, which checks signature, audience, recipient,
// InResponseTo and times) accept them: the persona's attributes arrive,
// and the NameID is the one the demo bridge gives that persona after a
// real login through its emulator.
func TestMintAcceptedByDemoSP(t *testing.T) {
	d := newDemoState(t)
	secret, err := readHexSecret(filepath.Join(d.dir, statePairwiseSecret))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		persona   string
		index     int
		extra     []string
		want      map[string]string
		absent    []string
		encrypted bool
	}{
		{"identification set, plain: nin withheld", "maxence", demo.IndexIdentification, nil,
			map[string]string{"firstName": "Maxence", "lastName": "Legrand", "dateOfBirth": "1981-04-24", "email": "test@itsme.be"}, []string{"nin"}, false},
		{"identification set, encrypted: nin released", "maxence", demo.IndexIdentification, []string{"--encrypt"},
			map[string]string{"firstName": "Maxence", "nin": "81042419835"}, nil, true},
		{"authentication set", "daan", demo.IndexAuthentication, nil,
			map[string]string{"firstName": "Daan", "lastName": "de Vries"}, []string{"dateOfBirth", "email"}, false},
		{"--attributes picks the set", "lucas", demo.IndexIdentification, []string{"--attributes", "lastName,locale"},
			map[string]string{"lastName": "Peeters"}, []string{"firstName", "email"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := d.loginRequest(t, tc.index)
			out, errOut, code := d.mint(t, append([]string{"--request", req, "--persona", tc.persona, "--base64"}, tc.extra...)...)
			if code != 0 {
				t.Fatalf("mint exited %d: %s", code, errOut)
			}
			res, err := d.stack.SP.Parse(strings.TrimSpace(out))
			if err != nil {
				t.Fatalf("the demo SP refused the minted response: %v", err)
			}
			for k, v := range tc.want {
				if got := res.Attributes[k]; !slices.Equal(got, []string{v}) {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			for _, k := range tc.absent {
				if got, ok := res.Attributes[k]; ok {
					t.Errorf("%s = %q was released", k, got)
				}
			}
			if res.Encrypted != tc.encrypted {
				t.Errorf("encrypted = %v, want %v", res.Encrypted, tc.encrypted)
			}
			sub := d.stack.Emulator.Subject(tc.persona, demo.ClientID)
			if want := attributes.PairwiseID(secret, sub, d.spID); res.NameID != want || res.NameIDFormat != saml.NameIDFormatPersistent {
				t.Errorf("NameID = %q (%s), want the demo's pairwise %q", res.NameID, res.NameIDFormat, want)
			}
			if res.Issuer != d.base+"/saml/metadata" || res.NameQualifier != d.stack.Emulator.Issuer() {
				t.Errorf("issuer %q, NameQualifier %q: not the demo bridge's and its emulator's", res.Issuer, res.NameQualifier)
			}
			if !strings.Contains(errOut, "persona "+tc.persona) {
				t.Errorf("no summary on stderr: %q", errOut)
			}
		})
	}
}

// TestMintForm writes the auto-POST form: it posts to the SP's ACS with
// the request's RelayState, or the one given.
func TestMintForm(t *testing.T) {
	d := newDemoState(t)
	for _, tc := range []struct {
		name  string
		extra []string
		relay string
	}{
		{"RelayState of the request", nil, "relay-123"},
		{"--relay-state wins", []string{"--relay-state", "other"}, "other"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := d.mint(t, append([]string{"--request", d.loginRequest(t, demo.IndexAuthentication), "--form"}, tc.extra...)...)
			if code != 0 {
				t.Fatalf("mint exited %d: %s", code, errOut)
			}
			action, vals, ok := htmlform.AsFound(out)
			if !ok {
				t.Fatalf("no form in:\n%s", out)
			}
			if action != d.base+demo.PathSPACS || vals.Get("RelayState") != tc.relay {
				t.Errorf("form posts to %s with RelayState %q", action, vals.Get("RelayState"))
			}
			if _, err := d.stack.SP.Parse(vals.Get("SAMLResponse")); err != nil {
				t.Errorf("the demo SP refused the form's response: %v", err)
			}
		})
	}
}

// TestMintUnsolicited mints without a request: no InResponseTo anywhere,
// at the SP's default ACS or the one asked for, written to --out.
func TestMintUnsolicited(t *testing.T) {
	d := newDemoState(t)
	out := filepath.Join(t.TempDir(), "resp.xml")
	_, errOut, code := d.mint(t, "--now", "2026-03-01T10:00:00Z", "--acs", d.base+demo.PathSPACS, "--out", out)
	if code != 0 {
		t.Fatalf("mint exited %d: %s", code, errOut)
	}
	x, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`Destination="` + d.base + demo.PathSPACS + `"`, `IssueInstant="2026-03-01T10:00:00Z"`, `NotOnOrAfter="2026-03-01T10:05:00Z"`, ">Maxence<"} {
		if !bytes.Contains(x, []byte(want)) {
			t.Errorf("the response lacks %s", want)
		}
	}
	if bytes.Contains(x, []byte("InResponseTo")) {
		t.Error("an unsolicited response carries InResponseTo")
	}
}

// TestMintDeterministic: with --now and --seed the output is the same
// bytes every time; another seed changes the IDs.
func TestMintDeterministic(t *testing.T) {
	d := newDemoState(t)
	args := []string{"--now", "2026-03-01T10:00:00Z", "--in-response-to", "_req1", "--seed", "s1"}
	a, errA, codeA := d.mint(t, args...)
	b, _, codeB := d.mint(t, args...)
	c, _, codeC := d.mint(t, append(args[:len(args)-1:len(args)-1], "s2")...)
	if codeA != 0 || codeB != 0 || codeC != 0 {
		t.Fatalf("mint failed: %s", errA)
	}
	if a != b {
		t.Error("two runs with the same --now and --seed differ")
	}
	if a == c {
		t.Error("another --seed gave the same response")
	}
	if !strings.Contains(a, `InResponseTo="_req1"`) {
		t.Error("--in-response-to is not in the response")
	}
}

// TestMintRefuses: bad input is a clear error naming the problem, never a
// panic, and nothing is written.
func TestMintRefuses(t *testing.T) {
	d := newDemoState(t)
	stale := d.loginRequest(t, demo.IndexAuthentication)
	tampered := filepath.Join(t.TempDir(), "tampered.url")
	u, _ := url.Parse(strings.TrimSpace(readFile(t, stale)))
	q := u.Query()
	q.Set("RelayState", "changed")
	u.RawQuery = q.Encode()
	if err := os.WriteFile(tampered, []byte(u.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(t.TempDir(), "garbage")
	if err := os.WriteFile(garbage, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"ACS not in the metadata", []string{"--acs", "https://evil.example/acs"}, "--acs"},
		{"unknown persona", []string{"--persona", "mallory"}, "--persona list"},
		{"bad clock", []string{"--now", "yesterday"}, "RFC 3339"},
		{"unknown attribute", []string{"--attributes", "firstName,shoeSize"}, `"shoeSize" is not an attribute`},
		{"sensitive without --encrypt", []string{"--attributes", "nin"}, "add --encrypt"},
		{"unknown SP", []string{"--sp", "https://nobody.example"}, "nobody.example"},
		{"stale request", []string{"--request", stale, "--now", "2020-01-01T00:00:00Z"}, "give --now near the time"},
		{"request with a broken signature", []string{"--request", tampered}, "the bridge would refuse it"},
		{"not a request", []string{"--request", garbage}, "not a Redirect URL"},
		{"request and --acs", []string{"--request", stale, "--acs", d.base + demo.PathSPACS}, "do not give both"},
		{"bad NameID format", []string{"--nameid-format", "kerberos"}, "--nameid-format"},
		{"--form and --base64", []string{"--form", "--base64"}, "exclude each other"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := d.mint(t, tc.args...)
			if code == 0 || out != "" {
				t.Fatalf("mint succeeded (%d), wrote %d bytes", code, len(out))
			}
			if !strings.Contains(errOut, tc.want) {
				t.Errorf("error %q does not say %q", errOut, tc.want)
			}
		})
	}
	// No SP metadata encryption key: the demo SP has one, so use an SP
	// without by taking the key out of its metadata.
	noEnc := filepath.Join(t.TempDir(), "noenc.xml")
	md := readFile(t, d.spFile)
	i, j := strings.Index(md, `<KeyDescriptor use="encryption"`), strings.Index(md, "</KeyDescriptor>")
	if i < 0 || j < 0 {
		t.Fatalf("the demo SP metadata has no KeyDescriptor to drop:\n%s", md)
	}
	j = i + strings.Index(md[i:], "</KeyDescriptor>") + len("</KeyDescriptor>")
	if err := os.WriteFile(noEnc, []byte(md[:i]+md[j:]), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"mint", "--state-dir", d.dir, "--base-url", d.base, "--sp-metadata", noEnc, "--encrypt"}, &out, &errOut)
	if code == 0 || !strings.Contains(errOut.String(), "no encryption key") {
		t.Errorf("--encrypt for an SP without a key: %d %q", code, errOut.String())
	}
}

// TestMintRefusesWhatTheBridgeRefuses: a captured request the bridge
// would not answer with a fresh itsme login is refused with the status
// the bridge would send: a passive one (only an SSO session can serve
// it), and a Scoping the bridge cannot honour (server.CheckScoping, the
// bridge's own rule). The same request without them is minted.
func TestMintRefusesWhatTheBridgeRefuses(t *testing.T) {
	d := newDemoState(t)
	write := func(t *testing.T, u string) string {
		f := filepath.Join(t.TempDir(), "authnrequest.url")
		if err := os.WriteFile(f, []byte(u+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	passive, err := d.stack.SP.LoginURLWith(demo.IndexAuthentication, "", func(r *crewjam.AuthnRequest) {
		yes := true
		r.IsPassive = &yes
	})
	if err != nil {
		t.Fatal(err)
	}
	withSubject, err := d.stack.SP.LoginURLWith(demo.IndexAuthentication, "", func(r *crewjam.AuthnRequest) {
		r.Subject = &crewjam.Subject{NameID: &crewjam.NameID{Value: "other-user"}}
	})
	if err != nil {
		t.Fatal(err)
	}
	scoped := func(t *testing.T, scoping string) string {
		req, err := d.stack.SP.SAML.MakeAuthenticationRequest(d.base+server.PathSSO, crewjam.HTTPRedirectBinding, crewjam.HTTPPostBinding)
		if err != nil {
			t.Fatal(err)
		}
		doc := etree.NewDocument()
		doc.SetRoot(req.Element())
		if scoping != "" {
			sc, err := samltest.ParseElement([]byte(scoping))
			if err != nil {
				t.Fatal(err)
			}
			doc.Root().AddChild(sc)
		}
		raw, err := doc.WriteToBytes()
		if err != nil {
			t.Fatal(err)
		}
		q, err := samltest.RedirectQuery(raw, "", d.stack.SP.SAML.Key.(*rsa.PrivateKey), samltest.RSASHA256)
		if err != nil {
			t.Fatal(err)
		}
		return d.base + server.PathSSO + "?" + q
	}
	const ns = `xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"`
	tests := []struct {
		name, url, want string
	}{
		{"passive", passive, "IsPassive"},
		{"Subject", withSubject, "Responder/UnknownPrincipal"},
		{"ProxyCount 0", scoped(t, `<samlp:Scoping `+ns+` ProxyCount="0"/>`), "Responder/ProxyCountExceeded"},
		{"IDPList without the bridge", scoped(t, `<samlp:Scoping `+ns+`><samlp:IDPList><samlp:IDPEntry ProviderID="https://other-idp.example/"/></samlp:IDPList></samlp:Scoping>`), "Responder/NoSupportedIDP"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := d.mint(t, "--request", write(t, tc.url))
			if code == 0 || out != "" {
				t.Fatalf("mint succeeded (%d), wrote %d bytes", code, len(out))
			}
			if !strings.Contains(errOut, tc.want) {
				t.Errorf("error %q does not say %q", errOut, tc.want)
			}
		})
	}
	// The bridge's own entity ID in the IDPList, and a plain request, are
	// served.
	for _, u := range []string{
		scoped(t, `<samlp:Scoping `+ns+`><samlp:IDPList><samlp:IDPEntry ProviderID="`+d.base+server.PathMetadata+`"/></samlp:IDPList></samlp:Scoping>`),
		scoped(t, ""),
	} {
		if out, errOut, code := d.mint(t, "--request", write(t, u)); code != 0 || out == "" {
			t.Errorf("mint refused a request the bridge serves (%d): %s", code, errOut)
		}
	}
}

// TestMintNeedsKeys: a state directory without the demo's keys is
// refused with the way to make them.
func TestMintNeedsKeys(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"mint", "--state-dir", t.TempDir(), "--sp-metadata", "x.xml"}, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "run samlbridge demo --state-dir") {
		t.Errorf("code %d, %q", code, errOut.String())
	}
}

// TestSeededReader: the fixtures' reader is deterministic per seed and
// does not repeat its first block.
func TestSeededReader(t *testing.T) {
	a, b := make([]byte, 70), make([]byte, 70)
	_, _ = newSeededReader("x").Read(a)
	r := newSeededReader("x")
	_, _ = r.Read(b[:10])
	_, _ = r.Read(b[10:])
	if !bytes.Equal(a, b) {
		t.Error("reads of different sizes give different streams")
	}
	if bytes.Equal(a[:32], a[32:64]) {
		t.Error("the stream repeats")
	}
	c := make([]byte, 70)
	_, _ = newSeededReader("y").Read(c)
	if bytes.Equal(a, c) {
		t.Error("two seeds give one stream")
	}
}
