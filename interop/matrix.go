//go:build interop

package interop

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
)

// Row is one line of the interop matrix.
type Row struct {
	Peer, Version, Scenario string
	Pass                    bool
	Detail                  string
}

// Matrix collects rows in the order scenarios ran.
type Matrix struct {
	mu   sync.Mutex
	rows []Row
}

// Add appends a row.
func (m *Matrix) Add(r Row) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rows = append(m.rows, r)
}

// Rows returns a copy of the rows.
func (m *Matrix) Rows() []Row {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Row(nil), m.rows...)
}

// Failed counts the failed rows.
func (m *Matrix) Failed() int {
	n := 0
	for _, r := range m.Rows() {
		if !r.Pass {
			n++
		}
	}
	return n
}

// Print writes the matrix as an aligned table.
func (m *Matrix) Print(w io.Writer) {
	rows := m.Rows()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PEER\tVERSION\tSCENARIO\tRESULT\tDETAIL")
	for _, r := range rows {
		res := "PASS"
		if !r.Pass {
			res = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Peer, r.Version, r.Scenario, res, oneLine(r.Detail))
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "%d rows, %d failed\n", len(rows), m.Failed())
}

// oneLine keeps a detail on one table line and short enough to read.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}
