package demo

import (
	"encoding/base64"
	"log/slog"
	"testing"
)

func decodeStd(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }

// testLogger sends the stack's logs to the test output.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}
