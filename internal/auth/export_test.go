package auth

// Hooks for the auth_test package.
var (
	DecodeHash = decodeHash
	QuickRatio = quickRatio
)

// KeyFunc computes a raw Argon2id hash.
type KeyFunc = func(password string, salt []byte, p Argon2Params) []byte

// WrapKey replaces h's hash computation by wrap(current), so tests can make
// hashes slow or count them. Call it before h is shared between goroutines.
func WrapKey(h *Argon2id, wrap func(KeyFunc) KeyFunc) { h.key = wrap(h.key) }
