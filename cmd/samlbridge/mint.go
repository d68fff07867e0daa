package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/attributes"
	"github.com/samlbridge/samlbridge/authncontext"
	"github.com/samlbridge/samlbridge/certs"
	"github.com/samlbridge/samlbridge/demo"
	"github.com/samlbridge/samlbridge/itsme"
	"github.com/samlbridge/samlbridge/itsme/emulator"
	"github.com/samlbridge/samlbridge/metadata"
	"github.com/samlbridge/samlbridge/saml"
	"github.com/samlbridge/samlbridge/server"
)

// mintOptions are the flags of "samlbridge mint".
type mintOptions struct {
	config, stateDir, baseURL string
	sp                        string
	spMetadata                multiFlag
	persona                   string
	now                       string
	inResponseTo              string
	request                   string
	acs                       string
	attributes                string
	nameIDFormat              string
	relayState                string
	hasRelayState             bool
	out                       string
	form, base64, encrypt     bool
	seed                      string
}

// demoEmulatorPath is where the demo mounts its itsme emulator, below the
// base URL (demo's emulatorPathPrefix).
const demoEmulatorPath = "/v2"

// Files of the demo's state directory that mint reads (see demo.New).
const (
	stateIdPKey         = "idp-signing.key"
	stateIdPCert        = "idp-signing.crt"
	statePairwiseSecret = "pairwise-secret.hex"
	stateSubjectSecret  = "emulator-subject-secret.hex"
)

// runMint writes a signed SAML Response for an emulator persona, built by
// the bridge's own Responder (server.Responder), for offline SP testing.
func runMint(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseMintFlags(args, stderr)
	if err != nil {
		return err
	}
	if o.persona == "list" {
		for _, p := range emulator.DefaultPersonas() {
			fmt.Fprintf(stdout, "%-10s %s\n", p.ID, p.Label)
		}
		return nil
	}
	var rnd io.Reader = rand.Reader
	if o.seed != "" {
		rnd = newSeededReader(o.seed)
	}
	m, err := mint(ctx, o, rnd)
	if err != nil {
		return err
	}
	out, err := m.render(o, rnd)
	if err != nil {
		return err
	}
	if o.out == "" || o.out == "-" {
		if _, err := stdout.Write(out); err != nil {
			return fmt.Errorf("writing the response: %w", err)
		}
	} else if err := os.WriteFile(o.out, out, 0o644); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	fmt.Fprintln(stderr, m.summary())
	return nil
}

func parseMintFlags(args []string, stderr io.Writer) (*mintOptions, error) {
	o := &mintOptions{}
	fs := flag.NewFlagSet("mint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.config, "config", "", "YAML configuration: the IdP key, external URL and registered SPs")
	fs.StringVar(&o.stateDir, "state-dir", "", "the demo's state directory, instead of --config (its TEST keys and secrets)")
	fs.StringVar(&o.baseURL, "base-url", "http://127.0.0.1:8080", "with --state-dir: the demo's base URL")
	fs.StringVar(&o.sp, "sp", "", "entity ID of the SP to answer")
	fs.Var(&o.spMetadata, "sp-metadata", "SP metadata XML file (repeatable); the SP may receive every attribute, as in the demo")
	fs.StringVar(&o.persona, "persona", "maxence", "emulator persona; \"list\" lists them")
	fs.StringVar(&o.now, "now", "", "the clock, RFC 3339 (default: now)")
	fs.StringVar(&o.inResponseTo, "in-response-to", "", "AuthnRequest ID to answer (default: unsolicited)")
	fs.StringVar(&o.request, "request", "", "captured AuthnRequest: a Redirect URL, a POST form body or its XML")
	fs.StringVar(&o.acs, "acs", "", "ACS URL, one of the SP's metadata (default: its default ACS)")
	fs.StringVar(&o.attributes, "attributes", "", "comma-separated attribute names to release (default: what the bridge would release)")
	fs.StringVar(&o.nameIDFormat, "nameid-format", "", "persistent, transient or email (default: the SP's preference)")
	fs.Func("relay-state", "RelayState to return with --form", func(s string) error {
		o.relayState, o.hasRelayState = s, true
		return nil
	})
	fs.StringVar(&o.out, "out", "", "file to write (default: standard output)")
	fs.BoolVar(&o.form, "form", false, "write the auto-POST HTML form instead of the XML")
	fs.BoolVar(&o.base64, "base64", false, "write the base64 SAMLResponse value instead of the XML")
	fs.BoolVar(&o.encrypt, "encrypt", false, "encrypt the assertion to the SP's metadata encryption key")
	fs.StringVar(&o.seed, "seed", "", "derive IDs and the SessionIndex from this seed, for reproducible fixtures (never for real use)")
	if err := fs.Parse(args); err != nil {
		return nil, usageError{err}
	}
	if fs.NArg() > 0 {
		return nil, usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if o.persona == "list" {
		return o, nil
	}
	var problems []string
	if (o.config == "") == (o.stateDir == "") {
		problems = append(problems, "give exactly one of --config FILE or --state-dir DIR")
	}
	if o.form && o.base64 {
		problems = append(problems, "--form and --base64 exclude each other")
	}
	if o.request != "" {
		for _, c := range []struct{ name, v string }{{"--in-response-to", o.inResponseTo}, {"--acs", o.acs}, {"--nameid-format", o.nameIDFormat}} {
			if c.v != "" {
				problems = append(problems, c.name+" comes from the --request; do not give both")
			}
		}
	}
	if o.stateDir != "" && len(o.spMetadata) == 0 {
		problems = append(problems, "with --state-dir, the SP comes from --sp-metadata FILE")
	}
	if o.sp == "" && o.request == "" && len(o.spMetadata) == 0 {
		problems = append(problems, "name the SP: --sp ENTITYID, --sp-metadata FILE or --request FILE")
	}
	if len(problems) > 0 {
		return nil, usageError{errors.New(strings.Join(problems, "; "))}
	}
	return o, nil
}

// mintEnv is what mint takes from the configuration or the demo's state
// directory: the same inputs the bridge's server gets.
type mintEnv struct {
	base           string // external URL, without the trailing slash
	signer         *saml.Signer
	pairwiseSecret []byte
	registry       metadata.Registry
	table          authncontext.Table
	wantSigned     bool
	defaultRelease []string
	upstreamIssuer string
	clientID       string
	subjectSecret  []byte
}

func loadMintEnv(ctx context.Context, o *mintOptions, now time.Time) (*mintEnv, error) {
	env := &mintEnv{table: authncontext.DefaultTable(), defaultRelease: attributes.AuthenticationSet()}
	if o.config != "" {
		cfg, err := LoadConfig(o.config)
		if err != nil {
			return nil, err
		}
		r, err := cfg.Resolve(now)
		if err != nil {
			return nil, fmt.Errorf("%s has problems:\n%s", o.config, indent(err.Error()))
		}
		if r.Remote != nil {
			if err := r.Remote.RefreshDue(ctx); err != nil {
				return nil, fmt.Errorf("fetching SP metadata: %w", err)
			}
		}
		env.base = strings.TrimSuffix(cfg.ExternalURL, "/")
		env.signer = &saml.Signer{Key: r.SAMLKey.Key, Certs: []*x509.Certificate{r.SAMLKey.Cert}}
		env.pairwiseSecret = r.Secret
		env.registry = r.SPRegistry
		if r.AuthnContexts != nil {
			env.table = *r.AuthnContexts
		}
		env.wantSigned = cfg.SAML.WantAuthnRequestsSigned
		env.upstreamIssuer, env.clientID = cfg.Itsme.Issuer, cfg.Itsme.ClientID
		// Real itsme gives personas no subject: derive a stable one that
		// no real user can have.
		sum := sha256.Sum256(append([]byte("samlbridge mint: persona subjects\x00"), r.Secret...))
		env.subjectSecret = sum[:]
		return env, nil
	}
	u, err := url.Parse(o.baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageError{fmt.Errorf("--base-url %q is not an absolute http(s) URL", o.baseURL)}
	}
	env.base = strings.TrimSuffix(o.baseURL, "/")
	kp, err := certs.LoadFiles(filepath.Join(o.stateDir, stateIdPKey), filepath.Join(o.stateDir, stateIdPCert))
	if err != nil {
		return nil, fmt.Errorf("--state-dir %s has no demo IdP key (run samlbridge demo --state-dir %s once): %w", o.stateDir, o.stateDir, err)
	}
	env.signer = &saml.Signer{Key: kp.Key, Certs: []*x509.Certificate{kp.Cert}}
	if env.pairwiseSecret, err = readHexSecret(filepath.Join(o.stateDir, statePairwiseSecret)); err != nil {
		return nil, err
	}
	if env.subjectSecret, err = readHexSecret(filepath.Join(o.stateDir, stateSubjectSecret)); err != nil {
		return nil, err
	}
	env.upstreamIssuer, env.clientID = env.base+demoEmulatorPath, demo.ClientID
	return env, nil
}

func readHexSecret(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("demo state: %w", err)
	}
	b, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(b) < 32 {
		return nil, fmt.Errorf("demo state: %s is not a 32-byte hex secret", path)
	}
	return b, nil
}

// minted is a built Response and what it was built for.
type minted struct {
	answer     *server.Answer
	sp         string
	acs        string
	requestID  string
	persona    string
	relayState string
	hasRelay   bool
	// withheld are sensitive attributes left out because the Response is
	// not encrypted.
	withheld []string
}

// mint builds the Response o describes with the bridge's Responder, after
// taking the decisions the bridge takes for a login (server/login.go):
// the ACS from the SP's metadata, the released attributes, the NameID
// format and the authentication context class.
func mint(ctx context.Context, o *mintOptions, rnd io.Reader) (*minted, error) {
	now := time.Now().UTC().Truncate(time.Second)
	if o.now != "" {
		t, err := time.Parse(time.RFC3339, o.now)
		if err != nil {
			return nil, usageError{fmt.Errorf("--now %q is not an RFC 3339 time: %w", o.now, err)}
		}
		now = t.UTC()
	}
	clock := func() time.Time { return now }
	persona, ok := findPersona(o.persona)
	if !ok {
		return nil, usageError{fmt.Errorf("--persona %q is not an emulator persona (--persona list)", o.persona)}
	}
	env, err := loadMintEnv(ctx, o, now)
	if err != nil {
		return nil, err
	}
	if len(o.spMetadata) > 0 {
		if env.registry, err = registryFromFiles(o.spMetadata, clock); err != nil {
			return nil, err
		}
	}

	var (
		sp              *metadata.ServiceProvider
		acs             crewjam.IndexedEndpoint
		requestID       string
		requested       []saml.RequestedAttribute
		acsIndex        *int
		rac             *authncontext.Requested
		policy          attributes.NameIDPolicy
		relay, hasRelay = o.relayState, o.hasRelayState
	)
	if o.request != "" {
		req, err := parseCapturedRequest(ctx, o.request, &saml.RequestParser{
			Registry: env.registry, SSOURL: env.base + server.PathSSO, WantAuthnRequestsSigned: env.wantSigned, Now: clock,
		})
		if err != nil {
			return nil, err
		}
		sp, acs, requestID, requested = req.SP, req.ACS, req.Request.ID, req.RequestedAttributes
		if o.sp != "" && o.sp != sp.EntityID {
			return nil, fmt.Errorf("--request was sent by %q, not by --sp %q", sp.EntityID, o.sp)
		}
		// What the bridge refuses before any login, mint refuses too.
		if se := server.CheckScoping(req.Scoping, env.base+server.PathMetadata, env.upstreamIssuer); se != nil {
			return nil, fmt.Errorf("--request: the bridge would answer with status %s: %s", se.Code(), se.Message)
		}
		if se := server.CheckSubject(req.Request.Subject != nil); se != nil {
			return nil, fmt.Errorf("--request: the bridge would answer with status %s: %s", se.Code(), se.Message)
		}
		if p := req.Request.IsPassive; p != nil && *p {
			return nil, errors.New("--request has IsPassive=\"true\": the bridge answers it from its SSO session when one proves what it asks, and with status Responder/NoPassive otherwise, never after a fresh itsme login, which is what mint makes; capture a request without IsPassive")
		}
		if v := req.Request.AttributeConsumingServiceIndex; v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 65535 {
				return nil, fmt.Errorf("--request: AttributeConsumingServiceIndex %q is not a valid index", v)
			}
			acsIndex = &n
		}
		if r := req.RequestedAuthnContext; r != nil {
			rac = &authncontext.Requested{Comparison: r.Comparison, ClassRefs: r.ClassRefs, DeclRefs: r.DeclRefs}
		}
		if np := req.Request.NameIDPolicy; np != nil {
			if np.Format != nil {
				policy.Format = *np.Format
			}
			if np.SPNameQualifier != nil {
				policy.SPNameQualifier = *np.SPNameQualifier
			}
		}
		if !hasRelay {
			relay, hasRelay = req.RelayState, req.HasRelayState
		}
	} else {
		if sp, err = chooseSP(ctx, env.registry, o.sp); err != nil {
			return nil, err
		}
		// As the bridge: only an ACS of the SP's metadata, byte for byte.
		if acs, err = sp.ResolveACS(o.acs, nil, ""); err != nil {
			return nil, fmt.Errorf("--acs: %w", err)
		}
		requestID = o.inResponseTo
		if policy.Format, err = nameIDFormatFlag(o.nameIDFormat); err != nil {
			return nil, err
		}
	}
	if acs.Binding != crewjam.HTTPPostBinding {
		return nil, fmt.Errorf("the ACS %s is an HTTP-Artifact endpoint; mint writes HTTP-POST responses only", acs.Location)
	}
	if hasRelay {
		if err := saml.CheckRelayState(relay); err != nil {
			return nil, fmt.Errorf("--relay-state: %w", err)
		}
	}

	release, err := releaseFor(o, sp, requested, acsIndex, env.defaultRelease)
	if err != nil {
		return nil, err
	}
	sp = withEncryption(sp, o.encrypt)
	if o.encrypt && len(sp.EncryptionCerts) == 0 {
		return nil, fmt.Errorf("--encrypt: the metadata of %s has no encryption key", sp.EntityID)
	}
	// The bridge sends sensitive attributes (nin, ...) only encrypted
	// ("samlbridge check" refuses an SP entitled to them without a key).
	var withheld []string
	if !o.encrypt {
		kept := release[:0:0]
		for _, n := range release {
			if d, _ := attributes.Lookup(n); !d.Sensitive {
				kept = append(kept, n)
				continue
			}
			if o.attributes != "" {
				return nil, fmt.Errorf("attribute %s is sensitive: the bridge sends it to an SP only encrypted; add --encrypt or leave it out of --attributes", n)
			}
			withheld = append(withheld, n)
		}
		release = kept
	}
	class, err := env.table.Resolve(rac)
	if err != nil {
		return nil, fmt.Errorf("the RequestedAuthnContext cannot be served (the bridge would answer NoAuthnContext or RequestUnsupported): %w", err)
	}
	format, err := attributes.ChooseNameIDFormat(policy, sp.EntityID, sp.NameIDFormats, sp.AllowedAttributes)
	if err != nil {
		return nil, fmt.Errorf("the NameID policy cannot be served (the bridge would answer InvalidNameIDPolicy): %w", err)
	}

	id := &itsme.Identity{
		Issuer:   env.upstreamIssuer,
		Subject:  emulator.PairwiseSubject(env.subjectSecret, persona.ID, env.clientID),
		ACR:      class.ACR,
		AuthTime: now,
		Claims:   personaClaims(persona, env.upstreamIssuer),
	}
	rs := server.Responder{
		IDP:             &saml.IDP{EntityID: env.base + server.PathMetadata, Signer: env.signer, Now: clock, Rand: rnd},
		PairwiseSecret:  env.pairwiseSecret,
		DefaultClassRef: env.table.Default,
		Rand:            rnd,
	}
	a, se := rs.Build(server.Success{
		SP: sp, ACSURL: acs.Location, RequestID: requestID, Unsolicited: requestID == "",
		NameIDFormat: format, Attributes: release, ClassRef: class.Ref, Identity: id,
	})
	if se != nil {
		return nil, fmt.Errorf("the bridge would answer with status %s: %s: %w", se.Code(), se.Message, se.Err)
	}
	return &minted{answer: a, sp: sp.EntityID, acs: acs.Location, requestID: requestID, persona: persona.ID,
		relayState: relay, hasRelay: hasRelay, withheld: withheld}, nil
}

// releaseFor is what the bridge releases to sp: --attributes when given
// (each must be known and allowed), else what the bridge itself would
// release (server.Release).
func releaseFor(o *mintOptions, sp *metadata.ServiceProvider, requested []saml.RequestedAttribute, index *int, fallback []string) ([]string, error) {
	if o.attributes != "" {
		var names, problems []string
		for _, n := range strings.Split(o.attributes, ",") {
			n = strings.TrimSpace(n)
			if _, ok := attributes.Lookup(n); !ok {
				problems = append(problems, fmt.Sprintf("%q is not an attribute of the contract", n))
			} else if !slices.Contains(sp.AllowedAttributes, n) {
				problems = append(problems, fmt.Sprintf("%s may not be released to %s (not in its attributes)", n, sp.EntityID))
			}
			names = append(names, n)
		}
		if len(problems) > 0 {
			return nil, fmt.Errorf("--attributes: %s", strings.Join(problems, "; "))
		}
		return attributes.Release(names, sp.AllowedAttributes), nil
	}
	release, _, se := server.Release(sp, requested, index, fallback)
	if se != nil {
		return nil, fmt.Errorf("the bridge would answer with status %s: %s: %w", se.Code(), se.Message, se.Err)
	}
	return release, nil
}

// withEncryption returns sp, or a copy without encryption keys when the
// Response is to be left unencrypted.
func withEncryption(sp *metadata.ServiceProvider, encrypt bool) *metadata.ServiceProvider {
	if encrypt {
		return sp
	}
	c := *sp
	c.EncryptionCerts = nil
	return &c
}

func nameIDFormatFlag(v string) (string, error) {
	switch v {
	case "":
		return "", nil
	case "persistent":
		return saml.NameIDFormatPersistent, nil
	case "transient":
		return saml.NameIDFormatTransient, nil
	case "email":
		return saml.NameIDFormatEmail, nil
	}
	return "", usageError{fmt.Errorf("--nameid-format %q: want persistent, transient or email", v)}
}

func findPersona(id string) (emulator.Persona, bool) {
	for _, p := range emulator.DefaultPersonas() {
		if p.ID == id {
			return p, true
		}
	}
	return emulator.Persona{}, false
}

// personaClaims are the claims the emulator at issuer releases for p: its
// picture is the emulator's picture endpoint.
func personaClaims(p emulator.Persona, issuer string) map[string]any {
	c := maps.Clone(p.Claims)
	if c["picture"] == emulator.PicturePlaceholder {
		c["picture"] = issuer + emulator.PathPicture
	}
	return c
}

// registryFromFiles registers the SPs of metadata files with the demo's
// policy: each may receive every attribute, and http ACS URLs are allowed
// on loopback hosts.
func registryFromFiles(files []string, now func() time.Time) (metadata.Registry, error) {
	var all []string
	for _, d := range attributes.Definitions() {
		all = append(all, d.Name)
	}
	var sps []*metadata.ServiceProvider
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("--sp-metadata: %w", err)
		}
		parsed, err := metadata.ParseServiceProviders(data, metadata.ParseOptions{AllowInsecureACS: true, Now: now})
		if err != nil {
			return nil, fmt.Errorf("--sp-metadata %s: %w", f, err)
		}
		for _, sp := range parsed {
			sp.AllowedAttributes = all
		}
		sps = append(sps, parsed...)
	}
	reg, err := metadata.NewStaticRegistry(sps...)
	if err != nil {
		return nil, fmt.Errorf("--sp-metadata: %w", err)
	}
	return &fileRegistry{StaticRegistry: reg, sps: sps}, nil
}

// fileRegistry is the registry of --sp-metadata files; it knows its SPs,
// so that a single one needs no --sp.
type fileRegistry struct {
	*metadata.StaticRegistry
	sps []*metadata.ServiceProvider
}

// chooseSP finds the SP named entityID, or the only SP of --sp-metadata.
func chooseSP(ctx context.Context, reg metadata.Registry, entityID string) (*metadata.ServiceProvider, error) {
	if entityID == "" {
		fr, ok := reg.(*fileRegistry)
		if !ok || len(fr.sps) != 1 {
			return nil, usageError{errors.New("--sp ENTITYID: the SP metadata describes several SPs")}
		}
		return fr.sps[0], nil
	}
	sp, err := reg.ServiceProvider(ctx, entityID)
	if err != nil {
		return nil, fmt.Errorf("--sp %q: %w", entityID, err)
	}
	return sp, nil
}

// parseCapturedRequest validates a captured AuthnRequest with the
// bridge's parser, as if it arrived at the SSO endpoint now. The file is
// a Redirect URL (GET), a POST form body, or the AuthnRequest XML (sent as
// an HTTP-POST message).
func parseCapturedRequest(ctx context.Context, path string, p *saml.RequestParser) (*saml.AuthnRequest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--request: %w", err)
	}
	r, err := capturedHTTPRequest(ctx, data)
	if err != nil {
		return nil, fmt.Errorf("--request %s: %w", path, err)
	}
	req, err := p.Parse(r)
	if err != nil {
		hint := ""
		if errors.Is(err, saml.ErrStaleRequest) {
			hint = " (give --now near the time it was captured)"
		}
		return nil, fmt.Errorf("--request %s: the bridge would refuse it%s: %w", path, hint, err)
	}
	return req, nil
}

// capturedHTTPRequest turns a captured AuthnRequest (read the way
// samlbridge decode reads its input) back into the request that carried
// it to the bridge.
func capturedHTTPRequest(ctx context.Context, data []byte) (*http.Request, error) {
	m, err := decodeInput(data)
	if err != nil {
		return nil, fmt.Errorf("not a Redirect URL, a POST form body (SAMLRequest=...) or AuthnRequest XML: %w", err)
	}
	if m.Field != fieldRequest {
		return nil, errors.New("not a Redirect URL, a POST form body (SAMLRequest=...) or AuthnRequest XML: it holds a SAMLResponse")
	}
	return m.request(ctx, "http://mint.invalid"+server.PathSSO)
}

// render is what mint writes: the XML, its base64, or the auto-POST form.
func (m *minted) render(o *mintOptions, rnd io.Reader) ([]byte, error) {
	switch {
	case o.base64:
		return []byte(base64.StdEncoding.EncodeToString(m.answer.Response) + "\n"), nil
	case o.form:
		w := &pageWriter{header: http.Header{}}
		f := saml.PostForm{URL: m.acs, Field: "SAMLResponse", Message: m.answer.Response, RelayState: m.relayState, HasRelayState: m.hasRelay}
		if err := f.Write(w, rnd); err != nil {
			return nil, fmt.Errorf("writing the form: %w", err)
		}
		return w.body.Bytes(), nil
	}
	return m.answer.Response, nil
}

func (m *minted) summary() string {
	to := "unsolicited"
	if m.requestID != "" {
		to = "InResponseTo " + m.requestID
	}
	enc := "signed"
	if m.answer.Encrypted {
		enc = "signed and encrypted"
	}
	s := fmt.Sprintf("minted a %s Response for persona %s to %s at %s (%s; NameID %s; attributes %s)",
		enc, m.persona, m.sp, m.acs, to, m.answer.NameIDFormat, strings.Join(m.answer.Released, ","))
	if len(m.withheld) > 0 {
		s += "; withheld without --encrypt: " + strings.Join(m.withheld, ",")
	}
	return s
}

// pageWriter collects what saml.PostForm writes.
type pageWriter struct {
	header http.Header
	body   bytes.Buffer
}

func (w *pageWriter) Header() http.Header         { return w.header }
func (w *pageWriter) Write(b []byte) (int, error) { return w.body.Write(b) }
func (w *pageWriter) WriteHeader(int)             {}

// seededReader is a deterministic byte stream: SHA-256(seed ‖ counter)
// blocks. It makes minted IDs reproducible for fixtures; it is no source
// of secrets.
type seededReader struct {
	seed []byte
	n    uint64
	buf  []byte
}

func newSeededReader(seed string) *seededReader { return &seededReader{seed: []byte(seed)} }

// Read implements io.Reader; it never fails.
func (r *seededReader) Read(p []byte) (int, error) {
	for i := range p {
		if len(r.buf) == 0 {
			h := sha256.New()
			h.Write(r.seed)
			_ = binary.Write(h, binary.BigEndian, r.n)
			r.n++
			r.buf = h.Sum(nil)
		}
		p[i], r.buf = r.buf[0], r.buf[1:]
	}
	return len(p), nil
}
