package saml

import (
	"strings"
	"testing"
)

func TestValidID(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]bool{
		"id-123": true, "_a.b-c": true, "é1": true,
		"": false, "1abc": false, "-a": false, "a b": false, `a"b`: false, "a:b": false,
		strings.Repeat("a", 256): true, strings.Repeat("a", 257): false,
	} {
		if got := validID(id); got != want {
			t.Errorf("validID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestRequestErrorStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *RequestError
		want int
	}{
		{reject(ErrMalformedRequest, nil), 400},
		{reject(ErrRequestTooLarge, nil), 413},
		{reject(ErrRegistryUnavailable, nil), 503},
		{&RequestError{Reason: ErrUnsupportedBinding, status: 405}, 405},
		{reject(ErrUnknownSP, nil), 400},
	}
	for _, tt := range tests {
		if got := tt.err.HTTPStatus(); got != tt.want {
			t.Errorf("%v: status %d, want %d", tt.err, got, tt.want)
		}
	}
	if reject(ErrUnknownSP, nil).Message != msgUnknownSP || !strings.Contains(msgUnknownSP, "not registered") {
		t.Error("unknown-SP message")
	}
}

func TestPrecheckUsesRequestLimits(t *testing.T) {
	if err := precheckXML([]byte("<r>" + strings.Repeat("<a/>", 2000) + "</r>")); err == nil {
		t.Error("2001 elements accepted in an AuthnRequest")
	}
}
