package blip_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/blipsocial/blip/internal/auth"
	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/memory"
	"github.com/blipsocial/blip/internal/redis"
	"github.com/blipsocial/blip/internal/testenv"
)

// BenchmarkAccounts_Authenticate measures the revocation check every
// authenticated request makes: the access token's signature and claims,
// then its session and its user's token version through the cache (warm:
// the database is read once a second per session and user). With Redis
// (BLIP_TEST_REDIS_URL) it includes the round trips to it.
func BenchmarkAccounts_Authenticate(b *testing.B) {
	caches := map[string]func(b *testing.B) blip.Cache{
		"memory": func(*testing.B) blip.Cache { return memory.NewCache(0) },
		"redis": func(b *testing.B) blip.Cache {
			c, err := redis.Open(b.Context(), testenv.RedisURL(b))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(c.Close)
			p := make([]byte, 8)
			_, _ = rand.Read(p)
			// Every key it writes lives a second (live state) or an hour
			// (revocations, none here), so nothing needs removing.
			return redis.NewCache(c, "blip-bench:"+hex.EncodeToString(p)+":")
		},
	}
	for _, name := range []string{"memory", "redis"} {
		b.Run(name, func(b *testing.B) {
			cache := &countingCache{Cache: caches[name](b)}
			a, _ := newAccountsOn(b, auth.InsecureArgon2Params(), cache)
			email, password := registered(b, a, "bencher")
			ctx := context.Background()
			pair, err := a.Login(ctx, email, password, blip.ClientInfo{})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := a.Authenticate(ctx, string(pair.Access)); err != nil { // warm
				b.Fatal(err)
			}
			start := cache.calls.Load()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := a.Authenticate(ctx, string(pair.Access)); err != nil {
					b.Fatal(err)
				}
			}
			cache.reportCalls(b, start)
		})
	}
}

// BenchmarkAccounts_Refresh rotates a refresh token, each iteration
// presenting the one the previous returned: POST /api/token/refresh/
// without HTTP.
func BenchmarkAccounts_Refresh(b *testing.B) {
	cache := &countingCache{Cache: memory.NewCache(0)}
	a, _ := newAccountsOn(b, auth.InsecureArgon2Params(), cache)
	email, password := registered(b, a, "bencher")
	ctx := context.Background()
	pair, err := a.Login(ctx, email, password, blip.ClientInfo{})
	if err != nil {
		b.Fatal(err)
	}
	start := cache.calls.Load()
	b.ReportAllocs()
	for b.Loop() {
		if pair, err = a.Refresh(ctx, string(pair.Refresh), blip.ClientInfo{}); err != nil {
			b.Fatal(err)
		}
	}
	cache.reportCalls(b, start)
}
