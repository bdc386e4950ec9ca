package auth

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
)

// JWT algorithm names, as they appear in the alg header.
const (
	AlgHS256 = "HS256"
	AlgEdDSA = "EdDSA"
	AlgRS256 = "RS256"
)

// minRSABits refuses RSA keys too short to be trusted.
const minRSABits = 2048

// publicKey is one key tokens may be verified with. Each key is bound to one
// algorithm, so a token can never pick how its key is used.
type publicKey struct {
	kid string
	alg string
	key crypto.PublicKey // ed25519.PublicKey or *rsa.PublicKey
	jwk jwk
}

// jwk is a public key as RFC 7517 writes it in a key set.
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv,omitempty"`
	X   string `json:"x,omitempty"`
	N   string `json:"n,omitempty"`
	E   string `json:"e,omitempty"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

var b64url = base64.RawURLEncoding

// newPublicKey describes key with its algorithm, JWK and RFC 7638 thumbprint.
func newPublicKey(key crypto.PublicKey) (publicKey, error) {
	var (
		pk    = publicKey{key: key}
		canon string // RFC 7638 canonical JSON: required members, sorted, no spaces
	)
	switch k := key.(type) {
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return publicKey{}, errors.New("ed25519 public key has the wrong size")
		}
		pk.alg = AlgEdDSA
		pk.jwk = jwk{Kty: "OKP", Crv: "Ed25519", X: b64url.EncodeToString(k)}
		canon = fmt.Sprintf(`{"crv":"Ed25519","kty":"OKP","x":"%s"}`, pk.jwk.X)
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return publicKey{}, fmt.Errorf("RSA key has %d bits, want at least %d", k.N.BitLen(), minRSABits)
		}
		pk.alg = AlgRS256
		pk.jwk = jwk{
			Kty: "RSA",
			N:   b64url.EncodeToString(k.N.Bytes()),
			E:   b64url.EncodeToString(big.NewInt(int64(k.E)).Bytes()),
		}
		canon = fmt.Sprintf(`{"e":"%s","kty":"RSA","n":"%s"}`, pk.jwk.E, pk.jwk.N)
	default:
		return publicKey{}, fmt.Errorf("unsupported public key type %T (want Ed25519 or RSA)", key)
	}
	sum := sha256.Sum256([]byte(canon))
	pk.kid = b64url.EncodeToString(sum[:])
	pk.jwk.Use, pk.jwk.Alg, pk.jwk.Kid = "sig", pk.alg, pk.kid
	return pk, nil
}

// unescapePEM turns a PEM written on one line with literal \n sequences, as
// .env files and container secrets often carry it, back into lines.
func unescapePEM(data []byte) []byte {
	if !bytes.Contains(data, []byte("\n")) && bytes.Contains(data, []byte(`\n`)) {
		return bytes.ReplaceAll(data, []byte(`\n`), []byte("\n"))
	}
	return data
}

// parseSigningKey reads exactly one PEM private key: PKCS #8 ("PRIVATE KEY")
// holding Ed25519 or RSA, or PKCS #1 ("RSA PRIVATE KEY").
func parseSigningKey(data []byte) (crypto.Signer, error) {
	block, rest := pem.Decode(unescapePEM(data))
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("more than one PEM block")
	}
	var (
		key any
		err error
	)
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not an unencrypted private key", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", block.Type, err)
	}
	switch k := key.(type) {
	case ed25519.PrivateKey:
		return k, nil
	case *rsa.PrivateKey:
		return k, nil
	default:
		return nil, fmt.Errorf("unsupported private key type %T (want Ed25519 or RSA)", key)
	}
}

// parseVerifyingKeys reads zero or more PEM public keys: PKIX ("PUBLIC
// KEY") holding Ed25519 or RSA, or PKCS #1 ("RSA PUBLIC KEY"). Private keys
// are refused: only the signing replica needs one.
func parseVerifyingKeys(data []byte) ([]crypto.PublicKey, error) {
	rest := unescapePEM(data)
	var keys []crypto.PublicKey
	for len(bytes.TrimSpace(rest)) > 0 {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, fmt.Errorf("key %d: not a PEM block", len(keys)+1)
		}
		var (
			key any
			err error
		)
		switch block.Type {
		case "PUBLIC KEY":
			key, err = x509.ParsePKIXPublicKey(block.Bytes)
		case "RSA PUBLIC KEY":
			key, err = x509.ParsePKCS1PublicKey(block.Bytes)
		default:
			return nil, fmt.Errorf("key %d: PEM block %q is not a public key", len(keys)+1, block.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("key %d: parse %s: %w", len(keys)+1, block.Type, err)
		}
		keys = append(keys, key)
	}
	return keys, nil
}
