package main

import (
	"debug/buildinfo"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
)

// rsaBackend is the RSA implementation a Go binary was built with. The
// crypto floor is measured in samlbench's own process, so it is the
// bridge's floor only when both were built with the same one.
type rsaBackend struct {
	// name is short, for figures ("Go", "BoringCrypto").
	name string
	// about says what it is, for the report.
	about string
}

var (
	backendGo = rsaBackend{"Go", "Go's crypto/rsa (pure Go, constant time)"}
	// backendBoring is GOEXPERIMENT=boringcrypto: BoringSSL's FIPS module
	// linked into the binary and called through cgo. The Go team does not
	// support it outside Google.
	backendBoring = rsaBackend{"BoringCrypto", "BoringCrypto (GOEXPERIMENT=boringcrypto: BoringSSL's FIPS module through cgo; unsupported by the Go team outside Google)"}
)

// backendOf reads the RSA backend from a binary's build settings.
func backendOf(settings []debug.BuildSetting) rsaBackend {
	for _, s := range settings {
		if s.Key == "GOEXPERIMENT" && slices.Contains(strings.Split(s.Value, ","), "boringcrypto") {
			return backendBoring
		}
	}
	return backendGo
}

// sameBackend returns samlbench's own RSA backend, and an error when the
// bridge binary at bin was built with another one: the floor would then
// be measured with a different RSA from the one the bridge runs.
func sameBackend(bin string) (rsaBackend, error) {
	var own rsaBackend = backendGo
	if bi, ok := debug.ReadBuildInfo(); ok {
		own = backendOf(bi.Settings)
	}
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		return own, fmt.Errorf("reading the bridge binary's build settings: %w", err)
	}
	if theirs := backendOf(bi.Settings); theirs != own {
		return own, fmt.Errorf("the bridge %s was built with %s RSA and samlbench with %s: the crypto floor, measured in samlbench, would not be the bridge's; build both with the same GOEXPERIMENT (bench/run does)", bin, theirs.name, own.name)
	}
	return own, nil
}
