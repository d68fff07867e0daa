package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/samlbridge/samlbridge/certs"
)

// testKeyPair is a TEST key and its self-signed certificate, made for one
// benchmark run and thrown away with its directory.
type testKeyPair struct {
	key     *rsa.PrivateKey
	cert    *x509.Certificate
	keyPEM  []byte
	certPEM []byte
}

func newTestKeyPair(cn string) (*testKeyPair, error) {
	kp, err := certs.Generate(nil, 2048, cn+" (TEST KEY, samlbench)", time.Now(), 30*24*time.Hour)
	if err != nil {
		return nil, fmt.Errorf("a TEST key pair: %w", err)
	}
	keyPEM, certPEM, err := kp.EncodePEM()
	if err != nil {
		return nil, err
	}
	return &testKeyPair{key: kp.Key, cert: kp.Cert, keyPEM: keyPEM, certPEM: certPEM}, nil
}

// benchKeys are the run's TEST keys: the bridge's SAML signing key, its
// itsme signing and decryption keys, the benchmark SPs' key (one key
// shared by every SP entity), and the SimpleSAMLphp IdP's key.
type benchKeys struct {
	saml, itsmeSig, itsmeEnc, sp, ssp *testKeyPair
}

func newBenchKeys() (*benchKeys, error) {
	k := &benchKeys{}
	for _, p := range []struct {
		dst **testKeyPair
		cn  string
	}{{&k.saml, "samlbridge IdP"}, {&k.itsmeSig, "samlbridge itsme sig"}, {&k.itsmeEnc, "samlbridge itsme enc"}, {&k.sp, "benchmark SP"}, {&k.ssp, "SimpleSAMLphp IdP"}} {
		kp, err := newTestKeyPair(p.cn)
		if err != nil {
			return nil, err
		}
		*p.dst = kp
	}
	return k, nil
}

// writeFiles writes the bridge's TEST keys and secrets into dir.
func (k *benchKeys) writeFiles(dir string) error {
	secret := func() []byte {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		return []byte(hex.EncodeToString(b))
	}
	files := map[string][]byte{
		"saml.key": k.saml.keyPEM, "saml.crt": k.saml.certPEM,
		"itsme-sig.key": k.itsmeSig.keyPEM, "itsme-enc.key": k.itsmeEnc.keyPEM,
		"pairwise.hex": secret(), "store.hex": secret(),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// freeAddr returns a loopback address with a port free at the time of the
// call.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// node is one running "samlbridge serve" process.
type node struct {
	name  string
	addr  string // public listener
	admin string // metrics listener (with pprof)
	cmd   *exec.Cmd
	done  chan struct{}
	log   string // its stderr file
}

// startNode starts samlbridge serve with cfgPath in its own process group
// and waits until /healthz answers; gogc, when set, is its GOGC. Its standard output (the audit
// stream) and standard error (the log) go to files beside the config.
func startNode(ctx context.Context, bin, name, cfgPath, addr, admin, gogc string) (*node, error) {
	dir := filepath.Dir(cfgPath)
	stdout, err := os.Create(filepath.Join(dir, name+".audit"))
	if err != nil {
		return nil, err
	}
	defer stdout.Close()
	logPath := filepath.Join(dir, name+".log")
	stderr, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer stderr.Close()
	cmd := exec.Command(bin, "serve", "--config", cfgPath)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if gogc != "" {
		cmd.Env = append(os.Environ(), "GOGC="+gogc)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting node %s: %w", name, err)
	}
	n := &node{name: name, addr: addr, admin: admin, cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() { _ = cmd.Wait(); close(n.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-n.done:
			return nil, fmt.Errorf("node %s exited at start-up: %s", name, tailFile(logPath, 15))
		case <-ctx.Done():
			n.stop()
			return nil, ctx.Err()
		default:
		}
		if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return n, nil
			}
		}
		if time.Now().After(deadline) {
			n.stop()
			return nil, fmt.Errorf("node %s not healthy after 30 s: %s", name, tailFile(logPath, 15))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pid returns the node's process ID.
func (n *node) pid() int { return n.cmd.Process.Pid }

// stop sends SIGTERM to the node by PID, and SIGKILL if it has not exited
// after 10 s.
func (n *node) stop() {
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(10 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.done
	}
}

// liveHeap returns the node's live heap in bytes after a forced garbage
// collection, read from its /debug/pprof/heap (metrics.pprof).
func (n *node) liveHeap() (int64, error) {
	st, err := n.memStats(true)
	if err != nil {
		return 0, err
	}
	return st["HeapAlloc"], nil
}

// allocs returns the bytes the node has allocated since it started and
// the garbage collections it has run, from its runtime.MemStats.
func (n *node) allocs() (bytes, gcs int64, err error) {
	st, err := n.memStats(false)
	if err != nil {
		return 0, 0, err
	}
	return st["TotalAlloc"], st["NumGC"], nil
}

// memStats reads the runtime.MemStats lines ("# Name = value") of the
// node's /debug/pprof/heap?debug=1, after a forced collection when gc.
func (n *node) memStats(gc bool) (map[string]int64, error) {
	u := "http://" + n.admin + "/debug/pprof/heap?debug=1"
	if gc {
		u += "&gc=1"
	}
	resp, err := http.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("node %s heap profile: status %d", n.name, resp.StatusCode)
	}
	st := map[string]int64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "# ")
		if !ok {
			continue
		}
		name, v, ok := strings.Cut(line, " = ")
		if !ok {
			continue
		}
		if x, err := strconv.ParseInt(v, 10, 64); err == nil {
			st[name] = x
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, want := range []string{"HeapAlloc", "TotalAlloc", "NumGC"} {
		if _, ok := st[want]; !ok {
			return nil, fmt.Errorf("node %s heap profile without %s", n.name, want)
		}
	}
	return st, nil
}

// tailFile returns the last n lines of a file, for error messages.
func tailFile(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, 1<<22))
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "\n  " + strings.Join(lines, "\n  ")
}

// freePort returns a loopback port free at the time of the call.
func freePort() (int, error) {
	addr, err := freeAddr()
	if err != nil {
		return 0, err
	}
	_, p, _ := net.SplitHostPort(addr)
	return strconv.Atoi(p)
}
