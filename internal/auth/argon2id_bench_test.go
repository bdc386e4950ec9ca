package auth_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/blipsocial/blip/internal/auth"
)

// BenchmarkVerifyParallel runs production-parameter verifications from
// GOMAXPROCS goroutines at once, with the default pool and with the bound
// the hasher had before the pool (2 × GOMAXPROCS, unbounded queue). On one
// or two cores the default runs one hash at a time, so its throughput under
// saturation is lower by design: the other core serves everything else.
func BenchmarkVerifyParallel(b *testing.B) {
	pools := []struct {
		name string
		opts auth.PoolOptions
	}{
		{"default", auth.PoolOptions{}},
		{"old-bound", auth.PoolOptions{Workers: 2 * runtime.GOMAXPROCS(0), MaxWait: time.Hour}},
	}
	for _, pool := range pools {
		b.Run(pool.name, func(b *testing.B) {
			h := auth.NewArgon2idPool(auth.Argon2Params{}, pool.opts)
			encoded, err := h.Hash("correct horse battery staple")
			if err != nil {
				b.Fatal(err)
			}
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, _, err := h.Verify("wrong password", encoded); err != nil {
						b.Error(err)
					}
				}
			})
		})
	}
}

// BenchmarkPoolOverhead measures what the pool adds to one uncontended
// call, with the hash itself replaced by nothing.
func BenchmarkPoolOverhead(b *testing.B) {
	h := auth.NewArgon2id(auth.InsecureArgon2Params())
	encoded, err := h.Hash("pw")
	if err != nil {
		b.Fatal(err)
	}
	auth.WrapKey(h, func(auth.KeyFunc) auth.KeyFunc {
		key := make([]byte, 32)
		return func(string, []byte, auth.Argon2Params) []byte { return key }
	})
	for b.Loop() {
		_, _, _ = h.Verify("pw", encoded)
	}
}

// BenchmarkArgon2idHash measures one password hash with the production
// parameters, as registration and a password change make.
func BenchmarkArgon2idHash(b *testing.B) {
	h := auth.NewArgon2id(auth.Argon2Params{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}
