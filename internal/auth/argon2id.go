package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/blipsocial/blip/internal/blip"
)

// Argon2Params are the cost parameters of an Argon2id hash. A zero field
// takes the OWASP default, so Argon2Params{} is the production setting.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over memory
	Threads uint8  // degree of parallelism
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// OWASP Password Storage Cheat Sheet's first Argon2id configuration.
const (
	defaultMemory  = 19456 // KiB, 19 MiB
	defaultTime    = 2
	defaultThreads = 1
	defaultSaltLen = 16
	defaultKeyLen  = 32
)

// Bounds on parameters, both for construction and for decoding stored
// hashes: they keep argon2.IDKey away from its panics (t or p of 0) and a
// corrupt row from allocating absurd amounts of memory.
const (
	maxMemory  = 4 << 20 // KiB, 4 GiB
	maxTime    = 1 << 8
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64
)

// DefaultArgon2Params returns the OWASP parameters production uses:
// m=19456 KiB, t=2, p=1, a 16-byte salt and a 32-byte key.
func DefaultArgon2Params() Argon2Params {
	return Argon2Params{
		Memory:  defaultMemory,
		Time:    defaultTime,
		Threads: defaultThreads,
		SaltLen: defaultSaltLen,
		KeyLen:  defaultKeyLen,
	}
}

// InsecureArgon2Params returns parameters cheap enough for tests and seeding
// demo data (m=64 KiB, t=1). Production code must never use them.
func InsecureArgon2Params() Argon2Params {
	return Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: defaultSaltLen, KeyLen: defaultKeyLen}
}

// withDefaults fills zero fields with the OWASP defaults.
func (p Argon2Params) withDefaults() Argon2Params {
	d := DefaultArgon2Params()
	if p.Memory == 0 {
		p.Memory = d.Memory
	}
	if p.Time == 0 {
		p.Time = d.Time
	}
	if p.Threads == 0 {
		p.Threads = d.Threads
	}
	if p.SaltLen == 0 {
		p.SaltLen = d.SaltLen
	}
	if p.KeyLen == 0 {
		p.KeyLen = d.KeyLen
	}
	return p
}

// check reports parameters outside the bounds this package accepts.
func (p Argon2Params) check() error {
	switch {
	case p.Threads < 1:
		return errors.New("parallelism must be at least 1")
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		return fmt.Errorf("memory %d KiB out of range [%d, %d]", p.Memory, 8*uint32(p.Threads), maxMemory)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("time %d out of range [1, %d]", p.Time, maxTime)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("salt length %d out of range [%d, %d]", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("key length %d out of range [%d, %d]", p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

// weakerThan reports whether hashes made with p should be upgraded to q.
// Parallelism is not compared: it changes the hash, not its strength.
func (p Argon2Params) weakerThan(q Argon2Params) bool {
	return p.Memory < q.Memory || p.Time < q.Time || p.KeyLen < q.KeyLen || p.SaltLen < q.SaltLen
}

// Argon2id hashes and verifies passwords; it is the blip.PasswordHasher.
// It is safe for concurrent use.
//
// Every hash runs in a bounded pool (see PoolOptions): at most Workers at
// once, each holding Memory KiB and a core; a few more calls wait, briefly;
// the rest fail at once with 503 unavailable. Real and dummy verifications
// queue alike, so an unknown email and a wrong password keep taking the
// same time, and are refused alike when the pool is full.
type Argon2id struct {
	pool   *hashPool
	opts   PoolOptions // resolved
	params Argon2Params
	err    error  // non-nil when the parameters are out of range
	dummy  string // hash of a random password, for VerifyDummy
	// key computes the raw hash; tests replace it to make hashing slow.
	key func(password string, salt []byte, p Argon2Params) []byte
}

var _ blip.PasswordHasher = (*Argon2id)(nil)

// NewArgon2id returns a hasher with params, zero fields taking the OWASP
// defaults (pass Argon2Params{} in production), and the default pool,
// PoolOptions{}. Parameters out of range make every Hash and Verify fail
// with an error naming them. It spends the time of one hash to prepare
// VerifyDummy.
func NewArgon2id(p Argon2Params) *Argon2id {
	return NewArgon2idPool(p, PoolOptions{})
}

// NewArgon2idPool is NewArgon2id with explicit pool bounds; zero fields of
// o take their defaults.
func NewArgon2idPool(p Argon2Params, o PoolOptions) *Argon2id {
	h := &Argon2id{params: p.withDefaults(), key: argon2Key}
	h.opts = o.withDefaults(h.params.Threads)
	h.pool = newHashPool(h.opts)
	if err := h.params.check(); err != nil {
		h.err = fmt.Errorf("argon2id: parameters: %w", err)
		return h
	}
	// The dummy's password is random and thrown away, so nothing verifies
	// against it; only its cost matters.
	dummy, err := h.Hash(rand.Text())
	if err != nil {
		h.err = err
		return h
	}
	h.dummy = dummy
	return h
}

// Params returns the parameters new hashes are made with.
func (h *Argon2id) Params() Argon2Params { return h.params }

// PoolOptions returns the pool bounds in force, defaults resolved.
func (h *Argon2id) PoolOptions() PoolOptions { return h.opts }

// PoolStats returns a snapshot of the pool, for metrics.
func (h *Argon2id) PoolStats() PoolStats { return h.pool.stats() }

// Hash returns the PHC string of password under a fresh random salt:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>, both in unpadded base64.
// When the pool is full it fails with a blip.CodeUnavailable error.
func (h *Argon2id) Hash(password string) (string, error) {
	if h.err != nil {
		return "", h.err
	}
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("argon2id: salt: %w", err)
	}
	key, err := h.idKey(password, salt, h.params)
	if err != nil {
		return "", err
	}
	return encodeHash(h.params, salt, key), nil
}

// Verify reports whether password matches encoded, and whether encoded was
// made with parameters weaker than the current ones, in which case the caller
// should store a fresh Hash after a successful login. A malformed encoding
// is an error, never a panic. When the pool is full it fails with a
// blip.CodeUnavailable error, which says nothing about the password.
func (h *Argon2id) Verify(password, encoded string) (ok, needsRehash bool, err error) {
	if h.err != nil {
		return false, false, h.err
	}
	p, salt, want, err := decodeHash(encoded)
	if err != nil {
		return false, false, err
	}
	got, err := h.idKey(password, salt, p)
	if err != nil {
		return false, false, err
	}
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false, nil
	}
	return true, p.weakerThan(h.params), nil
}

// VerifyDummy spends the time of a Verify against a hash made with the
// current parameters and always fails. Login calls it when no account has
// the email, so that a wrong email and a wrong password take the same time.
// It returns the error Verify would return for a well-formed stored hash:
// the pool's blip.CodeUnavailable error when it is full, or the parameter
// error of a misconfigured hasher, so that Login refuses an unknown email
// exactly as it refuses a wrong password, under load too.
func (h *Argon2id) VerifyDummy(password string) error {
	if h.err != nil {
		return h.err
	}
	_, _, err := h.Verify(password, h.dummy)
	return err
}

// idKey runs Argon2id once the pool grants a slot.
func (h *Argon2id) idKey(password string, salt []byte, p Argon2Params) ([]byte, error) {
	if err := h.pool.acquire(); err != nil {
		return nil, err
	}
	defer h.pool.release()
	return h.key(password, salt, p), nil
}

func argon2Key(password string, salt []byte, p Argon2Params) []byte {
	return argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

// b64 is the PHC string format's base64: standard alphabet, no padding.
var b64 = base64.RawStdEncoding.Strict()

func encodeHash(p Argon2Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// errMalformed is returned for every stored hash this package cannot read;
// it says which part is wrong but never echoes the hash.
func errMalformed(part string) error {
	return fmt.Errorf("argon2id: malformed hash: %s", part)
}

// decodeHash parses a PHC string made by encodeHash, strictly: the same
// field order, decimal numbers without signs or leading zeros, canonical
// base64, and parameters within bounds.
func decodeHash(encoded string) (p Argon2Params, salt, key []byte, err error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" {
		return p, nil, nil, errMalformed("layout")
	}
	if parts[1] != "argon2id" {
		return p, nil, nil, errMalformed("algorithm")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, errMalformed("version")
	}
	params := strings.Split(parts[3], ",")
	if len(params) != 3 {
		return p, nil, nil, errMalformed("parameters")
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		digits, found := strings.CutPrefix(params[i], name)
		if !found || !canonicalUint(digits) {
			return p, nil, nil, errMalformed("parameters")
		}
		if vals[i], err = strconv.ParseUint(digits, 10, 32); err != nil {
			return p, nil, nil, errMalformed("parameters")
		}
	}
	if vals[2] > 255 {
		return p, nil, nil, errMalformed("parameters")
	}
	if salt, err = b64.DecodeString(parts[4]); err != nil {
		return p, nil, nil, errMalformed("salt")
	}
	if key, err = b64.DecodeString(parts[5]); err != nil {
		return p, nil, nil, errMalformed("hash")
	}
	p = Argon2Params{
		Memory:  uint32(vals[0]),
		Time:    uint32(vals[1]),
		Threads: uint8(vals[2]),
		SaltLen: uint32(len(salt)),
		KeyLen:  uint32(len(key)),
	}
	if err := p.check(); err != nil {
		return Argon2Params{}, nil, nil, fmt.Errorf("argon2id: malformed hash: %w", err)
	}
	return p, salt, key, nil
}

// canonicalUint reports whether s is a decimal number as strconv.Itoa
// would write it, so each hash has exactly one accepted spelling.
func canonicalUint(s string) bool {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Saturated reports whether every worker is busy and the queue is full, so
// that a hash started now would be refused: Login checks it before looking
// the account up, which keeps a login flood cheap to turn away.
func (h *Argon2id) Saturated() bool { return h.pool.full() }
