package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"go.opentelemetry.io/otel/trace"

	"github.com/blipsocial/blip/internal/blip"
	"github.com/blipsocial/blip/internal/config"
	"github.com/blipsocial/blip/internal/httpapi"
	"github.com/blipsocial/blip/internal/memory"
	"github.com/blipsocial/blip/internal/postgres"
	"github.com/blipsocial/blip/internal/ratelimit"
	"github.com/blipsocial/blip/internal/redis"
	"github.com/blipsocial/blip/internal/sqlite"
)

// database is the storage engine picked by configuration: SQLite by
// default, PostgreSQL when DATABASE_URL says so. Both implement the same
// store interfaces and run the same migrations.
type database struct {
	users    blip.UserStore
	sessions blip.SessionStore
	blips    blip.FeedStore
	graph    blip.GraphStore
	gens     blip.CacheGenerationStore
	seeder   seeder // bulk loads for `blip seed`
	pinger   blip.Pinger
	migrate  func(ctx context.Context, cmd string, out io.Writer) error
	stats    func() httpapi.PoolStats
	close    func()
}

// openDatabase opens the configured database; with tp, every PostgreSQL
// statement made inside a trace gets a span (SQLite statements are not
// traced: database/sql has no tracing hook, and the request span already
// holds their time).
func openDatabase(ctx context.Context, cfg config.Config, tp trace.TracerProvider) (*database, error) {
	switch cfg.DBEngine {
	case "postgres":
		db, err := postgres.Open(ctx, cfg.DatabaseURL, postgres.Options{
			MaxConns:        int32(min(cfg.DBMaxConns, 1<<15)), // bounded just before the conversion
			ConnMaxLifetime: cfg.ConnMaxAge,
			TracerProvider:  tp,
		})
		if err != nil {
			return nil, err
		}
		return &database{
			users: postgres.NewUserStore(db), sessions: postgres.NewSessionStore(db),
			blips: postgres.NewFeedStore(db), graph: postgres.NewGraphStore(db), seeder: postgres.NewSeeder(db),
			gens:   postgres.NewCacheGenerationStore(db),
			pinger: db, migrate: db.Migrate, close: db.Close,
			stats: func() httpapi.PoolStats { return poolStats(sqlite.Stats(db.Stats())) },
		}, nil
	case "sqlite":
		// Connection options are Blip's to choose (WAL, foreign keys, busy
		// timeout); any ?query of the URL is not passed to the driver.
		path, _, _ := strings.Cut(cfg.SQLiteDSN(), "?")
		db, err := sqlite.Open(ctx, path, sqlite.Options{})
		if err != nil {
			return nil, err
		}
		return &database{
			users: sqlite.NewUserStore(db), sessions: sqlite.NewSessionStore(db),
			blips: sqlite.NewFeedStore(db), graph: sqlite.NewGraphStore(db), seeder: sqlite.NewSeeder(db),
			gens:   sqlite.NewCacheGenerationStore(db),
			pinger: db, migrate: db.Migrate, close: db.Close,
			stats: func() httpapi.PoolStats { return poolStats(db.Stats()) },
		}, nil
	}
	return nil, fmt.Errorf("unknown database engine %q", cfg.DBEngine)
}

// openMigratedDatabase is openDatabase followed by `migrate up` when
// AUTO_MIGRATE is set: what every command but `blip migrate` itself wants.
func openMigratedDatabase(ctx context.Context, cfg config.Config, tp trace.TracerProvider) (*database, error) {
	db, err := openDatabase(ctx, cfg, tp)
	if err != nil {
		return nil, databaseError(err)
	}
	if cfg.AutoMigrate {
		if err := db.migrate(ctx, "up", io.Discard); err != nil {
			db.close()
			return nil, fmt.Errorf("auto-migrate: %w; run blip migrate status to see where the database stands", err)
		}
	}
	return db, nil
}

// migrateHint is advice for a command that failed on a database that
// may not be migrated: without AUTO_MIGRATE nothing migrates it for them.
func migrateHint(cfg config.Config) string {
	if cfg.AutoMigrate {
		return ""
	}
	return " if the database is not migrated yet, run blip migrate first (AUTO_MIGRATE is off);"
}

// databaseError explains a failure to open the configured database.
func databaseError(err error) error {
	return fmt.Errorf("database: %w; check DATABASE_URL (or DB_ENGINE, DB_NAME, …) and that the database is reachable", err)
}

func poolStats(s sqlite.Stats) httpapi.PoolStats {
	return httpapi.PoolStats{
		MaxConns: int(s.Max), OpenConns: int(s.Total), InUse: int(s.Acquired), Idle: int(s.Idle),
		WaitCount: s.EmptyAcquireCount, WaitDuration: s.AcquireDuration,
	}
}

// caches are the cache and rate-limit stores: Redis, shared by every
// replica, when REDIS_URL is set; process memory otherwise. The in-process
// limiter store is always there as the fallback for a Redis outage.
type caches struct {
	cache    blip.Cache
	limits   ratelimit.Store // nil without Redis
	fallback ratelimit.Store
	pinger   blip.Pinger
	close    func()
}

const redisPrefix = "blip:"

// openCaches opens the caches; with tp, Redis commands made inside a trace
// get spans.
func openCaches(ctx context.Context, cfg config.Config, logger *slog.Logger, tp trace.TracerProvider) (*caches, error) {
	fallback := memory.NewLimiterStore(0)
	if cfg.RedisURL == "" {
		c := memory.NewCache(0)
		return &caches{cache: c, fallback: fallback, pinger: c, close: func() {}}, nil
	}
	// go-redis's logger is process-wide; this is the one place the program
	// opens a Redis client, so the one place to point it at our logs.
	redis.SetLogger(logger)
	var opts []redis.Option
	if tp != nil {
		opts = append(opts, redis.WithTracerProvider(tp))
	}
	client, err := redis.Open(ctx, cfg.RedisURL, opts...)
	if err != nil {
		return nil, err
	}
	return &caches{
		cache:    redis.NewCache(client, redisPrefix),
		limits:   redis.NewLimiterStore(client, redisPrefix),
		fallback: fallback,
		pinger:   client,
		close:    client.Close,
	}, nil
}
