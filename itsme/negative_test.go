package itsme

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func TestExchangeTokenEndpointErrors(t *testing.T) {
	var redirectHits atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		redirectHits.Add(1)
		writeJSON(w, 200, map[string]any{})
	}))
	t.Cleanup(elsewhere.Close)

	reply := func(status int, contentType, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", contentType)
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}
	}
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		client   *http.Client
		maxBody  int64
		wantCode string
		wantDesc string
		wantErr  error
	}{
		{name: "400 invalid_grant", handler: reply(400, "application/json", `{"error":"invalid_grant"}`),
			wantCode: "invalid_grant", wantErr: ErrHTTPStatus},
		{name: "unauthorized_client with detail", handler: reply(400, "application/json", `{"error":"unauthorized_client","detail":"Invalid client assertion"}`),
			wantCode: "unauthorized_client", wantDesc: "Invalid client assertion", wantErr: ErrHTTPStatus},
		{name: "error_description", handler: reply(401, "application/json", `{"error":"invalid_client","error_description":"who?"}`),
			wantCode: "invalid_client", wantDesc: "who?", wantErr: ErrHTTPStatus},
		{name: "error code with quotes", handler: reply(400, "application/json", `{"error":"<script>\"x"}`),
			wantCode: CodeProtocol, wantErr: ErrHTTPStatus},
		{name: "400 without body", handler: reply(400, "text/html", `<h1>bad</h1>`),
			wantCode: CodeProtocol, wantErr: ErrHTTPStatus},
		{name: "500", handler: reply(500, "application/json", `{"error":"server_error"}`),
			wantCode: CodeUnavailable, wantErr: ErrHTTPStatus},
		{name: "429", handler: reply(429, "text/plain", `slow down`),
			wantCode: CodeUnavailable, wantErr: ErrHTTPStatus},
		{name: "307 redirect not followed", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere.URL+"/steal", http.StatusTemporaryRedirect)
		}, wantCode: CodeProtocol, wantErr: ErrRedirect},
		{name: "302 redirect not followed, even with a caller client", client: &http.Client{Timeout: 5 * time.Second},
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, elsewhere.URL+"/steal", http.StatusFound)
			}, wantCode: CodeProtocol, wantErr: ErrRedirect},
		{name: "timeout", client: &http.Client{Timeout: 150 * time.Millisecond},
			handler: func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body) // lets the server notice the client hanging up
				select {
				case <-r.Context().Done():
				case <-time.After(3 * time.Second):
				}
			}, wantCode: CodeUnavailable, wantErr: context.DeadlineExceeded},
		{name: "oversized body", maxBody: 1024, handler: reply(200, "application/json", `{"access_token":"`+strings.Repeat("a", 4096)+`"}`),
			wantCode: CodeProtocol, wantErr: ErrBodyTooLarge},
		{name: "not JSON", handler: reply(200, "text/html", `<html></html>`),
			wantCode: CodeProtocol, wantErr: ErrMalformedResponse},
		{name: "token_type mac", handler: reply(200, "application/json", `{"access_token":"a","token_type":"mac","id_token":"x"}`),
			wantCode: CodeProtocol, wantErr: ErrMalformedResponse},
		{name: "no id_token", handler: reply(200, "application/json", `{"access_token":"a","token_type":"bearer"}`),
			wantCode: CodeProtocol, wantErr: ErrMalformedResponse},
		{name: "no access_token", handler: reply(200, "application/json", `{"token_type":"Bearer","id_token":"x"}`),
			wantCode: CodeProtocol, wantErr: ErrMalformedResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op, c, req := setup(t, func(cfg *Config) {
				cfg.HTTPClient = tt.client
				cfg.MaxBodyBytes = tt.maxBody
			})
			op.set(func(op *fakeOP) { op.tokenFn = tt.handler })
			before := redirectHits.Load()
			_, err := c.Exchange(context.Background(), testCode, req)
			ie := asError(t, err)
			if ie.Stage != StageToken || ie.Code != tt.wantCode || ie.Description != tt.wantDesc || !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v (stage %q code %q desc %q), want code %q desc %q err %v",
					err, ie.Stage, ie.Code, ie.Description, tt.wantCode, tt.wantDesc, tt.wantErr)
			}
			if redirectHits.Load() != before {
				t.Error("the redirect was followed")
			}
			if op.tokenCalls.Load() != 1 {
				t.Errorf("token endpoint called %d times, want exactly 1 (no retries)", op.tokenCalls.Load())
			}
		})
	}
}

// rawJSONSigned signs a literal JSON payload with itsme's key.
func (op *fakeOP) rawJSONSigned(payload string) string {
	return signRaw(op.t, jose.RS256, op.keys.opSig, kidOPSig, []byte(payload))
}

// encryptWithCty wraps plaintext in a JWE the way itsme does
// (RSA-OAEP-256, A128CBC-HS256) but with the content type cty.
func encryptWithCty(t testing.TB, cty string, key any, kid string, plaintext []byte) *jose.JSONWebEncryption {
	t.Helper()
	return encryptWith(t, jose.RSA_OAEP_256, jose.A128CBC_HS256, key, kid, plaintext, (&jose.EncrypterOptions{}).WithContentType(jose.ContentType(cty)))
}

func TestExchangeRejectsBadIDTokens(t *testing.T) {
	bridgeEnc := func(k *testKeys) (any, string) { return &k.bridge.Enc.Key.PublicKey, k.bridge.Enc.KeyID() }
	tests := []struct {
		name    string
		mint    func(t *testing.T, op *fakeOP, m map[string]any) string
		mutate  func(m map[string]any)
		wantErr error
	}{
		// OIDC-12: the outer JWE.
		{name: "plain JWS, not encrypted", wantErr: ErrNotEncrypted,
			mint: func(t *testing.T, op *fakeOP, m map[string]any) string { return op.signed(m) }},
		{name: "JWE JSON serialization", wantErr: ErrNotEncrypted,
			mint: func(t *testing.T, op *fakeOP, m map[string]any) string {
				key, kid := bridgeEnc(op.keys)
				return encryptTo(t, jose.RSA_OAEP_256, jose.A128CBC_HS256, key, kid, []byte(op.signed(m)), false).FullSerialize()
			}},
		{name: "RSA1_5", wantErr: ErrAlgorithm,
			mint: func(t *testing.T, op *fakeOP, m map[string]any) string {
				key, kid := bridgeEnc(op.keys)
				return compact(t, encryptTo(t, jose.RSA1_5, jose.A128CBC_HS256, key, kid, []byte(op.signed(m)), false))
			}},
		{name: "dir", wantErr: ErrAlgorithm,
			mint: func(t *testing.T, op *fakeOP, m map[string]any) string {
				return compact(t, encryptTo(t, jose.DIRECT, jose.A128CBC_HS256, make([]byte, 32), "", []byte(op.signed(m)), false))
			}},
		{name: "zip", wantErr: ErrAlgorithm,
			mint: func(t *testing.T, op *fakeOP, m map[string]any) string {
				key, kid := bridgeEnc(op.keys)
				return compact(t, encryptTo(t, jose.RSA_OAEP_256, jose.A128CBC_HS256, key, kid, []byte(op.signed(m)), true))
			}},
		{name: "A128GCM not allowed", wantErr: ErrAlgorithm,
			mint: func(t *testing.T, op *fakeOP, m map[string]any) string {
				key, kid := bridgeEnc(op.keys)
				return compact(t, encryptTo(t, jose.RSA_OAEP_256, jose.A128GCM, key, kid, []byte(op.signed(m)), false))
			}},
		{name: "A256CBC-HS512 not allowed", wantErr: ErrAlgorithm,
			mint: func(t *testing.T, op *fakeOP, m map[string]any) string {
				key, kid := bridgeEnc(op.keys)
				return compact(t, encryptTo(t, jose.RSA_OAEP_256, jose.A256CBC_HS512, key, kid, []byte(op.signed(m)), false))
			}},
		{name: "unknown JWE kid", wantErr: ErrDecrypt,
			mint: func(t *testing.T, op *fakeOP, m map[string]any) string {
				key, _ := bridgeEnc(op.keys)
				return compact(t, encryptTo(t, jose.RSA_OAEP_256, jose.A128CBC_HS256, key, "nope", []byte(op.signed(m)), false))
			}},
		{name: "encrypted to another key under our kid", wantErr: ErrDecrypt,
			mint: func(t *testing.T, op *fakeOP, m map[string]any) string {
				_, kid := bridgeEnc(op.keys)
				return compact(t, encryptTo(t, jose.RSA_OAEP_256, jose.A128CBC_HS256, &op.keys.attacker.PublicKey, kid, []byte(op.signed(m)), false))
			}},
		{name: "JWE without kid uses the current key",
			mint: func(t *testing.T, op *fakeOP, m map[string]any) string {
				key, _ := bridgeEnc(op.keys)
				return compact(t, encryptTo(t, jose.RSA_OAEP, jose.A128CBC_HS256, key, "", []byte(op.signed(m)), false))
			}},
		{name: "JWS without kid is checked against every signing key",
			mint: func(t *testing.T, op *fakeOP, m map[string]any) string {
				return op.sealed(signRaw(t, jose.RS256, op.keys.opSig, "", mustJSON(t, m)))
			}},
		{name: "cty not a JWT", wantErr: ErrAlgorithm,
			mint: func(t *testing.T, op *fakeOP, m map[string]any) string {
				key, kid := bridgeEnc(op.keys)
				return compact(t, encryptWithCty(t, "json", key, kid, []byte(op.signed(m))))
			}},
		{name: "cty application/jwt",
			mint: func(t *testing.T, op *fakeOP, m map[string]any) string {
				key, kid := bridgeEnc(op.keys)
				return compact(t, encryptWithCty(t, "application/jwt", key, kid, []byte(op.signed(m))))
			}},
		{name: "token too large", wantErr: ErrTokenTooLarge,
			mint: func(t *testing.T, op *fakeOP, m map[string]any) string {
				return "a.b.c.d." + strings.Repeat("e", MaxTokenBytes)
			}},
		// OIDC-13/15: the inner token.
		{name: "unsigned JSON claims inside", wantErr: ErrNotSigned,
			mint: func(t *testing.T, op *fakeOP, m map[string]any) string { return op.sealed(string(mustJSON(t, m))) }},
		{name: "alg none inside", wantErr: ErrAlgorithm,
			mint: func(t *testing.T, op *fakeOP, m map[string]any) string { return op.sealed(noneJWS(mustJSON(t, m))) }},
		{name: "HS256 keyed with the public key bytes", wantErr: ErrAlgorithm,
			mint: func(t *testing.T, op *fakeOP, m map[string]any) string {
				pub, err := json.Marshal(jose.JSONWebKey{Key: &op.keys.opSig.PublicKey})
				if err != nil {
					t.Fatal(err)
				}
				return op.sealed(signRaw(t, jose.HS256, pub, kidOPSig, mustJSON(t, m)))
			}},
		{name: "JWE inside JWE", wantErr: ErrNotSigned,
			mint: func(t *testing.T, op *fakeOP, m map[string]any) string { return op.sealed(op.nested(m)) }},
		{name: "signed by an unknown key with a known kid", wantErr: ErrSignature,
			mint: func(t *testing.T, op *fakeOP, m map[string]any) string {
				return op.sealed(signRaw(t, jose.RS256, op.keys.attacker, kidOPSig, mustJSON(t, m)))
			}},
		{name: "kid of itsme's enc key", wantErr: ErrUnknownKey,
			mint: func(t *testing.T, op *fakeOP, m map[string]any) string {
				return op.sealed(signRaw(t, jose.RS256, op.keys.opEnc, kidOPEnc, mustJSON(t, m)))
			}},
		{name: "PS256 inside", wantErr: ErrAlgorithm,
			mint: func(t *testing.T, op *fakeOP, m map[string]any) string {
				return op.sealed(signRaw(t, jose.PS256, op.keys.opSig, kidOPSig, mustJSON(t, m)))
			}},
		{name: "embedded jwk header", wantErr: ErrAlgorithm,
			mint: func(t *testing.T, op *fakeOP, m map[string]any) string {
				s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: op.keys.attacker}, &jose.SignerOptions{EmbedJWK: true})
				if err != nil {
					t.Fatal(err)
				}
				jws, err := s.Sign(mustJSON(t, m))
				if err != nil {
					t.Fatal(err)
				}
				out, _ := jws.CompactSerialize()
				return op.sealed(out)
			}},
		{name: "jku header", wantErr: ErrAlgorithm,
			mint: func(t *testing.T, op *fakeOP, m map[string]any) string {
				s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: op.keys.opSig},
					(&jose.SignerOptions{}).WithHeader("kid", kidOPSig).WithHeader("jku", "https://evil.example/jwks"))
				if err != nil {
					t.Fatal(err)
				}
				jws, err := s.Sign(mustJSON(t, m))
				if err != nil {
					t.Fatal(err)
				}
				out, _ := jws.CompactSerialize()
				return op.sealed(out)
			}},
		// OIDC-14: the claims.
		{name: "duplicate sub", wantErr: ErrDuplicateClaim,
			mint: func(t *testing.T, op *fakeOP, m map[string]any) string {
				b := mustJSON(t, m)
				dup := `{"sub":"attacker",` + string(b[1:])
				return op.sealed(op.rawJSONSigned(dup))
			}},
		{name: "duplicate escaped name", wantErr: ErrDuplicateClaim,
			mint: func(t *testing.T, op *fakeOP, m map[string]any) string {
				b := mustJSON(t, m)
				return op.sealed(op.rawJSONSigned(`{"s\u0075b":"attacker",` + string(b[1:])))
			}},
		{name: "duplicate in a nested object", wantErr: ErrDuplicateClaim,
			mint: func(t *testing.T, op *fakeOP, m map[string]any) string {
				b := mustJSON(t, m)
				return op.sealed(op.rawJSONSigned(`{"address":{"locality":"a","locality":"b"},` + string(b[1:])))
			}},
		{name: "trailing data", wantErr: ErrMalformedClaims,
			mint: func(t *testing.T, op *fakeOP, m map[string]any) string {
				return op.sealed(op.rawJSONSigned(string(mustJSON(t, m)) + `{"sub":"x"}`))
			}},
		{name: "payload is an array", wantErr: ErrMalformedClaims,
			mint: func(t *testing.T, op *fakeOP, m map[string]any) string { return op.sealed(op.rawJSONSigned(`[1]`)) }},
		{name: "wrong iss", wantErr: ErrIssuer, mutate: func(m map[string]any) { m["iss"] = "https://idp.prd.itsme.services/v2" }},
		{name: "iss with trailing slash", wantErr: ErrIssuer, mutate: func(m map[string]any) { m["iss"] = m["iss"].(string) + "/" }},
		{name: "iss missing", wantErr: ErrIssuer, mutate: func(m map[string]any) { delete(m, "iss") }},
		{name: "wrong aud", wantErr: ErrAudience, mutate: func(m map[string]any) { m["aud"] = "someone-else" }},
		{name: "aud missing", wantErr: ErrAudience, mutate: func(m map[string]any) { delete(m, "aud") }},
		{name: "multiple aud without azp", wantErr: ErrAudience, mutate: func(m map[string]any) { m["aud"] = []string{testClientID, "other"} }},
		{name: "multiple aud with foreign azp", wantErr: ErrAudience, mutate: func(m map[string]any) {
			m["aud"], m["azp"] = []string{testClientID, "other"}, "other"
		}},
		{name: "multiple aud with our azp", mutate: func(m map[string]any) { m["aud"], m["azp"] = []string{testClientID, "other"}, testClientID }},
		{name: "aud is an object", wantErr: ErrMalformedClaims, mutate: func(m map[string]any) { m["aud"] = map[string]any{"a": 1} }},
		{name: "expired beyond leeway", wantErr: ErrExpired, mutate: func(m map[string]any) { m["exp"] = testNow.Unix() - 61 }},
		{name: "expired within leeway", mutate: func(m map[string]any) { m["exp"] = testNow.Unix() - 30 }},
		{name: "exp missing", wantErr: ErrExpired, mutate: func(m map[string]any) { delete(m, "exp") }},
		{name: "exp is a string", wantErr: ErrMalformedClaims, mutate: func(m map[string]any) { m["exp"] = "tomorrow" }},
		{name: "iat in the future", wantErr: ErrIssuedAt, mutate: func(m map[string]any) { m["iat"] = testNow.Unix() + 120 }},
		{name: "iat missing", wantErr: ErrIssuedAt, mutate: func(m map[string]any) { delete(m, "iat") }},
		{name: "iat too old", wantErr: ErrIssuedAt, mutate: func(m map[string]any) { m["iat"] = testNow.Add(-12 * time.Minute).Unix() }},
		{name: "nbf in the future", wantErr: ErrNotYetValid, mutate: func(m map[string]any) { m["nbf"] = testNow.Unix() + 120 }},
		{name: "nonce missing", wantErr: ErrNonce, mutate: func(m map[string]any) { delete(m, "nonce") }},
		{name: "other nonce", wantErr: ErrNonce, mutate: func(m map[string]any) { m["nonce"] = "another-flow-nonce" }},
		{name: "nonce in other case", wantErr: ErrNonce, mutate: func(m map[string]any) { m["nonce"] = strings.ToUpper(m["nonce"].(string)) }},
		{name: "nonce with whitespace", wantErr: ErrNonce, mutate: func(m map[string]any) { m["nonce"] = m["nonce"].(string) + " " }},
		{name: "nonce is a number", wantErr: ErrMalformedClaims, mutate: func(m map[string]any) { m["nonce"] = 42 }},
		{name: "sub missing", wantErr: ErrSubject, mutate: func(m map[string]any) { delete(m, "sub") }},
		{name: "sub empty", wantErr: ErrSubject, mutate: func(m map[string]any) { m["sub"] = "" }},
		{name: "sub too long", wantErr: ErrSubject, mutate: func(m map[string]any) { m["sub"] = strings.Repeat("a", 256) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op, c, req := setup(t, nil)
			req.Claims.UserInfo = nil
			op.set(func(op *fakeOP) {
				op.mutateID = tt.mutate
				if tt.mint != nil {
					op.mintID = func(m map[string]any) string { return tt.mint(t, op, m) }
				}
			})
			id, err := c.Exchange(context.Background(), testCode, req)
			if tt.wantErr == nil {
				if err != nil || id.Subject != testSub {
					t.Fatalf("Exchange = %+v, %v; want success", id, err)
				}
				return
			}
			if id != nil {
				t.Errorf("got an identity for a bad token")
			}
			ie := asError(t, err)
			if !errors.Is(err, tt.wantErr) || ie.Stage != StageIDToken || ie.Code != CodeInvalidToken {
				t.Errorf("err = %v (stage %q code %q), want %v at id_token/invalid_token", err, ie.Stage, ie.Code, tt.wantErr)
			}
		})
	}
}

func TestExchangeRejectsBadUserInfo(t *testing.T) {
	tests := []struct {
		name      string
		mutate    func(m map[string]any)
		handler   func(op *fakeOP) http.HandlerFunc
		wantCode  string
		wantErr   error
		wantFound bool
	}{
		{name: "sub mismatch", mutate: func(m map[string]any) { m["sub"] = "other-user" }, wantCode: CodeInvalidToken, wantErr: ErrSubjectMismatch},
		{name: "sub missing", mutate: func(m map[string]any) { delete(m, "sub") }, wantCode: CodeInvalidToken, wantErr: ErrSubject},
		{name: "wrong iss", mutate: func(m map[string]any) { m["iss"] = "https://oidc.uat.itsme.services" }, wantCode: CodeInvalidToken, wantErr: ErrIssuer},
		{name: "iss missing", mutate: func(m map[string]any) { delete(m, "iss") }, wantCode: CodeInvalidToken, wantErr: ErrIssuer},
		{name: "wrong aud", mutate: func(m map[string]any) { m["aud"] = "other" }, wantCode: CodeInvalidToken, wantErr: ErrAudience},
		{name: "expired", mutate: func(m map[string]any) { m["exp"] = testNow.Unix() - 300 }, wantCode: CodeInvalidToken, wantErr: ErrExpired},
		{name: "duplicate sub", wantCode: CodeInvalidToken, wantErr: ErrDuplicateClaim, handler: func(op *fakeOP) http.HandlerFunc {
			return func(w http.ResponseWriter, _ *http.Request) {
				b := mustJSON(op.t, op.userinfoClaims())
				w.Header().Set("Content-Type", "application/jwt")
				_, _ = w.Write([]byte(op.sealed(op.rawJSONSigned(string(b[:len(b)-1]) + `,"sub":"other"}`))))
			}
		}},
		{name: "plain JSON", wantCode: CodeInvalidToken, wantErr: ErrNotEncrypted, handler: func(op *fakeOP) http.HandlerFunc {
			return func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, op.userinfoClaims()) }
		}},
		{name: "signed only", wantCode: CodeInvalidToken, wantErr: ErrNotEncrypted, handler: func(op *fakeOP) http.HandlerFunc {
			return func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/jwt")
				_, _ = w.Write([]byte(op.signed(op.userinfoClaims())))
			}
		}},
		{name: "signed by an attacker", wantCode: CodeInvalidToken, wantErr: ErrSignature, handler: func(op *fakeOP) http.HandlerFunc {
			return func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/jwt")
				_, _ = w.Write([]byte(op.sealed(signRaw(op.t, jose.RS256, op.keys.attacker, kidOPSig, mustJSON(op.t, op.userinfoClaims())))))
			}
		}},
		{name: "text/html", wantCode: CodeProtocol, wantErr: ErrMalformedResponse, handler: func(op *fakeOP) http.HandlerFunc {
			return func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				_, _ = w.Write([]byte(op.nested(op.userinfoClaims())))
			}
		}},
		{name: "application/json carrying a JWE is fine", wantFound: true, handler: func(op *fakeOP) http.HandlerFunc {
			return func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				_, _ = w.Write([]byte(op.nested(op.userinfoClaims()) + "\n"))
			}
		}},
		{name: "401 invalid_token", wantCode: "invalid_token", wantErr: ErrHTTPStatus, handler: func(op *fakeOP) http.HandlerFunc {
			return func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="expired"`)
				w.WriteHeader(401)
			}
		}},
		{name: "503", wantCode: CodeUnavailable, wantErr: ErrHTTPStatus, handler: func(op *fakeOP) http.HandlerFunc {
			return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) }
		}},
		{name: "huge body", wantCode: CodeProtocol, wantErr: ErrBodyTooLarge, handler: func(op *fakeOP) http.HandlerFunc {
			return func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/jwt")
				_, _ = w.Write([]byte(strings.Repeat("A", DefaultMaxBodyBytes+10)))
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op, c, req := setup(t, nil)
			op.set(func(op *fakeOP) {
				op.mutateUI = tt.mutate
				if tt.handler != nil {
					op.userinfoFn = tt.handler(op)
				}
			})
			id, err := c.Exchange(context.Background(), testCode, req)
			if tt.wantFound {
				if err != nil || id.Claims["email"] != "john@example.org" {
					t.Fatalf("Exchange = %+v, %v", id, err)
				}
				return
			}
			ie := asError(t, err)
			if !errors.Is(err, tt.wantErr) || ie.Stage != StageUserInfo || ie.Code != tt.wantCode {
				t.Errorf("err = %v (stage %q code %q), want %v at userinfo/%s", err, ie.Stage, ie.Code, tt.wantErr, tt.wantCode)
			}
		})
	}
}

func TestCheckStrictJSON(t *testing.T) {
	tests := []struct {
		in      string
		wantErr error
	}{
		{`{"a":1,"b":[{"a":1},{"a":2}],"c":{"a":{"a":null}}}`, nil},
		{`{"a":1,"a":2}`, ErrDuplicateClaim},
		{`{"a":{"b":1,"b":1}}`, ErrDuplicateClaim},
		{`{"a":[{"b":1,"b":1}]}`, ErrDuplicateClaim},
		{`{"a":"b","b":"a"}`, nil},
		{`[]`, ErrMalformedClaims},
		{`{"a":1} x`, ErrMalformedClaims},
		{`{"a":1`, ErrMalformedClaims},
		{`"x"`, ErrMalformedClaims},
		{strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40), ErrMalformedClaims},
	}
	for _, tt := range tests {
		t.Run(tt.in[:min(len(tt.in), 30)], func(t *testing.T) {
			err := checkStrictJSON([]byte(tt.in))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("checkStrictJSON(%s) = %v, want %v", tt.in, err, tt.wantErr)
			}
		})
	}
}

func TestParseHeaderRejectsDuplicateAlg(t *testing.T) {
	seg := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","alg":"none"}`))
	if _, err := parseHeader(seg); !errors.Is(err, ErrDuplicateClaim) {
		t.Errorf("err = %v, want ErrDuplicateClaim", err)
	}
}
