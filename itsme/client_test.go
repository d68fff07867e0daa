package itsme

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

var testNow = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// setup starts a fake OP and a client for it. The request's nonce and
// verifier are registered with the OP.
func setup(t *testing.T, mutate func(*Config)) (*fakeOP, *Client, AuthRequest) {
	t.Helper()
	clk := newClock(testNow)
	op := newFakeOP(t, clk)
	cfg := Config{
		Issuer:       op.issuer(),
		ClientID:     testClientID,
		RedirectURI:  testRedirectURI,
		ServiceCodes: testServiceCodes,
		Keys:         op.keys.bridge,
		Now:          clk.Now,
		Logger:       slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	req := newTestRequest(t)
	op.set(func(op *fakeOP) { op.nonce, op.verifier = req.Nonce, req.CodeVerifier })
	return op, c, req
}

// asError asserts that err is an *Error and returns it.
func asError(t *testing.T, err error) *Error {
	t.Helper()
	var ie *Error
	if !errors.As(err, &ie) {
		t.Fatalf("error %v (%T) is not an *itsme.Error", err, err)
	}
	return ie
}

func TestAuthCodeURL(t *testing.T) {
	for _, encrypt := range []bool{true, false} {
		t.Run(map[bool]string{true: "encrypted", false: "signed-only"}[encrypt], func(t *testing.T) {
			op, c, req := setup(t, func(cfg *Config) { cfg.EncryptRequestObject = encrypt })
			req.ACRValues = []string{ACRAdvanced}
			req.ForceLogin = true // a SAML ForceAuthn
			raw, err := c.AuthCodeURL(context.Background(), req)
			if err != nil {
				t.Fatalf("AuthCodeURL: %v", err)
			}
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := u.Scheme+"://"+u.Host+u.Path, op.issuer()+"/authorization"; got != want {
				t.Errorf("endpoint = %q, want %q", got, want)
			}
			q := u.Query()
			want := map[string]string{
				"client_id":             testClientID,
				"response_type":         "code",
				"scope":                 "openid service:OIDC_TEST1_IDENT",
				"redirect_uri":          testRedirectURI,
				"state":                 req.State,
				"nonce":                 req.Nonce,
				"code_challenge":        s256(req.CodeVerifier),
				"code_challenge_method": "S256",
				"acr_values":            ACRAdvanced,
				"ui_locales":            "fr",
				"prompt":                "login",
			}
			for k, v := range want {
				if got := q.Get(k); got != v {
					t.Errorf("query %s = %q, want %q", k, got, v)
				}
			}
			var qClaims ClaimsRequest
			if err := json.Unmarshal([]byte(q.Get("claims")), &qClaims); err != nil || len(qClaims.UserInfo) != 3 || len(qClaims.IDToken) != 1 {
				t.Errorf("claims query = %q (%v)", q.Get("claims"), err)
			}
			if strings.Contains(raw, req.CodeVerifier) {
				t.Error("the code verifier leaked into the URL")
			}

			cl := requestObjectOf(t, op, q.Get("request"), encrypt)
			for k, v := range want {
				if cl[k] != v {
					t.Errorf("request object %s = %v, want %q", k, cl[k], v)
				}
			}
			if cl["iss"] != testClientID || cl["aud"] != op.issuer() {
				t.Errorf("iss/aud = %v/%v", cl["iss"], cl["aud"])
			}
			iat, _ := cl["iat"].(float64)
			exp, _ := cl["exp"].(float64)
			nbf, _ := cl["nbf"].(float64)
			if int64(iat) != testNow.Unix() || exp-iat != 300 || nbf != iat {
				t.Errorf("iat=%v nbf=%v exp=%v", iat, nbf, exp)
			}
			if jti, _ := cl["jti"].(string); len(jti) < 22 {
				t.Errorf("jti %q too short", jti)
			}
			obj, _ := cl["claims"].(map[string]any)
			if ui, _ := obj["userinfo"].(map[string]any); len(ui) != 3 {
				t.Errorf("request object claims = %v", cl["claims"])
			}
		})
	}
}

// requestObjectOf checks the request object ro of an authorization URL,
// encrypted to the OP when encrypted, signed RS256 by the bridge, and
// returns its claims.
func requestObjectOf(t *testing.T, op *fakeOP, ro string, encrypted bool) map[string]any {
	t.Helper()
	if encrypted {
		jwe, err := jose.ParseEncryptedCompact(ro, []jose.KeyAlgorithm{jose.RSA_OAEP_256}, []jose.ContentEncryption{jose.A128CBC_HS256})
		if err != nil {
			t.Fatalf("request object is not an RSA-OAEP-256/A128CBC-HS256 JWE: %v", err)
		}
		if jwe.Header.KeyID != kidOPEnc || jwe.Header.ExtraHeaders["cty"] != "JWT" {
			t.Errorf("JWE header kid=%q cty=%v", jwe.Header.KeyID, jwe.Header.ExtraHeaders["cty"])
		}
		pt, err := jwe.Decrypt(op.keys.opEnc)
		if err != nil {
			t.Fatalf("decrypting request object: %v", err)
		}
		ro = string(pt)
	} else if strings.Count(ro, ".") != 2 {
		t.Fatalf("request object is not a compact JWS")
	}
	jws, err := jose.ParseSignedCompact(ro, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	if kid := jws.Signatures[0].Header.KeyID; kid != op.keys.bridge.Sig.KeyID() {
		t.Errorf("JWS kid = %q, want the bridge signing kid", kid)
	}
	payload, err := jws.Verify(&op.keys.bridge.Sig.Key.PublicKey)
	if err != nil {
		t.Fatalf("request object signature: %v", err)
	}
	var cl map[string]any
	if err := json.Unmarshal(payload, &cl); err != nil {
		t.Fatal(err)
	}
	return cl
}

func TestAuthCodeURLRejectsBadRequests(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*AuthRequest)
		wantErr error
	}{
		{"unknown service", func(r *AuthRequest) { r.Service = "confirmation" }, ErrUnknownService},
		{"no state", func(r *AuthRequest) { r.State = "" }, ErrInvalidRequest},
		{"no nonce", func(r *AuthRequest) { r.Nonce = "" }, ErrInvalidRequest},
		{"short verifier", func(r *AuthRequest) { r.CodeVerifier = "abc" }, ErrInvalidRequest},
		{"verifier with bad chars", func(r *AuthRequest) { r.CodeVerifier = strings.Repeat("a", 42) + "/" }, ErrInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c, req := setup(t, nil)
			tt.mutate(&req)
			_, err := c.AuthCodeURL(context.Background(), req)
			ie := asError(t, err)
			if !errors.Is(err, tt.wantErr) || ie.Stage != StageAuthorization || ie.Code != CodeProtocol {
				t.Errorf("err = %v, want %v at stage authorization", err, tt.wantErr)
			}
		})
	}
}

func TestExchange(t *testing.T) {
	var logs bytes.Buffer
	op, c, req := setup(t, func(cfg *Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	ctx := context.Background()
	if _, err := c.AuthCodeURL(ctx, req); err != nil {
		t.Fatal(err)
	}
	id, err := c.Exchange(ctx, testCode, req)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if id.Issuer != op.issuer() || id.Subject != testSub || id.ACR != ACRBasic || !id.AuthTime.Equal(testNow.Add(-5*time.Second)) {
		t.Errorf("identity = %+v", id)
	}
	if id.Claims["name"] != "John Ronald R Tolkien" {
		t.Errorf("name = %v (the ID token value must win)", id.Claims["name"])
	}
	if id.Claims[ClaimPrefix+"BENationalNumber"] != "85073003328" || id.Claims["sub"] != testSub || id.Claims["email"] != "john@example.org" {
		t.Errorf("claims = %v", id.Claims)
	}
	addr, ok := id.Claims["address"].(map[string]any)
	if !ok || addr["postal_code"] != "1000" {
		t.Errorf("address = %#v, want the JSON string parsed into an object", id.Claims["address"])
	}
	for _, k := range protocolClaims {
		if _, ok := id.Claims[k]; ok {
			t.Errorf("protocol claim %q leaked into Identity.Claims", k)
		}
	}

	// The token request.
	op.mu.Lock()
	form, assertion := op.lastForm, op.assertionClaim
	op.mu.Unlock()
	for k, v := range map[string]string{
		"grant_type": "authorization_code", "code": testCode, "redirect_uri": testRedirectURI,
		"code_verifier": req.CodeVerifier, "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
	} {
		if got := strings.Join(form[k], ","); got != v {
			t.Errorf("token form %s = %q, want %q", k, got, v)
		}
	}
	iat, _ := assertion["iat"].(float64)
	exp, _ := assertion["exp"].(float64)
	jti, _ := assertion["jti"].(string)
	if exp-iat != 60 || int64(iat) != testNow.Unix() || jti == "" || len(jti) > 255 {
		t.Errorf("client assertion claims = %v", assertion)
	}

	// A second exchange mints a fresh jti (the OP refuses replays).
	if _, err := c.Exchange(ctx, testCode, req); err != nil {
		t.Fatalf("second Exchange: %v", err)
	}
	if op.assertionClaim["jti"] == jti {
		t.Error("client assertion jti reused")
	}
	if got := op.userinfoCalls.Load(); got != 2 {
		t.Errorf("userinfo calls = %d, want 2", got)
	}

	// Logs carry no secrets, tokens or claim values.
	for _, secret := range []string{req.Nonce, req.State, req.CodeVerifier, testCode, testAccessToken, testSub, "85073003328", "Tolkien", "john@example.org"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs.String())
		}
	}
	if !strings.Contains(logs.String(), ClaimPrefix+"BENationalNumber") {
		t.Error("logs should name the claims")
	}
}

// TestExchangeOverlapsUserInfoWithIDToken: the userinfo call goes out
// while the ID token is still being checked. The ID token is signed with a
// key itsme has just added, so checking it fetches the JWK Set again, and
// the OP holds that fetch back until the userinfo call has arrived (or 5 s
// have passed): an Exchange that finished the ID token before calling
// userinfo fails here.
func TestExchangeOverlapsUserInfoWithIDToken(t *testing.T) {
	op, c, req := setup(t, nil)
	ctx := context.Background()
	if err := c.Discover(ctx); err != nil { // the JWK Set without the new key is cached
		t.Fatal(err)
	}
	arrived := make(chan struct{})
	overlapped := make(chan bool, 1)
	op.set(func(op *fakeOP) {
		op.jwksKeys = append(op.jwksKeys, jose.JSONWebKey{Key: &op.keys.opSig2.PublicKey, KeyID: kidOPSig2, Use: "sig", Algorithm: "RS256"})
		op.mintID = func(m map[string]any) string {
			return op.sealed(signRaw(t, jose.RS256, op.keys.opSig2, kidOPSig2, mustJSON(t, m)))
		}
		op.userinfoFn = func(w http.ResponseWriter, r *http.Request) {
			close(arrived)
			op.serveUserInfo(w, r)
		}
		op.jwksWait = func() {
			select {
			case <-arrived:
				overlapped <- true
			case <-time.After(5 * time.Second):
				overlapped <- false
			}
		}
	})
	id, err := c.Exchange(ctx, testCode, req)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	select {
	case ok := <-overlapped:
		if !ok {
			t.Error("the userinfo call did not go out while the ID token was being checked")
		}
	default:
		t.Fatal("the ID token's new kid did not make the client fetch the JWK Set again")
	}
	if id.Claims["email"] != "john@example.org" || id.Claims["name"] != "John Ronald R Tolkien" {
		t.Errorf("claims = %v", id.Claims)
	}
}

// TestExchangeIDTokenErrorWinsOverUserInfo: when both fail, the error is
// the ID token's, and Exchange has waited for the userinfo call, so
// nothing of the login runs after it returns.
func TestExchangeIDTokenErrorWinsOverUserInfo(t *testing.T) {
	op, c, req := setup(t, nil)
	var userinfoDone atomic.Bool
	op.set(func(op *fakeOP) {
		op.mutateID = func(m map[string]any) { m["nonce"] = "another login's nonce" }
		op.userinfoFn = func(w http.ResponseWriter, _ *http.Request) {
			time.Sleep(50 * time.Millisecond) // still running when the ID token fails
			userinfoDone.Store(true)
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	_, err := c.Exchange(context.Background(), testCode, req)
	if ie := asError(t, err); ie.Stage != StageIDToken || !errors.Is(err, ErrNonce) {
		t.Errorf("error = %v (stage %q), want the ID token's nonce error", err, ie.Stage)
	}
	if !userinfoDone.Load() {
		t.Error("Exchange returned before the userinfo call it started had finished")
	}
}

// panicOnUserInfo is a RoundTripper that panics on the userinfo call, the
// way a bug below fetchUserInfo would.
type panicOnUserInfo struct{ next http.RoundTripper }

func (p panicOnUserInfo) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/userinfo") {
		panic("test: panic in the userinfo call")
	}
	return p.next.RoundTrip(r)
}

// TestExchangeRaisesUserInfoPanicInCaller: a panic in the userinfo call,
// which runs on its own goroutine, comes out of Exchange in the caller's
// goroutine (where the server recovers it) instead of ending the process,
// whether the ID token was valid or not.
func TestExchangeRaisesUserInfoPanicInCaller(t *testing.T) {
	for _, badIDToken := range []bool{false, true} {
		op, c, req := setup(t, func(cfg *Config) {
			cfg.HTTPClient = &http.Client{Transport: panicOnUserInfo{http.DefaultTransport}}
		})
		if badIDToken {
			op.set(func(op *fakeOP) { op.mutateID = func(m map[string]any) { m["nonce"] = "another login's nonce" } })
		}
		func() {
			defer func() {
				v := recover()
				got := fmt.Sprint(v)
				if !strings.HasPrefix(got, "test: panic in the userinfo call\n") {
					t.Errorf("bad ID token %v: recovered %.200q, want the userinfo call's panic", badIDToken, got)
				}
				// Where it happened survives the second panic.
				if !strings.Contains(got, "panicOnUserInfo.RoundTrip") {
					t.Errorf("bad ID token %v: the recovered panic lacks the original stack:\n%s", badIDToken, got)
				}
			}()
			_, err := c.Exchange(context.Background(), testCode, req)
			t.Errorf("bad ID token %v: Exchange returned (%v) instead of panicking", badIDToken, err)
		}()
	}
}

func TestExchangeSkipsUserInfoWithoutUserInfoClaims(t *testing.T) {
	op, c, req := setup(t, nil)
	req.Claims.UserInfo = nil
	id, err := c.Exchange(context.Background(), testCode, req)
	if err != nil {
		t.Fatal(err)
	}
	if op.userinfoCalls.Load() != 0 {
		t.Error("userinfo was called although no userinfo claims were requested")
	}
	if _, ok := id.Claims["email"]; ok {
		t.Error("email must come from userinfo only")
	}
}

func TestExchangeACR(t *testing.T) {
	both := []string{ACRBasic, ACRAdvanced}
	basic := []string{ACRBasic}
	tests := []struct {
		name     string
		asked    []string
		tokenACR any
		wantErr  error
	}{
		{"advanced asked, advanced given", both, ACRAdvanced, nil},
		{"advanced asked, basic given", both, ACRBasic, ErrACR},
		{"advanced asked, acr missing", both, nil, ErrACR},
		{"basic asked, basic given", basic, ACRBasic, nil},
		{"basic asked, advanced given", basic, ACRAdvanced, nil},
		{"basic asked, acr missing (itsme's default is basic)", basic, nil, nil},
		{"basic asked, old capital-V URI read as basic", basic, "http://itsme.services/V2/claim/acr_basic", nil},
		{"advanced asked, capital-V advanced read as advanced", both, "HTTP://itsme.services/V2/claim/ACR_ADVANCED", nil},
		{"advanced asked, capital-V basic", both, "http://itsme.services/V2/claim/acr_basic", ErrACR},
		{"basic asked, foreign acr", basic, "urn:other", ErrACR},
		{"basic asked, near miss", basic, "http://itsme.services/v2/claim/acr_basic ", ErrACR},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op, c, req := setup(t, nil)
			req.ACRValues = tt.asked
			op.set(func(op *fakeOP) {
				op.mutateID = func(m map[string]any) {
					if tt.tokenACR == nil {
						delete(m, "acr")
					} else {
						m["acr"] = tt.tokenACR
					}
				}
			})
			id, err := c.Exchange(context.Background(), testCode, req)
			if tt.wantErr == nil {
				// The identity carries itsme's value in its documented
				// spelling, whatever the case it came in.
				want, _ := tt.tokenACR.(string)
				for _, known := range []string{ACRBasic, ACRAdvanced} {
					if strings.EqualFold(want, known) {
						want = known
					}
				}
				if err != nil || id.ACR != want {
					t.Fatalf("Exchange = %v, %v; want acr %q", id, err, want)
				}
				return
			}
			ie := asError(t, err)
			if !errors.Is(err, tt.wantErr) || ie.Code != CodeACRMismatch || ie.Stage != StageIDToken {
				t.Errorf("err = %v", err)
			}
		})
	}
}

func TestOldEncryptionKeyStillDecrypts(t *testing.T) {
	op, c, req := setup(t, nil)
	old := op.keys.bridge.OldEnc[0]
	op.set(func(op *fakeOP) {
		op.mintID = func(m map[string]any) string {
			return compact(t, encryptTo(t, jose.RSA_OAEP, jose.A256GCM, &old.Key.PublicKey, old.KeyID(), []byte(op.signed(m)), false))
		}
	})
	req.Claims.UserInfo = nil
	if _, err := c.Exchange(context.Background(), testCode, req); err != nil {
		t.Fatalf("token for the old enc key (RSA-OAEP, A256GCM): %v", err)
	}
}

func TestKeyRotation(t *testing.T) {
	op, c, req := setup(t, nil)
	ctx := context.Background()
	if err := c.Discover(ctx); err != nil {
		t.Fatal(err)
	}
	before := op.jwksFetches.Load()
	// itsme rotates its signing key: new kid, new key, old key gone.
	op.set(func(op *fakeOP) {
		op.jwksKeys[0] = jose.JSONWebKey{Key: &op.keys.opSig2.PublicKey, KeyID: kidOPSig2, Use: "sig", Algorithm: "RS256"}
		op.mintID = func(m map[string]any) string {
			return op.sealed(signRaw(t, jose.RS256, op.keys.opSig2, kidOPSig2, mustJSON(t, m)))
		}
	})
	req.Claims.UserInfo = nil
	if _, err := c.Exchange(ctx, testCode, req); err != nil {
		t.Fatalf("Exchange after rotation: %v", err)
	}
	if got := op.jwksFetches.Load() - before; got != 1 {
		t.Errorf("JWKS fetches after rotation = %d, want 1", got)
	}
}

// TestConcurrentMissesShareOneRefetch: after itsme rotates its signing
// key, the ID token and the userinfo (checked side by side) both miss the
// new kid at once. One refetches the JWK Set; the other, which waited for
// that fetch, must find the key in it instead of failing because the
// cooldown kept it from fetching again.
func TestConcurrentMissesShareOneRefetch(t *testing.T) {
	op, c, _ := setup(t, nil)
	ctx := context.Background()
	if err := c.Discover(ctx); err != nil {
		t.Fatal(err)
	}
	before := op.jwksFetches.Load()
	release := make(chan struct{})
	var once sync.Once
	op.set(func(op *fakeOP) {
		op.jwksKeys[0] = jose.JSONWebKey{Key: &op.keys.opSig2.PublicKey, KeyID: kidOPSig2, Use: "sig", Algorithm: "RS256"}
		op.jwksWait = func() { once.Do(func() { <-release }) } // hold the first fetch
	})
	errs := make(chan error, 2)
	lookup := func() {
		_, err := c.keys.signingKeys(ctx, kidOPSig2)
		errs <- err
	}
	go lookup()
	for op.jwksFetches.Load() == before { // the first miss is fetching
		time.Sleep(time.Millisecond)
	}
	go lookup()
	time.Sleep(100 * time.Millisecond) // the second miss waits for that fetch
	close(release)
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("signingKeys after a concurrent refetch: %v", err)
		}
	}
	if got := op.jwksFetches.Load() - before; got != 1 {
		t.Errorf("JWKS fetches = %d, want 1 for both misses", got)
	}
}

func TestUnknownKidFloodRespectsCooldown(t *testing.T) {
	op, c, req := setup(t, nil)
	ctx := context.Background()
	if err := c.Discover(ctx); err != nil {
		t.Fatal(err)
	}
	before := op.jwksFetches.Load()
	var n int
	op.set(func(op *fakeOP) {
		op.mintID = func(m map[string]any) string {
			n++
			return op.sealed(signRaw(t, jose.RS256, op.keys.attacker, "random-kid-"+string(rune('a'+n%26)), mustJSON(t, m)))
		}
	})
	req.Claims.UserInfo = nil
	for i := 0; i < 20; i++ {
		_, err := c.Exchange(ctx, testCode, req)
		if !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("attempt %d: err = %v, want ErrUnknownKey", i, err)
		}
		if ie := asError(t, err); ie.Code != CodeInvalidToken || ie.Stage != StageIDToken {
			t.Fatalf("attempt %d: %+v", i, ie)
		}
	}
	if got := op.jwksFetches.Load() - before; got != 1 {
		t.Errorf("JWKS fetches during the flood = %d, want 1", got)
	}
	op.clock.Advance(JWKSRefetchCooldown + time.Second)
	_, _ = c.Exchange(ctx, testCode, req)
	_, _ = c.Exchange(ctx, testCode, req)
	if got := op.jwksFetches.Load() - before; got != 2 {
		t.Errorf("JWKS fetches after the cooldown = %d, want 2", got)
	}
}

func TestJWKSFiltersKeys(t *testing.T) {
	k := loadTestKeys(t)
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &k.opSig.PublicKey, KeyID: "sig", Use: "sig", Algorithm: "RS256"},
		{Key: &k.opEnc.PublicKey, KeyID: "enc", Use: "enc", Algorithm: "RSA-OAEP-256"},
		{Key: &k.attacker.PublicKey, KeyID: "ps", Use: "sig", Algorithm: "PS256"},
		{Key: k.attacker, KeyID: "private", Use: "sig"},
		{Key: []byte("0123456789abcdef0123456789abcdef"), KeyID: "oct", Use: "sig"},
	}}
	body := mustJSON(t, set)
	body = bytes.Replace(body, []byte(`{"keys":[`), []byte(`{"keys":[{"kty":"OKP","crv":"X448","x":"AA"},`), 1)
	sig, enc, skipped, err := parseJWKS(body)
	if err != nil {
		t.Fatal(err)
	}
	if len(sig) != 1 || sig[0].KeyID != "sig" || len(enc) != 1 || enc[0].KeyID != "enc" || skipped != 4 {
		t.Errorf("sig=%v enc=%v skipped=%d", sig, enc, skipped)
	}
	if _, ok := sig[0].Key.(*rsa.PublicKey); !ok {
		t.Error("signing key is not an RSA public key")
	}
	if _, _, _, err := parseJWKS([]byte(`{"keys":[]}`)); !errors.Is(err, ErrJWKS) {
		t.Errorf("empty set: err = %v", err)
	}
}

// weakTestKey is a 1024-bit RSA TEST KEY, generated once per test binary:
// a key below the 2048-bit minimum that itsme must not be trusted with.
var weakTestKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 1024) })

// TestExchangeRefusesWeakSigningKey: itsme publishes a 1024-bit signing
// key (well formed, use=sig, RS256) and signs the ID token with it. The key
// is never used, so the token is refused: next to a good key its kid is
// unknown, and on its own the JWK Set has no usable signing key.
func TestExchangeRefusesWeakSigningKey(t *testing.T) {
	const kidWeak = "op-sig-1024-test-key"
	weak, err := weakTestKey()
	if err != nil {
		t.Fatal(err)
	}
	weakJWK := jose.JSONWebKey{Key: &weak.PublicKey, KeyID: kidWeak, Use: "sig", Algorithm: "RS256"}
	tests := []struct {
		name      string
		publish   func(current []jose.JSONWebKey) []jose.JSONWebKey
		wantErr   error
		wantStage string
		wantCode  string
	}{
		{name: "next to a 2048-bit key", wantErr: ErrUnknownKey, wantStage: StageIDToken, wantCode: CodeInvalidToken,
			publish: func(current []jose.JSONWebKey) []jose.JSONWebKey { return append(current, weakJWK) }},
		{name: "as the only signing key", wantErr: ErrJWKS, wantStage: StageJWKS, wantCode: CodeProtocol,
			publish: func(current []jose.JSONWebKey) []jose.JSONWebKey {
				out := []jose.JSONWebKey{weakJWK}
				for _, k := range current {
					if k.Use == "enc" { // itsme's encryption key stays
						out = append(out, k)
					}
				}
				return out
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op, c, req := setup(t, nil)
			req.Claims.UserInfo = nil
			op.set(func(op *fakeOP) {
				op.jwksKeys = tt.publish(op.jwksKeys)
				op.mintID = func(m map[string]any) string {
					return op.sealed(signRaw(t, jose.RS256, weak, kidWeak, mustJSON(t, m)))
				}
			})
			id, err := c.Exchange(context.Background(), testCode, req)
			if id != nil {
				t.Fatalf("got an identity for a token signed by a 1024-bit key: %+v", id)
			}
			ie := asError(t, err)
			if !errors.Is(err, tt.wantErr) || ie.Stage != tt.wantStage || ie.Code != tt.wantCode {
				t.Errorf("err = %v (stage %q code %q), want %v at %s/%s", err, ie.Stage, ie.Code, tt.wantErr, tt.wantStage, tt.wantCode)
			}
		})
	}
}

func TestDiscoveryErrors(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(m map[string]any)
		status   int
		wantCode string
		wantErr  error
	}{
		{"issuer mismatch", func(m map[string]any) { m["issuer"] = m["issuer"].(string) + "/" }, 0, CodeProtocol, ErrDiscovery},
		{"token endpoint on another host", func(m map[string]any) { m["token_endpoint"] = "https://evil.example/token" }, 0, CodeProtocol, ErrDiscovery},
		{"no jwks_uri", func(m map[string]any) { delete(m, "jwks_uri") }, 0, CodeProtocol, ErrDiscovery},
		{"HS256 only", func(m map[string]any) { m["id_token_signing_alg_values_supported"] = []string{"HS256", "none"} }, 0, CodeProtocol, ErrDiscovery},
		{"server error", nil, 503, CodeUnavailable, ErrHTTPStatus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op, c, req := setup(t, nil)
			op.set(func(op *fakeOP) { op.discovery, op.discoveryCode = tt.edit, tt.status })
			_, err := c.AuthCodeURL(context.Background(), req)
			ie := asError(t, err)
			if !errors.Is(err, tt.wantErr) || ie.Code != tt.wantCode || ie.Stage != StageDiscovery {
				t.Errorf("err = %v (code %q), want %v / %q", err, ie.Code, tt.wantErr, tt.wantCode)
			}
		})
	}
}

func TestDiscoveryKeepsLastGood(t *testing.T) {
	op, c, req := setup(t, nil)
	ctx := context.Background()
	if err := c.Discover(ctx); err != nil {
		t.Fatal(err)
	}
	op.set(func(op *fakeOP) { op.discovery = func(m map[string]any) { m["issuer"] = "https://evil.example" } })
	op.clock.Advance(MetadataTTL + time.Minute)
	if _, err := c.AuthCodeURL(ctx, req); err != nil {
		t.Fatalf("AuthCodeURL with a failing refresh: %v", err)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	k := loadTestKeys(t)
	good := Config{Issuer: "https://idp.e2e.itsme.services/v2", ClientID: "x", RedirectURI: testRedirectURI,
		ServiceCodes: testServiceCodes, Keys: k.bridge}
	if _, err := New(good); err != nil {
		t.Fatalf("good config: %v", err)
	}
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"no issuer", func(c *Config) { c.Issuer = "" }, "Issuer"},
		{"relative issuer", func(c *Config) { c.Issuer = "/v2" }, "Issuer"},
		{"no client", func(c *Config) { c.ClientID = "" }, "ClientID"},
		{"bad redirect", func(c *Config) { c.RedirectURI = "ftp://x/cb" }, "RedirectURI"},
		{"no services", func(c *Config) { c.ServiceCodes = nil }, "ServiceCodes"},
		{"service code with space", func(c *Config) { c.ServiceCodes = map[Service]string{ServiceAuthentication: "A B"} }, "ServiceCodes"},
		{"no keys", func(c *Config) { c.Keys = nil }, "Keys"},
		{"negative leeway", func(c *Config) { c.Leeway = -time.Second }, "Leeway"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.mutate(&cfg)
			_, err := New(cfg)
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want ErrConfig mentioning %s", err, tt.want)
			}
		})
	}
	// Every problem is reported at once.
	_, err := New(Config{})
	for _, field := range []string{"Issuer", "ClientID", "RedirectURI", "ServiceCodes", "Keys"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("empty config error %v does not mention %s", err, field)
		}
	}
}

func TestNewAuthRequestSecrets(t *testing.T) {
	s1, n1, v1, err := NewAuthRequestSecrets(nil)
	if err != nil {
		t.Fatal(err)
	}
	s2, n2, v2, err := NewAuthRequestSecrets(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(s1) < 22 || len(n1) < 22 || len(v1) < 43 || !validVerifier(v1) {
		t.Errorf("lengths: state %d nonce %d verifier %d", len(s1), len(n1), len(v1))
	}
	if s1 == s2 || n1 == n2 || v1 == v2 || s1 == n1 {
		t.Error("secrets repeat")
	}
	if _, _, _, err := NewAuthRequestSecrets(bytes.NewReader(make([]byte, 10))); err == nil {
		t.Error("a short random source must fail")
	}
}

func TestConcurrentExchanges(t *testing.T) {
	op, c, req := setup(t, nil)
	ctx := context.Background()
	errs := make(chan error, 8)
	for i := 0; i < cap(errs); i++ {
		go func() {
			if i%2 == 0 {
				_, err := c.AuthCodeURL(ctx, req)
				errs <- err
				return
			}
			_, err := c.Exchange(ctx, testCode, req)
			errs <- err
		}()
	}
	for i := 0; i < cap(errs); i++ {
		if err := <-errs; err != nil {
			t.Errorf("concurrent call: %v", err)
		}
	}
	if got := op.jwksFetches.Load(); got != 1 {
		t.Errorf("JWKS fetched %d times by concurrent first calls, want 1", got)
	}
}
