package supplychain

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ErrGo is wrapped by every error from running or reading the go command.
var ErrGo = errors.New("supplychain: go command")

// offlineEnv keeps the go command off the network and away from files it
// would otherwise update: no module downloads, no toolchain switch, no
// workspace, and go.mod/go.sum read-only whatever GOFLAGS the caller set.
var offlineEnv = []string{
	"GOFLAGS=-mod=readonly",
	"GOPROXY=off",
	"GOWORK=off",
	"GOTOOLCHAIN=local",
}

// lookupDisabled is how the go command reports that metadata it would like
// (a module's .info, or a go.mod not needed for the build) is not in the
// module cache while GOPROXY is off.
const lookupDisabled = "module lookup disabled by GOPROXY=off"

// RepoRoot walks up from dir to the nearest directory holding a go.mod.
func RepoRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("supplychain: %w", err)
	}
	for {
		if fi, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && !fi.IsDir() {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("supplychain: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Go runs the go command found on PATH (go test puts its own GOROOT/bin
// first) in Dir, offline.
type Go struct {
	// Dir is the directory to run in: the repository root.
	Dir string
	// Env holds extra KEY=VALUE settings that override the offline defaults
	// (GOFLAGS=-mod=readonly, GOPROXY=off, GOWORK=off, GOTOOLCHAIN=local).
	Env []string
}

// Graph returns the selected version of every module in the build list
// (go list -m -e all). modfile, if not empty, is used instead of go.mod
// (and the go.sum next to it). Metadata that the module cache lacks
// offline is tolerated: without it go list still reports the selected
// versions, but a module reachable only through a go.mod missing from the
// cache is left out, so Incomplete lists the modules the go command could
// not look up. Every other per-module error fails.
func (g Go) Graph(ctx context.Context, modfile string) (graph Graph, incomplete []string, err error) {
	args := []string{"list", "-m", "-e", "-json=Path,Version,Main,Replace,Error"}
	if modfile != "" {
		args = append(args, "-modfile="+modfile)
	}
	out, err := g.run(ctx, append(args, "all")...)
	if err != nil {
		return Graph{}, nil, err
	}
	graph = Graph{Modules: map[string]string{}, Replaced: map[string]string{}}
	type listed struct {
		Path, Version string
		Main          bool
		Replace       *struct{ Path, Version string }
		Error         *struct{ Err string }
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var m listed
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return Graph{}, nil, fmt.Errorf("%w: go list -m output: %w", ErrGo, err)
		}
		if m.Error != nil {
			if !strings.Contains(m.Error.Err, lookupDisabled) {
				return Graph{}, nil, fmt.Errorf("%w: %s: %s", ErrGo, m.Path, m.Error.Err)
			}
			incomplete = append(incomplete, m.Path)
		}
		switch {
		case m.Main:
			continue
		case m.Path == "" || m.Version == "":
			return Graph{}, nil, fmt.Errorf("%w: go list -m reported module %q without a version", ErrGo, m.Path)
		}
		graph.Modules[m.Path] = m.Version
		if m.Replace != nil {
			graph.Replaced[m.Path] = strings.TrimSpace(m.Replace.Path + " " + m.Replace.Version)
		}
	}
	graph.GoVersion, err = g.goDirective(ctx, modfile)
	if err != nil {
		return Graph{}, nil, err
	}
	return graph, incomplete, nil
}

// goDirective reads the go directive of go.mod (or modfile).
func (g Go) goDirective(ctx context.Context, modfile string) (string, error) {
	args := []string{"mod", "edit", "-json"}
	if modfile != "" {
		args = append(args, modfile)
	}
	out, err := g.run(ctx, args...)
	if err != nil {
		return "", err
	}
	var mf struct{ Go string }
	if err := json.Unmarshal(out, &mf); err != nil {
		return "", fmt.Errorf("%w: go mod edit -json output: %w", ErrGo, err)
	}
	if mf.Go == "" {
		return "", fmt.Errorf("%w: go.mod has no go directive", ErrGo)
	}
	return mf.Go, nil
}

// Linked returns the modules (other than the main module) that provide at
// least one package to the repository's packages or their tests, directly
// or not, under any of the given build-tag lists ("" is the default tags).
func (g Go) Linked(ctx context.Context, tagLists ...string) (map[string]bool, error) {
	if len(tagLists) == 0 {
		tagLists = []string{""}
	}
	linked := map[string]bool{}
	for _, tags := range tagLists {
		args := []string{"list", "-deps", "-test", "-f", "{{with .Module}}{{if not .Main}}{{.Path}}{{end}}{{end}}"}
		if tags != "" {
			args = append(args, "-tags", tags)
		}
		out, err := g.run(ctx, append(args, "./...")...)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			if p := strings.TrimSpace(sc.Text()); p != "" {
				linked[p] = true
			}
		}
	}
	return linked, nil
}

// run runs one go command and returns its standard output.
func (g Go) run(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = g.Dir
	cmd.Env = mergeEnv(os.Environ(), append(append([]string{}, offlineEnv...), g.Env...))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 2000 {
			msg = msg[:2000] + "…"
		}
		return nil, fmt.Errorf("%w: go %s: %w: %s", ErrGo, strings.Join(args, " "), err, msg)
	}
	return out, nil
}

// mergeEnv returns base with every key set in overrides replaced; the last
// override of a key wins.
func mergeEnv(base, overrides []string) []string {
	set := map[string]string{}
	var order []string
	for _, kv := range overrides {
		k, _, _ := strings.Cut(kv, "=")
		if _, dup := set[k]; !dup {
			order = append(order, k)
		}
		set[k] = kv
	}
	out := make([]string, 0, len(base)+len(order))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := set[k]; !ok {
			out = append(out, kv)
		}
	}
	for _, k := range order {
		out = append(out, set[k])
	}
	return out
}
