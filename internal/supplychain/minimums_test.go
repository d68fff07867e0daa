package supplychain

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixture is a small table exercising every cell form.
const fixture = `# Doc

Text before.

<!-- minimum-versions:begin -->
| module | minimum | pinned now | advisory | why |
|---|:---:|---|---|---|
| ` + "`go`" + ` | ` + "`1.26.6`" + ` | ` + "`1.26.8`" + ` | CVE-GO | toolchain |
| ` + "`example.com/sig`" + ` | ` + "`v1.6.1`" + ` | ` + "`v1.6.1`" + ` | CVE-SIG | signs |
| example.com/graphonly | v0.40.0 | v0.21.0 (not linked) | CVE-GRAPH | graph only |
| example.com/absent | v3.21.0 | not in graph | none | not used |
<!-- minimum-versions:end -->

Text after.
`

func TestParseTable(t *testing.T) {
	reqs, err := ParseTable([]byte(fixture))
	if err != nil {
		t.Fatal(err)
	}
	want := []Requirement{
		{Module: "go", Minimum: "1.26.6", Pinned: "1.26.8", Advisory: "CVE-GO", Why: "toolchain", Line: 8},
		{Module: "example.com/sig", Minimum: "v1.6.1", Pinned: "v1.6.1", Advisory: "CVE-SIG", Why: "signs", Line: 9},
		{Module: "example.com/graphonly", Minimum: "v0.40.0", Pinned: "v0.21.0", NotLinked: true, Advisory: "CVE-GRAPH", Why: "graph only", Line: 10},
		{Module: "example.com/absent", Minimum: "v3.21.0", NotInGraph: true, Advisory: "none", Why: "not used", Line: 11},
	}
	if len(reqs) != len(want) {
		t.Fatalf("got %d rows, want %d: %+v", len(reqs), len(want), reqs)
	}
	for i := range want {
		if reqs[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v", i, reqs[i], want[i])
		}
	}
}

func TestParseTableRejects(t *testing.T) {
	const (
		begin  = BeginMarker + "\n"
		end    = EndMarker + "\n"
		header = "| module | minimum | pinned now | advisory | why |\n|---|---|---|---|---|\n"
		row    = "| m.example/a | v1.0.0 | v1.0.0 | CVE | why |\n"
	)
	tests := []struct {
		name, doc, wantInErr string
	}{
		{"no markers", header + row, "0 " + BeginMarker},
		{"two begins", begin + begin + header + row + end, "2 " + BeginMarker},
		{"no end", begin + header + row, "0 " + EndMarker},
		{"end first", end + header + row + begin, "before"},
		{"no rows", begin + header + end, "no rows"},
		{"wrong header", begin + strings.Replace(header, "pinned now", "pinned", 1) + row + end, `"pinned"`},
		{"missing separator", begin + "| module | minimum | pinned now | advisory | why |\n" + row + end, "separator"},
		{"pipe in cell", begin + header + "| m.example/a | v1.0.0 | v1.0.0 | CVE | a | b |\n" + end, "6 cells"},
		{"not a row", begin + header + "m.example/a v1.0.0\n" + end, "start and end with |"},
		{"bad minimum", begin + header + "| m.example/a | 1.0.0 | v1.0.0 | CVE | why |\n" + end, "minimum"},
		{"bad pinned", begin + header + "| m.example/a | v1.0.0 | latest | CVE | why |\n" + end, "pinned now"},
		{"bad not linked", begin + header + "| m.example/a | v1.0.0 | (not linked) | CVE | why |\n" + end, "pinned now"},
		{"empty advisory", begin + header + "| m.example/a | v1.0.0 | v1.0.0 |  | why |\n" + end, "must not be empty"},
		{"empty why", begin + header + "| m.example/a | v1.0.0 | v1.0.0 | CVE |  |\n" + end, "must not be empty"},
		{"empty module", begin + header + "|  | v1.0.0 | v1.0.0 | CVE | why |\n" + end, "bad module path"},
		{"duplicate", begin + header + row + row + end, "already listed on line 4"},
		{"go not linked", begin + header + "| go | 1.26.6 | 1.26.8 (not linked) | CVE | why |\n" + end, "cannot be"},
		{"go semver", begin + header + "| go | v1.26.6 | 1.26.8 | CVE | why |\n" + end, "not a Go version"},
		{"go garbage", begin + header + "| go | 1.26.6 | soon | CVE | why |\n" + end, "not a Go version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reqs, err := ParseTable([]byte(tt.doc))
			if !errors.Is(err, ErrTable) {
				t.Fatalf("err = %v (rows %+v), want ErrTable", err, reqs)
			}
			if !strings.Contains(err.Error(), tt.wantInErr) {
				t.Errorf("err = %q, want it to contain %q", err, tt.wantInErr)
			}
		})
	}
}

// realTable parses the repository's docs/security.md.
func realTable(t *testing.T) []Requirement {
	t.Helper()
	root, err := RepoRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(root, "docs", "security.md"))
	if err != nil {
		t.Fatal(err)
	}
	reqs, err := ParseTable(md)
	if err != nil {
		t.Fatal(err)
	}
	return reqs
}

// atMinimum builds a synthetic graph in which every row of reqs sits
// exactly at its minimum, and the toolchain version to go with it.
func atMinimum(reqs []Requirement) (Graph, string) {
	g := Graph{Modules: map[string]string{}}
	toolchain := ""
	for _, r := range reqs {
		switch {
		case r.Module == Toolchain:
			g.GoVersion = r.Minimum
			toolchain = "go" + r.Minimum
		case !r.NotInGraph:
			g.Modules[r.Module] = r.Minimum
		}
	}
	return g, toolchain
}

func find(reqs []Requirement, module string) Requirement {
	for _, r := range reqs {
		if r.Module == module {
			return r
		}
	}
	return Requirement{}
}

// TestCheckRealTable feeds synthetic module lists to the real table: a
// graph at the minimums passes, and lowering any one module fails naming
// that module and its advisory.
func TestCheckRealTable(t *testing.T) {
	reqs := realTable(t)
	const goxmldsig = "github.com/russellhaering/goxmldsig"
	for _, m := range []string{goxmldsig, "github.com/go-jose/go-jose/v4", "github.com/beevik/etree", "github.com/crewjam/saml", "github.com/redis/go-redis/v9", "golang.org/x/crypto", Toolchain} {
		if find(reqs, m).Module == "" {
			t.Fatalf("docs/security.md has no row for %s", m)
		}
	}
	base, toolchain := atMinimum(reqs)
	linked := map[string]bool{} // nothing linked: not-linked rows may be low
	if vs := Check(reqs, base, toolchain, linked); len(vs) != 0 {
		t.Fatalf("a graph exactly at the minimums fails: %v", Report(vs))
	}

	tests := []struct {
		name      string
		module    string // the module lowered
		version   string
		toolchain string // overrides the toolchain when set
		directive string // overrides the go directive when set
		linked    bool   // mark the lowered module linked
		wantFail  bool
		wantInMsg []string
	}{
		{name: "goxmldsig v1.4.0 (crewjam's requirement)", module: goxmldsig, version: "v1.4.0", wantFail: true,
			wantInMsg: []string{goxmldsig, "v1.4.0", "v1.6.1", "CVE-2026-33487", "GHSA-479m-364c-43vc", "GHSA-qhrp-hfff-vphr"}},
		{name: "goxmldsig v1.6.0 misses GHSA-qhrp", module: goxmldsig, version: "v1.6.0", wantFail: true,
			wantInMsg: []string{goxmldsig, "GHSA-qhrp-hfff-vphr"}},
		{name: "goxmldsig pre-release of the minimum", module: goxmldsig, version: "v1.6.1-rc.1", wantFail: true,
			wantInMsg: []string{goxmldsig}},
		{name: "goxmldsig above the minimum", module: goxmldsig, version: "v1.7.0"},
		{name: "go-jose v4.1.3", module: "github.com/go-jose/go-jose/v4", version: "v4.1.3", wantFail: true,
			wantInMsg: []string{"go-jose", "CVE-2026-34986", "GHSA-78h2-9frx-2jm8"}},
		{name: "etree v1.6.0", module: "github.com/beevik/etree", version: "v1.6.0", wantFail: true,
			wantInMsg: []string{"github.com/beevik/etree", "v1.7.0"}},
		{name: "crewjam v0.4.13", module: "github.com/crewjam/saml", version: "v0.4.13", wantFail: true,
			wantInMsg: []string{"crewjam", "CVE-2023-45683"}},
		{name: "go-redis v9.7.2", module: "github.com/redis/go-redis/v9", version: "v9.7.2", wantFail: true,
			wantInMsg: []string{"go-redis", "CVE-2025-29923"}},
		{name: "x/crypto v0.33.0", module: "golang.org/x/crypto", version: "v0.33.0", wantFail: true,
			wantInMsg: []string{"golang.org/x/crypto", "CVE-2025-22869"}},
		{name: "not-linked x/net low, unlinked", module: "golang.org/x/net", version: "v0.21.0"},
		{name: "not-linked x/net low, linked", module: "golang.org/x/net", version: "v0.21.0", linked: true, wantFail: true,
			wantInMsg: []string{"golang.org/x/net", "CVE-2026-46600"}},
		{name: "toolchain go1.26.5", toolchain: "go1.26.5", wantFail: true,
			wantInMsg: []string{"toolchain go1.26.5", "CVE-2026-56859"}},
		{name: "toolchain go1.25.13", toolchain: "go1.25.13", wantFail: true, wantInMsg: []string{"toolchain go1.25.13"}},
		{name: "toolchain with experiment suffix", toolchain: "go1.27.1 X:nocoverageredesign"},
		{name: "devel toolchain", toolchain: "devel go1.28-abcdef", wantFail: true, wantInMsg: []string{"not a release version"}},
		{name: "go directive 1.26.5", directive: "1.26.5", wantFail: true, wantInMsg: []string{"go directive 1.26.5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, tc := atMinimum(reqs)
			linked := map[string]bool{}
			if tt.module != "" {
				g.Modules[tt.module] = tt.version
				linked[tt.module] = tt.linked
			}
			if tt.toolchain != "" {
				tc = tt.toolchain
			}
			if tt.directive != "" {
				g.GoVersion = tt.directive
			}
			vs := Check(reqs, g, tc, linked)
			err := Report(vs)
			if !tt.wantFail {
				if err != nil {
					t.Fatalf("unexpected failure: %v", err)
				}
				return
			}
			if len(vs) != 1 {
				t.Fatalf("got %d violations, want exactly 1: %v", len(vs), err)
			}
			for _, s := range tt.wantInMsg {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("report does not mention %q:\n%v", s, err)
				}
			}
		})
	}
}

// TestCheckEveryRowEnforced lowers each row in turn to the pre-release of
// its minimum, which semantic versioning orders just below it.
func TestCheckEveryRowEnforced(t *testing.T) {
	reqs := realTable(t)
	for _, r := range reqs {
		if r.Module == Toolchain || r.NotInGraph {
			continue
		}
		g, tc := atMinimum(reqs)
		g.Modules[r.Module] = r.Minimum + "-0"
		vs := Check(reqs, g, tc, map[string]bool{r.Module: true})
		if len(vs) != 1 || vs[0].Module != r.Module || vs[0].Advisory != r.Advisory {
			t.Errorf("%s at %s-0: violations %v, want one naming it with its advisory", r.Module, r.Minimum, vs)
		}
	}
}

// TestCheckFixture covers the forms the real table does not use today.
func TestCheckFixture(t *testing.T) {
	reqs, err := ParseTable([]byte(fixture))
	if err != nil {
		t.Fatal(err)
	}
	good := func() Graph {
		return Graph{GoVersion: "1.26.8", Modules: map[string]string{
			"example.com/sig":       "v1.6.1",
			"example.com/graphonly": "v0.21.0",
		}}
	}
	tests := []struct {
		name    string
		edit    func(*Graph)
		linked  map[string]bool
		wantMod []string // modules named by the violations, in order
		wantIn  string
	}{
		{name: "as documented", linked: map[string]bool{}},
		{name: "not linked but linked", linked: map[string]bool{"example.com/graphonly": true},
			wantMod: []string{"example.com/graphonly"}, wantIn: "CVE-GRAPH"},
		{name: "not linked, linked set unknown", linked: nil,
			wantMod: []string{"example.com/graphonly"}, wantIn: "linked set is unknown"},
		{name: "not linked and raised", edit: func(g *Graph) { g.Modules["example.com/graphonly"] = "v0.40.0" }, linked: nil},
		{name: "absent module is not a violation", edit: func(g *Graph) { delete(g.Modules, "example.com/sig") }, linked: map[string]bool{}},
		{name: "not-in-graph module appears low", edit: func(g *Graph) { g.Modules["example.com/absent"] = "v3.20.0" }, linked: map[string]bool{},
			wantMod: []string{"example.com/absent"}, wantIn: "v3.20.0"},
		{name: "replaced module", edit: func(g *Graph) { g.Replaced = map[string]string{"example.com/sig": "../fork"} }, linked: map[string]bool{},
			wantMod: []string{"example.com/sig"}, wantIn: "replaced"},
		{name: "unparsable selected version", edit: func(g *Graph) { g.Modules["example.com/sig"] = "master" }, linked: map[string]bool{},
			wantMod: []string{"example.com/sig"}, wantIn: "cannot be compared"},
		{name: "every violation listed", edit: func(g *Graph) {
			g.Modules["example.com/sig"] = "v1.4.0"
			g.GoVersion = "1.25.0"
		}, linked: map[string]bool{"example.com/graphonly": true},
			wantMod: []string{"go", "example.com/sig", "example.com/graphonly"}, wantIn: "CVE-SIG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := good()
			if tt.edit != nil {
				tt.edit(&g)
			}
			vs := Check(reqs, g, "go1.26.8", tt.linked)
			var got []string
			for _, v := range vs {
				got = append(got, v.Module)
			}
			if strings.Join(got, ",") != strings.Join(tt.wantMod, ",") {
				t.Fatalf("violations name %v, want %v: %v", got, tt.wantMod, Report(vs))
			}
			if tt.wantIn != "" && !strings.Contains(Report(vs).Error(), tt.wantIn) {
				t.Errorf("report lacks %q: %v", tt.wantIn, Report(vs))
			}
		})
	}
}

func TestReportGolden(t *testing.T) {
	if err := Report(nil); err != nil {
		t.Fatalf("Report(nil) = %v, want nil", err)
	}
	reqs, err := ParseTable([]byte(fixture))
	if err != nil {
		t.Fatal(err)
	}
	g := Graph{GoVersion: "1.26.8", Modules: map[string]string{
		"example.com/sig":       "v1.4.0",
		"example.com/graphonly": "v0.21.0",
	}}
	got := Report(Check(reqs, g, "go1.26.5", map[string]bool{"example.com/graphonly": true})).Error() + "\n"
	golden := filepath.Join("testdata", "report.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("report differs from %s (go test -run TestReportGolden -update):\ngot:\n%s\nwant:\n%s", golden, got, want)
	}
}

func TestDrift(t *testing.T) {
	reqs, err := ParseTable([]byte(fixture))
	if err != nil {
		t.Fatal(err)
	}
	good := func() Graph {
		return Graph{GoVersion: "1.26.8", Modules: map[string]string{
			"example.com/sig":       "v1.6.1",
			"example.com/graphonly": "v0.21.0",
		}}
	}
	tests := []struct {
		name   string
		edit   func(*Graph)
		linked map[string]bool
		want   []string // substrings, one per expected problem, in order
	}{
		{name: "as documented", linked: map[string]bool{}},
		{name: "pin moved", edit: func(g *Graph) { g.Modules["example.com/sig"] = "v1.7.0" }, linked: map[string]bool{},
			want: []string{"line 9: example.com/sig pinned now v1.6.1, but the graph selects v1.7.0"}},
		{name: "go directive moved", edit: func(g *Graph) { g.GoVersion = "1.26.9" }, linked: map[string]bool{},
			want: []string{"go pinned now 1.26.8, but go.mod says go 1.26.9"}},
		{name: "module gone", edit: func(g *Graph) { delete(g.Modules, "example.com/sig") }, linked: map[string]bool{},
			want: []string{"example.com/sig is not in the module graph"}},
		{name: "not-in-graph module added", edit: func(g *Graph) { g.Modules["example.com/absent"] = "v3.21.0" }, linked: map[string]bool{},
			want: []string{`example.com/absent is marked "not in graph" but the graph selects v3.21.0`}},
		{name: "not-linked module linked", linked: map[string]bool{"example.com/graphonly": true},
			want: []string{"example.com/graphonly is marked not linked"}},
		{name: "linked set unknown", linked: nil,
			want: []string{"example.com/graphonly is marked not linked"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := good()
			if tt.edit != nil {
				tt.edit(&g)
			}
			got := Drift(reqs, g, tt.linked)
			if len(got) != len(tt.want) {
				t.Fatalf("Drift = %q, want %d problems", got, len(tt.want))
			}
			for i := range got {
				if !strings.Contains(got[i], tt.want[i]) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestMergeEnv(t *testing.T) {
	got := mergeEnv(
		[]string{"PATH=/bin", "GOFLAGS=-mod=mod", "HOME=/root", "GOPROXY=https://proxy.golang.org"},
		[]string{"GOFLAGS=-mod=readonly", "GOPROXY=off", "GOPROXY=file:///x,off"},
	)
	want := "PATH=/bin HOME=/root GOFLAGS=-mod=readonly GOPROXY=file:///x,off"
	if strings.Join(got, " ") != want {
		t.Errorf("mergeEnv = %q, want %q", strings.Join(got, " "), want)
	}
}

func TestRepoRoot(t *testing.T) {
	dir := t.TempDir()
	deep := filepath.Join(dir, "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := RepoRoot(deep)
	if err != nil || got != dir {
		t.Errorf("RepoRoot(%s) = %q, %v; want %q", deep, got, err, dir)
	}
}
