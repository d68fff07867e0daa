package emulator

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Test registrations.
const (
	clientA      = "OIDC_TEST1"
	clientB      = "OIDC_TEST2"
	svcLogin     = "OIDC_TEST1_LOGIN"
	svcIdentify  = "OIDC_TEST1_IDENTIFY"
	svcConfirm   = "OIDC_TEST1_CONFIRM"
	svcBLogin    = "OIDC_TEST2_LOGIN"
	redirectA    = "https://rp.example/cb?tenant=1"
	redirectB    = "https://other.example/callback"
	clientSigKID = "rp-sig-1"
	clientEncKID = "rp-enc-1"
)

// testKeys are generated once per test binary.
var (
	keysOnce sync.Once
	tk       struct{ opSig, opEnc, rpSig, rpEnc, evil *rsa.PrivateKey }
)

func keys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		for _, k := range []**rsa.PrivateKey{&tk.opSig, &tk.opEnc, &tk.rpSig, &tk.rpEnc, &tk.evil} {
			key, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			*k = key
		}
	})
}

// clientJWKS is the RP's public JWK Set.
func clientJWKS() *jose.JSONWebKeySet {
	return &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &tk.rpSig.PublicKey, KeyID: clientSigKID, Use: "sig", Algorithm: string(jose.RS256)},
		{Key: &tk.rpEnc.PublicKey, KeyID: clientEncKID, Use: "enc", Algorithm: string(jose.RSA_OAEP)},
	}}
}

// fakeClock is an injectable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// harness runs an emulator on httptest and plays the RP.
type harness struct {
	t      *testing.T
	emu    *Emulator
	srv    *httptest.Server
	base   string
	issuer string
	clock  *fakeClock
	client *http.Client

	served *servedObject
}

// servedObject is the request object served at /rp/request.jwt.
type servedObject struct {
	mu  sync.Mutex
	jwt string
}

func (s *servedObject) set(jwt string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jwt = jwt
}

// with returns the harness reporting to t (for subtests).
func (h *harness) with(t *testing.T) *harness {
	c := *h
	c.t = t
	return &c
}

// newHarness starts an emulator with client A (static JWKS, PKCE
// required, three services) and client B (JWKS by URL).
func newHarness(t *testing.T, mutate func(*Config)) *harness {
	t.Helper()
	keys(t)
	h := &harness{t: t, served: &servedObject{}, clock: &fakeClock{t: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}}
	h.srv = httptest.NewUnstartedServer(nil)
	h.base = "http://" + h.srv.Listener.Addr().String()
	h.issuer = h.base + "/v2"
	cfg := Config{
		Issuer: h.issuer,
		Clients: []Client{{
			ID:           clientA,
			RedirectURIs: []string{redirectA},
			JWKS:         clientJWKS(),
			Services: []Service{
				{Code: svcLogin, Type: ServiceAuthentication},
				{Code: svcIdentify, Type: ServiceIdentification},
				{Code: svcConfirm, Type: ServiceConfirmation},
			},
			RequirePKCE: true,
			RequestURIs: []string{h.base + "/rp/request.jwt"},
		}, {
			ID:           clientB,
			RedirectURIs: []string{redirectB},
			JWKSURL:      h.base + "/rp/jwks",
			Services:     []Service{{Code: svcBLogin, Type: ServiceAuthentication}},
		}},
		SigningKey:             tk.opSig,
		EncryptionKey:          tk.opEnc,
		AllowInsecureRedirects: true,
		Now:                    h.clock.Now,
		Logger:                 slog.New(slog.NewTextHandler(t.Output(), nil)),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	emu, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.emu = emu
	mux := http.NewServeMux()
	mux.Handle("/v2/", emu.Handler())
	mux.HandleFunc("/rp/jwks", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(clientJWKS())
	})
	mux.HandleFunc("/rp/request.jwt", func(w http.ResponseWriter, _ *http.Request) {
		h.served.mu.Lock()
		defer h.served.mu.Unlock()
		w.Header().Set("Content-Type", "application/oauth-authz-req+jwt")
		_, _ = io.WriteString(w, h.served.jwt)
	})
	h.srv.Config.Handler = mux
	h.srv.Start()
	t.Cleanup(h.srv.Close)
	h.client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return h
}

// authParams returns a valid parameter set for client A's service.
func (h *harness) authParams(service, verifierSeed string) map[string]any {
	_, challenge := verifier(verifierSeed)
	return map[string]any{
		"client_id":             clientA,
		"response_type":         "code",
		"scope":                 "openid service:" + service,
		"redirect_uri":          redirectA,
		"state":                 "state-" + verifierSeed,
		"nonce":                 "nonce-" + verifierSeed,
		"code_challenge":        challenge,
		"code_challenge_method": "S256",
	}
}

// requestObject signs params (plus iss, aud, exp) as client A.
func (h *harness) requestObject(params map[string]any) map[string]any {
	ro := map[string]any{"iss": clientA, "aud": h.issuer, "exp": h.clock.Now().Add(5 * time.Minute).Unix(), "iat": h.clock.Now().Unix()}
	for k, v := range params {
		ro[k] = v
	}
	return ro
}

// seal encrypts a compact JWS to the emulator's current encryption key,
// naming it by kid: the nested JWT a private_key_jwt client sends
// (itsme-oidc.md §2.1).
func (h *harness) seal(jws string) string {
	h.t.Helper()
	ks := h.emu.ownKeys()
	return encryptTo(h.t, &ks.enc.PublicKey, ks.encKID, jose.RSA_OAEP_256, jose.A128CBC_HS256, jws)
}

// requestJWT signs ro as client A, then seals it.
func (h *harness) requestJWT(ro map[string]any) string {
	h.t.Helper()
	return h.seal(signJWT(h.t, tk.rpSig, clientSigKID, ro))
}

// query renders params as an authorization query (claims as JSON).
func query(t testing.TB, params map[string]any) url.Values {
	t.Helper()
	q := url.Values{}
	for k, v := range params {
		switch x := v.(type) {
		case string:
			q.Set(k, x)
		default:
			b, err := json.Marshal(x)
			if err != nil {
				t.Fatal(err)
			}
			q.Set(k, string(b))
		}
	}
	return q
}

// get fetches a URL without following redirects.
func (h *harness) get(u string, header http.Header) (*http.Response, string) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return h.do(req)
}

func (h *harness) post(u string, form url.Values, header http.Header) (*http.Response, string) {
	h.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	return h.do(req)
}

func (h *harness) do(req *http.Request) (*http.Response, string) {
	h.t.Helper()
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp, string(b)
}

// authorize sends the browser to the authorization endpoint.
func (h *harness) authorize(q url.Values) (*http.Response, string) {
	h.t.Helper()
	return h.get(h.issuer+PathAuthorization+"?"+q.Encode(), nil)
}

// answer submits the phone page with extra values (nil: as found) and
// returns the redirect's query.
func (h *harness) answer(page string, extra url.Values) url.Values {
	h.t.Helper()
	action, vals := formAsFound(h.t, page)
	for k, v := range extra {
		vals[k] = v
	}
	resp, body := h.post(action, vals, nil)
	if resp.StatusCode != http.StatusFound {
		h.t.Fatalf("phone page answer: status %d:\n%s", resp.StatusCode, body)
	}
	return h.redirectQuery(resp, redirectPrefix(resp.Header.Get("Location")))
}

// redirectPrefix returns the registered redirect URI a Location starts
// with, or "".
func redirectPrefix(loc string) string {
	for _, r := range []string{redirectA, redirectB} {
		if strings.HasPrefix(loc, r) {
			return r
		}
	}
	return ""
}

// redirectQuery checks a 302 to redirect and returns the parameters it
// added.
func (h *harness) redirectQuery(resp *http.Response, redirect string) url.Values {
	h.t.Helper()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || redirect == "" || !strings.HasPrefix(loc, redirect) {
		h.t.Fatalf("want a 302 to a registered redirect URI, got %d Location %q", resp.StatusCode, loc)
	}
	u, err := url.Parse(loc)
	if err != nil {
		h.t.Fatal(err)
	}
	return u.Query()
}

// code runs an authorization for params (as a signed request object plus
// the query) and approves it as found.
func (h *harness) code(params map[string]any) string {
	h.t.Helper()
	q := query(h.t, params)
	q.Set("request", h.requestJWT(h.requestObject(params)))
	resp, page := h.authorize(q)
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("authorization: status %d Location %q:\n%s", resp.StatusCode, resp.Header.Get("Location"), page)
	}
	got := h.answer(page, nil)
	if got.Get("code") == "" {
		h.t.Fatalf("no code in the redirect: %v", got)
	}
	return got.Get("code")
}

// assertion returns a client assertion for clientID with the given
// overrides (a nil value deletes the claim).
func (h *harness) assertion(clientID string, overrides map[string]any) string {
	h.t.Helper()
	jti, err := randomJTI()
	if err != nil {
		h.t.Fatal(err)
	}
	now := h.clock.Now()
	cl := map[string]any{"iss": clientID, "sub": clientID, "aud": h.issuer + PathToken, "jti": jti, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
	for k, v := range overrides {
		if v == nil {
			delete(cl, k)
		} else {
			cl[k] = v
		}
	}
	return signJWT(h.t, tk.rpSig, clientSigKID, cl)
}

func randomJTI() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// tokenForm is a valid token request for a code of client A.
func (h *harness) tokenForm(code, verifierSeed string) url.Values {
	v, _ := verifier(verifierSeed)
	return url.Values{
		"grant_type":            {"authorization_code"},
		"code":                  {code},
		"redirect_uri":          {redirectA},
		"code_verifier":         {v},
		"client_assertion_type": {jwtBearerType},
		"client_assertion":      {h.assertion(clientA, nil)},
	}
}

// token posts a token request and decodes the JSON answer.
func (h *harness) token(form url.Values) (*http.Response, map[string]any) {
	h.t.Helper()
	resp, body := h.post(h.issuer+PathToken, form, nil)
	var out map[string]any
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		h.t.Fatalf("token answer (status %d) is not JSON: %v\n%s", resp.StatusCode, err, body)
	}
	return resp, out
}

// open decrypts a nested JWT with the RP key and verifies it with the
// emulator's published signing key.
func (h *harness) open(raw string) map[string]any {
	h.t.Helper()
	jwe, err := jose.ParseEncryptedCompact(raw, []jose.KeyAlgorithm{jose.RSA_OAEP, jose.RSA_OAEP_256}, []jose.ContentEncryption{jose.A128CBC_HS256, jose.A256GCM})
	if err != nil {
		h.t.Fatalf("not a JWE: %v", err)
	}
	if jwe.Header.KeyID != clientEncKID {
		h.t.Errorf("JWE kid = %q, want %q", jwe.Header.KeyID, clientEncKID)
	}
	if cty := jwe.Header.ExtraHeaders["cty"]; cty != "JWT" {
		h.t.Errorf("JWE cty = %v, want JWT", cty)
	}
	inner, err := jwe.Decrypt(tk.rpEnc)
	if err != nil {
		h.t.Fatalf("decrypt: %v", err)
	}
	jws, err := jose.ParseSignedCompact(string(inner), []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		h.t.Fatalf("inner JWS: %v", err)
	}
	set := h.emu.PublicJWKS()
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) != 1 || keys[0].Use != "sig" {
		h.t.Fatalf("inner JWS kid %q does not name the emulator's signing key", jws.Signatures[0].Header.KeyID)
	}
	payload, err := jws.Verify(keys[0].Key)
	if err != nil {
		h.t.Fatalf("inner JWS signature: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		h.t.Fatal(err)
	}
	return claims
}

// userinfo calls the userinfo endpoint with a Bearer token.
func (h *harness) userinfo(accessToken string) (*http.Response, string) {
	h.t.Helper()
	return h.get(h.issuer+PathUserInfo, http.Header{"Authorization": {"Bearer " + accessToken}})
}
