package auth_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/auth"
)

func TestArgon2id_HashVerify(t *testing.T) {
	h := auth.NewArgon2id(auth.InsecureArgon2Params())
	encoded, err := h.Hash("correct horse battery staple")
	if err != nil {
		t.Fatalf("Hash: %v", err)
	}
	if !strings.HasPrefix(encoded, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("encoding %q lacks the PHC prefix", encoded)
	}
	again, err := h.Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if again == encoded {
		t.Error("two hashes of one password are equal: salt not random")
	}

	tests := []struct {
		name, password string
		want           bool
	}{
		{"right", "correct horse battery staple", true},
		{"wrong", "correct horse battery stapler", false},
		{"empty", "", false},
		{"case", "Correct horse battery staple", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(tt.password, encoded)
			if err != nil || ok != tt.want || rehash {
				t.Errorf("Verify = %v, %v, %v; want %v, false, nil", ok, rehash, err, tt.want)
			}
		})
	}
}

func TestArgon2id_DefaultParams(t *testing.T) {
	h := auth.NewArgon2id(auth.Argon2Params{})
	if got, want := h.Params(), auth.DefaultArgon2Params(); got != want {
		t.Fatalf("zero params = %+v, want OWASP %+v", got, want)
	}
	want := auth.Argon2Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	if h.Params() != want {
		t.Errorf("default params = %+v, want %+v", h.Params(), want)
	}
	encoded, err := h.Hash("pw")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(encoded, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("encoding %q", encoded)
	}
	p, salt, key, err := auth.DecodeHash(encoded)
	if err != nil || p != want || len(salt) != 16 || len(key) != 32 {
		t.Errorf("DecodeHash = %+v, %d-byte salt, %d-byte key, %v", p, len(salt), len(key), err)
	}
}

func TestArgon2id_NeedsRehash(t *testing.T) {
	old := auth.NewArgon2id(auth.InsecureArgon2Params())
	encoded, err := old.Hash("hunter2hunter2")
	if err != nil {
		t.Fatal(err)
	}
	raise := func(f func(*auth.Argon2Params)) auth.Argon2Params {
		p := auth.InsecureArgon2Params()
		f(&p)
		return p
	}
	tests := []struct {
		name   string
		params auth.Argon2Params
		want   bool
	}{
		{"same", auth.InsecureArgon2Params(), false},
		{"memory raised", raise(func(p *auth.Argon2Params) { p.Memory = 128 }), true},
		{"time raised", raise(func(p *auth.Argon2Params) { p.Time = 2 }), true},
		{"key longer", raise(func(p *auth.Argon2Params) { p.KeyLen = 64 }), true},
		{"salt longer", raise(func(p *auth.Argon2Params) { p.SaltLen = 32 }), true},
		{"parallelism changed", raise(func(p *auth.Argon2Params) { p.Threads = 2 }), false},
		{"memory lowered", raise(func(p *auth.Argon2Params) { p.Memory = 32 }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := auth.NewArgon2id(tt.params).Verify("hunter2hunter2", encoded)
			if err != nil || !ok || rehash != tt.want {
				t.Errorf("Verify = %v, %v, %v; want true, %v, nil", ok, rehash, err, tt.want)
			}
			// A wrong password never asks for a rehash.
			if ok, rehash, _ := auth.NewArgon2id(tt.params).Verify("wrong", encoded); ok || rehash {
				t.Errorf("wrong password: ok=%v rehash=%v", ok, rehash)
			}
		})
	}
}

func TestArgon2id_Malformed(t *testing.T) {
	h := auth.NewArgon2id(auth.InsecureArgon2Params())
	good, err := h.Hash("pw")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	tests := []struct{ name, encoded string }{
		{"empty", ""},
		{"garbage", "not a hash"},
		{"dollars", "$$$$$"},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key},
		{"bcrypt", "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"},
		{"old version", "$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + key},
		{"no version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key},
		{"param order", "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key},
		{"leading zero", "$argon2id$v=19$m=064,t=1,p=1$" + salt + "$" + key},
		{"sign", "$argon2id$v=19$m=+64,t=1,p=1$" + salt + "$" + key},
		{"zero time", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key},
		{"zero threads", "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key},
		{"threads overflow", "$argon2id$v=19$m=64,t=1,p=256$" + salt + "$" + key},
		{"memory huge", "$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + key},
		{"memory overflow", "$argon2id$v=19$m=99999999999,t=1,p=1$" + salt + "$" + key},
		{"memory below 8p", "$argon2id$v=19$m=8,t=1,p=2$" + salt + "$" + key},
		{"padded salt", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + key},
		{"bad base64", "$argon2id$v=19$m=64,t=1,p=1$!!!!$" + key},
		{"short salt", "$argon2id$v=19$m=64,t=1,p=1$AAAA$" + key},
		{"short key", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$AAAA"},
		{"extra field", good + "$x"},
		{"trailing space", good + " "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify("pw", tt.encoded)
			if err == nil || ok || rehash {
				t.Errorf("Verify(%q) = %v, %v, %v; want an error", tt.encoded, ok, rehash, err)
			}
			if err != nil && strings.Contains(err.Error(), tt.encoded) && tt.encoded != "" {
				t.Errorf("error %q echoes the stored hash", err)
			}
		})
	}
}

func TestArgon2id_BadParams(t *testing.T) {
	h := auth.NewArgon2id(auth.Argon2Params{Memory: 64, Time: 1 << 20})
	if _, err := h.Hash("pw"); err == nil {
		t.Error("Hash with out-of-range params succeeded")
	}
	if _, _, err := h.Verify("pw", "$argon2id$v=19$m=64,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"); err == nil {
		t.Error("Verify with out-of-range params succeeded")
	}
	if err := h.VerifyDummy("pw"); err == nil {
		t.Error("VerifyDummy with out-of-range params succeeded")
	}
}

func TestArgon2id_VerifyDummy(t *testing.T) {
	h := auth.NewArgon2id(auth.InsecureArgon2Params())
	if err := h.VerifyDummy("anything"); err != nil {
		t.Errorf("VerifyDummy: %v", err)
	}
}

// FuzzDecodeHash feeds arbitrary strings to the PHC decoder: it must never
// panic, and whatever it accepts must re-encode to the same string.
func FuzzDecodeHash(f *testing.F) {
	h := auth.NewArgon2id(auth.InsecureArgon2Params())
	good, err := h.Hash("pw")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{good, "", "$", "$argon2id$v=19$m=64,t=1,p=1$$", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := auth.DecodeHash(s)
		if err != nil {
			return
		}
		if p.Memory < 8*uint32(p.Threads) || p.Time < 1 || p.Threads < 1 || len(salt) < 8 || len(key) < 16 {
			t.Fatalf("DecodeHash(%q) accepted params %+v", s, p)
		}
		if p.Memory <= 1024 && p.Time <= 2 { // cheap enough to run while fuzzing
			if _, _, err := h.Verify("pw", s); err != nil {
				t.Fatalf("Verify rejects what DecodeHash accepts: %v", err)
			}
		}
	})
}

// BenchmarkVerify and BenchmarkVerifyDummy use the production parameters:
// their ns/op should match, which is what hides unknown emails.
func BenchmarkVerify(b *testing.B) {
	h := auth.NewArgon2id(auth.Argon2Params{})
	encoded, err := h.Hash("correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		_, _, _ = h.Verify("wrong password", encoded)
	}
}

func BenchmarkVerifyDummy(b *testing.B) {
	h := auth.NewArgon2id(auth.Argon2Params{})
	for b.Loop() {
		_ = h.VerifyDummy("wrong password")
	}
}

func TestArgon2id_Concurrent(t *testing.T) {
	// A queue as long as the number of callers: nobody is refused, so this
	// tests correctness under concurrency (hashpool_test.go tests refusal).
	h := auth.NewArgon2idPool(auth.InsecureArgon2Params(), auth.PoolOptions{MaxQueue: 16, MaxWait: time.Minute})
	encoded, err := h.Hash("pw-concurrent")
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 16)
	for i := range 16 {
		go func() {
			if i%2 == 0 {
				_ = h.VerifyDummy("x")
			}
			ok, _, err := h.Verify("pw-concurrent", encoded)
			if err == nil && !ok {
				err = errors.New("verify failed")
			}
			errs <- err
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
