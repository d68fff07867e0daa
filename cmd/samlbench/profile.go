package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/google/pprof/profile"
)

// rsaFunctions are the prefixes of the functions of the RSA
// implementations: Go's own packages, and BoringCrypto's RSA calls when
// the binary was built with GOEXPERIMENT=boringcrypto. A CPU sample with
// one of them on its stack is time spent in an RSA operation.
var rsaFunctions = []string{
	"crypto/internal/fips140/rsa.", "crypto/internal/fips140/bigmod.",
	"crypto/internal/boring.SignRSA", "crypto/internal/boring.VerifyRSA",
	"crypto/internal/boring.DecryptRSA", "crypto/internal/boring.EncryptRSA",
}

// rsaWork is what a CPU profile says about the RSA operations in it.
type rsaWork struct {
	// rsaCPU and totalCPU are the CPU seconds sampled inside RSA code
	// and in all.
	rsaCPU, totalCPU float64
	// samples is how many samples they rest on.
	samples int64
	// wall is how long the profile ran.
	wall time.Duration
}

// share is the part of the sampled CPU spent in RSA operations.
func (w rsaWork) share() float64 { return w.rsaCPU / w.totalCPU }

// rsaShare reads a CPU profile and returns the CPU time it sampled inside
// RSA code and in all. Both are sampled in the same process at the
// same moments, so what they say about each other is free of the
// machine's drift, which a floor measured beside the bridge is not.
func rsaShare(r io.Reader) (rsaWork, error) {
	p, err := profile.Parse(r)
	if err != nil {
		return rsaWork{}, fmt.Errorf("CPU profile: %w", err)
	}
	cpu, count := -1, -1
	for i, st := range p.SampleType {
		switch {
		case st.Type == "cpu" && st.Unit == "nanoseconds":
			cpu = i
		case st.Type == "samples" && st.Unit == "count":
			count = i
		}
	}
	if cpu < 0 || count < 0 {
		return rsaWork{}, errors.New("CPU profile: no cpu/nanoseconds or samples/count sample type")
	}
	// Each record is one distinct stack; its count says how many times it
	// was sampled.
	var total, rsa, samples int64
	for _, s := range p.Sample {
		v := s.Value[cpu]
		total += v
		samples += s.Value[count]
		if inRSA(s) {
			rsa += v
		}
	}
	if total == 0 {
		return rsaWork{}, errors.New("CPU profile: no samples")
	}
	return rsaWork{rsaCPU: float64(rsa) / 1e9, totalCPU: float64(total) / 1e9, samples: samples, wall: time.Duration(p.DurationNanos)}, nil
}

// inRSA reports whether the sample's stack passes through RSA code.
func inRSA(s *profile.Sample) bool {
	for _, loc := range s.Location {
		for _, ln := range loc.Line {
			if ln.Function == nil {
				continue
			}
			for _, prefix := range rsaFunctions {
				if strings.HasPrefix(ln.Function.Name, prefix) {
					return true
				}
			}
		}
	}
	return false
}

// rsaShareFile is rsaShare of the profile saved at path.
func rsaShareFile(path string) (rsaWork, error) {
	f, err := os.Open(path)
	if err != nil {
		return rsaWork{}, err
	}
	defer f.Close()
	return rsaShare(f)
}
