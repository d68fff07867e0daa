package adversarial

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/samlbridge/samlbridge/demo"
	"github.com/samlbridge/samlbridge/itsme"
	"github.com/samlbridge/samlbridge/saml"
)

// TestOIDC01StateAndBrowserBinding: state carries at least 128 bits, is
// bound to the browser that started the login by an HttpOnly Lax cookie,
// and is consumed once; a callback delivered to another browser is login
// CSRF and is refused, without using up the login of the browser that
// started it (top-25 #10).
func TestOIDC01StateAndBrowserBinding(t *testing.T) {
	w := newWorld(t)
	victim, attacker := browser(t), browser(t)
	authURL, _ := w.startLogin(t, attacker, demo.IndexAuthentication, "")
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	state, err := base64.RawURLEncoding.DecodeString(u.Query().Get("state"))
	if err != nil || len(state) < 16 {
		t.Errorf("state %q: want at least 128 bits of base64url", u.Query().Get("state"))
	}
	cookies := attacker.Jar.Cookies(mustURL(t, w.base+"/oidc/callback"))
	if len(cookies) != 1 || !strings.HasPrefix(cookies[0].Name, "samlbridge_flow_") {
		t.Fatalf("flow cookies %v, want one", cookies)
	}
	cb := w.consent(t, attacker, authURL, true)
	// The attacker hands the callback URL (its own login) to the victim.
	w.callback(t, victim, cb).local(t, http.StatusBadRequest, "browser_binding")
	// The refusal did not use the login up: the browser that started it
	// still finishes it, once (single use).
	w.success(t, w.callback(t, attacker, cb))
	w.callback(t, attacker, cb).local(t, http.StatusBadRequest, "unknown_state")
}

// TestOIDC02CookieAttributes: the flow cookie is HttpOnly, SameSite=Lax,
// host-only with Path=/ (the __Host- rules; the prefix itself needs https
// and is proven by server.TestFlowCookieHostPrefix).
func TestOIDC02CookieAttributes(t *testing.T) {
	w := newWorld(t)
	u, err := w.stack.SP.LoginURL(demo.IndexAuthentication, "")
	if err != nil {
		t.Fatal(err)
	}
	r := w.get(t, u)
	w.flowStarted(t, r)
	set := r.header.Values("Set-Cookie")
	if len(set) != 1 {
		t.Fatalf("Set-Cookie %q", set)
	}
	c := strings.ToLower(set[0])
	for _, want := range []string{"httponly", "samesite=lax", "path=/", "max-age="} {
		if !strings.Contains(c, want) {
			t.Errorf("cookie %q lacks %s", set[0], want)
		}
	}
	if strings.Contains(c, "domain=") {
		t.Errorf("cookie %q has a Domain", set[0])
	}
}

// TestOIDC03To16TokenChecks: ID tokens and userinfo that itsme's keys
// signed but whose claims are wrong are refused after the code exchange,
// and the SP gets Responder/AuthnFailed (top-25 #11, #15, #16).
func TestOIDC03To16TokenChecks(t *testing.T) {
	for _, tt := range []struct {
		name string
		kind string
		edit func(map[string]any)
	}{
		{"OIDC-03 nonce of another login", "id_token", func(c map[string]any) { c["nonce"] = "someone-elses-nonce" }},
		{"OIDC-03 nonce missing", "id_token", func(c map[string]any) { delete(c, "nonce") }},
		{"OIDC-14 issuer", "id_token", func(c map[string]any) { c["iss"] = "https://evil.example/v2" }},
		{"OIDC-14 audience", "id_token", func(c map[string]any) { c["aud"] = "another-client" }},
		{"OIDC-14 expired", "id_token", func(c map[string]any) { c["exp"] = 1000000000 }},
		{"OIDC-14 issued in the future", "id_token", func(c map[string]any) { c["iat"] = 4000000000 }},
		{"OIDC-16 userinfo for another subject", "userinfo", func(c map[string]any) { c["sub"] = "another-subject" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, func(o *demo.Options) {
				o.EmulatorHook = func(kind string, claims map[string]any) {
					if kind == tt.kind {
						tt.edit(claims)
					}
				}
			})
			index := demo.IndexAuthentication
			if tt.kind == "userinfo" {
				index = demo.IndexIdentification
			}
			r, id := w.fullLogin(t, index, "")
			r.samlStatus(t, w.acsURL(), id, saml.StatusResponder, saml.StatusAuthnFailed)
			if r.tokenCalls != 1 {
				t.Errorf("%d code exchanges, want 1", r.tokenCalls)
			}
		})
	}
}

// TestOIDC05CodeInjection: the code of login A replayed with the state of
// login B (same browser) fails: PKCE and nonce bind the code to A
// (top-25 #12).
func TestOIDC05CodeInjection(t *testing.T) {
	w := newWorld(t)
	b := browser(t)
	authA, _ := w.startLogin(t, b, demo.IndexAuthentication, "")
	authB, idB := w.startLogin(t, b, demo.IndexAuthentication, "")
	cbA, err := url.Parse(w.consent(t, b, authA, true))
	if err != nil {
		t.Fatal(err)
	}
	cbB, err := url.Parse(w.consent(t, b, authB, true))
	if err != nil {
		t.Fatal(err)
	}
	q := cbB.Query()
	q.Set("code", cbA.Query().Get("code"))
	cbB.RawQuery = q.Encode()
	r := w.callback(t, b, cbB.String())
	r.samlStatus(t, w.acsURL(), idB, saml.StatusResponder, saml.StatusAuthnFailed)
}

// TestOIDC06To08CallbackShapes: an authorization response from another
// issuer (RFC 9207), an error from itsme, and duplicated parameters.
func TestOIDC06To08CallbackShapes(t *testing.T) {
	w := newWorld(t)
	t.Run("OIDC-06 iss of another issuer", func(t *testing.T) {
		b := browser(t)
		auth, id := w.startLogin(t, b, demo.IndexAuthentication, "")
		r := w.callback(t, b, w.consent(t, b, auth, true)+"&iss="+url.QueryEscape("https://evil.example/v2"))
		r.samlStatus(t, w.acsURL(), id, saml.StatusResponder, saml.StatusAuthnFailed)
		r.nothingUpstream(t)
	})
	t.Run("OIDC-07 user refuses", func(t *testing.T) {
		b := browser(t)
		auth, id := w.startLogin(t, b, demo.IndexAuthentication, "")
		r := w.callback(t, b, w.consent(t, b, auth, false))
		r.samlStatus(t, w.acsURL(), id, saml.StatusResponder, saml.StatusAuthnFailed)
		r.nothingUpstream(t)
	})
	t.Run("OIDC-08 state twice", func(t *testing.T) {
		b := browser(t)
		auth, _ := w.startLogin(t, b, demo.IndexAuthentication, "")
		cb := w.consent(t, b, auth, true)
		w.callback(t, b, cb+"&state=x").local(t, http.StatusBadRequest, "bad_callback")
	})
	t.Run("OIDC-08 POST to the callback", func(t *testing.T) {
		w.postForm(t, w.base+"/oidc/callback", "state=x&code=y").local(t, http.StatusMethodNotAllowed, "bad_callback")
	})
}

// hostileOP is an OpenID provider that answers the token request the way
// the test says: a redirect, a 5xx, a huge body or garbage.
type hostileOP struct {
	srv    *httptest.Server
	bridge string // the bridge's base URL, for the redirect back
	token  func(w http.ResponseWriter)
	// discoveryDown makes discovery answer 500.
	discoveryDown bool
	stolen        atomic.Int64
	tokenCalls    atomic.Int64
}

func newHostileOP(t *testing.T) *hostileOP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "sig-1", Use: "sig", Algorithm: "RS256"}}})
	if err != nil {
		t.Fatal(err)
	}
	op := &hostileOP{}
	mux := http.NewServeMux()
	mux.HandleFunc("/op/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		if op.discoveryDown {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		iss := op.srv.URL + "/op"
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": iss, "authorization_endpoint": iss + "/authorize", "token_endpoint": iss + "/token",
			"userinfo_endpoint": iss + "/userinfo", "jwks_uri": iss + "/jwks",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("/op/jwks", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jwks)
	})
	mux.HandleFunc("/op/authorize", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, op.bridge+"/oidc/callback?code=hostile-code&state="+url.QueryEscape(r.URL.Query().Get("state")), http.StatusFound)
	})
	mux.HandleFunc("/op/token", func(w http.ResponseWriter, _ *http.Request) {
		op.tokenCalls.Add(1)
		op.token(w)
	})
	mux.HandleFunc("/op/steal", func(w http.ResponseWriter, _ *http.Request) { op.stolen.Add(1) })
	op.srv = httptest.NewServer(mux)
	t.Cleanup(op.srv.Close)
	return op
}

// TestOIDC09To17HostileUpstream: an OP that redirects the token request
// (which would leak the client assertion), fails, floods or talks
// nonsense costs the SP a Responder status, within bounds, and the token
// request's redirect is never followed (top-25 #22).
func TestOIDC09To17HostileUpstream(t *testing.T) {
	op := newHostileOP(t)
	w := newWorld(t, func(o *demo.Options) {
		op.bridge = o.BaseURL
		o.Upstream = &demo.Upstream{Issuer: op.srv.URL + "/op", ClientID: "bridge",
			ServiceCodes: map[itsme.Service]string{itsme.ServiceAuthentication: "LOGIN", itsme.ServiceIdentification: "IDENTIFY"}}
	})
	for _, tt := range []struct {
		name   string
		token  func(w http.ResponseWriter)
		second string
	}{
		{"OIDC-09 token endpoint redirects", func(w http.ResponseWriter) {
			w.Header().Set("Location", op.srv.URL+"/op/steal")
			w.WriteHeader(http.StatusTemporaryRedirect)
		}, saml.StatusAuthnFailed},
		{"OIDC-17 token endpoint 503", func(w http.ResponseWriter) { http.Error(w, "busy", http.StatusServiceUnavailable) }, ""},
		{"OIDC-17 token endpoint sends 20 MiB", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"x":"` + strings.Repeat("a", 20<<20) + `"}`))
		}, saml.StatusAuthnFailed},
		{"OIDC-17 token endpoint sends garbage", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token":`))
		}, saml.StatusAuthnFailed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			op.token = tt.token
			calls := op.tokenCalls.Load()
			defer func() {
				if op.tokenCalls.Load() != calls+1 {
					t.Errorf("the bridge called the token endpoint %d times, want once (no blind retry)", op.tokenCalls.Load()-calls)
				}
			}()
			b := browser(t)
			u, err := w.stack.SP.LoginURL(demo.IndexAuthentication, "")
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest(http.MethodGet, u, nil)
			r := w.send(t, req, b) // follows the hostile OP back to the callback
			id := requestIDOf(t, mustURL(t, u).Query().Get("SAMLRequest"))
			r.samlStatus(t, w.acsURL(), id, saml.StatusResponder, tt.second)
			if n := op.stolen.Load(); n != 0 {
				t.Fatalf("the token request followed the redirect %d time(s)", n)
			}
		})
	}
	t.Run("OIDC-17 discovery down: no flow is started", func(t *testing.T) {
		op.discoveryDown = true
		defer func() { op.discoveryDown = false }()
		// A fresh world: the first one has the discovery document cached.
		w2 := newWorld(t, func(o *demo.Options) {
			op.bridge = o.BaseURL
			o.Upstream = &demo.Upstream{Issuer: op.srv.URL + "/op", ClientID: "bridge",
				ServiceCodes: map[itsme.Service]string{itsme.ServiceAuthentication: "LOGIN", itsme.ServiceIdentification: "IDENTIFY"}}
		})
		u, err := w2.stack.SP.LoginURL(demo.IndexAuthentication, "")
		if err != nil {
			t.Fatal(err)
		}
		r := w2.get(t, u)
		r.samlStatus(t, w2.acsURL(), requestIDOf(t, mustURL(t, u).Query().Get("SAMLRequest")), saml.StatusResponder, "")
		r.nothingUpstream(t)
	})
}

// TestOIDC20PublishedJWKS: the bridge's JWK Set holds public keys only,
// one for signing and one for encryption, with distinct kids.
func TestOIDC20PublishedJWKS(t *testing.T) {
	w := newWorld(t)
	r := w.get(t, w.base+"/jwks")
	if r.status != http.StatusOK {
		t.Fatalf("HTTP %d", r.status)
	}
	var raw struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal([]byte(r.body), &raw); err != nil {
		t.Fatal(err)
	}
	uses := map[string]string{}
	for _, k := range raw.Keys {
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "k", "oth"} {
			if _, ok := k[private]; ok {
				t.Errorf("key %v publishes the private member %q", k["kid"], private)
			}
		}
		use, _ := k["use"].(string)
		kid, _ := k["kid"].(string)
		if prev, dup := uses[kid]; dup {
			t.Errorf("kid %q used for %s and %s", kid, prev, use)
		}
		uses[kid] = use
	}
	var sig, enc int
	for _, u := range uses {
		switch u {
		case "sig":
			sig++
		case "enc":
			enc++
		}
	}
	if sig < 1 || enc < 1 || sig+enc != len(raw.Keys) {
		t.Errorf("keys by use %v: want signing and encryption keys, each with a use", uses)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
