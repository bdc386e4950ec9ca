package config_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"math/big"
	"strings"
	"testing"

	"github.com/blipsocial/blip/internal/config"
)

// secretKeyError returns the ID of the SECRET_KEY error StartupErrors
// reports for key in production, "" for none.
func secretKeyError(t *testing.T, key string) string {
	t.Helper()
	vars := goodProduction()
	vars["SECRET_KEY"] = key
	for _, p := range mustLoad(t, vars).StartupErrors() {
		if strings.Contains(p.Message, "SECRET_KEY") {
			if strings.Contains(p.Message, key) {
				t.Errorf("%s quotes the key: %q", p.ID, p.Message)
			}
			if !strings.Contains(p.Fix, "openssl rand -base64 48") {
				t.Errorf("%s fix %q does not say how to make a good key", p.ID, p.Fix)
			}
			return p.ID
		}
	}
	return ""
}

func TestStartupErrors_GuessableSecretKey(t *testing.T) {
	tests := []struct {
		name, key string
		want      string // "" means accepted
	}{
		// Long enough, ten or more distinct characters, no placeholder
		// word: only the entropy estimate stops these.
		{"digit sequence repeated", "0123456789012345678901234567890123", "security.E008"},
		{"alphabet run x4", strings.Repeat("abcdefghij", 4), "security.E008"},
		{"alphabet", "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", "security.E008"},
		{"descending", "zyxwvutsrqponmlkjihgfedcba9876543210", "security.E008"},
		{"step two", "acegikmoqsuwy02468bdfhjlnprtvxz13579", "security.E008"},
		{"keyboard rows", "qwertyuiopasdfghjklzxcvbnm1234567890", "security.E008"},
		{"keyboard columns", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p", "security.E008"},
		{"short pattern repeated", strings.Repeat("Ab1!xY#9qZ", 4), "security.E008"},
		{"random-looking chunk repeated", strings.Repeat("q3N8v0Zr7xJm", 4), "security.E008"},
		{"runs", "aaaaabbbbbcccccdddddeeeeefffffggggghhhhhiiiiijjjjj12", "security.E008"},
		{"hex of 16 bytes", "000102030405060708090a0b0c0d0e0f", "security.E008"},
		// The older rules still answer first.
		{"low diversity", strings.Repeat("ab", 20), "security.E004"},
		{"short", "Zr7xJmL2pT9wYcB6eH1k", "security.E002"},
		{"placeholder", "django-insecure-q3N8v0Zr7xJmL2pT9wYcB6eH1kD4sF5g", "security.E003"},
		// Generator output.
		{"openssl rand -base64 48", "3yuB0lLxkLk8lQ+vC4H2e0F6mJ2sP9qZk1TqV7wR5nX8yA3bD6cE9fG2hJ4kL7mN", ""},
		{"openssl rand -hex 32", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", ""},
		{"base64url of 32 bytes", "q3N8v0Zr7xJmL2pT9wYcB6eH1kD4sF5gA8uV0iO3nE7", ""},
		{"django get_random_secret_key", "k#8v!u2(zq-p0m@x7^r+w$3e&y_n5t*b=s1c)a9d6f4g%h0j", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := secretKeyError(t, tt.key); got != tt.want {
				t.Errorf("SECRET_KEY %q: error %q, want %q (estimate %.0f bits)",
					tt.key, got, tt.want, config.KeyEntropyBits(tt.key))
			}
		})
	}
}

// TestKeyEntropyBits_Generators: keys made the ways the documentation and
// .env.example suggest always pass, with room to spare (the lowest estimate
// over many draws is logged), so the check never refuses a real key.
func TestKeyEntropyBits_Generators(t *testing.T) {
	randBytes := func(n int) []byte {
		b := make([]byte, n)
		_, _ = rand.Read(b)
		return b
	}
	generators := []struct {
		name string
		gen  func() string
	}{
		{"openssl rand -base64 48", func() string { return base64.StdEncoding.EncodeToString(randBytes(48)) }},
		{"openssl rand -base64 32", func() string { return base64.StdEncoding.EncodeToString(randBytes(32)) }},
		{"openssl rand -hex 32", func() string { return hex.EncodeToString(randBytes(32)) }},
		{"secrets.token_urlsafe(32), Blip's own development key", func() string { return base64.RawURLEncoding.EncodeToString(randBytes(32)) }},
		{"django get_random_secret_key", func() string {
			const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789!@#$%^&*(-_=+)"
			var b strings.Builder
			for range 50 {
				n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
				b.WriteByte(alphabet[n.Int64()])
			}
			return b.String()
		}},
	}
	const draws = 2000
	for _, g := range generators {
		t.Run(g.name, func(t *testing.T) {
			lowest := 1e9
			for range draws {
				key := g.gen()
				bits := config.KeyEntropyBits(key)
				lowest = min(lowest, bits)
				if bits < 150 {
					t.Fatalf("%q: estimate %.0f bits, want a margin over 128", key, bits)
				}
			}
			if id := secretKeyError(t, g.gen()); id != "" {
				t.Errorf("a generated key is refused with %s", id)
			}
			t.Logf("lowest estimate over %d draws: %.0f bits", draws, lowest)
		})
	}
}

func TestKeyEntropyBits_Bounds(t *testing.T) {
	if got := config.KeyEntropyBits(""); got != 0 {
		t.Errorf("empty key: %v bits, want 0", got)
	}
	// Hex text is credited 4 bits a character at most, base64 6.
	hexKey := hex.EncodeToString(make([]byte, 32))
	if got := config.KeyEntropyBits(hexKey); got > 4*64 {
		t.Errorf("hex key credited %.0f bits, more than it can hold", got)
	}
	if got := config.KeyEntropyBits("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"); got > 4*64 {
		t.Errorf("hex key credited %.0f bits, more than 256", got)
	}
}
