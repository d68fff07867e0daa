//go:build interop

package interop

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/beevik/etree"
)

func init() { registerSP(SPPeer{Name: "shibboleth", Start: startShibboleth}) }

// shibbolethFiles are the peer's templates: shibboleth2.xml, the loggers
// and apache2.conf are Go templates; attribute-map.xml and whoami.py are
// copied as they are.
//
//go:embed peers/shibboleth
var shibbolethFiles embed.FS

// shibApacheUser is who Apache's children, and so mod_shib and the CGI,
// run as.
const shibApacheUser = "www-data"

// shibConfig fills the templates.
type shibConfig struct {
	Dir             string
	Port            int
	ShibdPort       int
	EntityID        string
	IdPEntityID     string
	IdPMetadataFile string
}

// startShibboleth runs Debian's Shibboleth SP: shibd in the foreground on
// a loopback TCP listener, and Apache with mod_shib on env.Port, whose
// /protected/whoami CGI prints the Identity JSON from the attributes
// mod_shib exports.
func startShibboleth(ctx context.Context, env *Env) (_ *RunningSP, err error) {
	version, err := shibVersion(ctx)
	if err != nil {
		return nil, err
	}
	shibdPort, err := FreePort()
	if err != nil {
		return nil, fmt.Errorf("shibboleth: a port for shibd: %w", err)
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", env.Port)
	cfg := shibConfig{
		Dir: env.Dir, Port: env.Port, ShibdPort: shibdPort,
		EntityID: base + "/shibboleth", IdPEntityID: env.IdPEntityID, IdPMetadataFile: env.IdPMetadataFile,
	}
	if err := shibWriteConfig(ctx, cfg); err != nil {
		return nil, err
	}

	var shibd, apache *Proc
	stop := func() error {
		return errors.Join(apache.Stop(), shibd.Stop())
	}
	defer func() {
		if err != nil {
			_ = stop()
		}
	}()

	shibdLog := filepath.Join(env.Dir, "shibd.log")
	shibd, err = StartProc("shibd", env.Dir, env.Log, []string{"SHIBSP_LOGGING=" + filepath.Join(env.Dir, "shibd.logger")},
		"/usr/sbin/shibd", "-F", "-f", "-c", filepath.Join(env.Dir, "shibboleth2.xml"), "-p", filepath.Join(env.Dir, "shibd.pid"))
	if err != nil {
		return nil, fmt.Errorf("shibboleth: %w", err)
	}
	if err := shibWaitTCP(ctx, fmt.Sprintf("127.0.0.1:%d", shibdPort), 30*time.Second, shibd); err != nil {
		return nil, fmt.Errorf("shibboleth: shibd did not come up: %w\n%s", err, logTail(shibdLog, 20))
	}

	// shibd keeps running when, say, the IdP metadata does not load; it
	// only logs it. A clean start logs nothing worse than WARN.
	if errs := shibLogErrors(shibdLog); errs != "" {
		return nil, fmt.Errorf("shibboleth: shibd logged errors at startup:\n%s", errs)
	}

	apacheLog := filepath.Join(env.Dir, "apache-error.log")
	apache, err = StartProc("apache2", env.Dir, env.Log, []string{"SHIBSP_LOGGING=" + filepath.Join(env.Dir, "native.logger")},
		"/usr/sbin/apache2", "-d", env.Dir, "-f", filepath.Join(env.Dir, "apache2.conf"), "-DFOREGROUND")
	if err != nil {
		return nil, fmt.Errorf("shibboleth: %w", err)
	}
	if err := WaitHTTP(ctx, base+"/Shibboleth.sso/Metadata", 30*time.Second, apache); err != nil {
		return nil, fmt.Errorf("shibboleth: apache did not come up: %w\n%s\n%s", err,
			logTail(apacheLog, 20), logTail(filepath.Join(env.Dir, "native.log"), 20))
	}

	md, err := fetchOK(ctx, base+"/Shibboleth.sso/Metadata")
	if err != nil {
		return nil, fmt.Errorf("shibboleth: its metadata: %w\n%s\n%s", err,
			logTail(filepath.Join(env.Dir, "native.log"), 20), logTail(shibdLog, 20))
	}
	entityID, encryption, err := shibReadMetadata(md)
	if err != nil {
		return nil, fmt.Errorf("shibboleth: its metadata: %w", err)
	}
	if entityID != cfg.EntityID {
		return nil, fmt.Errorf("shibboleth: its metadata names entityID %q, configured %q", entityID, cfg.EntityID)
	}
	if err := os.WriteFile(filepath.Join(env.Dir, "sp-metadata.xml"), md, 0o644); err != nil {
		return nil, fmt.Errorf("shibboleth: %w", err)
	}
	return &RunningSP{
		Version:  version,
		EntityID: entityID,
		Metadata: md,
		LoginURL: base + "/protected/whoami",
		// Checked against a captured request: an unsigned Redirect
		// AuthnRequest with AssertionConsumerServiceURL and
		// ProtocolBinding POST, and a NameIDPolicy with AllowCreate but
		// no Format.
		Request:    RequestTraits{Signed: false, Binding: "redirect", ACSURL: true},
		Encryption: encryption,
		Quirks: []string{
			"Debian's stock attribute-map.xml maps none of the bridge's attribute names (it knows urn:oid: names, mostly " +
				"commented out): the peer ships its own map, one <Attribute name=\"firstName\" .../> per name; the missing " +
				"NameFormat needs no nameFormat in the map",
			"mod_shib exports attributes to CGI as environment variables, whose names Apache reduces to letters, digits " +
				"and _ (ids are sb_<name>, nin.type becomes sb_nin_type); the protected page maps them back through the attribute map",
		},
		Stop: stop,
	}, nil
}

// shibVersion asks shibd, which answers "shibboleth 3.4.1".
func shibVersion(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "/usr/sbin/shibd", "-v").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("shibboleth: shibd -v: %w (is libapache2-mod-shib installed?): %s", err, out)
	}
	f := strings.Fields(string(out))
	if len(f) < 2 {
		return "", fmt.Errorf("shibboleth: shibd -v printed %q", out)
	}
	return "Shibboleth SP " + f[len(f)-1], nil
}

// shibWriteConfig instantiates the templates into cfg.Dir, generates the
// SP's signing and encryption keys there, and makes what Apache's children
// read (as www-data) readable to them. The private keys stay root's: only
// shibd, which runs as root, uses them.
func shibWriteConfig(ctx context.Context, cfg shibConfig) error {
	for _, d := range []string{cfg.Dir, filepath.Join(cfg.Dir, "run"), filepath.Join(cfg.Dir, "htdocs")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("shibboleth: %w", err)
		}
	}
	for _, f := range []struct {
		name     string
		mode     os.FileMode
		template bool
	}{
		{"shibboleth2.xml", 0o644, true},
		{"shibd.logger", 0o644, true},
		{"native.logger", 0o644, true},
		{"apache2.conf", 0o644, true},
		{"attribute-map.xml", 0o644, false},
		{"whoami.py", 0o755, false},
	} {
		src, err := fs.ReadFile(shibbolethFiles, "peers/shibboleth/"+f.name)
		if err != nil {
			return fmt.Errorf("shibboleth: template %s: %w", f.name, err)
		}
		if f.template {
			t, err := template.New(f.name).Option("missingkey=error").Parse(string(src))
			if err != nil {
				return fmt.Errorf("shibboleth: template %s: %w", f.name, err)
			}
			var b strings.Builder
			if err := t.Execute(&b, cfg); err != nil {
				return fmt.Errorf("shibboleth: template %s: %w", f.name, err)
			}
			src = []byte(b.String())
		}
		path := filepath.Join(cfg.Dir, f.name)
		if err := os.WriteFile(path, src, f.mode); err != nil {
			return fmt.Errorf("shibboleth: %w", err)
		}
		if err := os.Chmod(path, f.mode); err != nil {
			return fmt.Errorf("shibboleth: %w", err)
		}
	}
	for _, use := range []string{"signing", "encrypt"} {
		// Shibboleth's own tool: a 3072-bit RSA key and a self-signed
		// certificate naming the entityID.
		cmd := exec.CommandContext(ctx, "/usr/sbin/shib-keygen", "-b", "-o", cfg.Dir, "-n", "sp-"+use,
			"-h", "127.0.0.1", "-e", cfg.EntityID, "-u", "root", "-g", "root")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("shibboleth: shib-keygen %s: %w: %s", use, err, out)
		}
	}

	// mod_shib's log file, written from Apache's children.
	u, err := user.Lookup(shibApacheUser)
	if err != nil {
		return fmt.Errorf("shibboleth: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	nativeLog := filepath.Join(cfg.Dir, "native.log")
	if err := os.WriteFile(nativeLog, nil, 0o644); err != nil {
		return fmt.Errorf("shibboleth: %w", err)
	}
	if err := os.Chown(nativeLog, uid, gid); err != nil {
		return fmt.Errorf("shibboleth: %w", err)
	}
	// www-data must be able to reach cfg.Dir: give search permission, and
	// nothing else, on every directory above it that lacks it (test temp
	// directories are 0700). mod_shib does not read the IdP metadata, the
	// keys or anything else outside cfg.Dir.
	if err := allowSearch(cfg.Dir); err != nil {
		return err
	}
	return nil
}

// shibWaitTCP waits until addr accepts a connection, p exits, or timeout.
func shibWaitTCP(ctx context.Context, addr string, timeout time.Duration, p *Proc) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Close()
			return nil
		}
		if p.Exited() {
			return fmt.Errorf("%s exited before listening on %s: %v", p.Name, addr, p.err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not listening on %s within %s: %w", p.Name, addr, timeout, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// shibReadMetadata returns the SP metadata's entityID and whether it offers
// an encryption key (a KeyDescriptor with use="encryption" or no use).
func shibReadMetadata(md []byte) (entityID string, encryption bool, err error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(md); err != nil {
		return "", false, fmt.Errorf("not XML: %w", err)
	}
	root := doc.Root()
	if root == nil || root.Tag != "EntityDescriptor" {
		return "", false, errors.New("no EntityDescriptor")
	}
	sp := root.FindElement("./SPSSODescriptor")
	if sp == nil {
		return "", false, errors.New("no SPSSODescriptor")
	}
	for _, kd := range sp.SelectElements("KeyDescriptor") {
		if use := kd.SelectAttrValue("use", ""); use == "" || use == "encryption" {
			encryption = true
		}
	}
	return root.SelectAttrValue("entityID", ""), encryption, nil
}

// shibLogErrors returns the ERROR, CRIT and FATAL lines of a log4shib log.
func shibLogErrors(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(%s: %v)", filepath.Base(path), err)
	}
	var bad []string
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) > 2 && (f[2] == "ERROR" || f[2] == "CRIT" || f[2] == "FATAL") {
			bad = append(bad, l)
		}
	}
	return strings.Join(bad, "\n")
}
