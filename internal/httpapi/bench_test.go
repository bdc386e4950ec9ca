package httpapi_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/blipsocial/blip/internal/auth"
	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/config"
	"github.com/blipsocial/blip/internal/httpapi"
	"github.com/blipsocial/blip/internal/memory"
	"github.com/blipsocial/blip/internal/ratelimit"
	"github.com/blipsocial/blip/internal/sqlite"
)

// benchWriter is a ResponseWriter that keeps nothing, so a benchmark
// counts the handler's allocations and not a recorder's.
type benchWriter struct {
	h      http.Header
	status int
}

func (w *benchWriter) Header() http.Header         { return w.h }
func (w *benchWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *benchWriter) WriteHeader(status int)      { w.status = status }

// benchServer returns the handler NewServer builds as `blip serve` does in
// production: production configuration, JSON access log (to nowhere), real
// metrics, rate limits on, SQLite and in-process caches. It also returns
// an access token of a registered user.
func benchServer(b *testing.B) (http.Handler, string) {
	b.Helper()
	ctx := context.Background()
	env := map[string]string{
		"APP_ENV": "production", "SECRET_KEY": "bench-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGH",
		"ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "0",
		"THROTTLE_ANON": "1000000/second", "THROTTLE_USER": "1000000/second",
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		b.Fatal(err)
	}
	db, err := sqlite.Open(ctx, sqlite.Memory, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(db.Close)
	if err := db.Migrate(ctx, "up", io.Discard); err != nil {
		b.Fatal(err)
	}
	tokens, err := auth.NewTokens(auth.TokenConfig{Secret: []byte(cfg.SecretKey), AccessLifetime: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	cache := memory.NewCache(0)
	accounts := blip.NewAccounts(blip.AccountsDeps{
		Users: sqlite.NewUserStore(db), Sessions: sqlite.NewSessionStore(db), Tokens: tokens,
		Hasher: auth.NewArgon2id(auth.InsecureArgon2Params()), Policy: auth.PasswordRules{},
		Cache: cache, Logger: logger,
	})
	feed := blip.NewFeed(blip.FeedDeps{
		Blips: sqlite.NewFeedStore(db), Graph: sqlite.NewGraphStore(db), Users: sqlite.NewUserStore(db),
		Cache: cache, Logger: logger,
	})
	metrics := httpapi.NewMetrics(prometheus.NewRegistry(), "bench")
	health := httpapi.NewHealth(&fakePinger{}, &fakePinger{}, "bench")
	limiter := ratelimit.NewLimiter(logger, nil, memory.NewLimiterStore(0), ratelimit.Hooks{})
	h := httpapi.NewServer(logger, cfg, metrics, health, accounts, feed, tokens, limiter, nil)
	const password = "Quiet-Harbour-Lamp-42"
	if _, err := accounts.Register(ctx, blip.Registration{Email: "bench@example.com", Username: "bench", Password: password}); err != nil {
		b.Fatal(err)
	}
	pair, err := accounts.Login(ctx, "bench@example.com", password, blip.ClientInfo{})
	if err != nil {
		b.Fatal(err)
	}
	return h, string(pair.Access)
}

// BenchmarkMiddlewareChain serves a request through the whole middleware
// stack: client IP, request ID, access log and metrics, panic recovery,
// security headers, host check, CORS, authentication, the general rate
// limit and the router. "live" is GET /health/live, whose handler does
// almost nothing: the chain itself (the allocation budget of
// docs/benchmarks.md is 10 per request). "profile" is an authenticated GET
// /api/v1/users/{username}, which adds verifying the Bearer token, its
// revocation check, the user rate limit and a cached read.
func BenchmarkMiddlewareChain(b *testing.B) {
	h, access := benchServer(b)
	for _, name := range []string{"live", "profile"} {
		b.Run(name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8000/health/live", nil)
			if name == "profile" {
				req = httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8000/api/v1/users/bench", nil)
				req.Header.Set("Authorization", "Bearer "+access)
			}
			req.RemoteAddr = "127.0.0.1:40000"
			w := &benchWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, req)
				if w.status != http.StatusOK {
					b.Fatalf("status %d", w.status)
				}
			}
		})
	}
}

// BenchmarkCursor measures a pagination cursor's round trip: the encode of
// every page's next link and the decode (MAC check) of every page request.
func BenchmarkCursor(b *testing.B) {
	c := httpapi.NewCursorCodec([]byte("bench-0123456789-abcdefghijklmnopqrstuvwxyz"))
	const scope, key = "timeline:01890a5d-ac96-774b-bcce-b302099a8057", "01890a5d-ac96-774b-bcce-b302099a8058"
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = c.Encode(scope, key)
		}
	})
	b.Run("decode", func(b *testing.B) {
		cur := c.Encode(scope, key)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Decode(scope, cur); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkTimelinePageJSON measures writing a 20-blip page as JSON, with
// its next link, as GET /api/v1/timeline does.
func BenchmarkTimelinePageJSON(b *testing.B) {
	c := httpapi.NewCursorCodec([]byte("bench-0123456789-abcdefghijklmnopqrstuvwxyz"))
	at := time.Date(2026, 5, 1, 12, 0, 0, 123456000, time.UTC)
	var page blip.Page[blip.FeedItem]
	for i := range 20 {
		liked := i%3 == 0
		page.Items = append(page.Items, blip.FeedItem{
			Blip: &blip.Blip{
				ID: fmt.Sprintf("01890a5d-ac96-774b-bcce-b302099a%04d", i), AuthorID: "01890a5d-ac96-774b-bcce-b302099a9999",
				Text:      "coffee morning release build deploy postgres sqlite redis golang latency page cursor timeline",
				CreatedAt: at.Add(-time.Duration(i) * time.Minute), LikeCount: int64(i * 3), ReplyCount: int64(i),
				Author: blip.Author{ID: "01890a5d-ac96-774b-bcce-b302099a9999", Username: "seed_000001", Name: "Seed User 1"},
			},
			LikedByMe: &liked,
		})
	}
	page.Next = page.Items[19].ID
	req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8000/api/v1/timeline", nil)
	w := &benchWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		c.WriteBlipPage(w, req, "timeline:01890a5d-ac96-774b-bcce-b302099a9999", 20, page)
	}
}
