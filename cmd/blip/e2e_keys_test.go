package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestE2E_eddsaKeysAndJWKS runs the server with an Ed25519 signing key
// (read from a file, as JWT_SIGNING_KEY=file:… allows) and checks that
// tokens carry the kid that /.well-known/jwks.json publishes, that they
// authenticate, and that the HS256 default publishes no keys.
func TestE2E_eddsaKeysAndJWKS(t *testing.T) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "signing.pem")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	b := backend{env: map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "blip.db")}}
	s := startServer(t, b, map[string]string{"JWT_ALGORITHM": "EdDSA", "JWT_SIGNING_KEY": "file:" + keyFile})
	c := s.client()

	r := c.do("GET", "/.well-known/jwks.json", nil)
	want(t, r, 200, "jwks")
	var set struct {
		Keys []map[string]string `json:"keys"`
	}
	if err := json.Unmarshal(r.Body, &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("jwks body %s: %v", r.Body, err)
	}
	jwk := set.Keys[0]
	if jwk["kty"] != "OKP" || jwk["crv"] != "Ed25519" || jwk["kid"] == "" || jwk["d"] != "" {
		t.Fatalf("jwk %v: want a public OKP Ed25519 key with a kid", jwk)
	}

	_, email, password := newUser(t, c)
	access, _ := login(t, c, email, password)
	header, _, _ := strings.Cut(access, ".")
	raw, err := base64.RawURLEncoding.DecodeString(header)
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]string
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	if h["alg"] != "EdDSA" || h["kid"] != jwk["kid"] {
		t.Fatalf("token header %v, want alg EdDSA and kid %s", h, jwk["kid"])
	}
	c.token = access
	want(t, c.do("GET", "/api/v1/me", nil), 200, "me with an EdDSA token")

	hs := startServer(t, backend{env: map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "blip.db")}}, nil)
	wantProblem(t, hs.client().do("GET", "/.well-known/jwks.json", nil), 404, "not_found", "jwks with HS256")
}

// TestFlushExpired_command runs `blip flush-expired` on a database with a
// live session: nothing young is deleted, and the command reports counts.
func TestFlushExpired_command(t *testing.T) {
	dbURL := "sqlite:" + filepath.Join(t.TempDir(), "blip.db")
	s := startServer(t, backend{env: map[string]string{"DATABASE_URL": dbURL}}, nil)
	c := s.client()
	_, email, password := newUser(t, c)
	_, refresh := login(t, c, email, password)
	want(t, c.do("POST", "/api/token/blacklist/", map[string]string{"refresh": refresh}), 200, "logout")
	env := envOf(map[string]string{
		"APP_ENV": "test", "DATABASE_URL": dbURL, "BLIP_ENV_FILE": "/nonexistent/.env",
		"SECRET_KEY": "flush-test-secret-key-0123456789-abcdefghijklmnop",
	})
	var out strings.Builder
	if err := run(t.Context(), []string{"blip", "flush-expired"}, env, strings.NewReader(""), &out, io.Discard); err != nil {
		t.Fatalf("flush-expired: %v", err)
	}
	if !strings.Contains(out.String(), "deleted 0 sessions") {
		t.Errorf("flush-expired output %q: a session revoked just now must be kept for reuse detection", out.String())
	}
}
