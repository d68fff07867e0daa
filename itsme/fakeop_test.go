package itsme

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/samlbridge/samlbridge/certs"
)

// testKeys are generated once per test binary (2048-bit RSA).
type testKeys struct {
	bridge   *certs.JOSEKeys // Sig, Enc, OldEnc[0]
	opSig    *rsa.PrivateKey // itsme signing key "op-sig-1"
	opSig2   *rsa.PrivateKey // itsme rotated signing key "op-sig-2"
	opEnc    *rsa.PrivateKey // itsme encryption key for request objects
	attacker *rsa.PrivateKey
}

var (
	keysOnce sync.Once
	keysVal  *testKeys
	keysErr  error
)

func loadTestKeys(t testing.TB) *testKeys {
	t.Helper()
	keysOnce.Do(func() {
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		gen := func(cn string) *certs.KeyPair {
			if keysErr != nil {
				return nil
			}
			kp, err := certs.Generate(nil, 2048, cn, now, 24*time.Hour*3650)
			keysErr = err
			return kp
		}
		sig, enc, old := gen("rp-sig"), gen("rp-enc"), gen("rp-enc-old")
		opSig, opSig2, opEnc, att := gen("op-sig"), gen("op-sig2"), gen("op-enc"), gen("attacker")
		if keysErr != nil {
			return
		}
		keysVal = &testKeys{
			bridge: &certs.JOSEKeys{Sig: sig, Enc: enc, OldEnc: []*certs.KeyPair{old}},
			opSig:  opSig.Key, opSig2: opSig2.Key, opEnc: opEnc.Key, attacker: att.Key,
		}
	})
	if keysErr != nil {
		t.Fatalf("generating keys: %v", keysErr)
	}
	return keysVal
}

const (
	testClientID    = "OIDC_TEST1"
	testRedirectURI = "https://bridge.example/oidc/callback"
	testSub         = "6g2k9rgglem2dttw5d51ulkxpv24phwatiu6"
	testAccessToken = "at-0123456789"
	testCode        = "code-0123456789abcdef0123456789abcdef"
	kidOPSig        = "op-sig-1"
	kidOPSig2       = "op-sig-2"
	kidOPEnc        = "op-enc-1"
)

var testServiceCodes = map[Service]string{ServiceAuthentication: "OIDC_TEST1_LOGIN", ServiceIdentification: "OIDC_TEST1_IDENT"}

// clock is a settable clock shared by the fake OP and the client.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock        { c := &clock{}; c.ns.Store(t.UnixNano()); return c }
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// fakeOP is a minimal itsme OP on httptest: discovery, JWKS, token and
// userinfo, with knobs for negative tests.
type fakeOP struct {
	t     testing.TB
	keys  *testKeys
	clock *clock
	srv   *httptest.Server

	jwksFetches   atomic.Int32
	tokenCalls    atomic.Int32
	userinfoCalls atomic.Int32

	mu             sync.Mutex
	discoveryCode  int                           // non-zero: discovery answers this status
	discovery      func(m map[string]any)        // edits the discovery document
	jwksKeys       []jose.JSONWebKey             // published keys (public)
	nonce          string                        // nonce for the ID token
	verifier       string                        // expected code_verifier
	mutateID       func(m map[string]any)        // edits the ID token claims
	mintID         func(m map[string]any) string // replaces the ID token minting
	mutateUI       func(m map[string]any)
	userinfoFn     http.HandlerFunc // replaces the userinfo handler
	jwksWait       func()           // runs before the JWK Set is served
	tokenFn        http.HandlerFunc // replaces the token handler
	lastForm       map[string][]string
	assertionJTIs  map[string]bool
	assertionClaim map[string]any
}

func newFakeOP(t testing.TB, clk *clock) *fakeOP {
	t.Helper()
	op := &fakeOP{t: t, keys: loadTestKeys(t), clock: clk, assertionJTIs: map[string]bool{}}
	op.jwksKeys = []jose.JSONWebKey{
		{Key: &op.keys.opSig.PublicKey, KeyID: kidOPSig, Use: "sig", Algorithm: "RS256"},
		{Key: &op.keys.opEnc.PublicKey, KeyID: kidOPEnc, Use: "enc", Algorithm: "RSA-OAEP-256"},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/.well-known/openid-configuration", op.handleDiscovery)
	mux.HandleFunc("GET /v2/jwkSet", op.handleJWKS)
	mux.HandleFunc("POST /v2/token", op.handleToken)
	mux.HandleFunc("GET /v2/userinfo", op.handleUserInfo)
	op.srv = httptest.NewServer(mux)
	t.Cleanup(op.srv.Close)
	return op
}

func (op *fakeOP) issuer() string { return op.srv.URL + "/v2" }

func (op *fakeOP) set(f func(op *fakeOP)) {
	op.mu.Lock()
	defer op.mu.Unlock()
	f(op)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (op *fakeOP) handleDiscovery(w http.ResponseWriter, _ *http.Request) {
	iss := op.issuer()
	doc := map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                iss + "/authorization",
		"token_endpoint":                        iss + "/token",
		"userinfo_endpoint":                     iss + "/userinfo",
		"jwks_uri":                              iss + "/jwkSet",
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"request_object_encryption_alg_values_supported": []string{"RSA-OAEP", "RSA-OAEP-256"},
		"request_object_encryption_enc_values_supported": []string{"A128CBC-HS256", "A256GCM"},
	}
	op.mu.Lock()
	if op.discovery != nil {
		op.discovery(doc)
	}
	status := op.discoveryCode
	op.mu.Unlock()
	if status != 0 {
		w.WriteHeader(status)
		return
	}
	writeJSON(w, http.StatusOK, doc)
}

func (op *fakeOP) handleJWKS(w http.ResponseWriter, _ *http.Request) {
	op.jwksFetches.Add(1)
	op.mu.Lock()
	wait := op.jwksWait
	op.mu.Unlock()
	if wait != nil {
		wait()
	}
	op.mu.Lock()
	set := jose.JSONWebKeySet{Keys: append([]jose.JSONWebKey(nil), op.jwksKeys...)}
	op.mu.Unlock()
	writeJSON(w, http.StatusOK, set)
}

// checkAssertion verifies the client assertion like itsme would.
func (op *fakeOP) checkAssertion(raw string) error {
	jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return err
	}
	if kid := jws.Signatures[0].Header.KeyID; kid != op.keys.bridge.Sig.KeyID() {
		return fmt.Errorf("assertion kid %q", kid)
	}
	payload, err := jws.Verify(&op.keys.bridge.Sig.Key.PublicKey)
	if err != nil {
		return err
	}
	var cl map[string]any
	if err := json.Unmarshal(payload, &cl); err != nil {
		return err
	}
	jti, _ := cl["jti"].(string)
	if cl["iss"] != testClientID || cl["sub"] != testClientID || cl["aud"] != op.issuer()+"/token" || jti == "" || op.assertionJTIs[jti] {
		return fmt.Errorf("bad assertion claims %v", cl)
	}
	if exp, _ := cl["exp"].(float64); exp <= float64(op.clock.Now().Unix()) {
		return fmt.Errorf("assertion expired")
	}
	op.assertionJTIs[jti] = true
	op.assertionClaim = cl
	return nil
}

func (op *fakeOP) handleToken(w http.ResponseWriter, r *http.Request) {
	op.tokenCalls.Add(1)
	op.mu.Lock()
	fn := op.tokenFn
	op.mu.Unlock()
	if fn != nil {
		fn(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		writeJSON(w, 400, map[string]string{"error": "invalid_request"})
		return
	}
	op.mu.Lock()
	defer op.mu.Unlock()
	op.lastForm = r.PostForm
	if err := op.checkAssertion(r.PostForm.Get("client_assertion")); err != nil {
		writeJSON(w, 400, map[string]string{"error": "unauthorized_client", "detail": err.Error()})
		return
	}
	if r.PostForm.Get("code") != testCode || r.PostForm.Get("code_verifier") != op.verifier {
		writeJSON(w, 400, map[string]string{"error": "invalid_grant"})
		return
	}
	now := op.clock.Now().Unix()
	claims := map[string]any{
		"iss": op.issuer(), "sub": testSub, "aud": testClientID, "exp": now + 300, "iat": now,
		"nonce": op.nonce, "acr": ACRBasic, "auth_time": now - 5, "name": "John Ronald R Tolkien",
	}
	if op.mutateID != nil {
		op.mutateID(claims)
	}
	var idToken string
	if op.mintID != nil {
		idToken = op.mintID(claims)
	} else {
		idToken = op.nested(claims)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, 200, map[string]any{"access_token": testAccessToken, "token_type": "Bearer", "expires_in": 3600, "id_token": idToken})
}

func (op *fakeOP) handleUserInfo(w http.ResponseWriter, r *http.Request) {
	op.userinfoCalls.Add(1)
	op.mu.Lock()
	fn := op.userinfoFn
	op.mu.Unlock()
	if fn != nil {
		fn(w, r)
		return
	}
	op.serveUserInfo(w, r)
}

// serveUserInfo is the default userinfo handler: the nested JWT of
// userinfoClaims for the test access token.
func (op *fakeOP) serveUserInfo(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+testAccessToken {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/jwt")
	_, _ = w.Write([]byte(op.nested(op.userinfoClaims())))
}

func (op *fakeOP) userinfoClaims() map[string]any {
	now := op.clock.Now().Unix()
	claims := map[string]any{
		"iss": op.issuer(), "aud": testClientID, "sub": testSub, "iat": now, "nbf": now, "exp": now + 300,
		ClaimPrefix + "BENationalNumber": "85073003328",
		"address":                        `{"formatted":"Rue de la Loi 16\n1000 Bruxelles","postal_code":"1000","locality":"Bruxelles","street_address":"Rue de la Loi 16"}`,
		"name":                           "userinfo name (must not override the ID token)",
		"email":                          "john@example.org",
	}
	if op.mutateUI != nil {
		op.mutateUI(claims)
	}
	return claims
}

// --- minting helpers ---

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signRaw signs payload bytes with key as a compact JWS with kid.
func signRaw(t testing.TB, alg jose.SignatureAlgorithm, key any, kid string, payload []byte) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// encryptTo wraps plaintext in a compact JWE.
func encryptTo(t testing.TB, alg jose.KeyAlgorithm, enc jose.ContentEncryption, key any, kid string, plaintext []byte, zip bool) *jose.JSONWebEncryption {
	t.Helper()
	opts := (&jose.EncrypterOptions{}).WithContentType("JWT")
	if zip {
		opts.Compression = jose.DEFLATE
	}
	return encryptWith(t, alg, enc, key, kid, plaintext, opts)
}

// encryptWith wraps plaintext in a JWE made with opts.
func encryptWith(t testing.TB, alg jose.KeyAlgorithm, enc jose.ContentEncryption, key any, kid string, plaintext []byte, opts *jose.EncrypterOptions) *jose.JSONWebEncryption {
	t.Helper()
	e, err := jose.NewEncrypter(enc, jose.Recipient{Algorithm: alg, Key: key, KeyID: kid}, opts)
	if err != nil {
		t.Fatal(err)
	}
	jwe, err := e.Encrypt(plaintext)
	if err != nil {
		t.Fatal(err)
	}
	return jwe
}

func compact(t testing.TB, jwe *jose.JSONWebEncryption) string {
	t.Helper()
	s, err := jwe.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// signed returns claims signed RS256 by itsme's current key.
func (op *fakeOP) signed(claims map[string]any) string {
	return signRaw(op.t, jose.RS256, op.keys.opSig, kidOPSig, mustJSON(op.t, claims))
}

// sealed encrypts an inner token the way itsme does.
func (op *fakeOP) sealed(inner string) string {
	b := op.keys.bridge.Enc
	return compact(op.t, encryptTo(op.t, jose.RSA_OAEP_256, jose.A128CBC_HS256, &b.Key.PublicKey, b.KeyID(), []byte(inner), false))
}

// nested signs then encrypts claims (the valid itsme form).
func (op *fakeOP) nested(claims map[string]any) string { return op.sealed(op.signed(claims)) }

// noneJWS builds an unsigned alg=none JWS.
func noneJWS(payload []byte) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"` + kidOPSig + `"}`))
	return h + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
}

// s256 is an independent PKCE S256 for the tests.
func s256(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// newTestRequest returns a fresh AuthRequest asking for userinfo claims.
func newTestRequest(t testing.TB) AuthRequest {
	t.Helper()
	state, nonce, verifier, err := NewAuthRequestSecrets(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return AuthRequest{
		State: state, Nonce: nonce, CodeVerifier: verifier, Service: ServiceIdentification,
		Claims: ClaimsRequest{
			IDToken:  map[string]*ClaimSpec{"name": nil},
			UserInfo: map[string]*ClaimSpec{ClaimPrefix + "BENationalNumber": {Essential: true}, "address": nil, "email": nil},
		},
		UILocales: []string{"fr"},
	}
}
