package emulator

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TestTokenErrors checks each refusal of the token endpoint: HTTP 400
// with the exact error code and the text in "detail".
func TestTokenErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	tests := []struct {
		name      string
		mutate    func(h *harness, f url.Values)
		raw       func(h *harness, f url.Values) (*http.Request, error) // optional custom request
		wantError string                                                // "" means success
	}{
		{name: "valid", mutate: func(*harness, url.Values) {}},
		{name: "encrypted client assertion", mutate: func(h *harness, f url.Values) {
			f.Set("client_assertion", encryptTo(h.t, &tk.opEnc.PublicKey, h.emu.ownKeys().encKID, jose.RSA_OAEP_256, jose.A128CBC_HS256, f.Get("client_assertion")))
		}},
		{name: "encrypted client assertion without kid", mutate: func(h *harness, f url.Values) {
			f.Set("client_assertion", encryptTo(h.t, &tk.opEnc.PublicKey, "", jose.RSA_OAEP_256, jose.A128CBC_HS256, f.Get("client_assertion")))
		}, wantError: codeUnauthorizedClient},
		{name: "aud array with the token endpoint", mutate: func(h *harness, f url.Values) {
			f.Set("client_assertion", h.assertion(clientA, map[string]any{"aud": []string{h.issuer, h.issuer + "/token"}}))
		}},
		{name: "client_id matching the assertion", mutate: func(_ *harness, f url.Values) { f.Set("client_id", clientA) }},
		{name: "bad client assertion signature", mutate: func(h *harness, f url.Values) {
			f.Set("client_assertion", signJWT(h.t, tk.evil, clientSigKID, map[string]any{"iss": clientA, "sub": clientA, "aud": h.issuer + "/token", "jti": "x1", "exp": h.clock.Now().Add(time.Minute).Unix()}))
		}, wantError: codeUnauthorizedClient},
		{name: "unsigned client assertion", mutate: func(h *harness, f url.Values) {
			f.Set("client_assertion", unsignedJWT(h.t, map[string]any{"iss": clientA, "sub": clientA, "aud": h.issuer + "/token", "jti": "x2", "exp": h.clock.Now().Add(time.Minute).Unix()}))
		}, wantError: codeUnauthorizedClient},
		{name: "client assertion without kid", mutate: func(h *harness, f url.Values) {
			f.Set("client_assertion", signJWT(h.t, tk.rpSig, "", map[string]any{"iss": clientA, "sub": clientA, "aud": h.issuer + "/token", "jti": "x3", "exp": h.clock.Now().Add(time.Minute).Unix()}))
		}, wantError: codeUnauthorizedClient},
		{name: "wrong aud", mutate: func(h *harness, f url.Values) {
			f.Set("client_assertion", h.assertion(clientA, map[string]any{"aud": h.issuer}))
		}, wantError: codeUnauthorizedClient},
		{name: "sub differs from iss", mutate: func(h *harness, f url.Values) {
			f.Set("client_assertion", h.assertion(clientA, map[string]any{"sub": "someone"}))
		}, wantError: codeUnauthorizedClient},
		{name: "iss unknown", mutate: func(h *harness, f url.Values) {
			f.Set("client_assertion", h.assertion("NOPE", nil))
		}, wantError: codeUnauthorizedClient},
		{name: "missing exp", mutate: func(h *harness, f url.Values) {
			f.Set("client_assertion", h.assertion(clientA, map[string]any{"exp": nil}))
		}, wantError: codeUnauthorizedClient},
		{name: "expired assertion", mutate: func(h *harness, f url.Values) {
			f.Set("client_assertion", h.assertion(clientA, map[string]any{"exp": h.clock.Now().Add(-time.Minute).Unix()}))
		}, wantError: codeUnauthorizedClient},
		{name: "missing jti", mutate: func(h *harness, f url.Values) {
			f.Set("client_assertion", h.assertion(clientA, map[string]any{"jti": nil}))
		}, wantError: codeUnauthorizedClient},
		{name: "jti longer than 255", mutate: func(h *harness, f url.Values) {
			f.Set("client_assertion", h.assertion(clientA, map[string]any{"jti": strings.Repeat("j", 256)}))
		}, wantError: codeUnauthorizedClient},
		{name: "missing client assertion", mutate: func(_ *harness, f url.Values) { f.Del("client_assertion") }, wantError: codeUnauthorizedClient},
		{name: "wrong client_assertion_type", mutate: func(_ *harness, f url.Values) { f.Set("client_assertion_type", "jwt") }, wantError: codeUnauthorizedClient},
		{name: "client_secret", mutate: func(_ *harness, f url.Values) { f.Set("client_secret", "s3cret") }, wantError: codeUnauthorizedClient},
		{name: "client_id differs from the assertion", mutate: func(_ *harness, f url.Values) { f.Set("client_id", clientB) }, wantError: codeUnauthorizedClient},
		{name: "PKCE mismatch", mutate: func(_ *harness, f url.Values) {
			v, _ := verifier("other")
			f.Set("code_verifier", v)
		}, wantError: codeInvalidGrant},
		{name: "missing verifier", mutate: func(_ *harness, f url.Values) { f.Del("code_verifier") }, wantError: codeInvalidGrant},
		{name: "verifier too short", mutate: func(_ *harness, f url.Values) { f.Set("code_verifier", "abc") }, wantError: codeInvalidGrant},
		{name: "redirect_uri mismatch", mutate: func(_ *harness, f url.Values) { f.Set("redirect_uri", "https://rp.example/cb") }, wantError: codeInvalidGrant},
		{name: "missing redirect_uri", mutate: func(_ *harness, f url.Values) { f.Del("redirect_uri") }, wantError: codeInvalidRequest},
		{name: "unknown code", mutate: func(_ *harness, f url.Values) { f.Set("code", "00000000-0000-4000-8000-000000000000") }, wantError: codeInvalidGrant},
		{name: "code of another client", mutate: func(h *harness, f url.Values) {
			f.Set("client_assertion", h.assertion(clientB, nil))
		}, wantError: codeInvalidGrant},
		{name: "grant_type refresh_token", mutate: func(_ *harness, f url.Values) { f.Set("grant_type", "refresh_token") }, wantError: codeUnsupportedGrantType},
		{name: "repeated parameter", mutate: func(_ *harness, f url.Values) { f.Add("code", "again") }, wantError: codeInvalidRequest},
		{name: "parameters in the query", raw: func(h *harness, f url.Values) (*http.Request, error) {
			req, err := http.NewRequest(http.MethodPost, h.issuer+PathToken+"?"+f.Encode(), strings.NewReader(f.Encode()))
			if err == nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			return req, err
		}, wantError: codeInvalidRequest},
		{name: "JSON body", raw: func(h *harness, f url.Values) (*http.Request, error) {
			req, err := http.NewRequest(http.MethodPost, h.issuer+PathToken, strings.NewReader(`{"grant_type":"authorization_code"}`))
			if err == nil {
				req.Header.Set("Content-Type", "application/json")
			}
			return req, err
		}, wantError: codeInvalidRequest},
		{name: "oversized body", raw: func(h *harness, f url.Values) (*http.Request, error) {
			f.Set("pad", strings.Repeat("a", maxBodyBytes))
			req, err := http.NewRequest(http.MethodPost, h.issuer+PathToken, strings.NewReader(f.Encode()))
			if err == nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			return req, err
		}, wantError: codeInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := h.with(t)
			seed := "tok" + strings.ReplaceAll(tt.name, " ", "")
			form := h.tokenForm(h.code(h.authParams(svcLogin, seed)), seed)
			var resp *http.Response
			var body string
			if tt.raw != nil {
				req, err := tt.raw(h, form)
				if err != nil {
					t.Fatal(err)
				}
				resp, body = h.do(req)
			} else {
				tt.mutate(h, form)
				resp, body = h.post(h.issuer+PathToken, form, nil)
			}
			if tt.wantError == "" {
				if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"id_token"`) {
					t.Fatalf("want success, got %d %s", resp.StatusCode, body)
				}
				return
			}
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"error":"`+tt.wantError+`"`) || !strings.Contains(body, `"detail":"`) {
				t.Fatalf("want 400 %s with a detail, got %d %s", tt.wantError, resp.StatusCode, body)
			}
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q", resp.Header.Get("Cache-Control"))
			}
		})
	}
}

// TestReusedJTI: a client assertion works once.
func TestReusedJTI(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	first := h.tokenForm(h.code(h.authParams(svcLogin, "jti1")), "jti1")
	if resp, tr := h.token(first); resp.StatusCode != http.StatusOK {
		t.Fatalf("first: %d %v", resp.StatusCode, tr)
	}
	second := h.tokenForm(h.code(h.authParams(svcLogin, "jti2")), "jti2")
	second.Set("client_assertion", first.Get("client_assertion"))
	if resp, tr := h.token(second); resp.StatusCode != http.StatusBadRequest || tr["error"] != codeUnauthorizedClient {
		t.Errorf("replayed assertion: %d %v, want 400 unauthorized_client", resp.StatusCode, tr)
	}
	// The code survived the refused attempt (client authentication comes
	// first) and is still redeemable with a fresh assertion.
	second.Set("client_assertion", h.assertion(clientA, nil))
	if resp, tr := h.token(second); resp.StatusCode != http.StatusOK {
		t.Errorf("fresh assertion: %d %v", resp.StatusCode, tr)
	}
}

// TestExpiredCode: codes live CodeTTL (3 minutes).
func TestExpiredCode(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	code := h.code(h.authParams(svcLogin, "late"))
	h.clock.Advance(DefaultCodeTTL + time.Second)
	if resp, tr := h.token(h.tokenForm(code, "late")); resp.StatusCode != http.StatusBadRequest || tr["error"] != codeInvalidGrant {
		t.Errorf("expired code: %d %v, want 400 invalid_grant", resp.StatusCode, tr)
	}
}

// TestReusedCode: a second redemption fails and revokes the tokens of
// the first (RFC 6749 §4.1.2).
func TestReusedCode(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	code := h.code(h.authParams(svcLogin, "reuse"))
	resp, tr := h.token(h.tokenForm(code, "reuse"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("first redemption: %d %v", resp.StatusCode, tr)
	}
	at := tr["access_token"].(string)
	if resp, _ := h.userinfo(at); resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo: %d", resp.StatusCode)
	}
	if resp, again := h.token(h.tokenForm(code, "reuse")); resp.StatusCode != http.StatusBadRequest || again["error"] != codeInvalidGrant {
		t.Errorf("second redemption: %d %v, want 400 invalid_grant", resp.StatusCode, again)
	}
	if resp, _ := h.userinfo(at); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("userinfo with a token of a reused code: %d, want 401", resp.StatusCode)
	}
}

// TestUserInfoBadToken: unknown tokens get 401 with invalid_token.
func TestUserInfoBadToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	tests := []struct {
		name      string
		header    http.Header
		wantError bool
	}{
		{"unknown token", http.Header{"Authorization": {"Bearer not-a-token"}}, true},
		{"no token", nil, false},
		{"basic scheme", http.Header{"Authorization": {"Basic Zm9vOmJhcg=="}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := h.with(t)
			resp, _ := h.get(h.issuer+PathUserInfo, tt.header)
			www := resp.Header.Get("WWW-Authenticate")
			if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(www, "Bearer") {
				t.Fatalf("status %d WWW-Authenticate %q", resp.StatusCode, www)
			}
			if got := strings.Contains(www, `error="invalid_token"`); got != tt.wantError {
				t.Errorf("WWW-Authenticate %q: invalid_token present = %v, want %v", www, got, tt.wantError)
			}
		})
	}
	if resp, _ := h.get(h.issuer+PathPicture, http.Header{"Authorization": {"Bearer nope"}}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("picture with a bad token: %d", resp.StatusCode)
	}
}

// TestPairwiseSubject: the same persona has different subs at two
// clients, and the same sub at one client every time.
func TestPairwiseSubject(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	subA := func(seed string) string {
		_, tr := h.token(h.tokenForm(h.code(h.authParams(svcLogin, seed)), seed))
		return h.open(tr["id_token"].(string))["sub"].(string)
	}
	first, second := subA("pw1"), subA("pw2")
	if first != second || !subRE.MatchString(first) {
		t.Errorf("same persona, same client: %q then %q", first, second)
	}
	q := url.Values{"client_id": {clientB}, "response_type": {"code"}, "scope": {"openid service:" + svcBLogin}, "redirect_uri": {redirectB}, "nonce": {"n"}}
	_, page := h.authorize(q)
	code := h.answer(page, nil).Get("code")
	_, tr := h.token(url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectB},
		"client_assertion_type": {jwtBearerType}, "client_assertion": {h.assertion(clientB, nil)}})
	other := h.open(tr["id_token"].(string))["sub"].(string)
	if other == first || !subRE.MatchString(other) {
		t.Errorf("same persona at two clients: %q and %q", first, other)
	}
	if h.emu.Subject("maxence", clientA) == h.emu.Subject("lucas", clientA) {
		t.Error("two personas share a sub")
	}
	e2, err := New(Config{Issuer: h.issuer, Clients: []Client{{ID: clientA, RedirectURIs: []string{redirectA}, JWKS: clientJWKS(), Services: []Service{{Code: svcLogin, Type: ServiceAuthentication}}}},
		SigningKey: tk.opSig, EncryptionKey: tk.opEnc, AllowInsecureRedirects: true, SubjectSecret: h.emu.secret})
	if err != nil {
		t.Fatal(err)
	}
	if e2.Subject("maxence", clientA) != first {
		t.Error("the same SubjectSecret gives another sub")
	}
}

// TestPKCEFormat checks the PKCE format rules (RFC 7636 §4.1-4.2,
// itsme-oidc.md §2, §3) with client B, which does not require PKCE, so
// that each rule alone decides: the challenge and its method at the
// authorization endpoint, the verifier at the token endpoint.
func TestPKCEFormat(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	good, goodChallenge := verifier("pkce")
	illegal := strings.Repeat("a+/", 15)[:43] // the right length, characters outside [A-Za-z0-9-._~]
	sum := sha256.Sum256([]byte(illegal))
	illegalsChallenge := base64.RawURLEncoding.EncodeToString(sum[:])
	tests := []struct {
		name                        string
		challenge, method, verifier string
		// wantAuthz is the error redirected by the authorization endpoint,
		// wantToken the token endpoint's, with wantDetail in its detail;
		// "" means success.
		wantAuthz, wantToken, wantDetail string
	}{
		{name: "no PKCE"},
		{name: "S256", challenge: goodChallenge, method: "S256", verifier: good},
		{name: "method without challenge", method: "S256", wantAuthz: codeInvalidRequest},
		{name: "challenge with illegal characters", challenge: strings.Repeat("a+", 22)[:43], method: "S256", wantAuthz: codeInvalidRequest},
		{name: "verifier without challenge", verifier: good, wantToken: codeInvalidGrant, wantDetail: "no code_challenge"},
		{name: "verifier with illegal characters matching the challenge", challenge: illegalsChallenge, method: "S256", verifier: illegal,
			wantToken: codeInvalidGrant, wantDetail: "[A-Za-z0-9-._~]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := h.with(t)
			q := url.Values{"client_id": {clientB}, "response_type": {"code"}, "scope": {"openid service:" + svcBLogin},
				"redirect_uri": {redirectB}, "state": {"pkce"}, "nonce": {"n"}}
			for name, v := range map[string]string{"code_challenge": tt.challenge, "code_challenge_method": tt.method} {
				if v != "" {
					q.Set(name, v)
				}
			}
			resp, page := h.authorize(q)
			if tt.wantAuthz != "" {
				if got := h.redirectQuery(resp, redirectB); got.Get("error") != tt.wantAuthz {
					t.Errorf("authorization error = %q (%q), want %q", got.Get("error"), got.Get("error_description"), tt.wantAuthz)
				}
				return
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("authorization: status %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			form := url.Values{"grant_type": {"authorization_code"}, "code": {h.answer(page, nil).Get("code")}, "redirect_uri": {redirectB},
				"client_assertion_type": {jwtBearerType}, "client_assertion": {h.assertion(clientB, nil)}}
			if tt.verifier != "" {
				form.Set("code_verifier", tt.verifier)
			}
			resp, tr := h.token(form)
			if tt.wantToken == "" {
				if resp.StatusCode != http.StatusOK {
					t.Errorf("token: %d %v, want success", resp.StatusCode, tr)
				}
				return
			}
			if detail, _ := tr["detail"].(string); resp.StatusCode != http.StatusBadRequest || tr["error"] != tt.wantToken || !strings.Contains(detail, tt.wantDetail) {
				t.Errorf("token: %d %v, want 400 %s with %q", resp.StatusCode, tr, tt.wantToken, tt.wantDetail)
			}
		})
	}
}
