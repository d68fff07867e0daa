package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"time"
)

// checkFetchTimeout bounds each metadata URL fetch made by check.
const checkFetchTimeout = 5 * time.Second

// runCheck validates a configuration and reports every problem at once:
// warnings first (they do not fail the check), then the problems, each
// naming its key path and line. It fails when there is any problem.
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	path, err := configFlag("check", args, stderr)
	if err != nil {
		return err
	}
	rep := checkConfig(ctx, path, time.Now(), checkFetchTimeout)
	for _, w := range rep.warnings {
		fmt.Fprintf(stderr, "warning: %v\n", w)
	}
	if n := len(rep.problems); n > 0 {
		plural := "s"
		if n == 1 {
			plural = ""
		}
		return fmt.Errorf("%s: %d problem%s:\n%s", path, n, plural, indent(joinProblems(rep.problems).Error()))
	}
	fmt.Fprintln(stdout, rep.summary)
	return nil
}

// checkReport is the outcome of checkConfig.
type checkReport struct {
	// problems and warnings are sorted by line; problems without a line
	// come last.
	problems, warnings []Problem
	// summary is the one-line verdict when there is no problem.
	summary string
}

// checkConfig decodes, resolves and validates the configuration at path
// as of now, and fetches each metadata URL once (each fetch bounded by
// timeout) so that one that cannot be fetched or verified is reported now
// rather than at the first login.
func checkConfig(ctx context.Context, path string, now time.Time, timeout time.Duration) checkReport {
	c, problems := decodeConfig(path)
	if c == nil {
		return checkReport{problems: problems}
	}
	audit := &remoteAudit{}
	r, v := c.resolve(now, func() time.Time { return now }, audit)
	for i, src := range r.Sources {
		fctx, cancel := context.WithTimeout(ctx, timeout)
		err := src.Refresh(fctx)
		cancel()
		if err != nil {
			v.add(r.sourcePaths[i], "cannot be fetched or verified: %w", err)
		}
	}
	rep := checkReport{problems: append(problems, v.errs...), warnings: v.warnings}
	for _, list := range [][]Problem{rep.problems, rep.warnings} {
		slices.SortStableFunc(list, func(a, b Problem) int {
			return cmp.Compare(lineOrLast(a.Line), lineOrLast(b.Line))
		})
	}
	if r.Remote != nil {
		rep.summary = fmt.Sprintf("configuration OK (%d service providers from files and URLs)", len(r.Remote.List()))
	} else {
		rep.summary = fmt.Sprintf("configuration OK (%d service providers)", len(r.SPs))
	}
	return rep
}

// lineOrLast sorts an unknown line (0) after every known one.
func lineOrLast(line int) int {
	if line == 0 {
		return math.MaxInt
	}
	return line
}
