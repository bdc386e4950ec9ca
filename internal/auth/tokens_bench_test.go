package auth_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"testing"

	"github.com/blipsocial/blip/internal/auth"
	"github.com/blipsocial/blip/internal/blip"
)

// benchTokenConfigs are the algorithms a deployment can choose: HS256 (the
// default, keyed from SECRET_KEY) and EdDSA (asymmetric, with JWKS).
func benchTokenConfigs(b *testing.B) map[string]auth.TokenConfig {
	b.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		b.Fatal(err)
	}
	return map[string]auth.TokenConfig{
		"HS256": {Secret: []byte("benchmark-secret-0123456789abcdefghijklmnop")},
		"EdDSA": {Algorithm: "EdDSA", SigningKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})},
	}
}

// BenchmarkTokensIssueAccess measures signing one access token, which
// every login and refresh does.
func BenchmarkTokensIssueAccess(b *testing.B) {
	for _, alg := range []string{"HS256", "EdDSA"} {
		b.Run(alg, func(b *testing.B) {
			tokens, err := auth.NewTokens(benchTokenConfigs(b)[alg])
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tokens.IssueAccess("01890a5d-ac96-774b-bcce-b302099a8057", "01890a5d-ac96-774b-bcce-b302099a8058", 3); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTokensParseAccess measures verifying one access token (signature,
// claims, type), which every authenticated request does.
func BenchmarkTokensParseAccess(b *testing.B) {
	for _, alg := range []string{"HS256", "EdDSA"} {
		b.Run(alg, func(b *testing.B) {
			tokens, err := auth.NewTokens(benchTokenConfigs(b)[alg])
			if err != nil {
				b.Fatal(err)
			}
			tok, err := tokens.IssueAccess("01890a5d-ac96-774b-bcce-b302099a8057", "01890a5d-ac96-774b-bcce-b302099a8058", 3)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tokens.Parse(tok, blip.AccessToken); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
