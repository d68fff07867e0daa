package emulator

import (
	"crypto/rsa"
	"errors"
	"math/big"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// validConfig is a minimal valid configuration.
func validConfig() Config {
	return Config{
		Issuer: "https://idp.example/v2",
		Clients: []Client{{
			ID: clientA, RedirectURIs: []string{redirectA}, JWKS: clientJWKS(),
			Services: []Service{{Code: svcLogin, Type: ServiceAuthentication}},
		}},
		SigningKey: tk.opSig, EncryptionKey: tk.opEnc,
	}
}

func TestNewValidation(t *testing.T) {
	t.Parallel()
	keys(t)
	tests := []struct {
		name    string
		mutate  func(c *Config)
		wantErr error
		want    []string // substrings of the error
	}{
		{name: "valid", mutate: func(*Config) {}},
		{name: "http loopback allowed in insecure mode", mutate: func(c *Config) {
			c.Issuer = "http://127.0.0.1:8080/v2"
			c.Clients[0].RedirectURIs = []string{"http://localhost:9000/cb"}
			c.AllowInsecureRedirects = true
		}},
		{name: "https loopback redirect and request URIs in insecure mode", mutate: func(c *Config) {
			c.Clients[0].RedirectURIs = []string{"https://localhost/cb", "https://127.0.0.1/cb", "https://[::1]/cb"}
			c.Clients[0].RequestURIs = []string{"https://localhost:443/ro.jwt"}
			c.AllowInsecureRedirects = true
		}},
		{name: "https redirect on localhost", mutate: func(c *Config) { c.Clients[0].RedirectURIs = []string{"https://localhost/cb"} }, wantErr: ErrConfig, want: []string{`redirect URI "https://localhost/cb"`, "loopback"}},
		{name: "https redirect on LOCALHOST.", mutate: func(c *Config) { c.Clients[0].RedirectURIs = []string{"https://LOCALHOST./cb"} }, wantErr: ErrConfig, want: []string{"loopback"}},
		{name: "https redirect under .localhost", mutate: func(c *Config) { c.Clients[0].RedirectURIs = []string{"https://rp.localhost/cb"} }, wantErr: ErrConfig, want: []string{"loopback"}},
		{name: "https redirect on 127.0.0.1", mutate: func(c *Config) { c.Clients[0].RedirectURIs = []string{"https://127.0.0.1:8443/cb"} }, wantErr: ErrConfig, want: []string{"loopback"}},
		{name: "https redirect elsewhere in 127.0.0.0/8", mutate: func(c *Config) { c.Clients[0].RedirectURIs = []string{"https://127.8.9.10/cb"} }, wantErr: ErrConfig, want: []string{"loopback"}},
		{name: "https redirect on ::1", mutate: func(c *Config) { c.Clients[0].RedirectURIs = []string{"https://[::1]/cb"} }, wantErr: ErrConfig, want: []string{"loopback"}},
		{name: "https request URI on localhost", mutate: func(c *Config) { c.Clients[0].RequestURIs = []string{"https://localhost:443/ro.jwt"} }, wantErr: ErrConfig, want: []string{`request URI "https://localhost:443/ro.jwt"`, "loopback"}},
		{name: "https request URI on 127.0.0.1", mutate: func(c *Config) { c.Clients[0].RequestURIs = []string{"https://127.0.0.1:443/ro.jwt"} }, wantErr: ErrConfig, want: []string{"loopback"}},
		{name: "http issuer", mutate: func(c *Config) { c.Issuer = "http://127.0.0.1:8080/v2" }, wantErr: ErrConfig, want: []string{"Issuer"}},
		{name: "http redirect on a public host", mutate: func(c *Config) {
			c.AllowInsecureRedirects = true
			c.Clients[0].RedirectURIs = []string{"http://rp.example/cb"}
		}, wantErr: ErrConfig, want: []string{"loopback"}},
		{name: "redirect with fragment", mutate: func(c *Config) { c.Clients[0].RedirectURIs = []string{"https://rp.example/cb#x"} }, wantErr: ErrConfig, want: []string{"fragment"}},
		{name: "issuer with trailing slash", mutate: func(c *Config) { c.Issuer += "/" }, wantErr: ErrConfig, want: []string{"slash"}},
		{name: "every problem at once", mutate: func(c *Config) {
			c.Issuer = ""
			c.Clients = append(c.Clients, Client{ID: clientA}, Client{ID: "x", RedirectURIs: []string{"https://a/"}, JWKSURL: "https://a/jwks", Services: []Service{{Code: "S", Type: "bogus"}}})
			c.IDTokenKeyAlg = jose.RSA1_5
			c.IDTokenContentEnc = jose.A128GCM
			c.Personas = []Persona{{ID: "a", Claims: map[string]any{}}, {ID: "a", Claims: map[string]any{}}}
		}, wantErr: ErrConfig, want: []string{"Issuer", "registered twice", "no RedirectURIs", "neither JWKS nor JWKSURL", "no Services", "unknown type", "IDTokenKeyAlg", "IDTokenContentEnc", "defined twice"}},
		{name: "JWKS without enc key", mutate: func(c *Config) {
			c.Clients[0].JWKS = &jose.JSONWebKeySet{Keys: clientJWKS().Keys[:1]}
		}, wantErr: ErrConfig, want: []string{"use=enc"}},
		{name: "JWKS with a private key", mutate: func(c *Config) {
			set := clientJWKS()
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: tk.evil, KeyID: "priv", Use: "sig"})
			c.Clients[0].JWKS = set
		}, wantErr: ErrConfig, want: []string{"private"}},
		{name: "request URI without :443", mutate: func(c *Config) { c.Clients[0].RequestURIs = []string{"https://rp.example/ro"} }, wantErr: ErrConfig, want: []string{":443"}},
		{name: "same key for signing and encryption", mutate: func(c *Config) { c.EncryptionKey = c.SigningKey }, wantErr: ErrConfig, want: []string{"differ"}},
		{name: "empty persona list", mutate: func(c *Config) { c.Personas = []Persona{} }, wantErr: ErrConfig, want: []string{"Personas"}},
		{name: "negative store limit", mutate: func(c *Config) { c.StoreLimit = -1 }, wantErr: ErrConfig, want: []string{"StoreLimit"}},
		{name: "short subject secret", mutate: func(c *Config) { c.SubjectSecret = []byte("short") }, wantErr: ErrConfig, want: []string{"SubjectSecret"}},
		{name: "weak key", mutate: func(c *Config) {
			c.SigningKey = &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: new(big.Int).Rsh(tk.opSig.N, 1100), E: 65537}}
		}, wantErr: ErrConfig, want: []string{"bits"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := validConfig()
			tt.mutate(&cfg)
			e, err := New(cfg)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (e != nil) {
				t.Fatalf("New() error = %v, want %v", err, tt.wantErr)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// TestNewGeneratesKeys: nil keys are generated, with distinct kids.
func TestNewGeneratesKeys(t *testing.T) {
	t.Parallel()
	keys(t)
	cfg := validConfig()
	cfg.SigningKey, cfg.EncryptionKey = nil, tk.opEnc
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	set := e.PublicJWKS()
	if len(set.Keys) != 2 || set.Keys[0].KeyID == set.Keys[1].KeyID || set.Keys[0].Use != "sig" || set.Keys[1].Use != "enc" {
		t.Errorf("JWKS %+v", set.Keys)
	}
	for _, k := range set.Keys {
		if !k.IsPublic() {
			t.Error("the public JWKS holds a private key")
		}
	}
}
