package emulator

import (
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

var subRE = regexp.MustCompile(`^[a-z0-9]{36}$`)

// TestHappyPath drives a whole Identification over HTTP: discovery, an
// encrypted signed request object with PKCE, the phone page submitted as
// found, private_key_jwt, the nested ID token and userinfo.
func TestHappyPath(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)

	// Discovery and keys.
	resp, body := h.get(h.issuer+PathDiscovery, nil)
	var disc map[string]any
	if err := json.Unmarshal([]byte(body), &disc); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("discovery: %d %v", resp.StatusCode, err)
	}
	for k, want := range map[string]string{
		"issuer": h.issuer, "authorization_endpoint": h.issuer + "/authorization", "token_endpoint": h.issuer + "/token",
		"userinfo_endpoint": h.issuer + "/userinfo", "jwks_uri": h.issuer + "/jwkSet",
	} {
		if disc[k] != want {
			t.Errorf("discovery %s = %v, want %s", k, disc[k], want)
		}
	}
	resp, body = h.get(disc["jwks_uri"].(string), nil)
	if !strings.Contains(resp.Header.Get("Cache-Control"), "max-age=") {
		t.Errorf("JWKS Cache-Control = %q", resp.Header.Get("Cache-Control"))
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(body), &set); err != nil || len(set.Keys) != 2 {
		t.Fatalf("JWKS: %v, %d keys", err, len(set.Keys))
	}
	var encKey jose.JSONWebKey
	for _, k := range set.Keys {
		if k.KeyID == "" || !k.IsPublic() {
			t.Errorf("JWKS key %+v: want a public key with a kid", k)
		}
		if k.Use == "enc" {
			encKey = k
		}
	}
	if encKey.Key == nil || set.Keys[0].Use != "sig" || set.Keys[0].Algorithm != "RS256" {
		t.Fatalf("JWKS wants one RS256 sig key then one enc key: %+v", set.Keys)
	}

	// Authorization with a nested request object.
	params := h.authParams(svcIdentify, "happy")
	params["scope"] = "openid service:" + svcIdentify + " profile eid idDocument"
	params["acr_values"] = acrAdvanced
	params["claims"] = map[string]any{
		"id_token": map[string]any{"given_name": nil, "family_name": map[string]any{"essential": true}, p + "BENationalNumber": nil},
		"userinfo": map[string]any{p + "verificationDate": nil, p + "issuance_locality": nil, "email": nil},
	}
	q := query(t, params)
	signed := signJWT(t, tk.rpSig, clientSigKID, h.requestObject(params))
	q.Set("request", encryptTo(t, encKey.Key.(*rsa.PublicKey), encKey.KeyID, jose.RSA_OAEP_256, jose.A256GCM, signed))
	resp, page := h.authorize(q)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("authorization: %d %q\n%s", resp.StatusCode, resp.Header.Get("Location"), page)
	}
	for name, want := range map[string]string{"Cache-Control": "no-store", "X-Frame-Options": "DENY"} {
		if got := resp.Header.Get(name); got != want {
			t.Errorf("phone page %s = %q, want %q", name, got, want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("phone page CSP = %q", csp)
	}
	for _, want := range []string{svcIdentify, "given_name", "BENationalNumber", "verificationDate", "email", `type="radio"`, `value="refuse"`} {
		if !strings.Contains(page, want) {
			t.Errorf("phone page lacks %q", want)
		}
	}
	for _, secret := range []string{"nonce-happy", params["code_challenge"].(string), "state-happy"} {
		if strings.Contains(page, secret) {
			t.Errorf("phone page carries the raw parameter %q instead of an opaque handle", secret)
		}
	}
	if strings.Contains(page, "http://") && regexp.MustCompile(`(?i)<(script|img|link)[^>]+https?://`).MatchString(page) {
		t.Error("phone page loads an external resource")
	}
	action, vals := formAsFound(t, page)
	got := h.answer(page, nil)
	code := got.Get("code")
	if len(code) != 36 || got.Get("state") != "state-happy" {
		t.Fatalf("redirect = %v, want a 36-character code and the state", got)
	}
	if again, body := h.post(action, vals, nil); again.StatusCode != http.StatusBadRequest || again.Header.Get("Location") != "" {
		t.Errorf("phone page answered twice: %d\n%s", again.StatusCode, body)
	}

	// Token.
	resp, tr := h.token(h.tokenForm(code, "happy"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %v", resp.StatusCode, tr)
	}
	if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Pragma") != "no-cache" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("token headers: %v", resp.Header)
	}
	if tr["token_type"] != "Bearer" || tr["expires_in"] != float64(180) || tr["access_token"] == "" {
		t.Errorf("token answer %v", tr)
	}
	if _, ok := tr["refresh_token"]; ok {
		t.Error("a refresh token was issued")
	}
	id := h.open(tr["id_token"].(string))
	now := h.clock.Now().Unix()
	wantID := map[string]any{
		"iss": h.issuer, "aud": clientA, "nonce": "nonce-happy", "acr": acrAdvanced,
		"iat": float64(now), "exp": float64(now + 300), "auth_time": float64(now),
		"given_name": "Maxence", "family_name": "Legrand", p + "BENationalNumber": "81042419835",
	}
	for k, want := range wantID {
		if id[k] != want {
			t.Errorf("ID token %s = %v, want %v", k, id[k], want)
		}
	}
	sub, _ := id["sub"].(string)
	if !subRE.MatchString(sub) || sub != h.emu.Subject("maxence", clientA) {
		t.Errorf("ID token sub = %q", sub)
	}
	if len(id) != len(wantID)+1 {
		t.Errorf("ID token has unrequested claims (scope claims belong to userinfo): %v", id)
	}

	// Userinfo.
	resp, body = h.userinfo(tr["access_token"].(string))
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/jwt" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("userinfo: %d %v\n%s", resp.StatusCode, resp.Header, body)
	}
	ui := h.open(body)
	eid, doc := p+"BEeidSn", p+"IDDocumentSN"
	wantUI := map[string]any{
		"iss": h.issuer, "aud": clientA, "sub": sub, "iat": float64(now), "nbf": float64(now), "exp": float64(now + 300),
		"name": "Maxence Legrand", "given_name": "Maxence", "family_name": "Legrand", "gender": "female", "locale": "FR",
		"birthdate": "1981-04-24", "picture": h.issuer + "/picture", "email": "test@itsme.be",
		p + "BENationalNumber": "81042419835", eid: "123-4567890-02", doc: "123-4567890-02", p + "IDDocumentType": "I",
	}
	for k, want := range wantUI {
		if ui[k] != want {
			t.Errorf("userinfo %s = %v, want %v", k, ui[k], want)
		}
	}
	wantMeta := map[string]map[string]any{
		p + "validityFrom":      {eid: "2019-03-01T00:00:00Z", doc: "2019-03-01T00:00:00Z"},
		p + "validityTo":        {eid: "2029-03-01T00:00:00Z", doc: "2029-03-01T00:00:00Z"},
		p + "issuance_locality": {eid: "Bruxelles", doc: "Bruxelles"},
	}
	for k, want := range wantMeta {
		m, _ := ui[k].(map[string]any)
		if len(m) != len(want) {
			t.Errorf("userinfo %s = %v, want %v", k, ui[k], want)
		}
		for kk, v := range want {
			if m[kk] != v {
				t.Errorf("userinfo %s[%s] = %v, want %v", k, kk, m[kk], v)
			}
		}
	}
	vd, _ := ui[p+"verificationDate"].(map[string]any)
	if vd["birthdate"] != "2024-04-01T10:00:00Z" || vd[eid] == nil {
		t.Errorf("verificationDate = %v, want it keyed by the document claims", vd)
	}
	if _, ok := vd["email"]; ok {
		t.Errorf("verificationDate keys email, which does not come from the document: %v", vd)
	}
	if ic, _ := ui[p+"IDIssuingCountry"].(map[string]any); ic[doc] != "BEL" {
		t.Errorf("IDIssuingCountry = %v", ui[p+"IDIssuingCountry"])
	}

	// Picture.
	resp, body = h.get(h.issuer+PathPicture, http.Header{"Authorization": {"Bearer " + tr["access_token"].(string)}})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/jpeg" || !strings.HasPrefix(body, "\xff\xd8") {
		t.Errorf("picture: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// TestJWKSURLClient runs a login for a client whose keys are fetched
// from its JWKS URL, without PKCE (not enforced for it) and without a
// request object.
func TestJWKSURLClient(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	q := url.Values{
		"client_id": {clientB}, "response_type": {"code"}, "scope": {"openid service:" + svcBLogin + " profile"},
		"redirect_uri": {redirectB}, "state": {"s"}, "nonce": {"n"},
		"claims": {`{"id_token":{"name":null}}`},
	}
	resp, page := h.authorize(q)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("authorization: %d\n%s", resp.StatusCode, page)
	}
	code := h.answer(page, url.Values{"persona": {"daan"}}).Get("code")
	form := url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectB},
		"client_assertion_type": {jwtBearerType}, "client_assertion": {h.assertion(clientB, nil)},
	}
	resp, tr := h.token(form)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token: %d %v", resp.StatusCode, tr)
	}
	id := h.open(tr["id_token"].(string))
	if id["name"] != "Daan de Vries" || id["aud"] != clientB || id["nonce"] != "n" || id["acr"] != acrBasic {
		t.Errorf("ID token %v", id)
	}
	resp, body := h.userinfo(tr["access_token"].(string))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo %d", resp.StatusCode)
	}
	ui := h.open(body)
	if _, ok := ui["gender"]; ok {
		t.Errorf("daan has no gender, but userinfo has %v", ui["gender"])
	}
	if ui["locale"] != "NL" || ui["sub"] != id["sub"] {
		t.Errorf("userinfo %v", ui)
	}
}

// TestTokenHook lets a test tamper with the claims before signing.
func TestTokenHook(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config) {
		c.TokenHook = func(kind string, claims map[string]any) {
			if kind == KindIDToken {
				claims["nonce"] = "tampered"
			}
			if kind == KindUserInfo {
				claims["iss"] = "https://evil.example"
			}
		}
	})
	params := h.authParams(svcLogin, "hook")
	resp, tr := h.token(h.tokenForm(h.code(params), "hook"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token %d %v", resp.StatusCode, tr)
	}
	if id := h.open(tr["id_token"].(string)); id["nonce"] != "tampered" {
		t.Errorf("nonce = %v, want the hook's value", id["nonce"])
	}
	_, body := h.userinfo(tr["access_token"].(string))
	if ui := h.open(body); ui["iss"] != "https://evil.example" {
		t.Errorf("userinfo iss = %v, want the hook's value", ui["iss"])
	}
}

// TestAccessTokenExpiry: the access token stops working after its TTL.
func TestAccessTokenExpiry(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	_, tr := h.token(h.tokenForm(h.code(h.authParams(svcLogin, "ttl")), "ttl"))
	at, _ := tr["access_token"].(string)
	if resp, _ := h.userinfo(at); resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo before expiry: %d", resp.StatusCode)
	}
	h.clock.Advance(DefaultAccessTokenTTL + time.Second)
	if resp, _ := h.userinfo(at); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("userinfo after expiry: %d, want 401", resp.StatusCode)
	}
}
