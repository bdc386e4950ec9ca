package auth_test

import (
	"testing"

	"github.com/blipsocial/blip/internal/auth"
)

// BenchmarkVerifyParallel runs production-parameter verifications from
// GOMAXPROCS goroutines at once: the pool must not cost throughput when
// logins arrive no faster than the workers can serve them.
func BenchmarkVerifyParallel(b *testing.B) {
	h := auth.NewArgon2id(auth.Argon2Params{})
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
}
