package demo

import (
	"encoding/base64"
	"errors"
	"log/slog"
	"testing"

	crewjam "github.com/crewjam/saml"
)

func decodeStd(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }

// testLogger sends the stack's logs to the test output.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func asInvalid(err error, target **crewjam.InvalidResponseError) bool {
	return errors.As(err, target)
}
