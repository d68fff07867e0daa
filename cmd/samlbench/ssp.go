package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/template"
	"time"

	"github.com/samlbridge/samlbridge/bench/simplesamlphp"
)

// Where Debian puts what the SimpleSAMLphp IdP needs; bench/install-simplesamlphp
// installs the packages.
const (
	sspRoot       = "/usr/share/simplesamlphp" // package simplesamlphp
	sspApache     = "/usr/sbin/apache2"        // package apache2
	sspModPHP     = "/usr/lib/apache2/modules/libphp8.2.so"
	sspApacheUser = "www-data" // Apache will not run its children as root
	sspInstaller  = "bench/install-simplesamlphp"
)

// sspAttributes are the static user's attributes, one value each, which
// the SimpleSAMLphp IdP releases (authsources.php reads them from
// bench.json).
var sspAttributes = map[string]string{
	"firstName":   "Maxence",
	"lastName":    "Legrand",
	"name":        "Maxence Legrand",
	"dateOfBirth": "1990-04-12",
	"itsmeEid":    "TEST-EID-0001",
	"uid":         "bench-user",
}

// sspNameIDFormat is the NameID format the SimpleSAMLphp IdP issues: a
// persistent, pairwise value derived from the uid attribute.
const sspNameIDFormat = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"

// sspSP is the one benchmark SP both IdPs serve.
type sspSP struct {
	EntityID string
	ACSURL   string // HTTP-POST ACS; the load generator never posts there, it reads the form
	CertPEM  []byte // the SP's signing certificate (for AuthnRequest signature checks if you enable them; may be unused)
}

// sspIdP is a running SimpleSAMLphp IdP under Apache.
type sspIdP struct {
	SSOURL      string // SingleSignOnService, HTTP-Redirect binding
	MetadataURL string // the IdP's metadata (entityID)
	EntityID    string
	CertPEM     []byte // the IdP's signing certificate

	dir      string
	cmd      *exec.Cmd
	done     chan struct{} // closed when Apache's parent has been reaped
	stopOnce sync.Once
	stopErr  error
}

// sspApacheConfig fills apache2.conf.tmpl.
type sspApacheConfig struct {
	Dir  string
	Port int
}

// startSimpleSAMLphpIdP writes the config into dir and starts Apache (setsid, its own config, listening on 127.0.0.1:port)
// running Debian's SimpleSAMLphp 1.19 with mod_php. keyPEM/certPEM is the IdP's RSA-2048 signing key pair (PKCS#8 or PKCS#1 PEM, given by the caller so both IdPs use the same key size).
//
// Everything Apache and SimpleSAMLphp read and write is under dir: the
// config in dir/config, logs in dir/logs, PHP sessions in dir/sessions.
// Apache's children run as www-data, so the directories holding dir get
// search permission for others where they lack it. ctx bounds the start
// only; the server runs until Stop.
func startSimpleSAMLphpIdP(ctx context.Context, dir string, port int, keyPEM, certPEM []byte, sp sspSP) (*sspIdP, error) {
	if err := sspCheckInstalled(); err != nil {
		return nil, err
	}
	if port <= 0 || port > 65535 {
		return nil, fmt.Errorf("simplesamlphp: bad port %d", port)
	}
	if sp.EntityID == "" || sp.ACSURL == "" {
		return nil, errors.New("simplesamlphp: the SP needs an entityID and an ACS URL")
	}
	if err := sspCheckKeyPair(keyPEM, certPEM); err != nil {
		return nil, err
	}
	spCertData := ""
	if len(sp.CertPEM) > 0 {
		block, _ := pem.Decode(sp.CertPEM)
		if block == nil || block.Type != "CERTIFICATE" {
			return nil, errors.New("simplesamlphp: the SP's certificate is not a PEM CERTIFICATE")
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return nil, fmt.Errorf("simplesamlphp: the SP's certificate: %w", err)
		}
		spCertData = base64.StdEncoding.EncodeToString(block.Bytes)
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("simplesamlphp: %w", err)
	}
	if strings.ContainsAny(dir, "\"\\ \t\n\r") {
		return nil, fmt.Errorf("simplesamlphp: %q cannot go into apache2.conf as it is", dir)
	}

	base := fmt.Sprintf("http://127.0.0.1:%d/", port)
	s := &sspIdP{
		SSOURL:      base + "saml2/idp/SSOService.php",
		MetadataURL: base + "saml2/idp/metadata.php",
		CertPEM:     bytes.Clone(certPEM),
		dir:         dir,
		done:        make(chan struct{}),
	}
	s.EntityID = s.MetadataURL // SimpleSAMLphp's own convention

	attrs := make(map[string][]string, len(sspAttributes))
	for name, value := range sspAttributes {
		attrs[name] = []string{value}
	}
	settings := map[string]any{
		"port":          port,
		"baseURL":       base,
		"dir":           dir,
		"secretSalt":    sspRandomHex(16),
		"adminPassword": sspRandomHex(16),
		"idpEntityID":   s.EntityID,
		"keyFile":       filepath.Join(dir, "idp.key"),
		"certFile":      filepath.Join(dir, "idp.crt"),
		"attributes":    attrs,
		"sp": map[string]string{
			"entityID": sp.EntityID,
			"acsURL":   sp.ACSURL,
			"certData": spCertData,
		},
	}
	if err := sspWriteConfig(dir, port, keyPEM, certPEM, settings); err != nil {
		return nil, err
	}

	stdout, err := os.OpenFile(filepath.Join(dir, "logs", "apache-stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("simplesamlphp: %w", err)
	}
	defer stdout.Close() // the child has its own copy
	s.cmd = exec.Command(sspApache, "-d", dir, "-f", filepath.Join(dir, "apache2.conf"), "-DFOREGROUND")
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = stdout, stdout
	// Its own session: Apache signals its whole process group on stop, and
	// the session is how CPUSeconds and RSS find its children.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("simplesamlphp: starting apache2: %w", err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()

	if err := s.waitUp(ctx, 30*time.Second); err != nil {
		stopErr := s.Stop()
		return nil, errors.Join(fmt.Errorf("simplesamlphp: apache did not come up: %w\n%s", err, s.logTails()), stopErr)
	}
	return s, nil
}

// sspCheckInstalled reports which Debian package is missing, if any.
func sspCheckInstalled() error {
	for _, f := range []struct{ path, pkg string }{
		{filepath.Join(sspRoot, "lib/_autoload.php"), "simplesamlphp"},
		{sspApache, "apache2"},
		{sspModPHP, "libapache2-mod-php8.2"},
	} {
		if _, err := os.Stat(f.path); err != nil {
			return fmt.Errorf("simplesamlphp: %s is not installed (run %s): %w", f.pkg, sspInstaller, err)
		}
	}
	return nil
}

// sspCheckKeyPair checks that keyPEM is an RSA private key (PKCS#8 or
// PKCS#1) whose public half is certPEM's.
func sspCheckKeyPair(keyPEM, certPEM []byte) error {
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return errors.New("simplesamlphp: the IdP key is not PEM")
	}
	var key *rsa.PrivateKey
	switch kb.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
		if err != nil {
			return fmt.Errorf("simplesamlphp: the IdP key: %w", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return fmt.Errorf("simplesamlphp: the IdP key is a %T, not RSA", k)
		}
		key = rk
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(kb.Bytes)
		if err != nil {
			return fmt.Errorf("simplesamlphp: the IdP key: %w", err)
		}
		key = k
	default:
		return fmt.Errorf("simplesamlphp: the IdP key is a PEM %q, want PRIVATE KEY or RSA PRIVATE KEY", kb.Type)
	}
	cb, _ := pem.Decode(certPEM)
	if cb == nil || cb.Type != "CERTIFICATE" {
		return errors.New("simplesamlphp: the IdP certificate is not a PEM CERTIFICATE")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return fmt.Errorf("simplesamlphp: the IdP certificate: %w", err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return errors.New("simplesamlphp: the IdP key and certificate do not match")
	}
	return nil
}

// sspWriteConfig lays out dir: apache2.conf, the IdP key pair, the
// SimpleSAMLphp config with bench.json, and the directories www-data
// writes to (logs, sessions, data, tmp).
func sspWriteConfig(dir string, port int, keyPEM, certPEM []byte, settings map[string]any) error {
	u, err := user.Lookup(sspApacheUser)
	if err != nil {
		return fmt.Errorf("simplesamlphp: %w", err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return fmt.Errorf("simplesamlphp: uid of %s: %w", sspApacheUser, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return fmt.Errorf("simplesamlphp: gid of %s: %w", sspApacheUser, err)
	}

	for _, d := range []string{dir, filepath.Join(dir, "config", "metadata"), filepath.Join(dir, "run")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("simplesamlphp: %w", err)
		}
	}
	for _, d := range []string{"logs", "sessions", "data", "tmp"} {
		p := filepath.Join(dir, d)
		if err := os.MkdirAll(p, 0o700); err != nil {
			return fmt.Errorf("simplesamlphp: %w", err)
		}
		if err := os.Chown(p, uid, gid); err != nil {
			return fmt.Errorf("simplesamlphp: %w", err)
		}
	}

	// The PHP files as they are; apache2.conf from its template.
	err = fs.WalkDir(simplesamlphp.Files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := simplesamlphp.Files.ReadFile(path)
		if err != nil {
			return err
		}
		if path == "apache2.conf.tmpl" {
			t, err := template.New(path).Option("missingkey=error").Parse(string(src))
			if err != nil {
				return err
			}
			var b bytes.Buffer
			if err := t.Execute(&b, sspApacheConfig{Dir: dir, Port: port}); err != nil {
				return err
			}
			return sspWriteFile(filepath.Join(dir, "apache2.conf"), b.Bytes(), 0o644)
		}
		return sspWriteFile(filepath.Join(dir, "config", filepath.FromSlash(path)), src, 0o644)
	})
	if err != nil {
		return fmt.Errorf("simplesamlphp: writing the config: %w", err)
	}
	js, err := json.MarshalIndent(settings, "", "  ")
	if err != nil {
		return fmt.Errorf("simplesamlphp: %w", err)
	}
	// bench.json holds the salt and the admin password: www-data's group
	// only.
	settingsFile := filepath.Join(dir, "config", "bench.json")
	if err := sspWriteFile(settingsFile, js, 0o640); err != nil {
		return err
	}
	if err := os.Chown(settingsFile, os.Getuid(), gid); err != nil {
		return fmt.Errorf("simplesamlphp: %w", err)
	}

	// The key is read by PHP in Apache's children: www-data's, 0600.
	if err := sspWriteFile(filepath.Join(dir, "idp.crt"), certPEM, 0o644); err != nil {
		return err
	}
	keyFile := filepath.Join(dir, "idp.key")
	if err := sspWriteFile(keyFile, keyPEM, 0o600); err != nil {
		return err
	}
	if err := os.Chown(keyFile, uid, gid); err != nil {
		return fmt.Errorf("simplesamlphp: %w", err)
	}
	return sspAllowSearch(dir)
}

// sspWriteFile writes data to path with exactly mode (whatever the umask,
// and over an earlier run's file).
func sspWriteFile(path string, data []byte, mode os.FileMode) error {
	if err := os.WriteFile(path, data, mode); err != nil {
		return fmt.Errorf("simplesamlphp: %w", err)
	}
	if err := os.Chmod(path, mode); err != nil {
		return fmt.Errorf("simplesamlphp: %w", err)
	}
	return nil
}

// sspAllowSearch gives others search (x) permission, and nothing more, on
// dir and each directory above it that lacks it, so that www-data can
// reach dir (temporary directories are 0700).
func sspAllowSearch(dir string) error {
	for p := dir; ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("simplesamlphp: %w", err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(p, fi.Mode().Perm()|0o001); err != nil {
				return fmt.Errorf("simplesamlphp: letting %s reach %s: %w", sspApacheUser, dir, err)
			}
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// waitUp polls the metadata URL until it answers 200 with the IdP's
// entityID, Apache exits, ctx ends or timeout passes.
func (s *sspIdP) waitUp(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: 5 * time.Second}
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.MetadataURL, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err == nil {
			body, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			switch {
			case rerr != nil:
				last = rerr
			case resp.StatusCode != http.StatusOK:
				last = fmt.Errorf("GET %s: %s", s.MetadataURL, resp.Status)
			case !bytes.Contains(body, []byte(`entityID="`+s.EntityID+`"`)):
				last = fmt.Errorf("GET %s: not the metadata of %s", s.MetadataURL, s.EntityID)
			default:
				return nil
			}
		} else {
			last = err
		}
		select {
		case <-s.done:
			return fmt.Errorf("apache2 exited: %v", s.cmd.ProcessState)
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// logTails returns the end of Apache's error log, its stdout and
// SimpleSAMLphp's log, for error messages.
func (s *sspIdP) logTails() string {
	var b strings.Builder
	for _, name := range []string{"error.log", "apache-stdout.log", "php-error.log", "simplesamlphp.log"} {
		data, err := os.ReadFile(filepath.Join(s.dir, "logs", name))
		if err != nil || len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > 20 {
			lines = lines[len(lines)-20:]
		}
		fmt.Fprintf(&b, "--- %s:\n%s\n", filepath.Join(s.dir, "logs", name), strings.Join(lines, "\n"))
	}
	return b.String()
}

// sspProc is a live process of Apache's session and its CPU seconds,
// its reaped children included.
type sspProc struct {
	pid int
	cpu float64
}

// group returns the live processes of Apache's session: its parent and
// every child, found by session ID (field 6) in /proc/<pid>/stat.
func (s *sspIdP) group() ([]sspProc, error) {
	sid := s.cmd.Process.Pid
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("simplesamlphp: %w", err)
	}
	var procs []sspProc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fields, err := procStat(pid)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
			continue // gone since ReadDir
		}
		if err != nil {
			return nil, fmt.Errorf("simplesamlphp: %w", err)
		}
		session, err := strconv.Atoi(fields[6-3])
		if err != nil {
			return nil, fmt.Errorf("simplesamlphp: /proc/%d/stat session: %w", pid, err)
		}
		if session != sid {
			continue
		}
		cpu, err := statCPU(pid, fields, true)
		if err != nil {
			return nil, fmt.Errorf("simplesamlphp: %w", err)
		}
		procs = append(procs, sspProc{pid: pid, cpu: cpu})
	}
	if len(procs) == 0 {
		return nil, fmt.Errorf("simplesamlphp: apache2 (session %d) is not running", sid)
	}
	return procs, nil
}

// CPUSeconds returns the user+system CPU seconds used so far by the
// Apache server: every live process of its session, plus the CPU of
// children already reaped (cutime/cstime of whoever reaped them, in
// practice Apache's parent), so nothing is counted twice. The resolution
// is 10 ms per process.
func (s *sspIdP) CPUSeconds() (float64, error) {
	procs, err := s.group()
	if err != nil {
		return 0, err
	}
	var sum float64
	for _, p := range procs {
		sum += p.cpu
	}
	return sum, nil
}

// Stop stops Apache by its PID (graceful then kill) and waits.
//
// SIGTERM lets Apache's parent stop its children and exit; after 10 s
// its PID gets SIGKILL, and so does each process left in its session, by
// PID. Stop may be called more than once.
func (s *sspIdP) Stop() error {
	s.stopOnce.Do(func() { s.stopErr = s.stop() })
	return s.stopErr
}

func (s *sspIdP) stop() error {
	pid := s.cmd.Process.Pid
	select {
	case <-s.done:
	default:
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
			s.killLeftovers()
			return fmt.Errorf("simplesamlphp: apache2 (pid %d) ignored SIGTERM and was killed", pid)
		}
	}
	if n := s.killLeftovers(); n > 0 {
		return fmt.Errorf("simplesamlphp: %d apache2 children outlived their parent (pid %d) and were killed", n, pid)
	}
	return nil
}

// killLeftovers sends SIGKILL to each process still in Apache's session,
// by PID, and returns how many there were.
func (s *sspIdP) killLeftovers() int {
	procs, err := s.group()
	if err != nil {
		return 0 // none left
	}
	for _, p := range procs {
		_ = syscall.Kill(p.pid, syscall.SIGKILL)
	}
	return len(procs)
}

// sspRandomHex returns n random bytes in hex.
func sspRandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand.Read's contract)
	return hex.EncodeToString(b)
}
