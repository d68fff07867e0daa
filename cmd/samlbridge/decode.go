package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/beevik/etree"
	crewjam "github.com/crewjam/saml"

	"github.com/samlbridge/samlbridge/internal/xmlsig"
	"github.com/samlbridge/samlbridge/metadata"
	"github.com/samlbridge/samlbridge/saml"
	"github.com/samlbridge/samlbridge/server"
)

// SAML namespaces decode looks for.
const (
	nsSAMLProtocol  = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsSAMLAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsXMLDSig       = "http://www.w3.org/2000/09/xmldsig#"
)

// errInvalid is decode's verdict on a message that fails a check.
var errInvalid = errors.New("the message is not valid")

// runDecode prints the kind of a SAML message, its XML and a verdict.
// With --config an AuthnRequest or logout message goes through the
// bridge's own parser (saml.RequestParser) configured as serve configures
// it; without, only the binding, well-formedness, the xmlguard limits and
// the SAML shape are checked. Exit status: 0 valid, 1 not valid, 2 for
// input holding no SAML message.
func runDecode(ctx context.Context, args []string, stdout, stderr io.Writer, env toolEnv) error {
	fs := newFlagSet("decode", stderr)
	path := fs.String("config", "", "YAML configuration file: check the message against the registered SPs")
	nowFlag := fs.String("now", "", "the time to check IssueInstant against (RFC 3339; default: now)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	now := env.now()
	if *nowFlag != "" {
		if now, err = time.Parse(time.RFC3339, *nowFlag); err != nil {
			return usageError{fmt.Errorf("--now: %w", err)}
		}
	}
	in, err := readInput(pos, env)
	if err != nil {
		return usageError{err}
	}
	m, err := decodeInput(in)
	if err != nil {
		return usageError{err}
	}
	var r *Resolved
	if *path != "" {
		if r, err = loadConfigAt(*path, now); err != nil {
			return err
		}
		if r.Remote != nil {
			if err := r.Remote.RefreshDue(ctx); err != nil {
				fmt.Fprintf(stderr, "samlbridge: some SP metadata URLs could not be fetched: %v\n", err)
			}
		}
	}
	v := decodeVerdict(ctx, m, r, now)
	writeDecoded(stdout, m, v)
	if !v.valid() {
		return errInvalid
	}
	return nil
}

// readInput reads the single positional argument, or standard input when
// it is "-" or absent, up to the input limit.
func readInput(pos []string, env toolEnv) ([]byte, error) {
	switch {
	case len(pos) > 1:
		return nil, errors.New("give one input (a URL, a form body, base64 or XML), or - for standard input")
	case len(pos) == 1 && pos[0] != "-":
		return []byte(pos[0]), nil
	}
	if env.Stdin == nil {
		return nil, errors.New("no input")
	}
	data, err := io.ReadAll(io.LimitReader(env.Stdin, maxInputBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading standard input: %w", err)
	}
	return data, nil
}

// checkResult is one line of a verdict.
type checkResult struct {
	name   string
	status string // "pass", "FAIL" or "-" (not checked)
	detail string
}

// verdict is what decode found out about a message.
type verdict struct {
	kind    string // root element, e.g. "AuthnRequest"
	against string // what it was checked against
	checks  []checkResult
	notes   []string
	// partial is true when checks were left out for want of a
	// configuration.
	partial bool
}

func (v *verdict) valid() bool {
	for _, c := range v.checks {
		if c.status == "FAIL" {
			return false
		}
	}
	return true
}

func (v *verdict) add(name, status, detail string) {
	v.checks = append(v.checks, checkResult{name: name, status: status, detail: detail})
}

// decodeVerdict checks m: against r's SPs when r is not nil.
func decodeVerdict(ctx context.Context, m *message, r *Resolved, now time.Time) *verdict {
	v := &verdict{kind: "unknown"}
	if err := saml.CheckMessageXML(m.XML); err != nil {
		v.add("XML", "FAIL", err.Error())
		return v
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(m.XML); err != nil || doc.Root() == nil {
		v.add("XML", "FAIL", fmt.Sprintf("parsing: %v", err))
		return v
	}
	root := doc.Root()
	v.kind = root.Tag
	if root.NamespaceURI() != nsSAMLProtocol {
		v.kind = fmt.Sprintf("{%s}%s", root.NamespaceURI(), root.Tag)
	}
	switch {
	case root.NamespaceURI() == nsSAMLProtocol && (root.Tag == "AuthnRequest" || root.Tag == "LogoutRequest" || root.Tag == "LogoutResponse"):
		parserVerdict(ctx, v, m, r, now)
	case root.NamespaceURI() == nsSAMLProtocol && root.Tag == "Response":
		responseVerdict(v, root, r)
	default:
		v.add("XML", "pass", "well-formed, within the bridge's XML limits")
		v.add("kind", "FAIL", "not a SAML 2.0 AuthnRequest, Response, LogoutRequest or LogoutResponse")
	}
	return v
}

// parserVerdict runs the bridge's own parser on m as the bridge would
// receive it, and reports each validation step. Without r the registry is
// empty: the steps up to the Issuer are the bridge's, the rest need a
// configuration.
func parserVerdict(ctx context.Context, v *verdict, m *message, r *Resolved, now time.Time) {
	base := "https://bridge.invalid"
	var registry metadata.Registry
	p := &saml.RequestParser{Now: func() time.Time { return now }}
	if r != nil {
		base = baseURL(r)
		registry = r.SPRegistry
		p.ArtifactBinding = r.Config.Artifact.Enabled
		p.WantAuthnRequestsSigned = r.Config.SAML.WantAuthnRequestsSigned
		v.against = fmt.Sprintf("the configuration of %s at %s", base, now.UTC().Format(time.RFC3339))
	} else {
		empty, err := metadata.NewStaticRegistry()
		if err != nil {
			v.add("setup", "FAIL", err.Error())
			return
		}
		registry = empty
	}
	p.Registry, p.SSOURL, p.SLOURL = registry, base+server.PathSSO, base+server.PathSLO
	endpoint := p.SSOURL
	if v.kind != "AuthnRequest" {
		endpoint = p.SLOURL
	}
	req, err := m.request(ctx, endpoint)
	if err != nil {
		v.add("setup", "FAIL", err.Error())
		return
	}

	steps := saml.Steps
	var details map[saml.Step]string
	if v.kind == "AuthnRequest" {
		var ar *saml.AuthnRequest
		if ar, err = p.Parse(req); err == nil {
			details = authnDetails(ar, now)
		}
	} else {
		steps = withoutStep(steps, saml.StepACS)
		var lm *saml.LogoutMessage
		if lm, err = p.ParseLogout(req); err == nil {
			details = logoutDetails(lm)
		}
	}
	failed := saml.Step(0)
	var re *saml.RequestError
	switch {
	case err == nil:
	case errors.As(err, &re) && re.Step != 0:
		failed = re.Step
	default:
		v.add("parser", "FAIL", err.Error())
		return
	}
	for _, s := range steps {
		switch {
		case failed == 0:
			v.add(s.String(), "pass", details[s])
		case s < failed:
			v.add(s.String(), "pass", "")
		case s == failed && s == saml.StepIssuer && r == nil:
			v.add(s.String(), "-", "not checked: give --config to check the message against the registered SPs")
			v.notes = append(v.notes, "Only the binding, the XML limits and the SAML shape were checked.")
			v.partial = true
			return
		case s == failed:
			v.add(s.String(), "FAIL", cause(re))
		default:
			v.add(s.String(), "-", "not checked: the bridge stops at the first failure")
		}
	}
	if v.kind == "AuthnRequest" && failed == 0 {
		v.notes = append(v.notes, "The bridge also refuses a request ID it has seen before; decode cannot tell (samlbridge replay can).")
	}
}

// cause is the detailed reason of a rejection, then the reason class.
func cause(re *saml.RequestError) string {
	if c := re.Cause(); c != nil {
		return fmt.Sprintf("%v (%v)", c, re.Reason)
	}
	return re.Error()
}

func withoutStep(steps []saml.Step, drop saml.Step) []saml.Step {
	var out []saml.Step
	for _, s := range steps {
		if s != drop {
			out = append(out, s)
		}
	}
	return out
}

// authnDetails says what each step of an accepted AuthnRequest found.
func authnDetails(ar *saml.AuthnRequest, now time.Time) map[saml.Step]string {
	d := map[saml.Step]string{
		saml.StepBinding: bindingName(ar.Binding),
		saml.StepXML:     "well-formed, within the bridge's XML limits, a SAML 2.0 AuthnRequest with ID " + ar.Request.ID,
		saml.StepIssuer:  ar.SP.EntityID + " is registered",
		saml.StepContent: "decoded from the verified bytes",
		saml.StepACS:     fmt.Sprintf("%s (%s, index %d)", ar.ACS.Location, bindingName(ar.ACS.Binding), ar.ACS.Index),
	}
	switch {
	case ar.Signed && ar.Binding == crewjam.HTTPRedirectBinding:
		d[saml.StepSignature] = "query signature verified with the SP's metadata"
	case ar.Signed:
		d[saml.StepSignature] = "XML signature verified with the SP's metadata"
	default:
		d[saml.StepSignature] = "unsigned, and no signature is required"
	}
	if ar.Request.Destination == "" {
		d[saml.StepDestination] = "absent (allowed on an unsigned request)"
	} else {
		d[saml.StepDestination] = ar.Request.Destination
	}
	d[saml.StepIssueInstant] = fmt.Sprintf("%s, within the window at %s", ar.Request.IssueInstant.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	d[saml.StepRelayState] = "absent"
	if ar.HasRelayState {
		d[saml.StepRelayState] = fmt.Sprintf("%d bytes, returned as received", len(ar.RelayState))
	}
	return d
}

// logoutDetails says what each step of an accepted logout message found.
func logoutDetails(lm *saml.LogoutMessage) map[saml.Step]string {
	d := map[saml.Step]string{
		saml.StepBinding:   bindingName(lm.Binding),
		saml.StepIssuer:    lm.SP.EntityID + " is registered",
		saml.StepSignature: "verified with the SP's metadata (logout messages must be signed)",
	}
	if lm.Request != nil {
		d[saml.StepDestination] = lm.Request.Destination
	} else {
		d[saml.StepDestination] = lm.Response.Destination
	}
	return d
}

// responseVerdict checks a Response with what the bridge has for them:
// the XML limits, that the bridge issued it, and its signatures against
// the bridge's signing certificates (it never receives Responses itself).
func responseVerdict(v *verdict, root *etree.Element, r *Resolved) {
	v.add("XML", "pass", "well-formed, within the bridge's XML limits")
	codes, msg := responseStatus(root)
	status := strings.Join(codes, " / ")
	if msg != "" {
		status += ": " + msg
	}
	v.add("Status", "pass", status)
	if r == nil {
		v.notes = append(v.notes, "Only the XML limits were checked; give --config to check the issuer and signatures.")
		v.partial = true
		return
	}
	base := baseURL(r)
	v.against = "the configuration of " + base
	issuer := ""
	if el := root.SelectElement("Issuer"); el != nil {
		issuer = strings.TrimSpace(el.Text())
	}
	if want := base + server.PathMetadata; issuer != want {
		v.add("Issuer", "FAIL", fmt.Sprintf("%q is not this bridge (%s)", issuer, want))
	} else {
		v.add("Issuer", "pass", issuer)
	}
	certs := append([]*x509.Certificate{r.SAMLKey.Cert}, r.SAMLAdditionalCerts...)
	signed := false
	for _, el := range append([]*etree.Element{root}, root.SelectElements("Assertion")...) {
		if sig := el.SelectElement("Signature"); sig == nil || sig.NamespaceURI() != nsXMLDSig {
			continue
		}
		signed = true
		if _, err := xmlsig.Verify(el, certs); err != nil {
			v.add(el.Tag+" signature", "FAIL", fmt.Sprintf("does not verify with the bridge's signing certificates: %v", err))
		} else {
			v.add(el.Tag+" signature", "pass", "verified with the bridge's signing certificate")
		}
	}
	if len(root.SelectElements("EncryptedAssertion")) > 0 {
		v.notes = append(v.notes, "The assertion is encrypted to the SP; decode cannot decrypt it.")
	}
	if !signed {
		v.add("signature", "FAIL", "neither the Response nor an assertion is signed")
	}
}

// responseStatus returns a Response's status codes, outermost first, and
// its StatusMessage.
func responseStatus(root *etree.Element) ([]string, string) {
	st := root.SelectElement("Status")
	if st == nil {
		return []string{"(no Status)"}, ""
	}
	var codes []string
	for sc := st.SelectElement("StatusCode"); sc != nil && len(codes) < 8; sc = sc.SelectElement("StatusCode") {
		codes = append(codes, strings.TrimPrefix(sc.SelectAttrValue("Value", ""), "urn:oasis:names:tc:SAML:2.0:status:"))
	}
	msg := ""
	if m := st.SelectElement("StatusMessage"); m != nil {
		msg = strings.TrimSpace(m.Text())
	}
	return codes, msg
}

// writeDecoded prints the message and the verdict.
func writeDecoded(w io.Writer, m *message, v *verdict) {
	fmt.Fprintf(w, "kind: %s (%s, %s)\n", v.kind, m.Form, m.Field)
	fmt.Fprintf(w, "binding: %s\n", bindingName(m.Binding))
	if m.HasRelayState {
		fmt.Fprintf(w, "RelayState: %q\n", m.RelayState)
	}
	if m.SigAlg != "" || m.QuerySigned {
		fmt.Fprintf(w, "query signature: SigAlg %s, Signature present: %t\n", m.SigAlg, m.QuerySigned)
	}
	fmt.Fprintln(w)
	w.Write(prettyXML(m.XML))
	fmt.Fprintln(w)
	if v.against != "" {
		fmt.Fprintf(w, "checked against %s:\n", v.against)
	} else {
		fmt.Fprintln(w, "checked without a configuration:")
	}
	for _, c := range v.checks {
		line := fmt.Sprintf("  %-4s  %s", c.status, c.name)
		if c.detail != "" {
			line += ": " + c.detail
		}
		fmt.Fprintln(w, line)
	}
	for _, n := range v.notes {
		fmt.Fprintln(w, n)
	}
	switch {
	case v.valid() && v.partial:
		fmt.Fprintln(w, "verdict: WELL-FORMED (not checked against any SP)")
	case v.valid():
		fmt.Fprintln(w, "verdict: VALID")
	default:
		fmt.Fprintln(w, "verdict: NOT VALID")
	}
}

// prettyXML indents data when it passes the bridge's XML checks, and
// returns it as given (made valid UTF-8) otherwise.
func prettyXML(data []byte) []byte {
	if saml.CheckMessageXML(data) == nil {
		doc := etree.NewDocument()
		doc.ReadSettings.PreserveCData = true
		if err := doc.ReadFromBytes(data); err == nil {
			doc.Indent(2)
			if out, err := doc.WriteToBytes(); err == nil {
				return out
			}
		}
	}
	s := strings.ToValidUTF8(string(data), "\uFFFD")
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return []byte(s)
}
