package blip

import "time"

// TokenType distinguishes access from refresh tokens (SimpleJWT's token_type).
type TokenType string

// Token types.
const (
	AccessToken  TokenType = "access"
	RefreshToken TokenType = "refresh"
)

// TokenClaims are the claims Blip reads from a verified token.
type TokenClaims struct {
	Type      TokenType
	UserID    string
	SessionID string
	JTI       string
	// Version is the user's TokenVersion when the token was issued.
	Version   int64
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// TokenIssuer signs and verifies tokens. Parse accepts only tokens of the
// given type that pass every check and otherwise returns CodeTokenNotValid.
type TokenIssuer interface {
	IssueAccess(userID, sessionID string, version int64) (string, error)
	IssueRefresh(userID, sessionID string, version int64) (token string, claims TokenClaims, err error)
	Parse(token string, typ TokenType) (*TokenClaims, error)
	RefreshLifetime() time.Duration
}

// PasswordHasher hashes and verifies passwords. VerifyDummy spends the time
// of a real verification and returns the error a real one would (such as
// CodeUnavailable from an overloaded hasher), so that an unknown email
// cannot be told apart from a wrong password by timing or by answer.
type PasswordHasher interface {
	Hash(password string) (string, error)
	Verify(password, encoded string) (ok, needsRehash bool, err error)
	VerifyDummy(password string) error
	// Saturated reports whether a verification started now would be
	// refused for overload, so that a login flood is turned away before
	// any per-account work.
	Saturated() bool
}

// PasswordPolicy returns the reasons a new password is unacceptable for the
// given account, or none.
type PasswordPolicy interface {
	Check(password, email, username string) []string
}
