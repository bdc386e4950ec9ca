package main

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"
)

// e2eSecretKey is the SECRET_KEY startServer configures (harness_test.go).
const e2eSecretKey = "e2e-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"

// hs256Key derives the JWT HMAC key from a SECRET_KEY the way internal/auth
// does: HKDF-SHA256 with the label "blip jwt hs256". Knowing it lets the
// tests forge tokens that differ from genuine ones in exactly one respect.
func hs256Key(t *testing.T, secret string) []byte {
	t.Helper()
	k, err := hkdf.Key(sha256.New, []byte(secret), nil, "blip jwt hs256", sha256.Size)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// forge encodes header and claims and signs them with HMAC (SHA-256, or
// SHA-512 when the header says HS512) under key; a nil key leaves the
// signature empty.
func forge(t *testing.T, header, claims map[string]any, key []byte) string {
	t.Helper()
	enc := func(v any) string {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(raw)
	}
	signing := enc(header) + "." + enc(claims)
	if key == nil {
		return signing + "."
	}
	h := sha256.New
	if header["alg"] == "HS512" {
		h = sha512.New
	}
	mac := hmac.New(h, key)
	mac.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// payloadOf decodes a genuine token's claims, keeping numbers exact.
func payloadOf(t *testing.T, token string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	m := map[string]any{}
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// withClaims returns a copy of claims with changes applied; a nil value
// deletes the claim.
func withClaims(claims map[string]any, changes map[string]any) map[string]any {
	out := maps.Clone(claims)
	for k, v := range changes {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// swapAlg replaces the alg header of a genuine token, keeping its payload
// and signature: algorithm confusion.
func swapAlg(t *testing.T, token, alg string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	h, err := json.Marshal(map[string]any{"alg": alg, "typ": "JWT"})
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(h) + "." + parts[1] + "." + parts[2]
}

// TestE2E_tokenAttacks presents forged, confused, stale and malformed
// credentials: each must be a 401 (never a 500, never a 200).
func TestE2E_tokenAttacks(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b, nil)
		c := s.client()
		_, email, password := newUser(t, c)
		access, refreshTok := login(t, c, email, password)
		key := hs256Key(t, e2eSecretKey)
		hs256 := map[string]any{"alg": "HS256", "typ": "JWT"}
		claims := payloadOf(t, access)
		now := time.Now().Unix()

		// Control: re-signing a genuine access token's own claims with the
		// derived key is accepted, so the forgeries below differ from a
		// valid token only in what each one names.
		want(t, meStatus(c, forge(t, hs256, claims, key)), http.StatusOK, "re-signed genuine claims (control)")

		bearer := map[string]string{
			"alg none":                       forge(t, map[string]any{"alg": "none", "typ": "JWT"}, claims, nil),
			"alg None":                       forge(t, map[string]any{"alg": "None"}, claims, nil),
			"alg none with a signature":      forge(t, map[string]any{"alg": "none"}, claims, nil) + "c2ln",
			"HS256 with an empty key":        forge(t, hs256, claims, []byte{}),
			"HS256 with key \"secret\"":      forge(t, hs256, claims, []byte("secret")),
			"HS256 with SECRET_KEY raw":      forge(t, hs256, claims, []byte(e2eSecretKey)),
			"HS256 with another SECRET_KEY":  forge(t, hs256, claims, hs256Key(t, "another-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")),
			"HS512 with the right key":       forge(t, map[string]any{"alg": "HS512", "typ": "JWT"}, claims, key),
			"alg swapped to RS256":           swapAlg(t, access, "RS256"),
			"alg swapped to EdDSA":           swapAlg(t, access, "EdDSA"),
			"alg swapped to ES256":           swapAlg(t, access, "ES256"),
			"refresh token as access":        refreshTok,
			"expired":                        forge(t, hs256, withClaims(claims, map[string]any{"iat": now - 3600, "exp": now - 60}), key),
			"not yet valid (nbf)":            forge(t, hs256, withClaims(claims, map[string]any{"nbf": now + 600}), key),
			"issued in the future":           forge(t, hs256, withClaims(claims, map[string]any{"iat": now + 600, "exp": now + 1200}), key),
			"wrong issuer":                   forge(t, hs256, withClaims(claims, map[string]any{"iss": "https://evil.example"}), key),
			"no issuer":                      forge(t, hs256, withClaims(claims, map[string]any{"iss": nil}), key),
			"no exp":                         forge(t, hs256, withClaims(claims, map[string]any{"exp": nil}), key),
			"no sid":                         forge(t, hs256, withClaims(claims, map[string]any{"sid": nil}), key),
			"no ver":                         forge(t, hs256, withClaims(claims, map[string]any{"ver": nil}), key),
			"stale ver":                      forge(t, hs256, withClaims(claims, map[string]any{"ver": -1}), key),
			"future ver":                     forge(t, hs256, withClaims(claims, map[string]any{"ver": 1 << 40}), key),
			"unknown token_type":             forge(t, hs256, withClaims(claims, map[string]any{"token_type": "admin"}), key),
			"unknown user":                   forge(t, hs256, withClaims(claims, map[string]any{"user_id": "01890000-0000-7000-8000-000000000000"}), key),
			"unknown session":                forge(t, hs256, withClaims(claims, map[string]any{"sid": "01890000-0000-7000-8000-000000000000"}), key),
			"user_id of the wrong type":      forge(t, hs256, withClaims(claims, map[string]any{"user_id": 42}), key),
			"truncated":                      access[:len(access)-5],
			"signature stripped":             access[:strings.LastIndexByte(access, '.')+1],
			"two segments":                   access[:strings.LastIndexByte(access, '.')],
			"garbage":                        "garbage",
			"dots":                           "...",
			"bad base64":                     "!!!.@@@.###",
			"oversized":                      strings.Repeat("A", 9000) + "." + strings.Repeat("B", 9000) + ".C",
			"JSON payload that is an array":  base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256"}`)) + "." + base64.RawURLEncoding.EncodeToString([]byte(`[1,2]`)) + ".x",
			"header that is not JSON":        base64.RawURLEncoding.EncodeToString([]byte(`not json`)) + "." + strings.Split(access, ".")[1] + "." + strings.Split(access, ".")[2],
			"access token with trailing dot": access + ".",
		}
		for name, tok := range bearer {
			r := meStatus(c, tok)
			if r.Status == http.StatusInternalServerError {
				t.Errorf("%s: 500 %s", name, r.Body)
				continue
			}
			wantTokenNotValidOn(t, r, "GET /me with "+name)
			// The verify endpoint judges the same tokens the same way.
			r = c.do("POST", "/api/token/verify/", map[string]string{"token": tok})
			if name != "refresh token as access" {
				wantTokenNotValidOn(t, r, "verify "+name)
			}
		}

		// Token types are not interchangeable at the refresh endpoints, and
		// forged refresh tokens are refused like forged access tokens.
		rclaims := payloadOf(t, refreshTok)
		for name, tok := range map[string]string{
			"access token":       access,
			"alg none refresh":   forge(t, map[string]any{"alg": "none"}, rclaims, nil),
			"refresh, wrong key": forge(t, hs256, rclaims, []byte("secret")),
			"refresh, wrong iss": forge(t, hs256, withClaims(rclaims, map[string]any{"iss": "evil"}), key),
			"refresh, expired":   forge(t, hs256, withClaims(rclaims, map[string]any{"iat": now - 3600, "exp": now - 60}), key),
			"refresh, alg RS256": swapAlg(t, refreshTok, "RS256"),
			"garbage":            "garbage",
		} {
			wantTokenNotValidOn(t, refresh(c, tok), "refresh with "+name)
			wantTokenNotValidOn(t, c.do("POST", "/api/token/blacklist/", map[string]string{"refresh": tok}), "blacklist with "+name)
		}
		// None of the above consumed or revoked the genuine tokens: a
		// forged token must never be able to trigger reuse detection.
		want(t, meStatus(c, access), http.StatusOK, "genuine access token after the attacks")
		want(t, refresh(c, refreshTok), http.StatusOK, "genuine refresh token after the attacks")

		// Other schemes are not Blip's: the caller is anonymous.
		for name, h := range map[string]string{
			"Basic":            "Basic " + base64.StdEncoding.EncodeToString([]byte(email+":"+password)),
			"Token":            "Token " + access,
			"JWT":              "JWT " + access,
			"Bearer, no token": "Bearer ",
			"bare token":       access,
		} {
			r := c.as("").do("GET", "/api/v1/me", nil, "Authorization", h)
			wantProblem(t, r, http.StatusUnauthorized, "not_authenticated", "Authorization: "+name)
		}
	})
}

// wantTokenNotValidOn is wantTokenNotValid that also names a 500 as such.
func wantTokenNotValidOn(t *testing.T, r response, what string) {
	t.Helper()
	if r.Status >= 500 {
		t.Errorf("%s: server error %d: %s", what, r.Status, r.Body)
		return
	}
	if r.Status != http.StatusUnauthorized || r.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("%s: status %d, want 401 problem: %s", what, r.Status, r.Body)
		return
	}
	m := r.JSON(t)
	if m["code"] != "token_not_valid" || m["detail"] != tokenNotValidDetail {
		t.Errorf("%s: %s, want token_not_valid with SimpleJWT's detail", what, r.Body)
	}
}
