package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/blipsocial/blip/internal/sqlite"
	"github.com/blipsocial/blip/internal/storetest"
)

func TestSeeder(t *testing.T) {
	db := openMigrated(t, filepath.Join(t.TempDir(), "seed.db"))
	storetest.RunSeeder(t, sqlite.NewSeeder(db), storetest.Stores{
		Users: sqlite.NewUserStore(db), Blips: sqlite.NewFeedStore(db), Graph: sqlite.NewGraphStore(db),
	})
}
