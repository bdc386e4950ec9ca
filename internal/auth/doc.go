// Package auth holds Blip's credentials machinery, free of HTTP and SQL:
// Argon2id password hashing, Django's password rules, and JWT access and
// refresh tokens (HS256, EdDSA or RS256) with their JSON Web Key Set.
//
// The accounts service and the HTTP layer consume it; docs/auth-tokens.md
// describes the claims, the algorithms and key rotation.
package auth
