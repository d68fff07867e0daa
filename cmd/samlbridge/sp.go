package main

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/samlbridge/samlbridge/attributes"
	"github.com/samlbridge/samlbridge/metadata"
	"github.com/samlbridge/samlbridge/metadata/remote"
	"github.com/samlbridge/samlbridge/saml"
)

// runSP dispatches "samlbridge sp list" and "samlbridge sp add".
func runSP(ctx context.Context, args []string, stdout, stderr io.Writer, env toolEnv) error {
	if len(args) == 0 {
		return usageError{errors.New("sp needs a subcommand: list or add")}
	}
	switch args[0] {
	case "list":
		return runSPList(ctx, args[1:], stdout, stderr, env)
	case "add":
		return runSPAdd(ctx, args[1:], stdout, stderr, env)
	}
	return usageError{fmt.Errorf("unknown sp subcommand %q (want list or add)", args[0])}
}

// spRow is one registered SP and where it comes from.
type spRow struct {
	sp     *metadata.ServiceProvider
	source string
}

// runSPList prints one line per SP registered by the configuration, from
// every source; MDQ services are named but not listed (they are queried
// per entity ID). A metadata URL that cannot be fetched makes it fail,
// naming the URL, after printing what did load.
func runSPList(ctx context.Context, args []string, stdout, stderr io.Writer, env toolEnv) error {
	fs := newFlagSet("sp list", stderr)
	path := fs.String("config", "", "YAML configuration file")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if *path == "" || fs.NArg() > 0 {
		return usageError{errors.New("sp list needs --config FILE and no other argument")}
	}
	now := env.now()
	r, err := loadConfigAt(*path, now)
	if err != nil {
		return err
	}
	rows, notes, errs := registeredSPs(ctx, r, now)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ENTITY ID\tSOURCE\tACS\tSIGNED REQUESTS\tENCRYPTION\tATTRIBUTES\tCERT EXPIRY")
	for _, row := range rows {
		sp := row.sp
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\n", sp.EntityID, row.source, len(sp.ACS)+len(sp.ArtifactACS),
			requestSigning(sp, r.Config.SAML.WantAuthnRequestsSigned), encryptionSummary(sp), listOrDash(sp.AllowedAttributes), certExpiry(sp, now))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range notes {
		fmt.Fprintln(stdout, n)
	}
	if len(errs) > 0 {
		return fmt.Errorf("some service provider metadata did not load:\n%s", indent(errors.Join(errs...).Error()))
	}
	return nil
}

// registeredSPs lists r's SPs in configuration order with their source:
// files (as resolved), metadata URLs (fetched once now) and, as notes,
// the MDQ services. errs names each metadata URL that failed.
func registeredSPs(ctx context.Context, r *Resolved, now time.Time) (rows []spRow, notes []string, errs []error) {
	byID := make(map[string]*metadata.ServiceProvider, len(r.SPs))
	for _, sp := range r.SPs {
		byID[sp.EntityID] = sp
	}
	srcs := r.Sources
	for i, spc := range r.Config.ServiceProviders {
		where := fmt.Sprintf("service_providers[%d]", i)
		switch {
		case spc.MetadataFile != "":
			data, err := os.ReadFile(r.Config.path(spc.MetadataFile))
			if err != nil {
				errs = append(errs, fmt.Errorf("%s.metadata_file %s: %w", where, spc.MetadataFile, err))
				continue
			}
			// The entity IDs of this file, parsed as Resolve did; the SPs
			// themselves (policy applied) come from r.
			parsed, err := metadata.ParseServiceProviders(data, metadata.ParseOptions{AllowInsecureACS: spc.AllowInsecureACS, Now: func() time.Time { return now }})
			if err != nil {
				errs = append(errs, fmt.Errorf("%s.metadata_file %s: %w", where, spc.MetadataFile, err))
				continue
			}
			for _, p := range parsed {
				if sp := byID[p.EntityID]; sp != nil {
					rows = append(rows, spRow{sp: sp, source: "file " + spc.MetadataFile})
				}
			}
		case spc.MetadataURL != "":
			if len(srcs) == 0 {
				continue
			}
			src := srcs[0]
			srcs = srcs[1:]
			if err := src.Refresh(ctx); err != nil {
				errs = append(errs, fmt.Errorf("%s.metadata_url: %w", where, err))
			}
			for _, sp := range src.ServiceProviders() {
				rows = append(rows, spRow{sp: sp, source: "url " + src.URL()})
			}
		case spc.MDQURL != "":
			notes = append(notes, fmt.Sprintf("%s: mdq %s: SPs are looked up on demand by entity ID, so none are listed here", where, spc.MDQURL))
		}
	}
	return rows, notes, errs
}

// requestSigning says whether the bridge requires the SP's AuthnRequests
// to be signed, and why.
func requestSigning(sp *metadata.ServiceProvider, bridgeWants bool) string {
	switch {
	case sp.AuthnRequestsSigned:
		return "required (metadata)"
	case bridgeWants:
		return "required (bridge)"
	case len(sp.SigningCerts) > 0:
		return "optional"
	}
	return "no (no signing key)"
}

// encryptionSummary says whether assertions to sp are encrypted, and how.
func encryptionSummary(sp *metadata.ServiceProvider) string {
	if len(sp.EncryptionCerts) == 0 {
		return "no"
	}
	return shortAlg(saml.ChooseCipher(sp.EncryptionMethods))
}

// shortAlg is the fragment of an algorithm URI (aes256-gcm).
func shortAlg(uri string) string {
	if i := strings.LastIndexByte(uri, '#'); i >= 0 {
		return uri[i+1:]
	}
	return uri
}

// certExpiry is the earliest NotAfter of sp's certificates, marked when
// it has passed.
func certExpiry(sp *metadata.ServiceProvider, now time.Time) string {
	var first time.Time
	for _, c := range slices.Concat(sp.SigningCerts, sp.EncryptionCerts) {
		if first.IsZero() || c.NotAfter.Before(first) {
			first = c.NotAfter
		}
	}
	switch {
	case first.IsZero():
		return "-"
	case first.Before(now):
		return first.UTC().Format(time.DateOnly) + " (expired)"
	}
	return first.UTC().Format(time.DateOnly)
}

func listOrDash(l []string) string {
	if len(l) == 0 {
		return "-"
	}
	return strings.Join(l, ",")
}

// spAddFlags are the options of "samlbridge sp add".
type spAddFlags struct {
	config           string
	attributes       string
	release          string
	profile          string
	allowInsecureACS bool
	signingCert      string
}

// runSPAdd validates an SP's metadata (a file or a URL) with the bridge's
// parser and rules, and prints what the bridge will do with the SP and the
// YAML to register it. It never modifies the configuration file.
func runSPAdd(ctx context.Context, args []string, stdout, stderr io.Writer, env toolEnv) error {
	fs := newFlagSet("sp add", stderr)
	var f spAddFlags
	fs.StringVar(&f.config, "config", "", "YAML configuration file (optional): its rules apply")
	fs.StringVar(&f.attributes, "attributes", "", "comma-separated attributes the SP may receive (default: the Authentication set, name,firstName,lastName)")
	fs.StringVar(&f.release, "release", "", "comma-separated attributes released when the SP asks for none (a subset of --attributes)")
	fs.StringVar(&f.profile, "attribute-profile", "", "attribute vocabulary: default, oid or microsoft")
	fs.BoolVar(&f.allowInsecureACS, "allow-insecure-acs", false, "accept http:// ACS URLs on loopback hosts")
	fs.StringVar(&f.signingCert, "metadata-signing-cert", "", "PEM certificate the metadata at a URL must be signed with")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError{errors.New("sp add needs exactly one metadata file or URL")}
	}
	source := pos[0]
	now := env.now()
	var r *Resolved
	if f.config != "" {
		if r, err = loadConfigAt(f.config, now); err != nil {
			return err
		}
	}
	spc := SPConfig{AllowInsecureACS: f.allowInsecureACS, AttributeProfile: f.profile,
		Attributes: splitList(f.attributes), Release: splitList(f.release)}
	if spc.Attributes == nil {
		spc.Attributes = attributes.AuthenticationSet()
	}
	isURL := strings.HasPrefix(source, "https://") || strings.HasPrefix(source, "http://")
	if isURL {
		spc.MetadataURL = source
		if f.signingCert != "" {
			spc.MetadataSigningCertFiles = []string{f.signingCert}
		} else {
			spc.MetadataAllowUnsigned = true
		}
	} else {
		spc.MetadataFile = source
	}
	known := map[string]bool{}
	for _, d := range attributes.Definitions() {
		known[d.Name] = true
	}
	v := &validation{lines: lineIndex{}}
	policy := spc.policy("service_providers[new]", known, v)
	if len(v.errs) > 0 {
		return usageError{joinProblems(v.errs)}
	}

	var sps []*metadata.ServiceProvider
	if isURL {
		sps, err = fetchSPs(ctx, spc, f.signingCert, env)
	} else {
		var data []byte
		if data, err = os.ReadFile(source); err == nil {
			sps, err = metadata.ParseServiceProviders(data, metadata.ParseOptions{AllowInsecureACS: f.allowInsecureACS, Now: func() time.Time { return now }})
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", source, err)
	}

	var problems []error
	newSPs := 0
	for i, sp := range sps {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		registered := registeredAs(r, sp.EntityID)
		if registered != nil {
			// Already in the configuration: show what its own settings do.
			sp.AllowedAttributes, sp.DefaultRelease, sp.AttributeProfile = registered.AllowedAttributes, registered.DefaultRelease, registered.AttributeProfile
			sp.Signing, sp.SignatureAlgorithm = registered.Signing, registered.SignatureAlgorithm
		} else {
			newSPs++
			if err := policy(sp); err != nil {
				problems = append(problems, fmt.Errorf("entity %q: %w", sp.EntityID, err))
			}
		}
		describeSP(stdout, sp, r, registered != nil, now)
	}
	if len(problems) > 0 {
		return fmt.Errorf("the bridge would refuse this configuration:\n%s", indent(errors.Join(problems...).Error()))
	}
	fmt.Fprintln(stdout)
	if newSPs == 0 {
		fmt.Fprintln(stdout, "Configuration: already registered, nothing to add; nothing was written.")
		return nil
	}
	fmt.Fprintln(stdout, "Configuration: nothing was written. To register, paste this under service_providers: in the configuration file")
	fmt.Fprintln(stdout, "(a relative metadata_file is resolved against the configuration file's directory):")
	fmt.Fprint(stdout, spSnippet(spc, source, isURL))
	return nil
}

// fetchSPs fetches and checks SP metadata at spc's URL as a configured
// metadata_url would be (remote.Source: https or loopback http, signature
// when pinned, size and time limits). The policy is applied afterwards,
// so that its objections are reported rather than logged.
func fetchSPs(ctx context.Context, spc SPConfig, certFile string, env toolEnv) ([]*metadata.ServiceProvider, error) {
	trust := remote.Trust{AllowUnsigned: spc.MetadataAllowUnsigned, AllowInsecureACS: spc.AllowInsecureACS}
	if certFile != "" {
		cert, err := readCertificate(certFile)
		if err != nil {
			return nil, fmt.Errorf("--metadata-signing-cert %s: %w", certFile, err)
		}
		trust.Certificates = []*x509.Certificate{cert}
	}
	src, err := remote.NewSource(remote.SourceConfig{URL: spc.MetadataURL, Trust: trust, Client: env.client(), Now: env.Now,
		Policy: func(*metadata.ServiceProvider) error { return nil }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	if err := src.Refresh(ctx); err != nil {
		return nil, err
	}
	sps := src.ServiceProviders()
	if len(sps) == 0 {
		return nil, errors.New("the document holds no SAML 2.0 SP that is still valid")
	}
	return sps, nil
}

// registeredAs returns the SP with entityID among r's SPs from files and
// metadata URLs (as last loaded), or nil. MDQ is not asked.
func registeredAs(r *Resolved, entityID string) *metadata.ServiceProvider {
	if r == nil {
		return nil
	}
	for _, sp := range r.SPs {
		if sp.EntityID == entityID {
			return sp
		}
	}
	for _, src := range r.Sources {
		for _, sp := range src.ServiceProviders() {
			if sp.EntityID == entityID {
				return sp
			}
		}
	}
	return nil
}

// describeSP prints what the bridge does with sp.
func describeSP(w io.Writer, sp *metadata.ServiceProvider, r *Resolved, registered bool, now time.Time) {
	fmt.Fprintf(w, "entityID: %s\n", sp.EntityID)
	if registered {
		fmt.Fprintln(w, "  already registered in the configuration: its configured settings are shown")
	}
	if sp.ValidUntil.IsZero() {
		fmt.Fprintln(w, "  metadata validUntil: none")
	} else {
		fmt.Fprintf(w, "  metadata validUntil: %s\n", sp.ValidUntil.UTC().Format(time.RFC3339))
	}

	fmt.Fprintln(w, "\nAssertion consumer services (HTTP-POST and HTTP-Artifact; other bindings are ignored):")
	for _, e := range slices.Concat(sp.ACS, sp.ArtifactACS) {
		def := ""
		if e.IsDefault != nil {
			def = fmt.Sprintf(" isDefault=%t", *e.IsDefault)
		}
		fmt.Fprintf(w, "  index %d  %s  %s%s\n", e.Index, bindingName(e.Binding), e.Location, def)
	}
	if def, err := sp.ResolveACS("", nil, ""); err != nil {
		fmt.Fprintf(w, "  a request naming no ACS: refused (%v)\n", err)
	} else {
		fmt.Fprintf(w, "  a request naming no ACS is answered at: %s (index %d)\n", def.Location, def.Index)
	}
	if len(sp.ArtifactACS) > 0 && (r == nil || !r.Config.Artifact.Enabled) {
		fmt.Fprintln(w, "  HTTP-Artifact endpoints are used only when artifact.enabled is true")
	}

	fmt.Fprintln(w, "\nAuthnRequests:")
	bridgeWants := r != nil && r.Config.SAML.WantAuthnRequestsSigned
	switch {
	case sp.AuthnRequestsSigned:
		fmt.Fprintln(w, `  must be signed (its metadata says AuthnRequestsSigned="true")`)
	case bridgeWants:
		fmt.Fprintln(w, "  must be signed (saml.want_authn_requests_signed is true)")
	default:
		fmt.Fprintln(w, "  may be unsigned; a signature, when present, must verify")
	}
	if len(sp.SigningCerts) == 0 {
		fmt.Fprintln(w, "  no signing key in the metadata: signed requests cannot be verified")
	}
	for _, c := range sp.SigningCerts {
		fmt.Fprintf(w, "  verified with: %s\n", describeCert(c, now))
	}

	fmt.Fprintln(w, "\nAssertions:")
	if len(sp.EncryptionCerts) == 0 {
		fmt.Fprintln(w, "  not encrypted (no encryption key in the metadata)")
	} else {
		fmt.Fprintf(w, "  encrypted with %s, key transport rsa-oaep-mgf1p, to: %s\n", shortAlg(saml.ChooseCipher(sp.EncryptionMethods)), describeCert(sp.EncryptionCerts[0], now))
	}
	signing := sp.Signing
	if signing == "" {
		signing = "assertion"
	}
	alg := sp.SignatureAlgorithm
	if alg == "" {
		alg = saml.SignatureRSASHA256
	}
	fmt.Fprintf(w, "  signed: %s, with %s (WantAssertionsSigned=%t in its metadata)\n", signing, shortAlg(alg), sp.WantAssertionsSigned)

	fmt.Fprintln(w, "\nNameID:")
	fmt.Fprintf(w, "  formats in the metadata: %s\n", listOrNone(sp.NameIDFormats))
	if f, err := attributes.ChooseNameIDFormat(attributes.NameIDPolicy{}, sp.EntityID, sp.NameIDFormats, sp.AllowedAttributes); err != nil {
		fmt.Fprintf(w, "  a request without NameIDPolicy: refused (%v)\n", err)
	} else {
		fmt.Fprintf(w, "  a request without NameIDPolicy gets: %s\n", f)
	}

	fmt.Fprintln(w, "\nAttributes:")
	describeAttributes(w, sp)
}

// describeAttributes prints the SP's requested attributes and what the
// bridge releases to a request that asks for none itself, computed as
// the server does (attributes.RequestedProfile, then DefaultRelease, then
// the Authentication set, through attributes.Release).
func describeAttributes(w io.Writer, sp *metadata.ServiceProvider) {
	profile, err := attributes.ParseProfile(sp.AttributeProfile)
	if err != nil {
		fmt.Fprintf(w, "  attribute profile: %v\n", err)
		return
	}
	fmt.Fprintf(w, "  profile: %s\n", profile.Name())
	if len(sp.AttributeConsumingServices) == 0 {
		fmt.Fprintln(w, "  requested in the metadata: nothing (no AttributeConsumingService)")
	}
	for _, svc := range sp.AttributeConsumingServices {
		def := ""
		if svc.IsDefault != nil && *svc.IsDefault {
			def = " (isDefault)"
		}
		fmt.Fprintf(w, "  AttributeConsumingService index %d%s requests:\n", svc.Index, def)
		for _, ra := range svc.RequestedAttributes {
			required := ra.IsRequired != nil && *ra.IsRequired
			got := attributes.RequestedFromNames(profile, []attributes.Wanted{{Name: ra.Name, NameFormat: ra.NameFormat, FriendlyName: ra.FriendlyName, IsRequired: required}})
			to := "unknown to the bridge, ignored"
			if len(got.Names) == 1 {
				to = got.Names[0]
			}
			req := ""
			if required {
				req = ", required"
			}
			fmt.Fprintf(w, "    %s → %s%s\n", ra.Name, to, req)
		}
	}
	fmt.Fprintf(w, "  may receive (attributes:): %s\n", listOrNone(sp.AllowedAttributes))
	wanted, err := attributes.RequestedProfile(profile, sp.AttributeConsumingServices, nil)
	if err != nil {
		fmt.Fprintf(w, "  requested attributes: %v\n", err)
		return
	}
	requested, why := wanted.Names, "what its metadata requests"
	if len(requested) == 0 {
		requested, why = sp.DefaultRelease, "its release: setting"
	}
	if len(requested) == 0 {
		requested, why = attributes.AuthenticationSet(), "the default Authentication set"
	}
	release := attributes.Release(requested, sp.AllowedAttributes)
	fmt.Fprintf(w, "  released to a request that names no attributes (%s): %s\n", why, listOrNone(release))
	var withheld []string
	for _, n := range requested {
		if !slices.Contains(release, n) {
			withheld = append(withheld, n)
		}
	}
	if len(withheld) > 0 {
		fmt.Fprintf(w, "  withheld (not in attributes:): %s\n", strings.Join(withheld, ", "))
	}
}

// describeCert names a certificate for people: subject, SHA-256
// fingerprint and expiry. SP certificate dates are not enforced (the key
// is what is trusted, catalogue G13), so an expired one is only flagged.
func describeCert(c *x509.Certificate, now time.Time) string {
	sum := sha256.Sum256(c.Raw)
	exp := "expires " + c.NotAfter.UTC().Format(time.DateOnly)
	if c.NotAfter.Before(now) {
		exp = "EXPIRED on " + c.NotAfter.UTC().Format(time.DateOnly) + " (still used: SP certificate dates are not enforced; ask the SP to renew it)"
	}
	return fmt.Sprintf("%q, SHA-256 %X, %s", c.Subject.String(), sum[:8], exp)
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}

// splitList splits a comma-separated flag value; empty gives nil.
func splitList(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// spSnippet is the service_providers entry for spc in YAML.
func spSnippet(spc SPConfig, source string, isURL bool) string {
	var b strings.Builder
	if isURL {
		fmt.Fprintf(&b, "  - metadata_url: %s\n", yamlString(source))
		if len(spc.MetadataSigningCertFiles) > 0 {
			fmt.Fprintf(&b, "    metadata_signing_cert_files: [%s]\n", yamlString(spc.MetadataSigningCertFiles[0]))
		} else {
			b.WriteString("    metadata_allow_unsigned: true\n")
		}
	} else {
		fmt.Fprintf(&b, "  - metadata_file: %s\n", yamlString(source))
	}
	fmt.Fprintf(&b, "    attributes: [%s]\n", strings.Join(spc.Attributes, ", "))
	if len(spc.Release) > 0 {
		fmt.Fprintf(&b, "    release: [%s]\n", strings.Join(spc.Release, ", "))
	}
	if spc.AttributeProfile != "" {
		fmt.Fprintf(&b, "    attribute_profile: %s\n", spc.AttributeProfile)
	}
	if spc.AllowInsecureACS {
		b.WriteString("    allow_insecure_acs: true\n")
	}
	return b.String()
}

// yamlString quotes s for YAML when it needs it.
func yamlString(s string) string {
	if s == "" || strings.ContainsAny(s, ":#{}[],&*!|>'\"%@`\\ ") {
		return fmt.Sprintf("%q", s)
	}
	return s
}

// bindingName is the short name of a SAML binding URI (HTTP-POST).
func bindingName(uri string) string {
	return strings.TrimPrefix(uri, "urn:oasis:names:tc:SAML:2.0:bindings:")
}
