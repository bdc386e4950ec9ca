package sqlite_test

import (
	"bytes"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/blipsocial/blip/internal/sqlite"
	"github.com/blipsocial/blip/internal/storetest"
)

// openMigrated opens a database at path and migrates it up.
func openMigrated(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(db.Close)
	var out bytes.Buffer
	if err := db.Migrate(t.Context(), "up", &out); err != nil {
		t.Fatalf("migrate up: %v\n%s", err, out.String())
	}
	return db
}

func stores(db *sqlite.DB) storetest.Stores {
	return storetest.Stores{
		Users:       sqlite.NewUserStore(db),
		Sessions:    sqlite.NewSessionStore(db),
		Blips:       sqlite.NewFeedStore(db),
		Graph:       sqlite.NewGraphStore(db),
		Generations: sqlite.NewCacheGenerationStore(db),
	}
}

func TestStores(t *testing.T) {
	t.Run("file", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) storetest.Stores {
			return stores(openMigrated(t, filepath.Join(t.TempDir(), "blip.db")))
		})
	})
	t.Run("memory", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) storetest.Stores {
			return stores(openMigrated(t, sqlite.Memory))
		})
	})
}

func TestMigrate(t *testing.T) {
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "m.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(db.Close)
	storetest.RunMigrate(t, db)
}

// TestMigrateConcurrent starts several migrators on one file at once, as
// replicas or a CLI beside a server would.
func TestMigrateConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.db")
	const n = 4
	dbs := make([]*sqlite.DB, n)
	for i := range dbs {
		db, err := sqlite.Open(t.Context(), path, sqlite.Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(db.Close)
		dbs[i] = db
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, db := range dbs {
		wg.Go(func() { errs[i] = db.Migrate(t.Context(), "up", &bytes.Buffer{}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("migrator %d: %v", i, err)
		}
	}
	var out bytes.Buffer
	if err := dbs[0].Migrate(t.Context(), "status", &out); err != nil || strings.Contains(out.String(), "pending") {
		t.Errorf("status after concurrent up: %v\n%s", err, out.String())
	}
}

func TestOpenOptions(t *testing.T) {
	if _, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "x.db"), sqlite.Options{Synchronous: "OFF"}); err == nil {
		t.Error("Synchronous OFF accepted")
	}
	if _, err := sqlite.Open(t.Context(), "a.db?mode=ro", sqlite.Options{}); err == nil {
		t.Error("path with a query accepted")
	}
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "y.db"), sqlite.Options{Synchronous: "full", MaxReadConns: 2})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()
	if err := db.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
	if st := db.Stats(); st.Max != 3 {
		t.Errorf("Stats().Max = %d, want 3 (one writer, two readers)", st.Max)
	}
}
