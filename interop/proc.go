//go:build interop

package interop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Proc is a peer process the harness started. It runs in its own session
// (setsid), so that Apache and the like cannot signal the test's process
// group, and it is stopped by its PID.
type Proc struct {
	Name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// StartProc starts argv[0] with args, the current environment plus env,
// in dir, with stdout and stderr sent to log.
func StartProc(name, dir string, log io.Writer, env []string, argv ...string) (*Proc, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &Proc{Name: name, cmd: cmd, done: make(chan struct{})}
	// A test binary killed by its timeout runs no deferred Stop; the PID
	// file lets ./interop/run stop what is left, by PID.
	if path := os.Getenv("INTEROP_PIDFILE"); path != "" {
		if f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
			fmt.Fprintln(f, cmd.Process.Pid)
			f.Close()
		}
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	return p, nil
}

// PID is the process ID.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM to the PID, waits up to 10 s, then sends SIGKILL.
func (p *Proc) Stop() error {
	if p == nil || p.Exited() {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	return fmt.Errorf("%s (pid %d) ignored SIGTERM and was killed", p.Name, p.PID())
}

// StopPIDFile stops a daemon that wrote its PID to path (Apache forks
// once more than its parent when not in the foreground): SIGTERM, then a
// wait until the PID is gone.
func StopPIDFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil // never started
	}
	var pid int
	if _, err := fmt.Sscan(string(data), &pid); err != nil || pid <= 1 {
		return fmt.Errorf("bad pid file %s", path)
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	for i := 0; i < 100; i++ {
		if syscall.Kill(pid, 0) != nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	return fmt.Errorf("pid %d from %s ignored SIGTERM and was killed", pid, path)
}

// FreePort returns a TCP port that is free on 127.0.0.1 right now.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// WaitHTTP polls url until it answers any HTTP status, or fails after
// timeout. p, when not nil, failing early ends the wait.
func WaitHTTP(ctx context.Context, url string, timeout time.Duration, p *Proc) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if p != nil && p.Exited() {
			return fmt.Errorf("%s exited before answering %s: %v", p.Name, url, p.err)
		}
		select {
		case <-ctx.Done():
			return errors.Join(fmt.Errorf("%s did not answer within %s", url, timeout), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
