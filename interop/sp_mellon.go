//go:build interop

package interop

import (
	"bytes"
	"context"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/beevik/etree"

	"github.com/samlbridge/samlbridge/attributes"
)

func init() { registerSP(SPPeer{Name: "mellon", Start: startMellon}) }

// mellonFiles are the peer's files: apache2.conf is a Go template,
// whoami.py is copied as it is.
//
//go:embed peers/mellon
var mellonFiles embed.FS

const (
	// mellonApacheUser is who Apache's children, and so mod_auth_mellon
	// and the CGI, run as.
	mellonApacheUser = "www-data"
	// mellonPackage is the Debian package the peer comes from.
	mellonPackage = "libapache2-mod-auth-mellon"
	// mellonNameIDFormat is the NameID format the SP's metadata lists, and
	// so the one its AuthnRequests ask for.
	mellonNameIDFormat = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
)

// mellonConfig fills apache2.conf.
type mellonConfig struct {
	Dir             string
	Port            int
	IdPMetadataFile string
	Attributes      []mellonAttribute
}

// mellonAttribute is one MellonSetEnv line: the SAML attribute Name and
// the local name mellon exports it under (MELLON_<Env>).
type mellonAttribute struct {
	Name, Env string
}

// mellonSafeName is what an attribute Name may look like to be written
// into apache2.conf between quotes.
var mellonSafeName = regexp.MustCompile(`^[A-Za-z0-9._:/-]+$`)

// startMellon runs Debian's mod_auth_mellon in an Apache of its own on
// env.Port, set up with mellon_create_metadata, whose /protected/whoami
// CGI prints the Identity JSON from what mellon exported.
func startMellon(ctx context.Context, env *Env) (_ *RunningSP, err error) {
	version, err := mellonVersion(ctx)
	if err != nil {
		return nil, err
	}
	// mod_auth_mellon 0.18.1's children crash (SIGSEGV, one after the
	// other) on IdP metadata Lasso cannot load: refuse it here, clearly.
	if err := mellonCheckIdPMetadata(env.IdPMetadataFile); err != nil {
		return nil, err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", env.Port)
	entityID := base + "/mellon/metadata"
	cfg := mellonConfig{Dir: env.Dir, Port: env.Port, IdPMetadataFile: env.IdPMetadataFile}
	for _, d := range attributes.Definitions() {
		if !mellonSafeName.MatchString(d.Name) {
			return nil, fmt.Errorf("mellon: attribute name %q cannot go into apache2.conf as it is", d.Name)
		}
		cfg.Attributes = append(cfg.Attributes, mellonAttribute{Name: d.Name, Env: "attr_" + hex.EncodeToString([]byte(d.Name))})
	}
	md, err := mellonWriteConfig(ctx, cfg, entityID, base+"/mellon")
	if err != nil {
		return nil, err
	}
	encryption, err := mellonReadMetadata(md, entityID)
	if err != nil {
		return nil, fmt.Errorf("mellon: the metadata mellon_create_metadata wrote: %w", err)
	}

	// Apache in the foreground is the process StartProc started, in a
	// session of its own; on SIGTERM it stops its children and exits.
	var apache *Proc
	stop := func() error { return apache.Stop() }
	defer func() {
		if err != nil {
			_ = stop()
		}
	}()
	apacheLog := filepath.Join(env.Dir, "apache-error.log")
	apache, err = StartProc("apache2 (mellon)", env.Dir, env.Log, nil,
		"/usr/sbin/apache2", "-d", env.Dir, "-f", filepath.Join(env.Dir, "apache2.conf"), "-DFOREGROUND")
	if err != nil {
		return nil, fmt.Errorf("mellon: %w", err)
	}
	if err := WaitHTTP(ctx, base+"/mellon/metadata", 30*time.Second, apache); err != nil {
		return nil, fmt.Errorf("mellon: apache did not come up: %w\n%s", err, logTail(apacheLog, 20))
	}
	// mellon serves the metadata file it was given; make sure it loaded
	// its key and the bridge's metadata, which it does on first use.
	served, err := fetchOK(ctx, base+"/mellon/metadata")
	if err != nil {
		return nil, fmt.Errorf("mellon: its metadata endpoint: %w\n%s", err, logTail(apacheLog, 20))
	}
	if _, err := mellonReadMetadata(served, entityID); err != nil {
		return nil, fmt.Errorf("mellon: the metadata it serves: %w\n%s", err, logTail(apacheLog, 20))
	}
	return &RunningSP{
		Version:  version,
		EntityID: entityID,
		Metadata: md,
		LoginURL: base + "/protected/whoami",
		// Checked against a captured request: a Redirect AuthnRequest
		// signed with SigAlg rsa-sha256, with AssertionConsumerServiceURL
		// (the metadata's postResponse) but no ProtocolBinding, a
		// NameIDPolicy with the metadata's persistent format and
		// AllowCreate, Consent current-implicit, and no
		// RequestedAuthnContext.
		Request: RequestTraits{
			Signed: true, Binding: "redirect", ACSURL: true,
			NameIDPolicy: mellonNameIDFormat,
		},
		Encryption: encryption,
		Quirks: []string{
			"mellon exports attributes to CGI as MELLON_<Name> environment variables, whose names Apache reduces to " +
				"letters, digits and _ (nin.type becomes MELLON_nin_type): the peer maps each of the bridge's attribute " +
				"names to a hex-encoded local name with MellonSetEnv and the protected page decodes it back",
			"mellon exports the NameID's value (MELLON_NAME_ID) but not its Format: the protected page reads the " +
				"Format from the Lasso session mellon dumps (MellonSessionDump On)",
			"mellon_create_metadata writes no NameIDFormat, and Lasso then asks for transient NameIDs: the peer adds " +
				"persistent to the SP's metadata, as an SP that keeps its users would",
		},
		Stop: stop,
	}, nil
}

// mellonVersion asks dpkg: mod_auth_mellon itself reports no version.
func mellonVersion(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "dpkg-query", "-W", "-f", "${Version}", mellonPackage).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("mellon: dpkg-query %s: %w (is it installed?): %s", mellonPackage, err, out)
	}
	v := strings.TrimSpace(string(out))
	if v == "" {
		return "", fmt.Errorf("mellon: %s is not installed", mellonPackage)
	}
	return "mod_auth_mellon " + v, nil
}

// mellonWriteConfig generates the SP's key, certificate and metadata with
// mellon_create_metadata into cfg.Dir, instantiates apache2.conf and
// whoami.py there, and lets www-data, as which Apache's children run,
// read what mellon reads. It returns the SP metadata.
func mellonWriteConfig(ctx context.Context, cfg mellonConfig, entityID, endpoint string) ([]byte, error) {
	for _, d := range []string{cfg.Dir, filepath.Join(cfg.Dir, "run"), filepath.Join(cfg.Dir, "htdocs"), filepath.Join(cfg.Dir, "post")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("mellon: %w", err)
		}
	}
	// mellon's own tool: a 3072-bit RSA key, a self-signed certificate and
	// metadata, named after the entityID, in the working directory.
	cmd := exec.CommandContext(ctx, "/usr/sbin/mellon_create_metadata", entityID, endpoint)
	cmd.Dir = cfg.Dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("mellon: mellon_create_metadata: %w: %s", err, out)
	}
	stem := regexp.MustCompile(`_+`).ReplaceAllString(regexp.MustCompile(`[^0-9A-Za-z.]`).ReplaceAllString(entityID, "_"), "_")
	for ext, name := range map[string]string{".key": "sp.key", ".cert": "sp.cert", ".xml": "sp-metadata.xml"} {
		if err := os.Rename(filepath.Join(cfg.Dir, stem+ext), filepath.Join(cfg.Dir, name)); err != nil {
			return nil, fmt.Errorf("mellon: the files of mellon_create_metadata: %w", err)
		}
	}

	for _, f := range []struct {
		name     string
		mode     os.FileMode
		template bool
	}{
		{"apache2.conf", 0o644, true},
		{"whoami.py", 0o755, false},
	} {
		src, err := fs.ReadFile(mellonFiles, "peers/mellon/"+f.name)
		if err != nil {
			return nil, fmt.Errorf("mellon: template %s: %w", f.name, err)
		}
		if f.template {
			t, err := template.New(f.name).Option("missingkey=error").Parse(string(src))
			if err != nil {
				return nil, fmt.Errorf("mellon: template %s: %w", f.name, err)
			}
			var b strings.Builder
			if err := t.Execute(&b, cfg); err != nil {
				return nil, fmt.Errorf("mellon: template %s: %w", f.name, err)
			}
			src = []byte(b.String())
		}
		path := filepath.Join(cfg.Dir, f.name)
		if err := os.WriteFile(path, src, f.mode); err != nil {
			return nil, fmt.Errorf("mellon: %w", err)
		}
		if err := os.Chmod(path, f.mode); err != nil {
			return nil, fmt.Errorf("mellon: %w", err)
		}
	}

	// mod_auth_mellon loads the SP key and both metadata files in Apache's
	// children, on first use: the key (0600, from the tool's umask) becomes
	// www-data's, as do the directories mellon writes to.
	u, err := user.Lookup(mellonApacheUser)
	if err != nil {
		return nil, fmt.Errorf("mellon: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	for _, p := range []string{filepath.Join(cfg.Dir, "sp.key"), filepath.Join(cfg.Dir, "post")} {
		if err := os.Chown(p, uid, gid); err != nil {
			return nil, fmt.Errorf("mellon: %w", err)
		}
	}
	if err := os.Chmod(filepath.Join(cfg.Dir, "post"), 0o700); err != nil {
		return nil, fmt.Errorf("mellon: %w", err)
	}
	// www-data must reach cfg.Dir and the IdP metadata file: give search
	// permission, and nothing else, to each directory above them that
	// lacks it (test temp directories are 0700).
	for _, p := range []string{cfg.Dir, filepath.Dir(cfg.IdPMetadataFile)} {
		if err := allowSearch(p); err != nil {
			return nil, err
		}
	}
	return mellonAskPersistent(filepath.Join(cfg.Dir, "sp-metadata.xml"))
}

// mellonAskPersistent adds <NameIDFormat>persistent</NameIDFormat> to the
// metadata mellon_create_metadata wrote, where the schema wants it (before
// the AssertionConsumerService), and returns the metadata. Lasso's
// AuthnRequest asks for the first NameIDFormat of the SP's metadata, and
// for transient when there is none: an SP that keeps its users across
// logins, as most do, lists persistent.
func mellonAskPersistent(path string) ([]byte, error) {
	md, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("mellon: %w", err)
	}
	const acs = "<AssertionConsumerService "
	if bytes.Count(md, []byte(acs)) != 1 || bytes.Contains(md, []byte("NameIDFormat")) {
		return nil, fmt.Errorf("mellon: %s is not what mellon_create_metadata writes", path)
	}
	md = bytes.Replace(md, []byte(acs), []byte("<NameIDFormat>"+mellonNameIDFormat+"</NameIDFormat>\n    "+acs), 1)
	if err := os.WriteFile(path, md, 0o644); err != nil {
		return nil, fmt.Errorf("mellon: %w", err)
	}
	return md, nil
}

// mellonReadMetadata checks that md is the SP's metadata for entityID and
// reports whether it offers an encryption key (a KeyDescriptor with
// use="encryption" or no use).
func mellonReadMetadata(md []byte, entityID string) (encryption bool, err error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(md); err != nil {
		return false, fmt.Errorf("not XML: %w", err)
	}
	root := doc.Root()
	if root == nil || root.Tag != "EntityDescriptor" {
		return false, errors.New("no EntityDescriptor")
	}
	if got := root.SelectAttrValue("entityID", ""); got != entityID {
		return false, fmt.Errorf("entityID %q, want %q", got, entityID)
	}
	sp := root.FindElement("./SPSSODescriptor")
	if sp == nil {
		return false, errors.New("no SPSSODescriptor")
	}
	for _, kd := range sp.SelectElements("KeyDescriptor") {
		if use := kd.SelectAttrValue("use", ""); use == "" || use == "encryption" {
			encryption = true
		}
	}
	return encryption, nil
}

// mellonCheckIdPMetadata checks that path holds an EntityDescriptor with
// an IDPSSODescriptor, which is what mellon needs from it.
func mellonCheckIdPMetadata(path string) error {
	doc := etree.NewDocument()
	if err := doc.ReadFromFile(path); err != nil {
		return fmt.Errorf("mellon: the IdP metadata %s: %w", path, err)
	}
	if root := doc.Root(); root == nil || root.Tag != "EntityDescriptor" || root.FindElement("./IDPSSODescriptor") == nil {
		return fmt.Errorf("mellon: the IdP metadata %s has no EntityDescriptor with an IDPSSODescriptor", path)
	}
	return nil
}
