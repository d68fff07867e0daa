//go:build interop

package interop

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// fetchOK fetches u and wants a 200.
func fetchOK(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return data, nil
}

// logTail returns the last n bytes of a log file.
func logTail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	if len(data) > n {
		data = data[len(data)-n:]
	}
	return string(data)
}

// opensslKeyPair writes a fresh RSA-2048 key and self-signed certificate,
// <name>.key and <name>.crt, into dir with openssl, and returns their
// paths.
func opensslKeyPair(ctx context.Context, dir, name, cn string) (keyPath, certPath string, err error) {
	keyPath = filepath.Join(dir, name+".key")
	certPath = filepath.Join(dir, name+".crt")
	cmd := exec.CommandContext(ctx, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
		"-keyout", keyPath, "-out", certPath, "-days", "30", "-subj", "/CN="+cn)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("generating the SP key with openssl: %w: %s", err, bytes.TrimSpace(out))
	}
	return keyPath, certPath, nil
}

// allowSearch lets Apache's children (www-data) reach dir: it adds the
// search bit for others to dir and every parent that lacks it, and
// nothing else (test temp dirs are 0700).
func allowSearch(dir string) error {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("%w", err)
	}
	for {
		st, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("%w", err)
		}
		if st.Mode().Perm()&0o001 == 0 {
			if err := os.Chmod(dir, st.Mode().Perm()|0o001); err != nil {
				return fmt.Errorf("letting %s reach %s: %w", "www-data", dir, err)
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil
		}
		dir = parent
	}
}

// loggedProc is a peer process whose output goes to its own log file,
// copied to the harness's log as well.
type loggedProc struct {
	*Proc
	logPath string
	file    *os.File
}

// startLogged starts argv in dir with env added, its output written to a
// new file at logPath and copied to each of also (nil entries skipped).
func startLogged(name, dir, logPath string, also []io.Writer, env []string, argv ...string) (*loggedProc, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("%s: creating its log: %w", name, err)
	}
	writers := []io.Writer{f}
	for _, w := range also {
		if w != nil {
			writers = append(writers, w)
		}
	}
	p, err := StartProc(name, dir, io.MultiWriter(writers...), env, argv...)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &loggedProc{Proc: p, logPath: logPath, file: f}, nil
}

// Stop stops the process by its PID and closes its log.
func (p *loggedProc) Stop() error {
	err := p.Proc.Stop()
	p.file.Close()
	return err
}

// failure stops the process and returns err with the tail of its log and
// of each of more (logs the process writes itself).
func (p *loggedProc) failure(err error, more ...string) error {
	_ = p.Stop()
	var tails strings.Builder
	for _, path := range append([]string{p.logPath}, more...) {
		fmt.Fprintf(&tails, "\n--- %s (tail):\n%s", path, logTail(path, 2000))
	}
	return fmt.Errorf("%w%s", err, tails.String())
}

// randomHex returns n random bytes, hex-encoded.
func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}
