package server

import (
	"errors"
	"testing"

	"github.com/samlbridge/samlbridge/itsme"
	"github.com/samlbridge/samlbridge/saml"
)

// TestStatusFromUpstream checks that every itsme failure becomes the SAML
// status an SP can act on (saml-core §3.2.2.2).
func TestStatusFromUpstream(t *testing.T) {
	tests := []struct {
		name          string
		err           error
		wantStatus    string
		wantSubStatus string
	}{
		{"user refused", &itsme.Error{Stage: "authorization", Code: "access_denied"}, saml.StatusResponder, saml.StatusAuthnFailed},
		{"acr too low", &itsme.Error{Stage: "id_token", Code: "acr_mismatch"}, saml.StatusResponder, saml.StatusNoAuthnContext},
		{"login required", &itsme.Error{Stage: "authorization", Code: "login_required"}, saml.StatusResponder, saml.StatusNoPassive},
		{"itsme down", &itsme.Error{Stage: "token", Code: itsme.CodeUnavailable}, saml.StatusResponder, ""},
		{"itsme temporary_unavailable", &itsme.Error{Stage: "authorization", Code: "temporary_unavailable"}, saml.StatusResponder, ""},
		{"bad token", &itsme.Error{Stage: "id_token", Code: itsme.CodeInvalidToken}, saml.StatusResponder, saml.StatusAuthnFailed},
		{"code reused", &itsme.Error{Stage: "token", Code: "invalid_grant"}, saml.StatusResponder, saml.StatusAuthnFailed},
		{"client misconfigured", &itsme.Error{Stage: "token", Code: "unauthorized_client"}, saml.StatusResponder, saml.StatusAuthnFailed},
		{"unknown scope", &itsme.Error{Stage: "authorization", Code: "invalid_scope"}, saml.StatusResponder, saml.StatusAuthnFailed},
		{"not an itsme error", errors.New("boom"), saml.StatusResponder, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := statusFromUpstream(tc.err)
			if got.Status != tc.wantStatus || got.SubStatus != tc.wantSubStatus {
				t.Errorf("got %s/%s, want %s/%s", got.Status, got.SubStatus, tc.wantStatus, tc.wantSubStatus)
			}
			if got.Message == "" {
				t.Error("no StatusMessage for the SP")
			}
			if !errors.Is(got, tc.err) {
				t.Error("the cause is not kept for the logs")
			}
		})
	}
}
