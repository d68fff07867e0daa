package emulator

import (
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// servedKIDs fetches the JWK Set over HTTP and returns its kids by use,
// in order.
func (h *harness) servedKIDs() (sig, enc []string) {
	h.t.Helper()
	resp, body := h.mustCall(PathJWKS)
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil || resp.StatusCode != http.StatusOK {
		h.t.Fatalf("JWK Set: %d %v", resp.StatusCode, err)
	}
	for _, k := range set.Keys {
		if !k.IsPublic() {
			h.t.Fatalf("the JWK Set holds a private key (kid %q)", k.KeyID)
		}
		switch k.Use {
		case "sig":
			sig = append(sig, k.KeyID)
		case "enc":
			enc = append(enc, k.KeyID)
		default:
			h.t.Fatalf("key %q has use %q", k.KeyID, k.Use)
		}
	}
	return sig, enc
}

// TestRotateSigningKey: after a rotation the JWK Set publishes what the
// mode says, and ID tokens and userinfo answers carry the new kid.
func TestRotateSigningKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		how                    Rotation
		publishNew, publishOld bool
	}{
		{how: DropOld, publishNew: true},
		{how: KeepOld, publishNew: true, publishOld: true},
		{how: Unpublished, publishOld: true},
	}
	for _, tt := range tests {
		t.Run(tt.how.String(), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			oldSig, oldEnc := h.servedKIDs()
			kid, err := h.emu.RotateSigningKey(tt.how)
			if err != nil {
				t.Fatal(err)
			}
			if kid == "" || kid == oldSig[0] {
				t.Fatalf("new kid %q, old %q", kid, oldSig[0])
			}
			if bits := h.emu.ownKeys().sig.N.BitLen(); bits != tk.opSig.N.BitLen() {
				t.Errorf("new key of %d bits, want %d like the old one", bits, tk.opSig.N.BitLen())
			}
			var want []string
			if tt.publishNew {
				want = append(want, kid)
			}
			if tt.publishOld {
				want = append(want, oldSig[0])
			}
			sig, enc := h.servedKIDs()
			if !slices.Equal(sig, want) {
				t.Errorf("published sig kids %q, want %q", sig, want)
			}
			if !slices.Equal(enc, oldEnc) {
				t.Errorf("published enc kids %q changed from %q", enc, oldEnc)
			}

			resp, tr := h.token(h.tokenForm(h.code(h.authParams(svcLogin, "rotate")), "rotate"))
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("token: %d %v", resp.StatusCode, tr)
			}
			idt, _ := tr["id_token"].(string)
			_, body := h.userinfo(tr["access_token"].(string))
			for what, raw := range map[string]string{"ID token": idt, "userinfo": body} {
				if got := innerKID(t, raw); got != kid {
					t.Errorf("%s signed with kid %q, want the new %q", what, got, kid)
				}
				if tt.how != Unpublished {
					h.open(raw) // verifies with the published key of that kid
				}
			}
		})
	}
}

// TestRotateEncryptionKey: after a rotation the JWK Set publishes what the
// mode says, and request objects are accepted only when encrypted to a
// key the mode keeps.
func TestRotateEncryptionKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		how                    Rotation
		publishNew, publishOld bool
		acceptOld              bool
	}{
		{how: DropOld, publishNew: true},
		{how: KeepOld, publishNew: true, publishOld: true, acceptOld: true},
		{how: Unpublished, publishOld: true},
	}
	for _, tt := range tests {
		t.Run(tt.how.String(), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			oldSig, oldEnc := h.servedKIDs()
			kid, err := h.emu.RotateEncryptionKey(tt.how)
			if err != nil {
				t.Fatal(err)
			}
			newKey := h.emu.ownKeys().enc
			if kid == oldEnc[0] || newKey.PublicKey.Equal(&tk.opEnc.PublicKey) {
				t.Fatalf("the encryption key did not change (kid %q)", kid)
			}
			var want []string
			if tt.publishNew {
				want = append(want, kid)
			}
			if tt.publishOld {
				want = append(want, oldEnc[0])
			}
			sig, enc := h.servedKIDs()
			if !slices.Equal(enc, want) {
				t.Errorf("published enc kids %q, want %q", enc, want)
			}
			if !slices.Equal(sig, oldSig) {
				t.Errorf("published sig kids %q changed from %q", sig, oldSig)
			}

			for _, c := range []struct {
				name   string
				key    *rsa.PublicKey
				kid    string
				accept bool
			}{
				{name: "to the new key", key: &newKey.PublicKey, kid: kid, accept: true},
				{name: "to the old key", key: &tk.opEnc.PublicKey, kid: oldEnc[0], accept: tt.acceptOld},
				{name: "to the old key under the new kid", key: &tk.opEnc.PublicKey, kid: kid, accept: false},
			} {
				params := h.authParams(svcLogin, "enc")
				q := query(t, params)
				q.Set("request", encryptTo(t, c.key, c.kid, jose.RSA_OAEP_256, jose.A256GCM, signJWT(t, tk.rpSig, clientSigKID, h.requestObject(params))))
				resp, page := h.authorize(q)
				accepted := resp.StatusCode == http.StatusOK && strings.Contains(page, `name="tx"`)
				if !accepted {
					if got := h.redirectQuery(resp, redirectA).Get("error"); got != codeInvalidRequestObject {
						t.Errorf("%s: error %q, want %q", c.name, got, codeInvalidRequestObject)
					}
				}
				if accepted != c.accept {
					t.Errorf("request object encrypted %s: accepted %t, want %t", c.name, accepted, c.accept)
				}
			}
		})
	}
}

// TestRotateRepeatedly: KeepOld keeps every key published so far, and
// DropOld then leaves only the newest.
func TestRotateRepeatedly(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	first, _ := h.servedKIDs()
	k1, err1 := h.emu.RotateSigningKey(KeepOld)
	rogue, err2 := h.emu.RotateSigningKey(Unpublished)
	k3, err3 := h.emu.RotateSigningKey(KeepOld)
	if err := firstErr(err1, err2, err3); err != nil {
		t.Fatal(err)
	}
	if sig, _ := h.servedKIDs(); !slices.Equal(sig, []string{k3, k1, first[0]}) {
		t.Errorf("after KeepOld, Unpublished, KeepOld: sig kids %q, want %q (never the rogue %q)", sig, []string{k3, k1, first[0]}, rogue)
	}
	k4, err := h.emu.RotateSigningKey(DropOld)
	if err != nil {
		t.Fatal(err)
	}
	if sig, _ := h.servedKIDs(); !slices.Equal(sig, []string{k4}) {
		t.Errorf("after DropOld: sig kids %q, want only %q", sig, k4)
	}
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// TestRotateBadMode: an unknown Rotation is refused and changes nothing.
func TestRotateBadMode(t *testing.T) {
	t.Parallel()
	keys(t)
	e, err := New(validConfig())
	if err != nil {
		t.Fatal(err)
	}
	before := e.ownKeys()
	for _, how := range []Rotation{0, Unpublished + 1, -1} {
		if _, err := e.RotateSigningKey(how); err == nil || !strings.Contains(err.Error(), "unknown Rotation") {
			t.Errorf("RotateSigningKey(%v) = %v, want an unknown Rotation error", how, err)
		}
		if _, err := e.RotateEncryptionKey(how); err == nil {
			t.Errorf("RotateEncryptionKey(%v) succeeded", how)
		}
	}
	if e.ownKeys() != before {
		t.Error("a refused rotation changed the keys")
	}
}
