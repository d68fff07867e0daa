package supplychain

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"go/version"
	"regexp"
	"strings"
)

// The markers around the minimum-version table in docs/security.md.
const (
	BeginMarker = "<!-- minimum-versions:begin -->"
	EndMarker   = "<!-- minimum-versions:end -->"
)

// Toolchain is the module name the table uses for the Go toolchain.
const Toolchain = "go"

// The "pinned now" spellings for modules that are not linked or not in the
// module graph at all.
const (
	notLinkedSuffix = " (not linked)"
	notInGraph      = "not in graph"
)

// ErrTable is wrapped by every error about the table's syntax or content.
var ErrTable = errors.New("supplychain: bad minimum-version table")

// columns are the table's header cells, in order.
var columns = []string{"module", "minimum", "pinned now", "advisory", "why"}

var separatorCell = regexp.MustCompile(`^:?-{3,}:?$`)

// Requirement is one row of the minimum-version table.
type Requirement struct {
	// Module is the module path, or Toolchain for the Go toolchain.
	Module string
	// Minimum is the lowest safe version: a module version such as v1.6.1,
	// or for the toolchain a Go version such as 1.26.6.
	Minimum string
	// Pinned is the version the table says the graph selects today (for the
	// toolchain: the go directive). It is empty when NotInGraph is set.
	Pinned string
	// NotLinked records that no package of the module is compiled into the
	// repository's packages or tests; only then may it sit below Minimum.
	NotLinked bool
	// NotInGraph records that the module is deliberately not a dependency.
	NotInGraph bool
	// Advisory names the advisories behind Minimum.
	Advisory string
	// Why explains the minimum and the pin.
	Why string
	// Line is the row's 1-based line number in the document.
	Line int
}

// ParseTable extracts the rows between BeginMarker and EndMarker in md. The
// table must have exactly the columns module | minimum | pinned now |
// advisory | why; backticks around module and version cells are ignored.
func ParseTable(md []byte) ([]Requirement, error) {
	if n := bytes.Count(md, []byte(BeginMarker)); n != 1 {
		return nil, fmt.Errorf("%w: %d %s markers, want 1", ErrTable, n, BeginMarker)
	}
	if n := bytes.Count(md, []byte(EndMarker)); n != 1 {
		return nil, fmt.Errorf("%w: %d %s markers, want 1", ErrTable, n, EndMarker)
	}
	var (
		reqs    []Requirement
		seen    = map[string]int{}
		inside  bool
		rowNum  int // table lines seen so far, header included
		lineNum int
	)
	sc := bufio.NewScanner(bytes.NewReader(md))
	for sc.Scan() {
		lineNum++
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.Contains(line, BeginMarker):
			inside = true
			continue
		case strings.Contains(line, EndMarker):
			if !inside {
				return nil, fmt.Errorf("%w: %s before %s", ErrTable, EndMarker, BeginMarker)
			}
			inside = false
			continue
		case !inside || line == "":
			continue
		}
		cells, err := splitRow(line)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %w", ErrTable, lineNum, err)
		}
		rowNum++
		switch rowNum {
		case 1:
			if err := checkHeader(cells); err != nil {
				return nil, fmt.Errorf("%w: line %d: %w", ErrTable, lineNum, err)
			}
			continue
		case 2:
			for _, c := range cells {
				if !separatorCell.MatchString(c) {
					return nil, fmt.Errorf("%w: line %d: want the |---| separator row", ErrTable, lineNum)
				}
			}
			continue
		}
		r, err := parseRow(cells)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %w", ErrTable, lineNum, err)
		}
		r.Line = lineNum
		if prev, dup := seen[r.Module]; dup {
			return nil, fmt.Errorf("%w: line %d: %s already listed on line %d", ErrTable, lineNum, r.Module, prev)
		}
		seen[r.Module] = lineNum
		reqs = append(reqs, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTable, err)
	}
	if inside {
		return nil, fmt.Errorf("%w: %s after %s", ErrTable, BeginMarker, EndMarker)
	}
	if len(reqs) == 0 {
		return nil, fmt.Errorf("%w: no rows", ErrTable)
	}
	return reqs, nil
}

// splitRow splits "| a | b |" into trimmed cells. A literal | inside a cell
// is not supported, so a row with the wrong number of cells is an error.
func splitRow(line string) ([]string, error) {
	if !strings.HasPrefix(line, "|") || !strings.HasSuffix(line, "|") || len(line) < 2 {
		return nil, errors.New("table lines must start and end with |")
	}
	parts := strings.Split(line[1:len(line)-1], "|")
	if len(parts) != len(columns) {
		return nil, fmt.Errorf("%d cells, want %d (a | inside a cell is not allowed)", len(parts), len(columns))
	}
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts, nil
}

func checkHeader(cells []string) error {
	for i, c := range cells {
		if !strings.EqualFold(c, columns[i]) {
			return fmt.Errorf("column %d is %q, want %q (columns: %s)", i+1, c, columns[i], strings.Join(columns, " | "))
		}
	}
	return nil
}

func parseRow(cells []string) (Requirement, error) {
	r := Requirement{
		Module:   unquote(cells[0]),
		Minimum:  unquote(cells[1]),
		Advisory: cells[3],
		Why:      cells[4],
	}
	if r.Module == "" || strings.ContainsAny(r.Module, " \t") {
		return r, fmt.Errorf("bad module path %q", r.Module)
	}
	if r.Advisory == "" || r.Why == "" {
		return r, fmt.Errorf("%s: the advisory and why cells must not be empty", r.Module)
	}
	pinned := unquote(cells[2])
	switch {
	case pinned == notInGraph:
		r.NotInGraph = true
	case strings.HasSuffix(pinned, notLinkedSuffix):
		r.NotLinked = true
		r.Pinned = strings.TrimSpace(strings.TrimSuffix(pinned, notLinkedSuffix))
	default:
		r.Pinned = pinned
	}
	if r.Module == Toolchain {
		if r.NotInGraph || r.NotLinked {
			return r, fmt.Errorf("the %s row cannot be %q", Toolchain, pinned)
		}
		for _, v := range []string{r.Minimum, r.Pinned} {
			if !version.IsValid("go" + v) {
				return r, fmt.Errorf("%s: %q is not a Go version such as 1.26.6", Toolchain, v)
			}
		}
		return r, nil
	}
	if _, err := parseSemver(r.Minimum); err != nil {
		return r, fmt.Errorf("%s minimum: %w", r.Module, err)
	}
	if !r.NotInGraph {
		if _, err := parseSemver(r.Pinned); err != nil {
			return r, fmt.Errorf("%s pinned now (or %q / %q): %w", r.Module, "vX.Y.Z"+notLinkedSuffix, notInGraph, err)
		}
	}
	return r, nil
}

// unquote removes the Markdown code backticks from a cell.
func unquote(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "`", ""))
}

// Graph is the module graph as the go command selected it.
type Graph struct {
	// GoVersion is the main module's go directive, such as 1.26.8.
	GoVersion string
	// Modules maps each module path (the main module excluded) to its
	// selected version.
	Modules map[string]string
	// Replaced maps each replaced module path to a description of its
	// replacement; such a module's version says nothing about its code.
	Replaced map[string]string
}

// Violation is one module below its minimum, or one that cannot be checked.
type Violation struct {
	Module   string // module path, or Toolchain
	Have     string // what was found, such as "v1.4.0" or "toolchain go1.26.5"
	Minimum  string
	Advisory string
	Problem  string // why it fails, read before "minimum X", such as "is below"
}

// String renders the violation on one line.
func (v Violation) String() string {
	return fmt.Sprintf("%s %s %s minimum %s: %s", v.Module, v.Have, v.Problem, v.Minimum, v.Advisory)
}

// Check reports every module in g below its minimum, with its advisory,
// plus the toolchain (the running one, as runtime.Version reports it, and
// the go directive) below the toolchain minimum. A module marked not linked
// may be below its minimum only if linked (the modules providing a package
// to some build or test) shows it absent; a nil linked set cannot show
// that. Modules absent from g are not checked here; see Drift.
func Check(reqs []Requirement, g Graph, toolchain string, linked map[string]bool) []Violation {
	var out []Violation
	for _, r := range reqs {
		if r.Module == Toolchain {
			out = append(out, checkToolchain(r, toolchain, g.GoVersion)...)
			continue
		}
		if repl, ok := g.Replaced[r.Module]; ok {
			out = append(out, Violation{r.Module, "=> " + repl, r.Minimum, r.Advisory, "is replaced, so it cannot be checked against"})
			continue
		}
		have, ok := g.Modules[r.Module]
		if !ok {
			continue
		}
		c, err := compareSemver(have, r.Minimum)
		if err != nil {
			out = append(out, Violation{r.Module, have, r.Minimum, r.Advisory, fmt.Sprintf("cannot be compared (%v) with", err)})
			continue
		}
		if c >= 0 {
			continue
		}
		switch {
		case r.NotLinked && linked != nil && !linked[r.Module]:
			// Below the minimum but compiled into nothing: tolerated, as the
			// table documents.
		case r.NotLinked && linked == nil:
			out = append(out, Violation{r.Module, have, r.Minimum, r.Advisory, "is below (and may be linked: the linked set is unknown)"})
		default:
			out = append(out, Violation{r.Module, have, r.Minimum, r.Advisory, "is below"})
		}
	}
	return out
}

// checkToolchain compares the running toolchain and the go directive with
// the toolchain row's minimum.
func checkToolchain(r Requirement, toolchain, directive string) []Violation {
	var out []Violation
	minimum := "go" + r.Minimum
	// runtime.Version may carry a suffix such as " X:nocoverageredesign".
	tc, _, _ := strings.Cut(strings.TrimSpace(toolchain), " ")
	switch {
	case !version.IsValid(tc):
		out = append(out, Violation{Toolchain, fmt.Sprintf("toolchain %q", toolchain), r.Minimum, r.Advisory, "is not a release version, so it cannot be checked against"})
	case version.Compare(tc, minimum) < 0:
		out = append(out, Violation{Toolchain, "toolchain " + tc, r.Minimum, r.Advisory, "is below"})
	}
	switch {
	case !version.IsValid("go" + directive):
		out = append(out, Violation{Toolchain, fmt.Sprintf("directive %q", directive), r.Minimum, r.Advisory, "is not a Go version, so it cannot be checked against"})
	case version.Compare("go"+directive, minimum) < 0:
		out = append(out, Violation{Toolchain, "directive " + directive, r.Minimum, r.Advisory, "is below"})
	}
	return out
}

// Report turns violations into one error that lists every one of them, or
// nil if there are none.
func Report(vs []Violation) error {
	if len(vs) == 0 {
		return nil
	}
	var b strings.Builder
	noun := "problems"
	if len(vs) == 1 {
		noun = "problem"
	}
	fmt.Fprintf(&b, "supplychain: %d %s with the minimum safe versions in docs/security.md:", len(vs), noun)
	for _, v := range vs {
		b.WriteString("\n\t")
		b.WriteString(v.String())
	}
	return errors.New(b.String())
}

// Drift reports where the table no longer describes the graph: a "pinned
// now" that differs from the selected version (or, for the toolchain, from
// the go directive), a module missing from the graph, a "not in graph"
// module that is in it, and a "not linked" module that linked shows linked.
func Drift(reqs []Requirement, g Graph, linked map[string]bool) []string {
	var out []string
	for _, r := range reqs {
		have, inGraph := g.Modules[r.Module]
		switch {
		case r.Module == Toolchain:
			if r.Pinned != g.GoVersion {
				out = append(out, fmt.Sprintf("line %d: %s pinned now %s, but go.mod says go %s", r.Line, Toolchain, r.Pinned, g.GoVersion))
			}
			continue
		case r.NotInGraph:
			if inGraph {
				out = append(out, fmt.Sprintf("line %d: %s is marked %q but the graph selects %s", r.Line, r.Module, notInGraph, have))
			}
			continue
		case !inGraph:
			out = append(out, fmt.Sprintf("line %d: %s is not in the module graph (mark it %q or remove the row)", r.Line, r.Module, notInGraph))
			continue
		case have != r.Pinned:
			out = append(out, fmt.Sprintf("line %d: %s pinned now %s, but the graph selects %s", r.Line, r.Module, r.Pinned, have))
		}
		if r.NotLinked && (linked == nil || linked[r.Module]) {
			out = append(out, fmt.Sprintf("line %d: %s is marked not linked, but a package of it is compiled in (or the linked set is unknown)", r.Line, r.Module))
		}
	}
	return out
}
