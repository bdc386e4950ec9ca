package auth

import (
	"cmp"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/blipsocial/blip/internal/blip"
)

// Defaults for zero TokenConfig fields.
const (
	DefaultIssuer          = "blip"
	DefaultAccessLifetime  = 10 * time.Minute
	DefaultRefreshLifetime = 7 * 24 * time.Hour
	DefaultLeeway          = 5 * time.Second
	maxLeeway              = time.Minute
)

// hs256Label separates the JWT key from every other key derived from
// SECRET_KEY (cursor signing, cookies): HKDF-SHA256(SECRET_KEY, info=label).
const hs256Label = "blip jwt hs256"

// maxTokenBytes bounds what Parse looks at; real tokens are far shorter.
const maxTokenBytes = 8 << 10

// tokenNotValidMessage is SimpleJWT's detail for every token failure.
const tokenNotValidMessage = "Token is invalid or expired"

// TokenConfig configures Tokens. A zero Issuer, AccessLifetime,
// RefreshLifetime or Leeway takes DefaultIssuer, DefaultAccessLifetime,
// DefaultRefreshLifetime or DefaultLeeway.
type TokenConfig struct {
	// Algorithm is HS256, EdDSA or RS256. Empty means EdDSA or RS256 when
	// SigningKeyPEM holds an Ed25519 or RSA key, HS256 otherwise.
	Algorithm string
	// Secret keys HS256 (SECRET_KEY); it must not be empty. The HMAC key is
	// derived from it with HKDF-SHA256 and the label "blip jwt hs256".
	// With HS256 the two PEM fields below are ignored.
	Secret []byte
	// SigningKeyPEM is the private key of EdDSA or RS256: PKCS #8, or
	// PKCS #1 for RSA. It may be written on one line with literal \n.
	SigningKeyPEM []byte
	// VerifyingKeysPEM holds zero or more public keys (PKIX or PKCS #1) that
	// verify tokens besides the signing key's: the keys being rotated out.
	VerifyingKeysPEM []byte
	Issuer           string
	AccessLifetime   time.Duration
	RefreshLifetime  time.Duration
	// Leeway tolerates clock skew between replicas on exp, nbf and iat.
	Leeway time.Duration
	// Now is the clock (time.Now when nil); tests replace it.
	Now func() time.Time
}

// Tokens issues and verifies Blip's JWTs; it is the blip.TokenIssuer. It
// is safe for concurrent use.
type Tokens struct {
	alg     string
	method  jwt.SigningMethod
	signKey any    // []byte for HS256, else crypto.Signer
	kid     string // signing key's thumbprint; "" for HS256
	hmacKey []byte
	keys    map[string]publicKey // by kid; nil for HS256
	jwks    []byte

	issuer          string
	accessLifetime  time.Duration
	refreshLifetime time.Duration
	now             func() time.Time
	parser          *jwt.Parser
}

var _ blip.TokenIssuer = (*Tokens)(nil)

// NewTokens checks cfg and returns Tokens, or an error naming what is wrong
// with the configuration (never including key material).
func NewTokens(cfg TokenConfig) (*Tokens, error) {
	t := &Tokens{
		issuer:          cmp.Or(cfg.Issuer, DefaultIssuer),
		accessLifetime:  cmp.Or(cfg.AccessLifetime, DefaultAccessLifetime),
		refreshLifetime: cmp.Or(cfg.RefreshLifetime, DefaultRefreshLifetime),
		now:             cfg.Now,
	}
	if t.now == nil {
		t.now = time.Now
	}
	leeway := cmp.Or(cfg.Leeway, DefaultLeeway)
	switch {
	case t.accessLifetime < 0 || t.refreshLifetime < 0:
		return nil, errors.New("auth: token lifetimes must be positive")
	case leeway < 0 || leeway > maxLeeway:
		return nil, fmt.Errorf("auth: token leeway must be between 0 and %s", maxLeeway)
	}

	if err := t.configureKeys(cfg); err != nil {
		return nil, err
	}
	methods := []string{t.alg}
	for _, k := range t.keys {
		if !slices.Contains(methods, k.alg) {
			methods = append(methods, k.alg)
		}
	}
	t.parser = jwt.NewParser(
		jwt.WithValidMethods(methods),
		jwt.WithIssuer(t.issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(t.now),
		jwt.WithStrictDecoding(),
	)
	return t, nil
}

// configureKeys sets the algorithm, the signing key and the verification
// keys from cfg.
func (t *Tokens) configureKeys(cfg TokenConfig) error {
	alg := cfg.Algorithm
	for _, a := range []string{AlgHS256, AlgEdDSA, AlgRS256} {
		if strings.EqualFold(alg, a) {
			alg = a
		}
	}
	switch alg {
	case AlgHS256, AlgEdDSA, AlgRS256:
	case "":
		if len(cfg.SigningKeyPEM) == 0 {
			alg = AlgHS256
		}
	default:
		return fmt.Errorf("auth: unsupported JWT algorithm %q (want HS256, EdDSA or RS256)", cfg.Algorithm)
	}

	if alg == AlgHS256 {
		// Keys given with HS256 are ignored, as configuration documents
		// (config.Check warns auth.W001): the secret alone signs.
		if len(cfg.Secret) == 0 {
			return errors.New("auth: HS256 needs a non-empty secret")
		}
		key, err := hkdf.Key(sha256.New, cfg.Secret, nil, hs256Label, sha256.Size)
		if err != nil {
			return fmt.Errorf("auth: derive HS256 key: %w", err)
		}
		t.alg, t.method, t.hmacKey, t.signKey = alg, jwt.SigningMethodHS256, key, key
		return nil
	}

	if len(cfg.SigningKeyPEM) == 0 {
		return fmt.Errorf("auth: %s needs a signing key (PEM private key)", alg)
	}
	signer, err := parseSigningKey(cfg.SigningKeyPEM)
	if err != nil {
		return fmt.Errorf("auth: signing key: %w", err)
	}
	signing, err := newPublicKey(signer.Public())
	if err != nil {
		return fmt.Errorf("auth: signing key: %w", err)
	}
	if alg == "" {
		alg = signing.alg
	}
	if signing.alg != alg {
		return fmt.Errorf("auth: signing key is for %s, not %s", signing.alg, alg)
	}
	t.alg, t.signKey, t.kid = alg, signer, signing.kid
	t.method = jwt.GetSigningMethod(alg)

	extra, err := parseVerifyingKeys(cfg.VerifyingKeysPEM)
	if err != nil {
		return fmt.Errorf("auth: verifying keys: %w", err)
	}
	t.keys = map[string]publicKey{signing.kid: signing}
	set := []jwk{signing.jwk}
	for i, k := range extra {
		pk, err := newPublicKey(k)
		if err != nil {
			return fmt.Errorf("auth: verifying key %d: %w", i+1, err)
		}
		if _, dup := t.keys[pk.kid]; dup {
			continue
		}
		t.keys[pk.kid] = pk
		set = append(set, pk.jwk)
	}
	jwks, err := json.Marshal(struct {
		Keys []jwk `json:"keys"`
	}{set})
	if err != nil {
		return fmt.Errorf("auth: JWKS: %w", err)
	}
	t.jwks = jwks
	return nil
}

// Algorithm returns the algorithm new tokens are signed with.
func (t *Tokens) Algorithm() string { return t.alg }

// KeyID returns the kid of the signing key, "" for HS256.
func (t *Tokens) KeyID() string { return t.kid }

// AccessLifetime returns how long an access token lives.
func (t *Tokens) AccessLifetime() time.Duration { return t.accessLifetime }

// RefreshLifetime returns how long a refresh token lives (the refresh
// cookie's Max-Age and the session's expiry).
func (t *Tokens) RefreshLifetime() time.Duration { return t.refreshLifetime }

// JWKS returns the JSON Web Key Set of every key that verifies tokens,
// signing key first, and true; for HS256 it returns nil and false, since a
// shared secret is never published.
func (t *Tokens) JWKS() ([]byte, bool) {
	if t.jwks == nil {
		return nil, false
	}
	return t.jwks, true
}

// claims is the wire form of a token's payload: SimpleJWT's claim names
// plus iss, sid and ver.
type claims struct {
	TokenType string `json:"token_type"`
	jwt.RegisteredClaims
	UserID    string `json:"user_id"`
	SessionID string `json:"sid"`
	Version   *int64 `json:"ver"`
}

// IssueAccess returns a signed access token.
func (t *Tokens) IssueAccess(userID, sessionID string, version int64) (string, error) {
	token, _, err := t.issue(blip.AccessToken, userID, sessionID, version, t.accessLifetime)
	return token, err
}

// IssueRefresh returns a signed refresh token and its claims, whose JTI and
// ExpiresAt the session store records.
func (t *Tokens) IssueRefresh(userID, sessionID string, version int64) (string, blip.TokenClaims, error) {
	return t.issue(blip.RefreshToken, userID, sessionID, version, t.refreshLifetime)
}

func (t *Tokens) issue(typ blip.TokenType, userID, sessionID string, version int64, life time.Duration) (string, blip.TokenClaims, error) {
	if userID == "" || sessionID == "" {
		return "", blip.TokenClaims{}, errors.New("auth: issue token: empty user or session id")
	}
	now := t.now()
	c := claims{
		TokenType: string(typ),
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.issuer,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(life)),
			ID:        blip.NewID(),
		},
		UserID:    userID,
		SessionID: sessionID,
		Version:   &version,
	}
	tok := jwt.NewWithClaims(t.method, c)
	if t.kid != "" {
		tok.Header["kid"] = t.kid
	}
	signed, err := tok.SignedString(t.signKey)
	if err != nil {
		return "", blip.TokenClaims{}, fmt.Errorf("auth: sign %s token: %w", typ, err)
	}
	return signed, c.domain(), nil
}

func (c *claims) domain() blip.TokenClaims {
	return blip.TokenClaims{
		Type:      blip.TokenType(c.TokenType),
		UserID:    c.UserID,
		SessionID: c.SessionID,
		JTI:       c.ID,
		Version:   *c.Version,
		IssuedAt:  c.IssuedAt.Time,
		ExpiresAt: c.ExpiresAt.Time,
	}
}

// Parse verifies token and returns its claims when it is a token of type
// typ that passes every check: signature by a configured key with that
// key's algorithm (so alg none and algorithm confusion fail), the kid naming
// a known key for EdDSA and RS256, issuer, exp (required), nbf and iat
// with leeway, and non-empty jti, user_id and sid. Every failure is a
// blip.CodeTokenNotValid error whose message is SimpleJWT's generic detail;
// its Error text adds the reason, for logs only.
func (t *Tokens) Parse(token string, typ blip.TokenType) (*blip.TokenClaims, error) {
	if typ != blip.AccessToken && typ != blip.RefreshToken {
		return nil, notValid(fmt.Errorf("unknown token type %q requested", typ))
	}
	return t.parse(token, typ)
}

// ParseAny is Parse accepting either token type, for POST /api/token/verify/
// which, like SimpleJWT's, checks any token.
func (t *Tokens) ParseAny(token string) (*blip.TokenClaims, error) {
	return t.parse(token, "")
}

func (t *Tokens) parse(token string, typ blip.TokenType) (*blip.TokenClaims, error) {
	if len(token) > maxTokenBytes {
		return nil, notValid(errors.New("token too long"))
	}
	var c claims
	if _, err := t.parser.ParseWithClaims(token, &c, t.key); err != nil {
		return nil, notValid(err)
	}
	switch {
	case c.TokenType != string(blip.AccessToken) && c.TokenType != string(blip.RefreshToken):
		return nil, notValid(fmt.Errorf("unknown token_type %q", c.TokenType))
	case typ != "" && c.TokenType != string(typ):
		return nil, notValid(fmt.Errorf("token_type %q, want %q", c.TokenType, typ))
	case c.IssuedAt == nil:
		return nil, notValid(errors.New("missing iat"))
	case c.ID == "" || c.UserID == "" || c.SessionID == "" || c.Version == nil:
		return nil, notValid(errors.New("missing jti, user_id, sid or ver"))
	}
	out := c.domain()
	return &out, nil
}

// key is the jwt.Keyfunc: it picks the verification key and refuses any
// pairing of algorithm and key other than the configured ones.
func (t *Tokens) key(tok *jwt.Token) (any, error) {
	alg := tok.Method.Alg()
	if t.hmacKey != nil {
		if alg != AlgHS256 {
			return nil, fmt.Errorf("algorithm %q not configured", alg)
		}
		return t.hmacKey, nil
	}
	kid, _ := tok.Header["kid"].(string)
	k, ok := t.keys[kid]
	if !ok {
		return nil, errors.New("unknown kid")
	}
	if k.alg != alg {
		return nil, fmt.Errorf("kid is a %s key, token says %q", k.alg, alg)
	}
	return k.key, nil
}

// notValid wraps reason under the one error clients see.
func notValid(reason error) error {
	return fmt.Errorf("%w: %w", blip.Errorf(blip.CodeTokenNotValid, tokenNotValidMessage), reason)
}
