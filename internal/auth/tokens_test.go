package auth_test

import (
	"crypto"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/blipsocial/blip/internal/auth"
	"github.com/blipsocial/blip/internal/blip"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const testSecret = "0123456789abcdef0123456789abcdef-not-a-real-secret"

// keyPair is a generated asymmetric key in the forms tests need.
type keyPair struct {
	priv    crypto.Signer
	privPEM []byte // PKCS #8
	pubPEM  []byte // PKIX
}

func newKeyPair(t testing.TB, alg string) keyPair {
	t.Helper()
	var priv crypto.Signer
	switch alg {
	case auth.AlgEdDSA:
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		priv = k
	case auth.AlgRS256:
		priv = testRSAKey(t)
	default:
		t.Fatalf("no key pair for %s", alg)
	}
	return pemPair(t, priv)
}

// testRSAKey generates a fresh 2048-bit key (the minimum Tokens accepts).
func testRSAKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func pemPair(t testing.TB, priv crypto.Signer) keyPair {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	return keyPair{
		priv:    priv,
		privPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		pubPEM:  pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}),
	}
}

// clock is a settable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

// fixture is a configured Tokens with what tests need to forge tokens.
type fixture struct {
	tokens  *auth.Tokens
	clock   *clock
	alg     string
	signKey any // what jwt's SignedString needs for alg
	kid     string
	pubPEM  []byte
}

func newFixture(t testing.TB, alg string) fixture {
	t.Helper()
	f := fixture{clock: &clock{now: t0}, alg: alg}
	cfg := auth.TokenConfig{Algorithm: alg, Secret: []byte(testSecret), Issuer: "blip-test", Now: f.clock.Now}
	if alg == auth.AlgHS256 {
		key, err := hkdf.Key(sha256.New, []byte(testSecret), nil, "blip jwt hs256", 32)
		if err != nil {
			t.Fatal(err)
		}
		f.signKey = key
	} else {
		kp := newKeyPair(t, alg)
		cfg.SigningKeyPEM, f.signKey, f.pubPEM = kp.privPEM, kp.priv, kp.pubPEM
	}
	tokens, err := auth.NewTokens(cfg)
	if err != nil {
		t.Fatalf("NewTokens(%s): %v", alg, err)
	}
	f.tokens, f.kid = tokens, tokens.KeyID()
	return f
}

// payload returns valid claims for f, as a map tests can alter.
func (f fixture) payload() jwt.MapClaims {
	now := f.clock.Now()
	return jwt.MapClaims{
		"token_type": "access",
		"exp":        now.Add(5 * time.Minute).Unix(),
		"iat":        now.Unix(),
		"jti":        "0195a8f0-0000-7000-8000-000000000001",
		"user_id":    "0195a8f0-0000-7000-8000-0000000000aa",
		"sid":        "0195a8f0-0000-7000-8000-0000000000bb",
		"ver":        3,
		"iss":        "blip-test",
	}
}

// sign signs claims as f's configured algorithm and key would, with kid.
func (f fixture) sign(t testing.TB, c jwt.MapClaims) string {
	t.Helper()
	return signWith(t, jwt.GetSigningMethod(f.alg), f.signKey, f.kid, c)
}

func signWith(t testing.TB, m jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

// raw builds a token from literal JSON header and payload and a signature.
func raw(header, payload string, sig []byte) string {
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(sig)
}

func wantNotValid(t *testing.T, err error) {
	t.Helper()
	if got := blip.ErrorCode(err); got != blip.CodeTokenNotValid {
		t.Fatalf("code = %q (err %v), want %q", got, err, blip.CodeTokenNotValid)
	}
	if got := blip.ErrorMessage(err); got != "Token is invalid or expired" {
		t.Errorf("message = %q, want SimpleJWT's generic detail", got)
	}
}

var algorithms = []string{auth.AlgHS256, auth.AlgEdDSA, auth.AlgRS256}

func TestTokens_RoundTrip(t *testing.T) {
	for _, alg := range algorithms {
		t.Run(alg, func(t *testing.T) {
			f := newFixture(t, alg)
			access, err := f.tokens.IssueAccess("user-1", "sess-1", 7)
			if err != nil {
				t.Fatalf("IssueAccess: %v", err)
			}
			refresh, rc, err := f.tokens.IssueRefresh("user-1", "sess-1", 7)
			if err != nil {
				t.Fatalf("IssueRefresh: %v", err)
			}
			if rc.Type != blip.RefreshToken || rc.JTI == "" || !rc.ExpiresAt.Equal(t0.Add(auth.DefaultRefreshLifetime)) {
				t.Errorf("refresh claims = %+v", rc)
			}

			got, err := f.tokens.Parse(access, blip.AccessToken)
			if err != nil {
				t.Fatalf("Parse(access): %v", err)
			}
			want := blip.TokenClaims{Type: blip.AccessToken, UserID: "user-1", SessionID: "sess-1", JTI: got.JTI,
				Version: 7, IssuedAt: t0, ExpiresAt: t0.Add(auth.DefaultAccessLifetime)}
			if got.JTI == "" || got.JTI == rc.JTI || !equalClaims(*got, want) {
				t.Errorf("access claims = %+v, want %+v", *got, want)
			}
			gotR, err := f.tokens.Parse(refresh, blip.RefreshToken)
			if err != nil {
				t.Fatalf("Parse(refresh): %v", err)
			}
			if !equalClaims(*gotR, rc) {
				t.Errorf("refresh claims = %+v, want %+v", *gotR, rc)
			}
			for _, tok := range []string{access, refresh} {
				if _, err := f.tokens.ParseAny(tok); err != nil {
					t.Errorf("ParseAny: %v", err)
				}
			}

			header, payload := decodeParts(t, access)
			for _, name := range []string{"token_type", "exp", "iat", "jti", "user_id", "iss", "sid", "ver"} {
				if _, ok := payload[name]; !ok {
					t.Errorf("payload lacks %q: %v", name, payload)
				}
			}
			if header["alg"] != alg {
				t.Errorf("alg header = %v, want %s", header["alg"], alg)
			}
			jwks, ok := f.tokens.JWKS()
			if alg == auth.AlgHS256 {
				if _, has := header["kid"]; has || ok || jwks != nil || f.tokens.KeyID() != "" {
					t.Errorf("HS256: kid header %v, JWKS %s, %v", header["kid"], jwks, ok)
				}
				return
			}
			if header["kid"] != f.tokens.KeyID() || f.tokens.KeyID() == "" {
				t.Errorf("kid header = %v, want %q", header["kid"], f.tokens.KeyID())
			}
			set := decodeJWKS(t, jwks, ok)
			if len(set) != 1 || set[0]["kid"] != f.tokens.KeyID() || set[0]["alg"] != alg || set[0]["use"] != "sig" {
				t.Errorf("JWKS = %s", jwks)
			}
			if _, has := set[0]["d"]; has {
				t.Error("JWKS leaks the private key")
			}
		})
	}
}

func equalClaims(a, b blip.TokenClaims) bool {
	return a.Type == b.Type && a.UserID == b.UserID && a.SessionID == b.SessionID && a.JTI == b.JTI &&
		a.Version == b.Version && a.IssuedAt.Equal(b.IssuedAt) && a.ExpiresAt.Equal(b.ExpiresAt)
}

func decodeParts(t *testing.T, token string) (header, payload map[string]any) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	for i, dst := range []*map[string]any{&header, &payload} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			t.Fatal(err)
		}
	}
	return header, payload
}

func decodeJWKS(t *testing.T, data []byte, ok bool) []map[string]any {
	t.Helper()
	if !ok {
		t.Fatal("JWKS not available")
	}
	var set struct{ Keys []map[string]any }
	if err := json.Unmarshal(data, &set); err != nil {
		t.Fatalf("JWKS %s: %v", data, err)
	}
	return set.Keys
}

// TestTokens_Thumbprint checks the kid against RFC 8037's Ed25519 example
// (appendix A), whose RFC 7638 thumbprint the RFC gives.
func TestTokens_Thumbprint(t *testing.T) {
	seed, err := base64.RawURLEncoding.DecodeString("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
	if err != nil {
		t.Fatal(err)
	}
	kp := pemPair(t, ed25519.NewKeyFromSeed(seed))
	tokens, err := auth.NewTokens(auth.TokenConfig{SigningKeyPEM: kp.privPEM})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tokens.Algorithm(), auth.AlgEdDSA; got != want {
		t.Errorf("inferred algorithm = %s, want %s", got, want)
	}
	if got, want := tokens.KeyID(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"; got != want {
		t.Errorf("kid = %s, want %s", got, want)
	}
	jwks, ok := tokens.JWKS()
	set := decodeJWKS(t, jwks, ok)
	if len(set) != 1 || set[0]["x"] != "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo" || set[0]["kty"] != "OKP" || set[0]["crv"] != "Ed25519" {
		t.Errorf("JWKS = %s", jwks)
	}
}

func TestTokens_Rotation(t *testing.T) {
	tests := []struct{ name, oldAlg, newAlg string }{
		{"EdDSA to EdDSA", auth.AlgEdDSA, auth.AlgEdDSA},
		{"RS256 to RS256", auth.AlgRS256, auth.AlgRS256},
		{"RS256 to EdDSA", auth.AlgRS256, auth.AlgEdDSA},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oldKey, newKey := newKeyPair(t, tt.oldAlg), newKeyPair(t, tt.newAlg)
			old, err := auth.NewTokens(auth.TokenConfig{Algorithm: tt.oldAlg, SigningKeyPEM: oldKey.privPEM})
			if err != nil {
				t.Fatal(err)
			}
			oldToken, err := old.IssueAccess("u", "s", 0)
			if err != nil {
				t.Fatal(err)
			}
			// The new signing key plus the old public key, and the new
			// public key listed too (harmless duplicates are skipped).
			verifying := append(append([]byte{}, oldKey.pubPEM...), newKey.pubPEM...)
			rotated, err := auth.NewTokens(auth.TokenConfig{Algorithm: tt.newAlg, SigningKeyPEM: newKey.privPEM, VerifyingKeysPEM: verifying})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := rotated.Parse(oldToken, blip.AccessToken); err != nil {
				t.Errorf("old token under rotation: %v", err)
			}
			newToken, err := rotated.IssueAccess("u", "s", 0)
			if err != nil {
				t.Fatal(err)
			}
			header, _ := decodeParts(t, newToken)
			if header["kid"] != rotated.KeyID() || rotated.KeyID() == old.KeyID() || header["alg"] != tt.newAlg {
				t.Errorf("new token header = %v, want kid %s", header, rotated.KeyID())
			}
			if _, err := old.Parse(newToken, blip.AccessToken); err == nil {
				t.Error("old configuration accepts a token from the new key")
			}
			jwks, ok := rotated.JWKS()
			set := decodeJWKS(t, jwks, ok)
			if len(set) != 2 || set[0]["kid"] != rotated.KeyID() || set[1]["kid"] != old.KeyID() {
				t.Errorf("JWKS = %s", jwks)
			}

			// Once the old key is dropped, its tokens fail.
			done, err := auth.NewTokens(auth.TokenConfig{Algorithm: tt.newAlg, SigningKeyPEM: newKey.privPEM})
			if err != nil {
				t.Fatal(err)
			}
			_, err = done.Parse(oldToken, blip.AccessToken)
			wantNotValid(t, err)
		})
	}
}

func TestTokens_Attacks(t *testing.T) {
	type attack struct {
		name  string
		typ   blip.TokenType
		token func(t *testing.T, f fixture) string
		algs  []string // nil: every algorithm
	}
	asym := []string{auth.AlgEdDSA, auth.AlgRS256}
	without := func(claim string) func(*testing.T, fixture) string {
		return func(t *testing.T, f fixture) string {
			c := f.payload()
			delete(c, claim)
			return f.sign(t, c)
		}
	}
	with := func(claim string, v any) func(*testing.T, fixture) string {
		return func(t *testing.T, f fixture) string {
			c := f.payload()
			c[claim] = v
			return f.sign(t, c)
		}
	}
	attacks := []attack{
		{name: "alg none", token: func(t *testing.T, f fixture) string {
			p, _ := json.Marshal(f.payload())
			return raw(`{"alg":"none","typ":"JWT"}`, string(p), nil)
		}},
		{name: "alg none via library", token: func(t *testing.T, f fixture) string {
			return signWith(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, f.kid, f.payload())
		}},
		{name: "alg NONE with signature", token: func(t *testing.T, f fixture) string {
			p, _ := json.Marshal(f.payload())
			return raw(`{"alg":"NONE","kid":"`+f.kid+`"}`, string(p), []byte("sig"))
		}},
		{name: "HS256 with empty key", token: func(t *testing.T, f fixture) string {
			return signWith(t, jwt.SigningMethodHS256, []byte{}, f.kid, f.payload())
		}},
		{name: "HS256 with secret", token: func(t *testing.T, f fixture) string {
			return signWith(t, jwt.SigningMethodHS256, []byte("secret"), f.kid, f.payload())
		}},
		{name: "HS256 with raw SECRET_KEY", token: func(t *testing.T, f fixture) string {
			return signWith(t, jwt.SigningMethodHS256, []byte(testSecret), "", f.payload())
		}, algs: []string{auth.AlgHS256}},
		{name: "HS384 with derived key", token: func(t *testing.T, f fixture) string {
			return signWith(t, jwt.SigningMethodHS384, f.signKey, "", f.payload())
		}, algs: []string{auth.AlgHS256}},
		{name: "algorithm confusion: HS256 keyed with public PEM", token: func(t *testing.T, f fixture) string {
			return signWith(t, jwt.SigningMethodHS256, f.pubPEM, f.kid, f.payload())
		}, algs: asym},
		{name: "algorithm confusion: HS256 keyed with public DER", token: func(t *testing.T, f fixture) string {
			block, _ := pem.Decode(f.pubPEM)
			return signWith(t, jwt.SigningMethodHS256, block.Bytes, f.kid, f.payload())
		}, algs: asym},
		{name: "alg header swapped EdDSA to RS256", token: func(t *testing.T, f fixture) string {
			tok := f.sign(t, f.payload())
			parts := strings.Split(tok, ".")
			h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"` + f.kid + `","typ":"JWT"}`))
			return h + "." + parts[1] + "." + parts[2]
		}, algs: []string{auth.AlgEdDSA}},
		{name: "refresh used as access", typ: blip.AccessToken, token: func(t *testing.T, f fixture) string {
			tok, _, err := f.tokens.IssueRefresh("u", "s", 1)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}},
		{name: "access used as refresh", typ: blip.RefreshToken, token: func(t *testing.T, f fixture) string {
			tok, err := f.tokens.IssueAccess("u", "s", 1)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}},
		{name: "unknown token_type", token: with("token_type", "id")},
		{name: "expired", token: with("exp", t0.Add(-6*time.Second).Unix())},
		{name: "expired long ago", token: with("exp", t0.Add(-24*time.Hour).Unix())},
		{name: "not yet valid", token: with("nbf", t0.Add(6*time.Second).Unix())},
		{name: "issued in the future", token: with("iat", t0.Add(time.Minute).Unix())},
		{name: "wrong issuer", token: with("iss", "someone-else")},
		{name: "issuer as array", token: with("iss", []string{"blip-test"})},
		{name: "missing exp", token: without("exp")},
		{name: "missing iat", token: without("iat")},
		{name: "missing jti", token: without("jti")},
		{name: "missing user_id", token: without("user_id")},
		{name: "missing sid", token: without("sid")},
		{name: "missing ver", token: without("ver")},
		{name: "missing iss", token: without("iss")},
		{name: "missing token_type", token: without("token_type")},
		{name: "empty user_id", token: with("user_id", "")},
		{name: "exp as string", token: with("exp", "tomorrow")},
		{name: "ver as string", token: with("ver", "3")},
		{name: "truncated signature", token: func(t *testing.T, f fixture) string {
			tok := f.sign(t, f.payload())
			return tok[:len(tok)-2]
		}},
		{name: "signature removed", token: func(t *testing.T, f fixture) string {
			tok := f.sign(t, f.payload())
			return tok[:strings.LastIndex(tok, ".")+1]
		}},
		{name: "two segments", token: func(t *testing.T, f fixture) string {
			tok := f.sign(t, f.payload())
			return tok[:strings.LastIndex(tok, ".")]
		}},
		{name: "garbage", token: func(*testing.T, fixture) string { return "this is not a token" }},
		{name: "empty", token: func(*testing.T, fixture) string { return "" }},
		{name: "dots", token: func(*testing.T, fixture) string { return ".." }},
		{name: "oversized", token: func(t *testing.T, f fixture) string {
			return with("pad", strings.Repeat("x", 9000))(t, f)
		}},
		{name: "unknown kid", token: func(t *testing.T, f fixture) string {
			return signWith(t, jwt.GetSigningMethod(f.alg), f.signKey, "not-a-kid", f.payload())
		}, algs: asym},
		{name: "missing kid", token: func(t *testing.T, f fixture) string {
			return signWith(t, jwt.GetSigningMethod(f.alg), f.signKey, "", f.payload())
		}, algs: asym},
		{name: "foreign key with its own kid", token: func(t *testing.T, f fixture) string {
			other := newFixture(t, f.alg)
			return other.sign(t, f.payload())
		}, algs: asym},
		{name: "foreign key claiming our kid", token: func(t *testing.T, f fixture) string {
			other := newFixture(t, f.alg)
			return signWith(t, jwt.GetSigningMethod(f.alg), other.signKey, f.kid, f.payload())
		}, algs: asym},
		{name: "tampered payload", token: func(t *testing.T, f fixture) string {
			tok := f.sign(t, f.payload())
			parts := strings.Split(tok, ".")
			c := f.payload()
			c["user_id"] = "0195a8f0-0000-7000-8000-0000000000ff"
			p, _ := json.Marshal(c)
			return parts[0] + "." + base64.RawURLEncoding.EncodeToString(p) + "." + parts[2]
		}},
		{name: "padded base64", token: func(t *testing.T, f fixture) string {
			tok := f.sign(t, f.payload())
			return tok + "=="
		}},
	}

	for _, alg := range algorithms {
		f := newFixture(t, alg)
		// A control: the unaltered payload is accepted, so each attack
		// below fails for its own reason.
		if _, err := f.tokens.Parse(f.sign(t, f.payload()), blip.AccessToken); err != nil {
			t.Fatalf("%s: control token rejected: %v", alg, err)
		}
		for _, a := range attacks {
			if a.algs != nil && !slices.Contains(a.algs, alg) {
				continue
			}
			t.Run(alg+"/"+a.name, func(t *testing.T) {
				typ := a.typ
				if typ == "" {
					typ = blip.AccessToken
				}
				claims, err := f.tokens.Parse(a.token(t, f), typ)
				if claims != nil {
					t.Errorf("claims = %+v, want nil", claims)
				}
				wantNotValid(t, err)
				t.Logf("rejected: %v", err) // the reason, for -v readers
			})
		}
	}
}

func TestTokens_Leeway(t *testing.T) {
	f := newFixture(t, auth.AlgEdDSA)
	tok, err := f.tokens.IssueAccess("u", "s", 0)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		at   time.Time
		ok   bool
	}{
		{"fresh", t0, true},
		{"at expiry", t0.Add(auth.DefaultAccessLifetime), true},
		{"within leeway after expiry", t0.Add(auth.DefaultAccessLifetime + 4*time.Second), true},
		{"past leeway", t0.Add(auth.DefaultAccessLifetime + 6*time.Second), false},
		{"clock behind within leeway", t0.Add(-4 * time.Second), true},
		{"clock behind past leeway", t0.Add(-6 * time.Second), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.clock.Set(tt.at)
			_, err := f.tokens.Parse(tok, blip.AccessToken)
			if tt.ok && err != nil {
				t.Errorf("Parse at %s: %v", tt.at, err)
			}
			if !tt.ok {
				wantNotValid(t, err)
			}
		})
	}
	f.clock.Set(t0)
	c := f.payload()
	c["nbf"] = t0.Add(4 * time.Second).Unix()
	if _, err := f.tokens.Parse(f.sign(t, c), blip.AccessToken); err != nil {
		t.Errorf("nbf within leeway: %v", err)
	}
}

// TestTokens_HS256Derivation pins the documented derivation: the HMAC key
// is HKDF-SHA256(SECRET_KEY, info "blip jwt hs256"), not SECRET_KEY.
func TestTokens_HS256Derivation(t *testing.T) {
	f := newFixture(t, auth.AlgHS256)
	key, err := hkdf.Key(sha256.New, []byte(testSecret), nil, "blip jwt hs256", 32)
	if err != nil {
		t.Fatal(err)
	}
	tok := signWith(t, jwt.SigningMethodHS256, key, "", f.payload())
	if _, err := f.tokens.Parse(tok, blip.AccessToken); err != nil {
		t.Errorf("token keyed with the documented derivation: %v", err)
	}
	other, err := auth.NewTokens(auth.TokenConfig{Secret: []byte(testSecret + "x"), Issuer: "blip-test", Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	_, err = other.Parse(tok, blip.AccessToken)
	wantNotValid(t, err)
}

func TestNewTokens_Config(t *testing.T) {
	ed, rs := newKeyPair(t, auth.AlgEdDSA), newKeyPair(t, auth.AlgRS256)
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weak := pemPair(t, rsa1024)
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rs.priv.(*rsa.PrivateKey))})
	pkcs1Pub := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(rs.priv.Public().(*rsa.PublicKey))})
	oneLine := []byte(strings.ReplaceAll(string(ed.privPEM), "\n", `\n`))

	tests := []struct {
		name    string
		cfg     auth.TokenConfig
		wantAlg string // "" means NewTokens must fail
	}{
		{"HS256 default", auth.TokenConfig{Secret: []byte("s")}, auth.AlgHS256},
		{"HS256 lower case", auth.TokenConfig{Algorithm: "hs256", Secret: []byte("s")}, auth.AlgHS256},
		{"HS256 empty secret", auth.TokenConfig{Algorithm: auth.AlgHS256}, ""},
		{"HS256 ignores keys", auth.TokenConfig{Algorithm: auth.AlgHS256, Secret: []byte("s"), SigningKeyPEM: ed.privPEM, VerifyingKeysPEM: ed.pubPEM}, auth.AlgHS256},
		{"HS256 ignores verifying keys", auth.TokenConfig{Secret: []byte("s"), VerifyingKeysPEM: []byte("junk")}, auth.AlgHS256},
		{"EdDSA inferred", auth.TokenConfig{SigningKeyPEM: ed.privPEM}, auth.AlgEdDSA},
		{"EdDSA one-line PEM", auth.TokenConfig{Algorithm: auth.AlgEdDSA, SigningKeyPEM: oneLine}, auth.AlgEdDSA},
		{"EdDSA without key", auth.TokenConfig{Algorithm: auth.AlgEdDSA, Secret: []byte("s")}, ""},
		{"EdDSA with RSA key", auth.TokenConfig{Algorithm: auth.AlgEdDSA, SigningKeyPEM: rs.privPEM}, ""},
		{"RS256 PKCS8", auth.TokenConfig{Algorithm: auth.AlgRS256, SigningKeyPEM: rs.privPEM}, auth.AlgRS256},
		{"RS256 PKCS1", auth.TokenConfig{Algorithm: auth.AlgRS256, SigningKeyPEM: pkcs1, VerifyingKeysPEM: pkcs1Pub}, auth.AlgRS256},
		{"RS256 1024-bit", auth.TokenConfig{Algorithm: auth.AlgRS256, SigningKeyPEM: weak.privPEM}, ""},
		{"RS256 weak verifying key", auth.TokenConfig{SigningKeyPEM: rs.privPEM, VerifyingKeysPEM: weak.pubPEM}, ""},
		{"public key as signing key", auth.TokenConfig{SigningKeyPEM: ed.pubPEM}, ""},
		{"private key as verifying key", auth.TokenConfig{SigningKeyPEM: ed.privPEM, VerifyingKeysPEM: rs.privPEM}, ""},
		{"two signing keys", auth.TokenConfig{SigningKeyPEM: append(append([]byte{}, ed.privPEM...), rs.privPEM...)}, ""},
		{"garbage signing key", auth.TokenConfig{SigningKeyPEM: []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")}, ""},
		{"garbage after verifying keys", auth.TokenConfig{SigningKeyPEM: ed.privPEM, VerifyingKeysPEM: append(append([]byte{}, rs.pubPEM...), "junk"...)}, ""},
		{"ES256", auth.TokenConfig{Algorithm: "ES256", Secret: []byte("s")}, ""},
		{"none", auth.TokenConfig{Algorithm: "none", Secret: []byte("s")}, ""},
		{"negative lifetime", auth.TokenConfig{Secret: []byte("s"), AccessLifetime: -time.Second}, ""},
		{"huge leeway", auth.TokenConfig{Secret: []byte("s"), Leeway: time.Hour}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tokens, err := auth.NewTokens(tt.cfg)
			if tt.wantAlg == "" {
				if err == nil {
					t.Fatalf("NewTokens succeeded, want an error")
				}
				if strings.Contains(err.Error(), "-----") || strings.Contains(err.Error(), "MII") || strings.Contains(err.Error(), "MC4C") {
					t.Errorf("error %q echoes key material", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewTokens: %v", err)
			}
			if tokens.Algorithm() != tt.wantAlg {
				t.Errorf("Algorithm = %s, want %s", tokens.Algorithm(), tt.wantAlg)
			}
			tok, err := tokens.IssueAccess("u", "s", 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tokens.Parse(tok, blip.AccessToken); err != nil {
				t.Errorf("round trip: %v", err)
			}
		})
	}
}

// FuzzParse: no input makes Parse panic, and every rejection is the one
// client-facing error.
func FuzzParse(f *testing.F) {
	fixtures := []fixture{newFixture(f, auth.AlgHS256), newFixture(f, auth.AlgEdDSA)}
	for _, fx := range fixtures {
		access, err := fx.tokens.IssueAccess("u", "s", 1)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(access)
		f.Add(fx.sign(f, fx.payload()))
	}
	for _, s := range []string{"", ".", "..", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOiJ4In0.x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, fx := range fixtures {
			for _, typ := range []blip.TokenType{blip.AccessToken, blip.RefreshToken, "", "other"} {
				claims, err := fx.tokens.Parse(s, typ)
				if err == nil {
					if claims == nil || claims.UserID == "" || claims.SessionID == "" || claims.JTI == "" {
						t.Fatalf("accepted %q with claims %+v", s, claims)
					}
					continue
				}
				if blip.ErrorCode(err) != blip.CodeTokenNotValid || blip.ErrorMessage(err) != "Token is invalid or expired" {
					t.Fatalf("Parse(%q) error %v has code %q", s, err, blip.ErrorCode(err))
				}
			}
			if _, err := fx.tokens.ParseAny(s); err != nil && blip.ErrorCode(err) != blip.CodeTokenNotValid {
				t.Fatalf("ParseAny(%q) error %v", s, err)
			}
		}
	})
}
