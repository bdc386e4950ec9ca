package auth

// Hooks for the auth_test package.
var (
	DecodeHash = decodeHash
	QuickRatio = quickRatio
)
