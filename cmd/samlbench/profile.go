package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/pprof/profile"
)

// rsaPackages are the packages of Go's RSA implementation: a CPU sample
// with one of their functions on its stack is time spent in an RSA
// operation.
var rsaPackages = []string{"crypto/internal/fips140/rsa.", "crypto/internal/fips140/bigmod."}

// rsaShare reads a CPU profile and returns the share of its CPU time
// spent inside RSA operations, and the number of samples it rests on.
// Both parts of the share are sampled in the same process at the same
// moments, so the machine's drift cancels out of it, which it does not
// from a floor measured beside the bridge.
func rsaShare(r io.Reader) (share float64, samples int64, err error) {
	p, err := profile.Parse(r)
	if err != nil {
		return 0, 0, fmt.Errorf("CPU profile: %w", err)
	}
	idx := -1
	for i, st := range p.SampleType {
		if st.Type == "cpu" {
			idx = i
		}
	}
	if idx < 0 {
		return 0, 0, errors.New("CPU profile: no cpu sample type")
	}
	var total, rsa int64
	for _, s := range p.Sample {
		v := s.Value[idx]
		total += v
		samples++
		if inRSA(s) {
			rsa += v
		}
	}
	if total == 0 {
		return 0, 0, errors.New("CPU profile: no samples")
	}
	return float64(rsa) / float64(total), samples, nil
}

// inRSA reports whether the sample's stack passes through Go's RSA code.
func inRSA(s *profile.Sample) bool {
	for _, loc := range s.Location {
		for _, ln := range loc.Line {
			if ln.Function == nil {
				continue
			}
			for _, pkg := range rsaPackages {
				if strings.HasPrefix(ln.Function.Name, pkg) {
					return true
				}
			}
		}
	}
	return false
}

// rsaShareFile is rsaShare of the profile saved at path.
func rsaShareFile(path string) (float64, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	return rsaShare(f)
}
