package emulator

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// TestAuthorizationErrors checks each refusal of the authorization
// endpoint: an HTML page without redirect when the client or redirect URI
// cannot be trusted, else a redirect with the exact error code and the
// state.
func TestAuthorizationErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	const (
		phone = "phone page"
	)
	tests := []struct {
		name    string
		service string
		params  func(m map[string]any)                // applied to query and request object
		object  func(ro map[string]any)               // applied to the request object only
		request func(q url.Values, ro map[string]any) // builds the request/request_uri (default: signed by the client, then encrypted)
		query   func(q url.Values)                    // applied to the final query
		// wantPage is the error code shown on a page (no redirect);
		// wantRedirect the error code redirected; phone means success.
		wantPage, wantRedirect string
		// wantDesc, if set, is part of the error description.
		wantDesc string
	}{
		{name: "unknown client", query: func(q url.Values) { q.Set("client_id", "NOPE") }, wantPage: codeInvalidClientID},
		{name: "missing client_id", query: func(q url.Values) { q.Del("client_id") }, wantPage: codeInvalidRequest},
		{name: "unregistered redirect_uri", query: func(q url.Values) { q.Set("redirect_uri", "https://rp.example/cb?tenant=2") }, wantPage: codeInvalidRedirectURI},
		{name: "redirect_uri differs in case", query: func(q url.Values) { q.Set("redirect_uri", "https://rp.example/CB?tenant=1") }, wantPage: codeInvalidRedirectURI},
		{name: "redirect_uri of another client", query: func(q url.Values) { q.Set("redirect_uri", redirectB) }, wantPage: codeInvalidRedirectURI},
		{name: "no redirect_uri anywhere", params: func(m map[string]any) { delete(m, "redirect_uri") }, wantPage: codeInvalidRequest},
		{name: "redirect_uri only in the request object", query: func(q url.Values) { q.Del("redirect_uri") }, wantRedirect: phone},
		{name: "unregistered redirect_uri only in the request object", object: func(ro map[string]any) {
			ro["redirect_uri"] = "https://rp.example/cb?tenant=2"
		}, query: func(q url.Values) { q.Del("redirect_uri") }, wantPage: codeInvalidRedirectURI},
		{name: "redirect_uri of another client only in the request object", object: func(ro map[string]any) {
			ro["redirect_uri"] = redirectB
		}, query: func(q url.Values) { q.Del("redirect_uri") }, wantPage: codeInvalidRedirectURI},
		{name: "bad signature and no redirect_uri in the query", request: func(q url.Values, ro map[string]any) {
			q.Set("request", h.seal(signJWT(t, tk.evil, clientSigKID, ro)))
		}, query: func(q url.Values) { q.Del("redirect_uri") }, wantPage: codeInvalidRequestObject},
		{name: "missing service scope", params: func(m map[string]any) { m["scope"] = "openid profile" }, wantRedirect: codeInvalidScope},
		{name: "unknown service code", params: func(m map[string]any) { m["scope"] = "openid service:NOPE" }, wantRedirect: codeInvalidScope},
		{name: "service of another client", params: func(m map[string]any) { m["scope"] = "openid service:" + svcBLogin }, wantRedirect: codeInvalidScope},
		{name: "two service scopes", params: func(m map[string]any) { m["scope"] = "openid service:" + svcLogin + " service:" + svcIdentify }, wantRedirect: codeInvalidScope},
		{name: "no openid scope", request: func(url.Values, map[string]any) {}, params: func(m map[string]any) { m["scope"] = "service:" + svcLogin }, wantRedirect: codeInvalidScope},
		{name: "no openid scope in the query and the request object", params: func(m map[string]any) { m["scope"] = "service:" + svcLogin }, wantRedirect: codeInvalidRequest, wantDesc: "query"},
		{name: "response_type token", params: func(m map[string]any) { m["response_type"] = "token" }, wantRedirect: codeUnsupportedResponseType},
		{name: "response_type missing", params: func(m map[string]any) { delete(m, "response_type") }, wantRedirect: codeInvalidRequest},
		{name: "display popup", params: func(m map[string]any) { m["display"] = "popup" }, wantRedirect: codeUnsupportedDisplay},
		{name: "display page", params: func(m map[string]any) { m["display"] = "page" }, wantRedirect: phone},
		{name: "prompt none", params: func(m map[string]any) { m["prompt"] = "none" }, wantRedirect: codeLoginRequired},
		{name: "PKCE plain", params: func(m map[string]any) { m["code_challenge_method"] = "plain" }, wantRedirect: codeInvalidRequest},
		{name: "PKCE missing challenge when required", params: func(m map[string]any) {
			delete(m, "code_challenge")
			delete(m, "code_challenge_method")
		}, wantRedirect: codeInvalidRequest},
		{name: "PKCE challenge malformed", params: func(m map[string]any) { m["code_challenge"] = "short" }, wantRedirect: codeInvalidRequest},
		{name: "signed-only request object", request: func(q url.Values, ro map[string]any) {
			q.Set("request", signJWT(t, tk.rpSig, clientSigKID, ro))
		}, wantRedirect: codeInvalidRequestObject, wantDesc: "signed then encrypted"},
		{name: "bad request object signature", request: func(q url.Values, ro map[string]any) {
			q.Set("request", h.seal(signJWT(t, tk.evil, clientSigKID, ro)))
		}, wantRedirect: codeInvalidRequestObject},
		{name: "request object with unknown kid", request: func(q url.Values, ro map[string]any) {
			q.Set("request", h.seal(signJWT(t, tk.rpSig, "other-kid", ro)))
		}, wantRedirect: codeInvalidRequestObject},
		{name: "request object without kid", request: func(q url.Values, ro map[string]any) {
			q.Set("request", h.seal(signJWT(t, tk.rpSig, "", ro)))
		}, wantRedirect: codeInvalidRequestObject},
		{name: "request object JWE without kid", request: func(q url.Values, ro map[string]any) {
			q.Set("request", encryptTo(t, &tk.opEnc.PublicKey, "", jose.RSA_OAEP_256, jose.A128CBC_HS256, signJWT(t, tk.rpSig, clientSigKID, ro)))
		}, wantRedirect: codeInvalidRequestObject, wantDesc: "kid"},
		{name: "unsigned request object", request: func(q url.Values, ro map[string]any) {
			q.Set("request", unsignedJWT(t, ro))
		}, wantRedirect: codeInvalidRequestObject},
		{name: "request object not a JWT", request: func(q url.Values, _ map[string]any) { q.Set("request", "not.a.jwt.at-all") }, wantRedirect: codeInvalidRequestObject},
		{name: "request object signed with the encryption key", request: func(q url.Values, ro map[string]any) {
			q.Set("request", h.seal(signJWT(t, tk.rpEnc, clientEncKID, ro)))
		}, wantRedirect: codeInvalidRequestObject},
		{name: "request object iss is another client", object: func(ro map[string]any) { ro["iss"] = clientB }, wantRedirect: codeInvalidRequestObject},
		{name: "request object wrong aud", object: func(ro map[string]any) { ro["aud"] = "https://idp.prd.itsme.services/v2" }, wantRedirect: codeInvalidRequestObject},
		{name: "request object aud is the authorization endpoint", object: func(ro map[string]any) { ro["aud"] = h.issuer + "/authorization" }, wantRedirect: phone},
		{name: "request object aud array", object: func(ro map[string]any) { ro["aud"] = []string{"x", h.issuer} }, wantRedirect: phone},
		{name: "request object expired", object: func(ro map[string]any) { ro["exp"] = h.clock.Now().Add(-time.Minute).Unix() }, wantRedirect: codeInvalidRequestObject},
		{name: "request object client_id differs", object: func(ro map[string]any) { ro["client_id"] = clientB }, wantRedirect: codeInvalidRequest, wantDesc: mismatch + " (client_id)"},
		{name: "query state differs from request object", query: func(q url.Values) { q.Set("state", "other") }, wantRedirect: codeInvalidRequest, wantDesc: mismatch + " (state)"},
		{name: "query nonce differs from request object", query: func(q url.Values) { q.Set("nonce", "other") }, wantRedirect: codeInvalidRequest, wantDesc: mismatch + " (nonce)"},
		{name: "query claims differ from request object", params: func(m map[string]any) {
			m["claims"] = map[string]any{"id_token": map[string]any{"name": nil}}
		}, query: func(q url.Values) { q.Set("claims", `{"id_token":{"email":null}}`) }, wantRedirect: codeInvalidRequest, wantDesc: mismatch + " (claims)"},
		{name: "query claims equal to the request object's as JSON", params: func(m map[string]any) {
			m["claims"] = map[string]any{"id_token": map[string]any{"name": nil, "email": nil}}
		}, query: func(q url.Values) { q.Set("claims", `{ "id_token" : { "email":null, "name":null } }`) }, wantRedirect: phone},
		{name: "query response_type differs from request object", query: func(q url.Values) { q.Set("response_type", "id_token") }, wantRedirect: codeInvalidRequest, wantDesc: mismatch + " (response_type)"},
		{name: "query scope differs from request object", query: func(q url.Values) { q.Set("scope", "openid service:"+svcIdentify) }, wantRedirect: codeInvalidRequest, wantDesc: mismatch + " (scope)"},
		{name: "scope only in the request object", query: func(q url.Values) { q.Del("scope") }, wantRedirect: codeInvalidRequest, wantDesc: "query"},
		{name: "query scope without openid", object: func(ro map[string]any) { delete(ro, "scope") }, query: func(q url.Values) {
			q.Set("scope", "service:"+svcLogin)
		}, wantRedirect: codeInvalidRequest, wantDesc: "query"},
		{name: "response_type only in the request object", query: func(q url.Values) { q.Del("response_type") }, wantRedirect: codeInvalidRequest, wantDesc: "query"},
		{name: "response_type and redirect_uri only in the request object", query: func(q url.Values) {
			q.Del("response_type")
			q.Del("redirect_uri")
		}, wantPage: codeInvalidRequest, wantDesc: "query"},
		{name: "request and request_uri", query: func(q url.Values) { q.Set("request_uri", h.base+"/rp/request.jwt") }, wantRedirect: codeInvalidRequest},
		{name: "unregistered request_uri", request: func(q url.Values, _ map[string]any) {
			q.Set("request_uri", "https://rp.example:443/ro.jwt")
		}, wantRedirect: codeInvalidRequestURI},
		{name: "registered request_uri", request: func(q url.Values, ro map[string]any) {
			h.served.set(h.requestJWT(ro))
			q.Set("request_uri", h.base+"/rp/request.jwt")
		}, wantRedirect: phone},
		{name: "nested request object RSA-OAEP A128CBC-HS256", request: func(q url.Values, ro map[string]any) {
			q.Set("request", encryptTo(t, &tk.opEnc.PublicKey, h.emu.ownKeys().encKID, jose.RSA_OAEP, jose.A128CBC_HS256, signJWT(t, tk.rpSig, clientSigKID, ro)))
		}, wantRedirect: phone},
		{name: "nested request object RSA1_5 refused", request: func(q url.Values, ro map[string]any) {
			q.Set("request", encryptTo(t, &tk.opEnc.PublicKey, h.emu.ownKeys().encKID, jose.RSA1_5, jose.A128CBC_HS256, signJWT(t, tk.rpSig, clientSigKID, ro)))
		}, wantRedirect: codeInvalidRequestObject},
		{name: "encrypted but unsigned request object", request: func(q url.Values, ro map[string]any) {
			q.Set("request", encryptTo(t, &tk.opEnc.PublicKey, h.emu.ownKeys().encKID, jose.RSA_OAEP_256, jose.A256GCM, unsignedJWT(t, ro)))
		}, wantRedirect: codeInvalidRequestObject},
		{name: "request object encrypted to another key", request: func(q url.Values, ro map[string]any) {
			q.Set("request", encryptTo(t, &tk.evil.PublicKey, h.emu.ownKeys().encKID, jose.RSA_OAEP_256, jose.A256GCM, signJWT(t, tk.rpSig, clientSigKID, ro)))
		}, wantRedirect: codeInvalidRequestObject},
		{name: "repeated parameter", query: func(q url.Values) { q.Add("nonce", "again") }, wantRedirect: codeInvalidRequest},
		{name: "malformed claims", request: func(url.Values, map[string]any) {}, query: func(q url.Values) { q.Set("claims", `{"id_token":[]}`) }, wantRedirect: codeInvalidRequest},
		{name: "identification without claims", service: svcIdentify, wantRedirect: codeInvalidRequest},
		{name: "identification with a scope claim", service: svcIdentify, params: func(m map[string]any) {
			m["scope"] = "openid service:" + svcIdentify + " email"
		}, wantRedirect: phone},
		{name: "identification with only approval claims", service: svcIdentify, params: func(m map[string]any) {
			m["claims"] = map[string]any{"userinfo": map[string]any{"sub": nil}}
		}, wantRedirect: codeInvalidRequest},
		{name: "confirmation without request object", service: svcConfirm, request: func(url.Values, map[string]any) {}, params: func(m map[string]any) {
			m["claims"] = freeText("Pay the bill")
		}, wantRedirect: codeInvalidRequest},
		{name: "confirmation without template", service: svcConfirm, wantRedirect: codeInvalidRequest},
		{name: "confirmation template only in the query", service: svcConfirm, query: func(q url.Values) {
			q.Set("claims", mustJSON(t, freeText("Pay 9999 EUR to the attacker")))
		}, wantRedirect: codeInvalidRequest, wantDesc: "template_name"},
		{name: "confirmation template only in the request object", service: svcConfirm, object: func(ro map[string]any) {
			ro["claims"] = freeText("Pay 10 EUR")
		}, wantRedirect: phone},
		{name: "confirmation with an unknown template", service: svcConfirm, params: func(m map[string]any) {
			c := freeText("ok")
			c["userinfo"].(map[string]any)[claimTemplate] = map[string]any{"essential": true, "value": "simple_payment"}
			m["claims"] = c
		}, wantRedirect: codeInvalidRequest, wantDesc: "unknown approval template"},
		{name: "confirmation free text over 7500 characters", service: svcConfirm, params: func(m map[string]any) {
			m["claims"] = freeText(strings.Repeat("a", maxFreeText+1))
		}, wantRedirect: codeInvalidRequest, wantDesc: "text_key"},
		{name: "confirmation free text of 7500 two-byte characters", service: svcConfirm, object: func(ro map[string]any) {
			ro["claims"] = freeText(strings.Repeat("é", maxFreeText))
		}, wantRedirect: phone},
		{name: "confirmation free text with the currency sign", service: svcConfirm, params: func(m map[string]any) {
			m["claims"] = freeText("10 \u00a4")
		}, wantRedirect: codeInvalidRequest, wantDesc: "U+00A4"},
		{name: "confirmation free text with one half", service: svcConfirm, params: func(m map[string]any) {
			m["claims"] = freeText("\u00bd price")
		}, wantRedirect: codeInvalidRequest, wantDesc: "U+00BD"},
		{name: "confirmation free text with three quarters", service: svcConfirm, params: func(m map[string]any) {
			m["claims"] = freeText("\u00be done")
		}, wantRedirect: codeInvalidRequest, wantDesc: "U+00BE"},
		{name: "confirmation free text with characters only in ISO-8859-15", service: svcConfirm, params: func(m map[string]any) {
			m["claims"] = freeText("\u0152uvre \u0161 \u017e \u0178 \u20ac")
		}, wantRedirect: phone},
		{name: "confirmation with curly quotes", service: svcConfirm, params: func(m map[string]any) {
			m["claims"] = freeText("It\u2019s fine")
		}, wantRedirect: codeInvalidRequest},
		{name: "confirmation with a script tag", service: svcConfirm, params: func(m map[string]any) {
			m["claims"] = freeText("<script>x</script>")
		}, wantRedirect: codeInvalidRequest},
		{name: "confirmation free text", service: svcConfirm, params: func(m map[string]any) {
			m["claims"] = freeText("Sign the <b>contract</b> n° 42 for 10 €")
		}, wantRedirect: phone},
		{name: "confirmation payment", service: svcConfirm, params: func(m map[string]any) {
			m["claims"] = map[string]any{"userinfo": map[string]any{
				claimTemplate: map[string]any{"essential": true, "value": "adv_payment"},
				claimAmount:   map[string]any{"essential": true, "value": "1250"},
				claimCurrency: map[string]any{"essential": true, "value": "EUR"},
				claimIBAN:     map[string]any{"essential": true, "value": "BE68539007547034"},
			}}
		}, wantRedirect: phone},
		{name: "confirmation payment with a decimal amount", service: svcConfirm, params: func(m map[string]any) {
			m["claims"] = payment("12.50", "EUR", "BE68539007547034")
		}, wantRedirect: codeInvalidRequest, wantDesc: "amount_key"},
		{name: "confirmation payment with a negative amount", service: svcConfirm, params: func(m map[string]any) {
			m["claims"] = payment("-5", "EUR", "BE68539007547034")
		}, wantRedirect: codeInvalidRequest, wantDesc: "amount_key"},
		{name: "confirmation payment with a lower-case currency", service: svcConfirm, params: func(m map[string]any) {
			m["claims"] = payment("1250", "eur", "BE68539007547034")
		}, wantRedirect: codeInvalidRequest, wantDesc: "currency_key"},
		{name: "confirmation payment with a four-letter currency", service: svcConfirm, params: func(m map[string]any) {
			m["claims"] = payment("1250", "EURO", "BE68539007547034")
		}, wantRedirect: codeInvalidRequest, wantDesc: "currency_key"},
		{name: "confirmation payment with a bad IBAN", service: svcConfirm, params: func(m map[string]any) {
			m["claims"] = map[string]any{"userinfo": map[string]any{
				claimTemplate: map[string]any{"value": "adv_payment"}, claimAmount: map[string]any{"value": "1"},
				claimCurrency: map[string]any{"value": "EUR"}, claimIBAN: map[string]any{"value": "BE68539007547035"},
			}}
		}, wantRedirect: codeInvalidRequest},
		{name: "sub hint of no user", service: svcConfirm, params: func(m map[string]any) {
			c := freeText("ok")
			c["userinfo"].(map[string]any)["sub"] = map[string]any{"value": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}
			m["claims"] = c
		}, wantRedirect: codeInvalidRequest, wantDesc: "matches no user"},
		{name: "sub hint under id_token is ignored", service: svcConfirm, params: func(m map[string]any) {
			c := freeText("ok")
			c["id_token"] = map[string]any{"sub": map[string]any{"value": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}}
			m["claims"] = c
		}, wantRedirect: phone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := h.with(t)
			service := svcLogin
			if tt.service != "" {
				service = tt.service
			}
			params := h.authParams(service, "neg")
			if tt.params != nil {
				tt.params(params)
			}
			ro := h.requestObject(params)
			if tt.object != nil {
				tt.object(ro)
			}
			q := query(t, params)
			if tt.request != nil {
				tt.request(q, ro)
			} else {
				q.Set("request", h.requestJWT(ro))
			}
			if tt.query != nil {
				tt.query(q)
			}
			resp, body := h.authorize(q)
			loc := resp.Header.Get("Location")
			switch {
			case tt.wantPage != "":
				if resp.StatusCode != http.StatusBadRequest || loc != "" || !strings.Contains(body, tt.wantPage) {
					t.Fatalf("want an error page with %s and no redirect, got %d Location %q:\n%s", tt.wantPage, resp.StatusCode, loc, body)
				}
				if !strings.Contains(body, html.EscapeString(tt.wantDesc)) {
					t.Errorf("the error page does not say %q:\n%s", tt.wantDesc, body)
				}
				if strings.Contains(body, "<form") {
					t.Error("the error page has a form")
				}
			case tt.wantRedirect == phone:
				if resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="tx"`) {
					t.Fatalf("want the phone page, got %d Location %q:\n%s", resp.StatusCode, loc, body)
				}
			default:
				got := h.redirectQuery(resp, redirectA)
				if got.Get("error") != tt.wantRedirect || got.Get("error_description") == "" {
					t.Fatalf("error = %q (%q), want %q", got.Get("error"), got.Get("error_description"), tt.wantRedirect)
				}
				if !strings.Contains(got.Get("error_description"), tt.wantDesc) {
					t.Errorf("error_description = %q, want it to contain %q", got.Get("error_description"), tt.wantDesc)
				}
				if !strings.HasPrefix(loc, redirectA+"&") {
					t.Errorf("Location %q does not keep the registered query", loc)
				}
				if got.Get("state") == "" || got.Get("code") != "" {
					t.Errorf("want the state and no code: %v", got)
				}
			}
		})
	}
}

// mismatch is itsme's description of a query parameter that differs from
// the request object (itsme-oidc.md §2.1).
const mismatch = "Oauth2 parameters do not match Request object"

// freeText is a claims request for a free_text Confirmation.
func freeText(text string) map[string]any {
	return map[string]any{"userinfo": map[string]any{
		claimTemplate: map[string]any{"essential": true, "value": "free_text"},
		claimText:     map[string]any{"essential": true, "value": text},
	}}
}

// payment is a claims request for an adv_payment Confirmation.
func payment(amount, currency, iban string) map[string]any {
	return map[string]any{"userinfo": map[string]any{
		claimTemplate: map[string]any{"essential": true, "value": "adv_payment"},
		claimAmount:   map[string]any{"essential": true, "value": amount},
		claimCurrency: map[string]any{"essential": true, "value": currency},
		claimIBAN:     map[string]any{"essential": true, "value": iban},
	}}
}

// mustJSON encodes v.
func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestConfirmationSubHint offers only the persona the sub hint names.
func TestConfirmationSubHint(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	params := h.authParams(svcConfirm, "hint")
	c := freeText("Transfer <b>10</b> EUR")
	c["userinfo"].(map[string]any)["sub"] = map[string]any{"value": h.emu.Subject("lucas", clientA)}
	params["claims"] = c
	q := query(t, params)
	q.Set("request", h.requestJWT(h.requestObject(params)))
	resp, page := h.authorize(q)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if strings.Contains(page, `value="maxence"`) || !strings.Contains(page, `value="lucas"`) {
		t.Errorf("want only lucas offered:\n%s", page)
	}
	if !strings.Contains(page, "Transfer &lt;b&gt;10&lt;/b&gt; EUR") {
		t.Errorf("the page does not show the escaped text to approve:\n%s", page)
	}
	action, vals := formAsFound(t, page)
	vals.Set("persona", "maxence")
	if resp, _ := h.post(action, vals, nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a persona that was not offered: status %d, want 400", resp.StatusCode)
	}
	vals.Set("persona", "lucas")
	resp, _ = h.post(action, vals, nil)
	if got := h.redirectQuery(resp, redirectA); len(got.Get("code")) != 36 {
		t.Errorf("approving as the hinted persona: %v", got)
	}
}

// TestRefusal: the refuse button gives access_denied with the state.
func TestRefusal(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	params := h.authParams(svcLogin, "refuse")
	q := query(t, params)
	q.Set("request", h.requestJWT(h.requestObject(params)))
	_, page := h.authorize(q)
	got := h.answer(page, url.Values{"action": {"refuse"}})
	if got.Get("error") != codeAccessDenied || got.Get("state") != "state-refuse" || got.Get("code") != "" {
		t.Errorf("refusal redirect = %v", got)
	}
}

// TestPhonePageAnswers covers answers the page refuses.
func TestPhonePageAnswers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	tests := []struct {
		name   string
		mutate func(v url.Values)
	}{
		{"unknown action", func(v url.Values) { v.Set("action", "maybe") }},
		{"unknown persona", func(v url.Values) { v.Set("persona", "mallory") }},
		{"forged handle", func(v url.Values) { v.Set("tx", "forged") }},
		{"no handle", func(v url.Values) { v.Del("tx") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := h.with(t)
			params := h.authParams(svcLogin, "answers")
			q := query(t, params)
			q.Set("request", h.requestJWT(h.requestObject(params)))
			_, page := h.authorize(q)
			action, vals := formAsFound(t, page)
			tt.mutate(vals)
			resp, body := h.post(action, vals, nil)
			if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
				t.Errorf("status %d Location %q:\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
			}
		})
	}
	t.Run("expired", func(t *testing.T) {
		h := newHarness(t, nil)
		params := h.authParams(svcLogin, "late")
		q := query(t, params)
		q.Set("request", h.requestJWT(h.requestObject(params)))
		_, page := h.authorize(q)
		h.clock.Advance(DefaultPendingTTL)
		action, vals := formAsFound(t, page)
		if resp, _ := h.post(action, vals, nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("late answer: status %d, want 400", resp.StatusCode)
		}
	})
}

// TestMethods checks the HTTP methods each endpoint accepts.
func TestMethods(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodPost, PathAuthorization, http.StatusMethodNotAllowed},
		{http.MethodGet, PathConfirm, http.StatusMethodNotAllowed},
		{http.MethodGet, PathToken, http.StatusMethodNotAllowed},
		{http.MethodPut, PathUserInfo, http.StatusMethodNotAllowed},
		{http.MethodPost, PathJWKS, http.StatusMethodNotAllowed},
		{http.MethodGet, "/nothing", http.StatusNotFound},
		{http.MethodPost, PathUserInfo, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.method+tt.path, func(t *testing.T) {
			h := h.with(t)
			req, err := http.NewRequest(tt.method, h.issuer+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp, _ := h.do(req); resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

// TestUnencryptedRequestObject: a request object that is signed but not
// encrypted, by value or by reference, is refused unless the client has
// AllowUnencryptedRequestObject (itsme-oidc.md §2.1); the option lets
// nothing else through.
func TestUnencryptedRequestObject(t *testing.T) {
	t.Parallel()
	const phone = "phone page"
	signedOnly := func(h *harness, ro map[string]any) string { return signJWT(h.t, tk.rpSig, clientSigKID, ro) }
	tests := []struct {
		name  string
		allow bool // AllowUnencryptedRequestObject
		byURI bool // served at the registered request_uri instead of sent as request
		jwt   func(h *harness, ro map[string]any) string
		// want is phone or the error code redirected; wantDesc, if set,
		// is part of the description.
		want, wantDesc string
	}{
		{name: "signed only", jwt: signedOnly, want: codeInvalidRequestObject, wantDesc: "signed then encrypted"},
		{name: "signed only by request_uri", byURI: true, jwt: signedOnly, want: codeInvalidRequestObject, wantDesc: "signed then encrypted"},
		{name: "signed then encrypted", jwt: (*harness).requestJWT, want: phone},
		{name: "signed then encrypted by request_uri", byURI: true, jwt: (*harness).requestJWT, want: phone},
		{name: "signed only, allowed", allow: true, jwt: signedOnly, want: phone},
		{name: "signed only by request_uri, allowed", allow: true, byURI: true, jwt: signedOnly, want: phone},
		{name: "signed then encrypted, allowed", allow: true, jwt: (*harness).requestJWT, want: phone},
		{name: "unsigned, allowed", allow: true, jwt: func(h *harness, ro map[string]any) string { return unsignedJWT(h.t, ro) }, want: codeInvalidRequestObject},
		{name: "bad signature, allowed", allow: true, jwt: func(h *harness, ro map[string]any) string {
			return signJWT(h.t, tk.evil, clientSigKID, ro)
		}, want: codeInvalidRequestObject},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, func(c *Config) { c.Clients[0].AllowUnencryptedRequestObject = tt.allow })
			params := h.authParams(svcLogin, "bare")
			q := query(t, params)
			raw := tt.jwt(h, h.requestObject(params))
			if tt.byURI {
				h.served.set(raw)
				q.Set("request_uri", h.base+"/rp/request.jwt")
			} else {
				q.Set("request", raw)
			}
			resp, body := h.authorize(q)
			if tt.want == phone {
				if resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="tx"`) {
					t.Fatalf("want the phone page, got %d Location %q:\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
				}
				return
			}
			got := h.redirectQuery(resp, redirectA)
			if got.Get("error") != tt.want || !strings.Contains(got.Get("error_description"), tt.wantDesc) {
				t.Errorf("error = %q (%q), want %q (%q)", got.Get("error"), got.Get("error_description"), tt.want, tt.wantDesc)
			}
		})
	}
}

// TestUnregisteredRequestURINotFetched: a request_uri that is not
// registered is refused with invalid_request_uri and never fetched, even
// when it is an https URL the emulator can reach that serves a valid
// request object (itsme-oidc.md §2.1: request_uri values are
// pre-registered).
func TestUnregisteredRequestURINotFetched(t *testing.T) {
	t.Parallel()
	var fetches atomic.Int32
	served := &servedObject{}
	rp := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		served.mu.Lock()
		defer served.mu.Unlock()
		w.Header().Set("Content-Type", "application/oauth-authz-req+jwt")
		_, _ = io.WriteString(w, served.jwt)
	}))
	t.Cleanup(rp.Close)
	client := rp.Client() // trusts rp's certificate
	client.Timeout = fetchTimeout
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	h := newHarness(t, func(c *Config) { c.HTTPClient = client })
	params := h.authParams(svcLogin, "unreg")
	served.set(h.requestJWT(h.requestObject(params)))
	uri := rp.URL + "/ro.jwt"
	q := query(t, params)
	q.Set("request_uri", uri)
	resp, body := h.authorize(q)
	if resp.StatusCode == http.StatusOK {
		t.Fatalf("an unregistered request_uri was accepted:\n%s", body)
	}
	if got := h.redirectQuery(resp, redirectA); got.Get("error") != codeInvalidRequestURI {
		t.Errorf("error = %q (%q), want %q", got.Get("error"), got.Get("error_description"), codeInvalidRequestURI)
	}
	if n := fetches.Load(); n != 0 {
		t.Errorf("the unregistered request_uri was fetched %d times", n)
	}
	// Control: the emulator could have fetched the URL, and what it serves
	// is a request object the emulator accepts.
	raw, err := h.emu.fetch(context.Background(), uri)
	if err != nil {
		t.Fatalf("control fetch: %v", err)
	}
	if _, err := h.emu.verifyRequestObject(context.Background(), h.emu.clients[clientA], string(raw)); err != nil {
		t.Fatalf("control: the served request object is refused: %v", err)
	}
}
