package supplychain

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// tagLists are the build-tag sets the repository builds and tests under:
// the default set, and "interop" for the real-peer suite in ./interop.
var tagLists = []string{"", "interop"}

// realGraph loads the repository's module graph and linked modules offline.
func realGraph(t *testing.T) (root string, g Graph, linked map[string]bool) {
	t.Helper()
	root, err := RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	gocmd := Go{Dir: root}
	g, incomplete, err := gocmd.Graph(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(incomplete) > 0 {
		t.Logf("module metadata not in the cache (offline, so not looked up): %s", strings.Join(incomplete, ", "))
	}
	linked, err = gocmd.Linked(t.Context(), tagLists...)
	if err != nil {
		t.Fatal(err)
	}
	return root, g, linked
}

// TestModuleGraphMeetsMinimums is the supply-chain check: every module the
// go command selects, and the toolchain running this test, is at or above
// its minimum in docs/security.md.
func TestModuleGraphMeetsMinimums(t *testing.T) {
	reqs := realTable(t)
	_, g, linked := realGraph(t)
	if len(linked) == 0 {
		t.Fatal("go list -deps found no linked modules; the linked set cannot be trusted")
	}
	if err := Report(Check(reqs, g, runtime.Version(), linked)); err != nil {
		t.Fatal(err)
	}
}

// TestTableMatchesGraph keeps docs/security.md honest: every "pinned now"
// is what the graph selects, "not in graph" modules are absent, and "not
// linked" modules have no package compiled in.
func TestTableMatchesGraph(t *testing.T) {
	reqs := realTable(t)
	_, g, linked := realGraph(t)
	if problems := Drift(reqs, g, linked); len(problems) > 0 {
		t.Fatalf("docs/security.md does not match the module graph:\n\t%s", strings.Join(problems, "\n\t"))
	}
}

// TestLoweredPinFails lowers the goxmldsig requirement in a copy of go.mod
// to v1.5.0, lets the go command compute that graph, and expects the check
// to fail naming goxmldsig and its advisory.
//
// v1.5.0 is the release before v1.6.0 (CVE-2026-33487) and v1.6.1
// (GHSA-qhrp-hfff-vphr). Its go.mod is not in a fresh module cache, so
// testdata/proxy serves it as a file:// module proxy, and testdata/
// lowered.sum adds its go.sum line, the hash sum.golang.org records for the
// genuine file, so a changed file fails with a checksum mismatch. Nothing
// else is served: every other lookup falls through to "off". The module cache is a temporary one, filled from
// the real cache's download directory, so the test writes nothing outside
// its temporary directory. (v1.4.0, crewjam's own requirement, would be the
// more striking choice, but it declares go 1.15, so the go command would
// need the go.mod files of its whole unpruned requirement tree offline.)
func TestLoweredPinFails(t *testing.T) {
	const (
		goxmldsig = "github.com/russellhaering/goxmldsig"
		pinned    = "\t" + goxmldsig + " v1.6.1\n"
		lowered   = "\t" + goxmldsig + " v1.5.0\n"
	)
	reqs := realTable(t)
	root, err := RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(gomod), pinned); n != 1 {
		t.Fatalf("go.mod has %d lines %q; this test lowers exactly that pin, update it with the pin", n, strings.TrimSpace(pinned))
	}
	gosum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	extraSum, err := os.ReadFile(filepath.Join("testdata", "lowered.sum"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	modfile := filepath.Join(tmp, "go.mod")
	if err := os.WriteFile(modfile, []byte(strings.Replace(string(gomod), pinned, lowered, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "go.sum"), append(gosum, extraSum...), 0o644); err != nil {
		t.Fatal(err)
	}

	realCache, err := Go{Dir: root}.run(t.Context(), "env", "GOMODCACHE")
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := filepath.Abs(filepath.Join("testdata", "proxy"))
	if err != nil {
		t.Fatal(err)
	}
	download := filepath.Join(strings.TrimSpace(string(realCache)), "cache", "download")
	gocmd := Go{Dir: root, Env: []string{
		"GOPROXY=" + fileURL(download) + "," + fileURL(proxy) + ",off",
		"GOMODCACHE=" + filepath.Join(tmp, "modcache"),
		"GOFLAGS=-mod=readonly -modcacherw",
	}}
	g, _, err := gocmd.Graph(t.Context(), modfile)
	if err != nil {
		t.Fatal(err)
	}
	if got := g.Modules[goxmldsig]; got != "v1.5.0" {
		t.Fatalf("the lowered graph selects %s %q, want v1.5.0", goxmldsig, got)
	}

	_, real, linked := realGraph(t)
	vs := Check(reqs, g, runtime.Version(), linked)
	if len(vs) != 1 || vs[0].Module != goxmldsig {
		t.Fatalf("violations %v, want exactly one, for %s (the real graph's are: %v)", vs, goxmldsig, Check(reqs, real, runtime.Version(), linked))
	}
	msg := Report(vs).Error()
	for _, s := range []string{goxmldsig, "v1.5.0", "v1.6.1", "CVE-2026-33487", "GHSA-479m-364c-43vc", "GHSA-qhrp-hfff-vphr"} {
		if !strings.Contains(msg, s) {
			t.Errorf("report does not mention %q:\n%s", s, msg)
		}
	}
	want := goxmldsig + " pinned now v1.6.1, but the graph selects v1.5.0"
	if problems := Drift(reqs, g, linked); !strings.Contains(strings.Join(problems, "\n"), want) {
		t.Errorf("drift on the lowered graph = %q, want a problem %q", problems, want)
	}
}

// fileURL turns an absolute path into a file:// URL for GOPROXY.
func fileURL(path string) string {
	p := filepath.ToSlash(path)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // Windows drive letters
	}
	return "file://" + p
}
