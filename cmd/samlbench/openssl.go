package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// opensslSignSeconds is what one RSA-2048 signature costs OpenSSL on this
// machine, from `openssl speed rsa2048` (SimpleSAMLphp signs through PHP's
// openssl extension, so with the same library).
func opensslSignSeconds(ctx context.Context) (float64, error) {
	bin, err := exec.LookPath("openssl")
	if err != nil {
		return 0, errors.New("no openssl command")
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "speed", "-seconds", "2", "rsa2048").Output()
	if err != nil {
		return 0, fmt.Errorf("openssl speed: %w", err)
	}
	return parseOpensslSpeed(out)
}

// parseOpensslSpeed reads the sign time from openssl speed's result line,
// "rsa 2048 bits 0.000301s 0.000021s 3318.1 48094.7" (sign, verify,
// sign/s, verify/s).
func parseOpensslSpeed(out []byte) (float64, error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "rsa 2048 bits ")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			break
		}
		v, err := strconv.ParseFloat(strings.TrimSuffix(f[0], "s"), 64)
		if err != nil || v <= 0 {
			return 0, fmt.Errorf("openssl speed: unexpected sign time %q", f[0])
		}
		return v, nil
	}
	return 0, errors.New("openssl speed: no \"rsa 2048 bits\" line")
}
