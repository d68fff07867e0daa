// Package testenv gives tests the real servers that .ci/run starts.
package testenv

import (
	"os"
	"testing"
)

// RedisAddr returns the address of the real Redis the tests run against,
// from SAMLBRIDGE_REDIS_ADDR. .ci/run starts one and sets it; in CI (CI
// set) its absence fails the test, never skips it. Elsewhere the test is
// skipped with a note on how to run it.
func RedisAddr(t testing.TB) string {
	t.Helper()
	addr := os.Getenv("SAMLBRIDGE_REDIS_ADDR")
	if addr == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("SAMLBRIDGE_REDIS_ADDR is not set; .ci/run must start redis-server")
		}
		t.Skip("SAMLBRIDGE_REDIS_ADDR not set (start redis-server on loopback and set it, as .ci/run does)")
	}
	return addr
}
